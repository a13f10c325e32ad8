"""The `training.schedule` key, turned into one of the Keras schedules of
``custom_layers.schedules`` (kept there so a saved model loads with
``import custom_layers`` only)."""

from __future__ import annotations

import keras

from compiler.training.choices import Choice
from custom_layers.schedules import (
    CosineSchedule,
    ExponentialSchedule,
    InverseTimeSchedule,
    StepDecaySchedule,
    WarmupSchedule,
)

__all__ = [
    "CosineSchedule",
    "ExponentialSchedule",
    "InverseTimeSchedule",
    "StepDecaySchedule",
    "WarmupSchedule",
    "build_schedule",
]


def build_schedule(
    choice: Choice | None, learning_rate: float, steps_per_epoch: int, total_epochs: int
) -> keras.optimizers.schedules.LearningRateSchedule | None:
    """Return the Keras schedule for `choice`, or None for a constant rate.

    `reduce_on_plateau` also returns None: it is a callback acting on a
    constant rate (see ``callbacks.py``).

    Args:
        choice: The validated `training.schedule` value.
        learning_rate: The optimiser's initial rate η0.
        steps_per_epoch: Optimiser steps in one epoch (at least 1).
        total_epochs: The run's `training.epochs` (default length of `cosine`).
    """
    if choice is None or choice.name == "reduce_on_plateau":
        return None
    steps_per_epoch = max(1, int(steps_per_epoch))
    name, p = choice.name, choice.params
    if name == "inverse_time":
        return InverseTimeSchedule(learning_rate, steps_per_epoch, p.decay)
    if name == "step_decay":
        return StepDecaySchedule(learning_rate, steps_per_epoch, p.factor, p.every)
    if name == "exponential":
        return ExponentialSchedule(learning_rate, steps_per_epoch, p.rate)
    if name == "cosine":
        return CosineSchedule(learning_rate, steps_per_epoch, p.epochs or total_epochs, p.min_lr)
    if name == "warmup":
        after = None
        if p.then is not None:
            after = build_schedule(
                p.then, learning_rate, steps_per_epoch, max(1, total_epochs - p.epochs)
            )
        return WarmupSchedule(learning_rate, steps_per_epoch, p.epochs, after)
    raise AssertionError(f"schedule {name!r} has no builder")  # schema and builder out of sync
