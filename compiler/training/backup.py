"""Resumable backups of a training run.

`backup/` holds the weights and optimiser state of the last *good* completed
epoch plus ``state.json`` (epochs completed, history so far). ``state.json``
is written last and atomically and names its weights file, so it is the
commit point: a crash at any moment leaves a consistent pair. An epoch in
which the loss became NaN or infinite is never backed up.

The state of the callbacks that count epochs (early stopping's patience and
best weights, reduce-on-plateau's counters, the checkpoint's best value) is
backed up with it, so a resumed run stops, lowers its rate and keeps its best
model exactly where an uninterrupted run would have.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import keras
import numpy as np

from compiler.atomic import write_json, write_with
from compiler.errors import TrainingError
from compiler.training.nan_guard import AtomicCheckpoint, NanGuard
from compiler.training.timing import EpochTimer

STATE_FILE = "state.json"


def logs_are_finite(logs: dict | None) -> bool:
    """True when every number in `logs` is finite."""
    return all(math.isfinite(float(v)) for v in (logs or {}).values())


class TrainingBackup(keras.callbacks.Callback):
    """Backs up weights, optimiser state and history after every good epoch.

    Args:
        folder: The `backup/` folder.
        guard: The run's :class:`NanGuard`; a tripped guard stops backups.
        history: Rows of earlier epochs (from a resumed backup).
        timer: The run's :class:`EpochTimer` (its durations are backed up too).
        learning_rate: The spec's learning rate, recorded to notice a change on resume.
        tracked: Callbacks whose counters are backed up (see :func:`callback_state`).
        restored: Their states from the backup being resumed, restored when
            training begins (after Keras has reset them), or None.
    """

    def __init__(
        self,
        folder: str | Path,
        guard: NanGuard,
        history: list[dict] | None = None,
        timer: EpochTimer | None = None,
        learning_rate: float | None = None,
        tracked: list[keras.callbacks.Callback] | None = None,
        restored: list[dict] | None = None,
    ):
        super().__init__()
        self.learning_rate = learning_rate
        self.folder = Path(folder)
        self.guard = guard
        self.history: list[dict] = list(history or [])
        self.timer = timer
        self.tracked = [cb for cb in tracked or [] if callback_state(cb) is not None]
        self.restored = restored
        self._best_file: str | None = None
        self._best_epoch: int | None = None

    def on_train_begin(self, logs=None):
        # Keras' callbacks reset themselves in their own on_train_begin; this
        # one runs last, so the restored counters stick.
        if not self.restored:
            return
        # A backup made before the spec's callbacks changed may list more or
        # fewer of them: pair what there is, and the kind check below skips the rest.
        for callback, saved in zip(self.tracked, self.restored, strict=False):
            if saved.get("kind") == callback_state(callback)["kind"]:
                load_callback_state(callback, saved, self.folder)
                if saved.get("best_weights"):
                    self._best_file = saved["best_weights"]
                    self._best_epoch = saved.get("best_epoch")

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.tripped is not None or not logs_are_finite(logs):
            return
        self.history.append({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})
        self.folder.mkdir(parents=True, exist_ok=True)
        weights = f"epoch-{epoch + 1:04d}.weights.h5"
        # Write the new weights under a fresh name; the old pair stays valid
        # until state.json is replaced.
        tmp = self.folder / f".{weights}.partial.weights.h5"
        self.model.save_weights(tmp)
        tmp.replace(self.folder / weights)
        states = [self._state_of(callback) for callback in self.tracked]
        write_json(
            self.folder / STATE_FILE,
            {
                "epochs_completed": epoch + 1,
                "weights": weights,
                "history": self.history,
                "epoch_seconds": self.timer.seconds[: len(self.history)] if self.timer else [],
                "learning_rate": self.learning_rate,
                "callbacks": states,
                # Set by an early-stopping callback that ran before this one.
                "stopped_early": bool(self.model.stop_training),
                "finished": False,
            },
        )
        keep = {weights, *(s["best_weights"] for s in states if s.get("best_weights"))}
        for old in [*self.folder.glob("epoch-*.weights.h5"), *self.folder.glob("best-*.npz")]:
            if old.name not in keep:
                old.unlink(missing_ok=True)

    def _state_of(self, callback: keras.callbacks.Callback) -> dict:
        state = callback_state(callback)
        best = getattr(callback, "best_weights", None)
        if best is not None:
            # The best weights change only on an improvement: write them then.
            if self._best_file is None or self._best_epoch != callback.best_epoch:
                name = f"best-epoch-{callback.best_epoch + 1:04d}.npz"
                write_with(
                    self.folder / name,
                    lambda tmp: _save_arrays(tmp, best),
                )
                self._best_file, self._best_epoch = name, callback.best_epoch
            state["best_weights"] = self._best_file
        return state

    def mark_finished(self) -> None:
        """Record that the run completed (a fresh run may then discard the backup)."""
        path = self.folder / STATE_FILE
        if path.is_file():
            state = json.loads(path.read_text(encoding="utf-8"))
            write_json(path, {**state, "finished": True})


def callback_state(callback: keras.callbacks.Callback) -> dict | None:
    """The counters of `callback` that a resumed run needs, or None for other callbacks."""
    if isinstance(callback, keras.callbacks.EarlyStopping):
        return {
            "kind": "early_stopping",
            "wait": int(getattr(callback, "wait", 0)),
            "best": _number(getattr(callback, "best", None)),
            "best_epoch": int(getattr(callback, "best_epoch", 0)),
            "stopped_epoch": int(getattr(callback, "stopped_epoch", 0)),
        }
    if isinstance(callback, keras.callbacks.ReduceLROnPlateau):
        return {
            "kind": "reduce_on_plateau",
            "wait": int(getattr(callback, "wait", 0)),
            "best": _number(getattr(callback, "best", None)),
            "cooldown_counter": int(getattr(callback, "cooldown_counter", 0)),
        }
    if isinstance(callback, AtomicCheckpoint):
        return {"kind": "checkpoint", "best": _number(callback.best)}
    return None


def load_callback_state(callback: keras.callbacks.Callback, state: dict, folder: Path) -> None:
    """Put counters saved by :func:`callback_state` back into `callback`."""
    for key in ("wait", "best_epoch", "stopped_epoch", "cooldown_counter"):
        if key in state:
            setattr(callback, key, state[key])
    if state.get("best") is not None:
        callback.best = state["best"]
    if state.get("best_weights"):
        callback.best_weights = load_best_weights(folder / state["best_weights"])


def load_best_weights(path: str | Path) -> list[np.ndarray]:
    """The weight list an early-stopping backup wrote (in `model.get_weights()` order)."""
    with np.load(path) as arrays:
        return [arrays[f"w{i}"] for i in range(len(arrays.files))]


def _save_arrays(path: str | Path, arrays: list) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, **{f"w{i}": np.asarray(a) for i, a in enumerate(arrays)})


def _number(value) -> float | None:
    return None if value is None else float(value)


class BackupError(TrainingError):
    """A `backup/` folder cannot be read or does not fit the model."""


def read_backup(folder: str | Path) -> dict | None:
    """Return the backup state of `folder` (with ``weights`` as a full path), or None.

    Raises:
        BackupError: ``state.json`` is not what this module writes, or names a
            weights file that is missing.
    """
    state_path = Path(folder) / STATE_FILE
    if not state_path.is_file():
        return None
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        weights = Path(folder) / state["weights"]
        int(state["epochs_completed"])
        list(state["history"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise BackupError(
            f"the backup in {folder} is damaged ({state_path.name}: {type(err).__name__}: {err}); "
            "move it away to start afresh"
        ) from None
    if not weights.is_file():
        raise BackupError(
            f"the backup in {folder} is damaged: {state_path.name} names {weights.name}, "
            "which is missing; move the folder away to start afresh"
        )
    state["weights"] = str(weights)
    return state


def restore_backup(model: keras.Model, state: dict, learning_rate: float | None = None) -> None:
    """Load weights and optimiser state of a backup into a compiled `model`.

    Args:
        model: The compiled model.
        state: What :func:`read_backup` returned.
        learning_rate: The spec's constant rate now; when it differs from the
            one the backup was made with, the user changed it on purpose (for
            example after a NaN), so it replaces the restored rate.
    """
    # The optimiser's variables must exist before its saved state can load.
    model.optimizer.build(model.trainable_variables)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(state["weights"])
        except Exception as err:  # h5py/Keras raise several kinds for a file that does not fit
            detail = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
            raise BackupError(
                f"the backup {state['weights']} does not fit this model (was the spec changed "
                f"since it was written?): {type(err).__name__}: {detail[:300]}. Train without "
                "--resume to start afresh; the old backup is then kept as backup.previous"
            ) from None
    for warning in caught:  # the load worked: its warnings still matter
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    changed = learning_rate is not None and learning_rate != state.get("learning_rate")
    rate = model.optimizer._learning_rate
    if changed and isinstance(rate, keras.Variable):
        rate.assign(learning_rate)
