"""The learning-rate range test (`nncompile lr-find`).

The rate grows exponentially from `start` to `end`, one training batch per
rate, while the loss is recorded and smoothed with a bias-corrected
exponential moving average (β = 0.98). The test stops early once the smoothed
loss exceeds 4 × its best value (it diverged) or becomes NaN.

Suggestion rule: among the rates *below* the one with the lowest smoothed
loss, take the rate where the smoothed loss falls fastest per unit of
log(rate) — the steepest descent point, which lies just below where the loss
turns up. The slope is measured across a window of ±w points (w = 5 % of the
points, at least 2) and the first 2w points are left out: there the moving
average has seen only a few noisy batches, and a wiggle over a tiny step of
log(rate) would look like the steepest descent. With too few points for a
slope it falls back to a tenth of the lowest-loss rate (but not below the first
rate tried).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SMOOTHING = 0.98
DIVERGENCE = 4.0


@dataclass
class RangeTest:
    """Recorded rates and losses and the suggested rate."""

    rates: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    diverged: bool


def exponential_rates(start: float, end: float, steps: int) -> np.ndarray:
    """Rates start · (end / start) ^ (i / (steps − 1)) for i = 0..steps−1."""
    return start * (end / start) ** (np.arange(steps) / max(1, steps - 1))


def suggest_rate(rates, smoothed) -> float:
    """Apply the suggestion rule of this module to recorded rates and smoothed losses."""
    rates, smoothed = np.asarray(rates, float), np.asarray(smoothed, float)
    lowest = int(np.nanargmin(smoothed))
    window = max(2, len(rates) // 20)
    centres = np.arange(2 * window, lowest - window + 1)
    if len(centres) == 0:
        # Never below the first rate tried: nothing is known about rates under it.
        return float(max(rates[lowest] / 10, rates[0]))
    logs = np.log(rates)
    slope = (smoothed[centres + window] - smoothed[centres - window]) / (
        logs[centres + window] - logs[centres - window])
    return float(rates[centres[int(np.argmin(slope))]])


def range_test(model, compile_args, dataset, start: float, end: float, steps: int) -> RangeTest:
    """Run the range test on a freshly built `model` (its weights change).

    Args:
        model: The model, not compiled.
        compile_args: ``CompileArgs`` built without a schedule.
        dataset: Batched training data (repeated as needed).
        start: First rate.
        end: Last rate.
        steps: Number of rates (one batch each).
    """
    compile_args.compile(model, False)
    rates = exponential_rates(start, end, steps)
    recorded, losses, smoothed = [], [], []
    average, best, diverged = 0.0, math.inf, False
    batches = iter(dataset.repeat())
    for i, rate in enumerate(rates):
        model.optimizer.learning_rate = float(rate)
        x, y = next(batches)[:2]
        loss = float(model.train_on_batch(x, y, return_dict=True)["loss"])
        if not math.isfinite(loss):
            diverged = True
            break
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        value = average / (1 - SMOOTHING ** (i + 1))
        recorded.append(float(rate))
        losses.append(loss)
        smoothed.append(value)
        best = min(best, value)
        if i > 5 and value > DIVERGENCE * best:
            diverged = True
            break
    if not recorded:
        return RangeTest([], [], [], start, True)
    return RangeTest(recorded, losses, smoothed, suggest_rate(recorded, smoothed), diverged)


def plot_range_test(path: str | Path, result: RangeTest) -> None:
    """Plot loss against rate on a log axis, marking the suggestion."""
    from compiler.figures import new_figure, save_figure

    fig = new_figure(6, 4)
    ax = fig.subplots()
    ax.plot(result.rates, result.losses, alpha=0.3, label="loss per batch")
    ax.plot(result.rates, result.smoothed, label="smoothed loss")
    ax.axvline(result.suggestion, color="red", linestyle="--",
               label=f"suggested {result.suggestion:.2e}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    if result.smoothed:
        low, high = min(result.smoothed), result.smoothed[0]
        ax.set_ylim(low - 0.1 * abs(high - low) - 1e-9, max(high, low) * 1.5 + 1e-9)
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    save_figure(path, fig)


def find_learning_rate(
    spec_or_path: Any,
    *,
    start: float = 1e-5,
    end: float = 10.0,
    steps: int = 200,
    overrides: Sequence[str] = (),
    plot: str | Path | None = None,
) -> RangeTest:
    """Run the learning-rate range test for the model and data of a spec (a Spec or a path).

    The spec's optimiser is used at a constant rate (its schedule is
    ignored); its `seed` makes the test repeatable.
    """
    from compiler.api import build_model
    from compiler.data.pipeline import load_data
    from compiler.training.compile import compile_args
    from compiler.training.prepare import (
        adapt_normalization,
        check_embedding_ids,
        check_targets_fit_outputs,
    )
    from compiler.training.run import load_spec_for_training, set_seed, steps_in

    spec = load_spec_for_training(spec_or_path, overrides)
    training = spec.training
    set_seed(training.seed)
    bundle = load_data(spec, batch_size=training.batch_size, seed=training.seed)
    model = build_model(spec)
    if bundle.task in ("classification", "binary", "sequence_labeling", "seq2seq"):
        from compiler.data.bundle import check_labels
        from compiler.run.evaluate import output_classes

        check_labels(bundle, output_classes(model), spec.locate("outputs"))
    check_targets_fit_outputs(spec, bundle, model)  # Keras would fail inside the first batch
    check_embedding_ids(spec, bundle)
    adapt_normalization(model, bundle.arrays["train"][0])
    args = compile_args(
        spec, model, steps_in(bundle.train, bundle.size("train"), training.batch_size),
        with_schedule=False,
    )
    result = range_test(model, args, bundle.train, start, end, steps)
    if plot is not None:
        plot_range_test(plot, result)
    return result
