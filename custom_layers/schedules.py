"""Epoch-based learning-rate schedules, as Keras schedule objects.

Every schedule counts epochs from 0 and is a function of the optimiser step:
``epoch = floor(step / steps_per_epoch)``. Computing the rate from the step
(rather than with an epoch-end callback) keeps it inside the compiled train
step and makes a resumed run continue exactly where the optimiser left off.

They live in this package, not in the compiler, because a trained
``model.keras`` keeps its optimiser: importing ``custom_layers`` must be enough
to load it back. All classes are registered under the ``nncompile`` package.
"""

from __future__ import annotations

import math

import keras
from keras import ops

_register = keras.saving.register_keras_serializable(package="nncompile")

class _EpochSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Common part: the initial rate η0 and the epoch counter."""

    def __init__(self, initial_learning_rate: float, steps_per_epoch: int):
        self.initial_learning_rate = float(initial_learning_rate)
        self.steps_per_epoch = int(steps_per_epoch)

    def epoch(self, step):
        """Return the (float) number of completed epochs at optimiser step `step`."""
        return ops.floor(ops.cast(step, "float32") / float(self.steps_per_epoch))

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "steps_per_epoch": self.steps_per_epoch,
        }


@_register
class InverseTimeSchedule(_EpochSchedule):
    """η = η0 / (1 + decay · epoch)."""

    def __init__(self, initial_learning_rate: float, steps_per_epoch: int, decay: float):
        super().__init__(initial_learning_rate, steps_per_epoch)
        self.decay = float(decay)

    def __call__(self, step):
        return self.initial_learning_rate / (1.0 + self.decay * self.epoch(step))

    def get_config(self) -> dict:
        return {**super().get_config(), "decay": self.decay}


@_register
class StepDecaySchedule(_EpochSchedule):
    """η = η0 · factor ^ floor(epoch / every)."""

    def __init__(self, initial_learning_rate: float, steps_per_epoch: int, factor: float,
                 every: int):
        super().__init__(initial_learning_rate, steps_per_epoch)
        self.factor = float(factor)
        self.every = int(every)

    def __call__(self, step):
        drops = ops.floor(self.epoch(step) / float(self.every))
        return self.initial_learning_rate * ops.power(self.factor, drops)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "every": self.every}


@_register
class ExponentialSchedule(_EpochSchedule):
    """η = η0 · rate ^ epoch."""

    def __init__(self, initial_learning_rate: float, steps_per_epoch: int, rate: float):
        super().__init__(initial_learning_rate, steps_per_epoch)
        self.rate = float(rate)

    def __call__(self, step):
        return self.initial_learning_rate * ops.power(self.rate, self.epoch(step))

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate}


@_register
class CosineSchedule(_EpochSchedule):
    """η = min_lr + ½ (η0 − min_lr)(1 + cos(π · min(epoch, epochs) / epochs))."""

    def __init__(
        self, initial_learning_rate: float, steps_per_epoch: int, epochs: int, min_lr: float = 0.0
    ):
        super().__init__(initial_learning_rate, steps_per_epoch)
        self.epochs = int(epochs)
        self.min_lr = float(min_lr)

    def __call__(self, step):
        progress = ops.minimum(self.epoch(step), float(self.epochs)) / float(self.epochs)
        cosine = 0.5 * (1.0 + ops.cos(math.pi * progress))
        return self.min_lr + (self.initial_learning_rate - self.min_lr) * cosine

    def get_config(self) -> dict:
        return {**super().get_config(), "epochs": self.epochs, "min_lr": self.min_lr}


@_register
class WarmupSchedule(_EpochSchedule):
    """η = η0 · (step + 1) / W for step < W = epochs · steps_per_epoch, then `after(step − W)`.

    Without `after` the rate stays at η0 once warmed up. Unlike the others the
    warm-up ramps per step, because a per-epoch ramp would spend the whole
    first epoch at rate 0.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        steps_per_epoch: int,
        epochs: int,
        after: keras.optimizers.schedules.LearningRateSchedule | dict | None = None,
    ):
        super().__init__(initial_learning_rate, steps_per_epoch)
        self.epochs = int(epochs)
        if isinstance(after, dict):
            after = keras.saving.deserialize_keras_object(after)
        self.after = after

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm_steps = float(self.epochs * self.steps_per_epoch)
        ramp = self.initial_learning_rate * (step + 1.0) / warm_steps
        if self.after is None:
            later = ops.convert_to_tensor(self.initial_learning_rate, "float32")
        else:
            later = ops.cast(self.after(ops.maximum(step - warm_steps, 0.0)), "float32")
        return ops.where(step < warm_steps, ramp, later)

    def get_config(self) -> dict:
        after = None if self.after is None else keras.saving.serialize_keras_object(self.after)
        return {**super().get_config(), "epochs": self.epochs, "after": after}
