"""Resumable backups of a training run.

`backup/` holds the weights and optimiser state of the last *good* point of
the run plus ``state.json`` (epochs and steps completed, history so far).
That point is the end of an epoch or, with ``training.backup.every_steps: N``,
every N-th training step within one. ``state.json`` is written last and
atomically and names its files, so it is the commit point: a crash at any
moment leaves a consistent set. An epoch in which the loss became NaN or
infinite is never backed up.

Next to the weights, a ``.vars.npz`` file keeps what ``save_weights`` leaves
out: the random-number state of layers such as dropout and, for a backup
within an epoch, the metrics accumulated over the epoch's first steps. A run
resumed mid-epoch restores both, draws the same shuffle order for the epoch,
passes over the batches already trained without training on them again, and
so reports the same history and ends with the same weights as a run that was
never interrupted (with a `seed:`; see ``run._replay_shuffles``).

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
# Keras names the variable of every `SeedGenerator` (dropout, noise, augmentation) so.
_SEED_STATE = "seed_generator_state"


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
        every_steps: Also back up after every this many steps within an epoch
            (None: at epoch ends only).
        steps_per_epoch: Steps in one epoch (the last one is left to the
            epoch-end backup, which also has the validation results).
        resume: The state (from :func:`read_backup`) of a backup made within an
            epoch that this run continues, or None.
        sample: One example of the training data ``(x, y)``, used to create the
            metrics' variables before their saved values are put back.
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
        every_steps: int | None = None,
        steps_per_epoch: int | None = None,
        resume: dict | None = None,
        sample: tuple | None = None,
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
        self.every_steps = every_steps
        self.steps_per_epoch = steps_per_epoch
        self.sample = sample
        self._epoch = 0
        self._resume_epoch = int(resume["epochs_completed"]) if resume else None
        self._resume_step = int(resume.get("steps_completed", 0)) if resume else 0
        self._resume_variables = resume.get("variables") if resume else None
        # (epochs, steps) of the newest backup on disk: what a NaN falls back to.
        self.saved_at: tuple[int, int] | None = (
            (self._resume_epoch, self._resume_step) if resume else
            (len(self.history), 0) if self.history else None
        )

    def on_train_begin(self, logs=None):
        if self._resume_step:
            self._skip_trained_batches(self._resume_step)
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

    def _skip_trained_batches(self, steps: int) -> None:
        """Make the first `steps` steps of this run read their batch and train nothing.

        Keras' `fit` starts an epoch at its first batch. A run resumed within
        an epoch opens the same shuffled iterator as the uninterrupted run
        did, so passing over the batches the backup had already trained on
        puts the next step on the very batch it would have had. The step's
        logs are the restored metrics (what the uninterrupted run showed).
        """
        model = self.model
        original = model.train_function
        per_call = int(getattr(model, "steps_per_execution", 1) or 1)
        left = [steps]

        def train_function(iterator):
            if left[0] <= 0:
                return original(iterator)
            for _ in range(per_call):
                next(iterator)
            left[0] -= per_call
            if left[0] <= 0:
                model.train_function = original
            return model.get_metrics_result()

        model.train_function = train_function

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self._resume_step and epoch == self._resume_epoch and self._resume_variables:
            # Keras has just reset the metrics for the epoch: put back what
            # its first steps had accumulated.
            _, metrics = load_variables(self._resume_variables)
            restore_metric_variables(self.model, metrics, self.sample)

    def on_train_batch_end(self, batch, logs=None):
        step = batch + 1
        if not self.every_steps or step % self.every_steps:
            return
        if self.steps_per_epoch is not None and step >= self.steps_per_epoch:
            return  # the epoch-end backup follows
        if self._epoch == self._resume_epoch and step <= self._resume_step:
            return  # a batch passed over on resume: already backed up
        if self.guard.tripped is not None or not logs_are_finite(logs):
            return
        self._write(self._epoch, step, stopped_early=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.tripped is not None or not logs_are_finite(logs):
            return
        self.history.append({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})
        # Set by an early-stopping callback that ran before this one.
        self._write(epoch + 1, 0, stopped_early=bool(self.model.stop_training))

    def _write(self, epochs: int, steps: int, stopped_early: bool) -> None:
        """Back up the model after `epochs` epochs and `steps` steps of the next one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = f"epoch-{epochs:04d}" + (f"-step-{steps:06d}" if steps else "")
        weights, variables = f"{stem}.weights.h5", f"{stem}.vars.npz"
        # Write the new files under fresh names; the old set stays valid
        # until state.json is replaced.
        tmp = self.folder / f".{weights}.partial.weights.h5"
        self.model.save_weights(tmp)
        tmp.replace(self.folder / weights)
        metrics = [v.numpy() for v in self.model.metrics_variables] if steps else []
        seeds = [v.numpy() for v in seed_variables(self.model)]
        write_with(self.folder / variables, lambda path: _save_variables(path, seeds, metrics))
        states = [self._state_of(callback) for callback in self.tracked]
        write_json(
            self.folder / STATE_FILE,
            {
                "epochs_completed": epochs,
                "steps_completed": steps,
                "weights": weights,
                "variables": variables,
                "history": self.history,
                "epoch_seconds": self.timer.seconds[: len(self.history)] if self.timer else [],
                "learning_rate": self.learning_rate,
                "callbacks": states,
                "stopped_early": stopped_early,
                "finished": False,
            },
        )
        self.saved_at = (epochs, steps)
        keep = {weights, variables, *(s["best_weights"] for s in states if s.get("best_weights"))}
        old_files = [*self.folder.glob("epoch-*.weights.h5"), *self.folder.glob("epoch-*.vars.npz"),
                     *self.folder.glob("best-*.npz")]
        for old in old_files:
            if old.name not in keep:
                old.unlink(missing_ok=True)

    def describe_saved(self) -> str:
        """Where the newest backup on disk stands, for messages ("epoch 3", ...)."""
        if self.saved_at is None:
            return "no completed epoch"
        epochs, steps = self.saved_at
        if not steps:
            return f"epoch {epochs}" if epochs else "no completed epoch"
        return f"epoch {epochs} and {steps} step(s) of epoch {epochs + 1}"

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


