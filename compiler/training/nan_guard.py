"""The NaN guard, and the checkpoint callback that respects it.

Both are used by the spec's callbacks (`callbacks.py`) and by the backup
(`backup.py`), which must recognise the checkpoint to carry its best value
across a resume; keeping them here lets both import them without importing
each other.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras

from compiler.atomic import save_model


class NanGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN or infinite.

    Keras' own ``TerminateOnNaN`` lets the epoch-end callbacks run afterwards,
    which would back up and checkpoint the broken weights; here the others
    check :attr:`tripped` first.
    """

    def __init__(self):
        super().__init__()
        # (epoch, batch, loss); batch is None when the validation loss went bad.
        self.tripped: tuple[int, int | None, float] | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and self.tripped is None and not math.isfinite(float(loss)):
            self.tripped = (self._epoch, batch, float(loss))
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        # A finite training loss with a NaN or infinite validation loss: the
        # validation data hold what the model cannot compute (values far beyond
        # the training data). Such an epoch is not backed up, so carrying on
        # would end in a run that reports nothing; stop and say so instead.
        if self.tripped is not None:
            return
        for key, value in (logs or {}).items():
            if key.startswith("val_") and key.endswith("loss") and not math.isfinite(float(value)):
                self.tripped = (epoch, None, float(value))
                self.model.stop_training = True
                return


class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves `checkpoints/best.keras` (and, if asked, one file per epoch) atomically.

    Args:
        folder: The `checkpoints/` folder.
        monitor: Logged quantity deciding which model is best.
        mode: ``min``, ``max`` or ``auto`` (max for accuracy-like names).
        save_best_only: Skip the per-epoch files.
        guard: The run's NaN guard; nothing is saved once it tripped.
    """

    def __init__(
        self, folder: str | Path, monitor: str, mode: str, save_best_only: bool, guard: NanGuard
    ):
        super().__init__()
        self.folder = Path(folder)
        self.monitor = monitor
        self.higher_is_better = mode == "max" or (mode == "auto" and _higher_is_better(monitor))
        self.save_best_only = save_best_only
        self.guard = guard
        self.best = -math.inf if self.higher_is_better else math.inf

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.tripped is not None:
            return
        value = (logs or {}).get(self.monitor)
        if not self.save_best_only:
            save_model(self.model, self.folder / f"epoch-{epoch + 1:04d}.keras")
        if value is None or not math.isfinite(float(value)):
            return
        better = value > self.best if self.higher_is_better else value < self.best
        if better:
            self.best = float(value)
            save_model(self.model, self.folder / "best.keras")


def _higher_is_better(monitor: str) -> bool:
    return any(w in monitor for w in ("acc", "auc", "f1", "precision", "recall", "top_"))
