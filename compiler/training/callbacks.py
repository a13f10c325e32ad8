"""Keras callbacks from the `training.callbacks` and `training.schedule` keys."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import keras

from compiler.errors import Location, SpecError
from compiler.model_folder import ModelFolder
from compiler.training.choices import Choice
from compiler.training.nan_guard import AtomicCheckpoint, NanGuard


def build_callbacks(
    choices: list[Choice],
    schedule: Choice | None,
    folder: ModelFolder,
    guard: NanGuard,
    locate: Callable[..., Location],
) -> list[keras.callbacks.Callback]:
    """Return the Keras callbacks the spec asks for (not the backup or guard).

    Args:
        choices: The validated `training.callbacks` list.
        schedule: The `training.schedule` value (`reduce_on_plateau` is a callback).
        folder: The run's model folder (its checkpoints/ and logs/).
        guard: The run's NaN guard.
        locate: ``spec.locate``, to place errors.

    Raises:
        SpecError: `tensorboard` is asked for but the package is not installed.
    """
    callbacks: list[keras.callbacks.Callback] = []
    for index, choice in enumerate(choices):
        name, p = choice.name, choice.params
        if name == "early_stopping":
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor=p.monitor,
                    patience=p.patience,
                    min_delta=p.min_delta,
                    mode=p.mode,
                    restore_best_weights=p.restore_best,
                )
            )
        elif name == "checkpoint":
            callbacks.append(
                AtomicCheckpoint(
                    folder.checkpoints_dir, p.monitor, p.mode, p.save_best_only, guard
                )
            )
        elif name == "tensorboard":
            if importlib.util.find_spec("tensorboard") is None:
                raise SpecError(
                    "the tensorboard callback needs the `tensorboard` package; install it "
                    "(pip install tensorboard) or remove the callback",
                    locate("training", "callbacks", index),
                )
            callbacks.append(
                keras.callbacks.TensorBoard(
                    log_dir=str(folder.logs_dir), histogram_freq=p.histogram_freq
                )
            )
        elif name == "csv_logger":
            # A live log (appended on resume); history.csv is the final, atomic copy.
            folder.logs_dir.mkdir(parents=True, exist_ok=True)
            callbacks.append(
                keras.callbacks.CSVLogger(str(folder.logs_dir / "training_log.csv"), append=True)
            )
        else:
            raise AssertionError(f"callback {name!r} has no builder")
    if schedule is not None and schedule.name == "reduce_on_plateau":
        p = schedule.params
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=p.monitor, factor=p.factor, patience=p.patience, min_lr=p.min_lr
            )
        )
    return callbacks


def monitored_names(choices: list[Choice], schedule: Choice | None) -> list[tuple[str, tuple]]:
    """Return ``(monitor, spec path)`` pairs, to check them against the logged names."""
    found = []
    for i, choice in enumerate(choices):
        if choice.name in ("early_stopping", "checkpoint"):
            path = ("training", "callbacks", i, choice.name, "monitor")
            found.append((choice.params.monitor, path))
    if schedule is not None and schedule.name == "reduce_on_plateau":
        found.append(
            (schedule.params.monitor, ("training", "schedule", "reduce_on_plateau", "monitor"))
        )
    return found
