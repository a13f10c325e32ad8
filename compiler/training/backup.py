"""Resumable backups and the NaN guard.

`backup/` holds the weights and optimiser state of the last *good* completed
epoch plus ``state.json`` (epochs completed, history so far). ``state.json``
is written last and atomically and names its weights file, so it is the
commit point: a crash at any moment leaves a consistent pair. An epoch in
which the loss became NaN or infinite is never backed up.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import keras

from compiler.training.atomic import write_json

STATE_FILE = "state.json"


class NanGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN or infinite.

    Keras' own ``TerminateOnNaN`` lets the epoch-end callbacks run afterwards,
    which would back up and checkpoint the broken weights; here the others
    check :attr:`tripped` first.
    """

    def __init__(self):
        super().__init__()
        self.tripped: tuple[int, int, float] | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and self.tripped is None and not math.isfinite(float(loss)):
            self.tripped = (self._epoch, batch, float(loss))
            self.model.stop_training = True


def logs_are_finite(logs: dict | None) -> bool:
    """True when every number in `logs` is finite."""
    return all(math.isfinite(float(v)) for v in (logs or {}).values())


class TrainingBackup(keras.callbacks.Callback):
    """Backs up weights, optimiser state and history after every good epoch.

    Args:
        folder: The `backup/` folder.
        guard: The run's :class:`NanGuard`; a tripped guard stops backups.
        history: Rows of earlier epochs (from a resumed backup).
        timer: The run's ``EpochTimer`` (its durations are backed up too).
        learning_rate: The spec's learning rate, recorded to notice a change on resume.
    """

    def __init__(
        self,
        folder: str | Path,
        guard: NanGuard,
        history: list[dict] | None = None,
        timer=None,
        learning_rate: float | None = None,
    ):
        super().__init__()
        self.learning_rate = learning_rate
        self.folder = Path(folder)
        self.guard = guard
        self.history: list[dict] = list(history or [])
        self.timer = timer

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
        write_json(
            self.folder / STATE_FILE,
            {
                "epochs_completed": epoch + 1,
                "weights": weights,
                "history": self.history,
                "epoch_seconds": self.timer.seconds[: len(self.history)] if self.timer else [],
                "learning_rate": self.learning_rate,
                "finished": False,
            },
        )
        for old in self.folder.glob("epoch-*.weights.h5"):
            if old.name != weights:
                old.unlink(missing_ok=True)


    def mark_finished(self) -> None:
        """Record that the run completed (a fresh run may then discard the backup)."""
        path = self.folder / STATE_FILE
        if path.is_file():
            state = json.loads(path.read_text(encoding="utf-8"))
            write_json(path, {**state, "finished": True})


def read_backup(folder: str | Path) -> dict | None:
    """Return the backup state of `folder` (with ``weights`` as a full path), or None."""
    state_path = Path(folder) / STATE_FILE
    if not state_path.is_file():
        return None
    state = json.loads(state_path.read_text(encoding="utf-8"))
    state["weights"] = str(Path(folder) / state["weights"])
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
    model.load_weights(state["weights"])
    changed = learning_rate is not None and learning_rate != state.get("learning_rate")
    rate = model.optimizer._learning_rate
    if changed and isinstance(rate, keras.Variable):
        rate.assign(learning_rate)