def seed_variables(model: keras.Model) -> list:
    """The random-number state of `model`'s layers (``save_weights`` leaves it out)."""
    return [v for v in model.non_trainable_variables if v.name == _SEED_STATE]


def _save_variables(path: str | Path, seeds: list, metrics: list) -> None:
    arrays = {f"seed{i}": a for i, a in enumerate(seeds)}
    arrays.update({f"metric{i}": a for i, a in enumerate(metrics)})
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def load_variables(path: str | Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The (seed states, metric variables) a backup's ``.vars.npz`` holds, each in model order."""
    with np.load(path) as arrays:
        def series(prefix: str) -> list[np.ndarray]:
            count = sum(1 for name in arrays.files if name.startswith(prefix))
            return [arrays[f"{prefix}{i}"] for i in range(count)]

        return series("seed"), series("metric")


def restore_metric_variables(
    model: keras.Model, values: list[np.ndarray], sample: tuple | None
) -> None:
    """Put the metrics' accumulated values of a mid-epoch backup back into `model`.

    Keras creates the compiled metrics' variables on the first training step;
    a resumed run has not taken one yet, so they are created here from one
    example (a forward pass in inference mode: no weight, metric or random
    state changes) and reset before the saved values go in.

    Raises:
        BackupError: The backup holds another number of metric variables (the
            spec's metrics or outputs changed).
    """
    if len(model.metrics_variables) != len(values) and sample is not None:
        x, y = sample[0], sample[1]
        y_pred = model(x, training=False)
        model.compute_loss(x, y, y_pred, training=False)
        model.compute_metrics(x, y, y_pred)
        model.reset_metrics()
    variables = model.metrics_variables
    if len(variables) != len(values):
        raise BackupError(
            f"the backup's metrics ({len(values)} values) do not fit this model's "
            f"({len(variables)}): were the spec's metrics changed since it was written? "
            "Train without --resume to start afresh"
        )
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


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
        # Backups written before steps and variables were recorded have neither.
        steps = int(state.setdefault("steps_completed", 0))
        variables = state.get("variables")
        variables = None if variables is None else Path(folder) / variables
        if steps < 0 or steps and variables is None:
            raise ValueError(f"steps_completed {steps} without its variables file")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise BackupError(
            f"the backup in {folder} is damaged ({state_path.name}: {type(err).__name__}: {err}); "
            "move it away to start afresh"
        ) from None
    for path in (weights, variables):
        if path is not None and not path.is_file():
            raise BackupError(
                f"the backup in {folder} is damaged: {state_path.name} names {path.name}, "
                "which is missing; move the folder away to start afresh"
            )
    state["weights"] = str(weights)
    state["variables"] = None if variables is None else str(variables)
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
    if state.get("variables"):
        seeds, _ = load_variables(state["variables"])
        variables = seed_variables(model)
        # A backup of another model was refused above; a count that differs
        # still means the random state cannot be matched, so it starts afresh.
        if len(seeds) == len(variables):
            for variable, value in zip(variables, seeds, strict=True):
                variable.assign(value)
    changed = learning_rate is not None and learning_rate != state.get("learning_rate")
    rate = model.optimizer._learning_rate
    if changed and isinstance(rate, keras.Variable):
        rate.assign(learning_rate)
