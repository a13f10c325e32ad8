"""Alternating measurements, paired ratios, their spread and what they mean.

Shared by the scripts in this folder. On a shared machine the load changes
from one second to the next, so a benchmark here never compares two medians
measured minutes apart. It measures the variants in turn, the order reversed
every round (A B, B A, A B, ...), so that a slow drift of the load falls on
both alike, and forms one ratio per round from the two measurements taken
next to each other. The median of those ratios is the result; their
interquartile range (the middle half) and their extremes say how far it can
be trusted; the verdict says whether the difference is larger than that
spread.

Run the scripts as ``python benchmarks/<script>.py``: the script's own folder
is then first on ``sys.path``, which is how they import this module.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def alternate(variants: Mapping[str, Callable[[], T]], rounds: int) -> dict[str, list[T]]:
    """Call every variant once per round, reversing the order every other round.

    Args:
        variants: A measurement by name; each call measures once and returns
            the figure (seconds, samples per second, a record...).
        rounds: How many times each variant is measured.

    Returns:
        By name, the figures in round order, so that index ``i`` of two
        variants were measured next to each other.
    """
    names = list(variants)
    results: dict[str, list[T]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            results[name].append(variants[name]())
    return results


@dataclass(frozen=True)
class Spread:
    """The median of repeated figures with their quartiles and extremes.

    Attributes:
        median: The middle figure.
        q1: First quartile (a quarter of the figures are below it).
        q3: Third quartile (a quarter are above it).
        low: The smallest figure.
        high: The largest figure.
        n: How many figures (repeats) there were.
    """

    median: float
    q1: float
    q3: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of ``values`` (at least one)."""
        if not values:
            raise ValueError("no measurements")
        ordered = sorted(values)
        if len(ordered) >= 2:
            # "inclusive" keeps the quartiles inside the measured range, which
            # suits the handful of repeats a benchmark affords.
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1 = q3 = ordered[0]
        return cls(statistics.median(ordered), q1, q3, ordered[0], ordered[-1], len(ordered))

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies within the interquartile range."""
        return self.q1 <= value <= self.q3

    def describe(self, digits: int = 3, unit: str = "") -> str:
        """``1.031 (IQR 0.990–1.071, min–max 0.952–1.120, 6 repeats)``."""

        def f(x: float) -> str:
            return f"{x:.{digits}f}{unit}"

        return (f"{f(self.median)} (IQR {f(self.q1)}–{f(self.q3)}, "
                f"min–max {f(self.low)}–{f(self.high)}, {self.n} repeats)")


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> Spread:
    """The spread of the round-by-round ratios ``numerators[i] / denominators[i]``."""
    if len(numerators) != len(denominators):
        raise ValueError(f"{len(numerators)} numerators for {len(denominators)} denominators")
    return Spread.of([a / b for a, b in zip(numerators, denominators, strict=True)])


def verdict(
    ratio: Spread,
    subject: str,
    more: str,
    less: str,
    goal: float | None = None,
    at_least: bool = False,
) -> str:
    """One line saying what a ratio's median and spread mean.

    Args:
        ratio: Round-by-round ratios of ``subject`` to its reference.
        subject: What the ratio measures, as the verdict names it ("spec").
        more: What a ratio above 1 means ("slower", "uses more memory").
        less: What a ratio below 1 means ("faster", "uses less memory").
        goal: A bound the ratio should stay under, if there is one.
        at_least: The goal is a lower bound instead (a speed-up to reach).

    Returns:
        "within noise" when the interquartile range covers 1.0, else the
        difference in per cent of the reference, with the same for the
        quartiles; then, with a goal, whether the whole interquartile range
        is on its side (met), on the other (missed), or straddles it
        (undecided).
    """

    def pct(x: float) -> str:
        return f"{abs(x - 1) * 100:.0f}%"

    if ratio.covers(1.0):
        line = (f"within noise: the interquartile range {ratio.q1:.3f}–{ratio.q3:.3f} "
                f"covers 1.0")
    else:
        word = more if ratio.median > 1 else less
        near, far = sorted((ratio.q1, ratio.q3), key=lambda q: abs(q - 1))
        line = (f"{subject} {word} by {pct(ratio.median)} "
                f"(middle half of the repeats: {pct(near)} to {pct(far)})")
    if goal is not None:
        line += "; " + against_goal(ratio, goal, at_least=at_least)
    return line


def against_goal(spread: Spread, goal: float, *, at_least: bool = False, unit: str = "") -> str:
    """Whether the whole interquartile range is on the goal's side of it.

    Returns:
        "goal ≤ 1.1 met" (or "≥" with ``at_least``), "missed" when the whole
        interquartile range is on the wrong side, else "undecided".
    """
    if at_least:
        ok, bad = spread.q1 >= goal, spread.q3 < goal
    else:
        ok, bad = spread.q3 <= goal, spread.q1 > goal
    state = "met" if ok else "missed" if bad else "undecided (the interquartile range straddles it)"
    return f"goal {'≥' if at_least else '≤'} {goal:g}{unit} {state}"
