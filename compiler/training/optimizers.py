"""Keras optimisers from the `training.optimizer` key."""

from __future__ import annotations

import keras

from compiler.training.choices import Choice

_CLASSES = {
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "adam": "Adam",
    "adamw": "AdamW",
    "adamax": "Adamax",
    "nadam": "Nadam",
}


def build_optimizer(
    choice: Choice,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule | None = None,
) -> keras.optimizers.Optimizer:
    """Return a fresh optimiser for `choice`.

    Args:
        choice: The validated `training.optimizer` value.
        learning_rate: A schedule (or a number) replacing the spec's constant
            rate; None keeps `learning_rate` from the spec.
    """
    params = choice.params.model_dump()
    # Keras rejects clipnorm=None alongside global_clipnorm, so pass only what is set.
    params = {k: v for k, v in params.items() if v is not None}
    if learning_rate is not None:
        params["learning_rate"] = learning_rate
    return getattr(keras.optimizers, _CLASSES[choice.name])(**params)


def initial_learning_rate(choice: Choice) -> float:
    """Return η0 of the optimiser choice."""
    return float(choice.params.learning_rate)
