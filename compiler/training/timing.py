"""Wall-clock time of each epoch (for metrics.json)."""

from __future__ import annotations

import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Records the duration of every epoch, continuing a resumed list.

    Args:
        seconds: Durations of epochs completed before a resume.
    """

    def __init__(self, seconds: list[float] | None = None):
        super().__init__()
        self.seconds: list[float] = list(seconds or [])
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self._start, 4))
