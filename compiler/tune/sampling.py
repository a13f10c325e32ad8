"""A trial's values for a spec's search spaces, from Optuna, and the ranges of a finer round.

:func:`optuna_pick` asks an Optuna trial for each space as
:func:`compiler.spec.spaces.fill_template` meets it, so a nested space is
suggested only when the option holding it is chosen (Optuna records only the
parameters a trial used). :func:`narrowed` gives the spaces of a coarse-to-fine
second round.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from compiler.spec.spaces import Pick, SearchSpace, Space


def optuna_pick(trial: Any, ranges: dict[str, Space] | None = None) -> Pick:
    """A :data:`Pick` that suggests each space's value to the Optuna ``trial``.

    Args:
        trial: an ``optuna.trial.Trial``.
        ranges: narrower spaces by name (a finer round), used instead of those written.
    """
    ranges = ranges or {}

    def pick(written: Space) -> Any:
        space = ranges.get(written.name, written)
        if space.kind == "choice":
            label = trial.suggest_categorical(space.name, list(space.labels))
            return list(written.labels).index(label)  # the option as written
        if space.kind == "int":
            return trial.suggest_int(space.name, int(space.low), int(space.high),
                                     step=space.step or 1, log=space.log)
        return trial.suggest_float(space.name, space.low, space.high, log=space.log)

    return pick


def params_pick(params: dict[str, Any]) -> Pick:
    """A :data:`Pick` that gives a finished trial's recorded values back (for best.yaml)."""
    def pick(space: Space) -> Any:
        value = params[space.name]
        return list(space.labels).index(value) if space.kind == "choice" else value

    return pick


def grid_space(search: SearchSpace, points: int,
               ranges: dict[str, Space] | None = None) -> dict[str, list]:
    """Optuna's GridSampler search space: every space with the values a grid tries."""
    ranges = ranges or {}
    return {space.name: ranges.get(space.name, space).grid_values(points)
            for space in search.all()}


def narrowed(search: SearchSpace, best_params: list[dict[str, Any]],
             margin: float) -> dict[str, Space]:
    """Spaces around the best trials' values: the span of their values, widened by ``margin``.

    Numeric ranges shrink to the interval the best trials' values cover, widened
    by ``margin`` times its width on each side (in log space for log scales) and
    kept inside the range written; a choice keeps the options those trials chose.

    Args:
        search: the spec's spaces.
        best_params: the parameters of the best trials of the first round.
        margin: how much to widen each narrowed range, as a share of its width.
    """
    out: dict[str, Space] = {}
    for space in search.all():
        values = [p[space.name] for p in best_params if space.name in p]
        if not values:
            continue
        if space.kind == "choice":
            # A choice is narrowed in the values a trial may take; its options and
            # labels stay those written, so best.yaml fills in the same way.
            kept = [label for label in space.labels if label in values]
            out[space.name] = replace(space, labels=tuple(kept))
            continue
        log = space.log
        lo, hi = min(values), max(values)
        a, b = (math.log(lo), math.log(hi)) if log else (lo, hi)
        width = (b - a) or ((math.log(space.high) - math.log(space.low)) if log
                            else (space.high - space.low)) * 0.1
        a, b = a - margin * width, b + margin * width
        lo, hi = (math.exp(a), math.exp(b)) if log else (a, b)
        lo, hi = max(lo, space.low), min(hi, space.high)
        if space.kind == "int":
            step = space.step or 1
            lo = space.low + math.floor((lo - space.low) / step) * step
            hi = space.low + math.ceil((hi - space.low) / step) * step
            lo, hi = int(max(lo, space.low)), int(min(hi, space.high))
        if lo >= hi:
            hi = min(space.high, lo + (space.step or 1)) if space.kind == "int" else hi
            if lo >= hi:
                lo = hi - (space.step or 1) if space.kind == "int" else lo
        out[space.name] = replace(space, low=lo, high=hi)
    return out
