"""The engine a run trains on: nothing, MirroredStrategy, or Keras's DataParallel.

The model is first built and prepared (weights copied in, normalisation
adapted) as usual, on one device; :meth:`Engine.place` then builds it again
inside the engine and copies the weights over, because an engine must
create the variables itself (mirrored or replicated variables), and a
data-parallel model cannot ``predict`` locally, which adapting needs.
After ``fit``, :meth:`Engine.after_fit` gives back an ordinary one-device
model with the trained weights and optimiser state, on which the reports,
the evaluation and the export run as they do for any run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from compiler.distribute.batches import BatchPlan
from compiler.errors import DataError, TrainingError


def copy_weights(source, target) -> None:
    """Copy every weight of `source` into the same-shaped model `target`."""
    import keras
    import numpy as np

    target.set_weights([np.asarray(w) for w in source.get_weights()])
    for layer in target._flatten_layers():
        # Normalization derives its mean and variance from the copied statistics.
        if isinstance(layer, keras.layers.Normalization) and layer.built:
            layer.finalize_state()


def copy_optimizer(source, target) -> None:
    """Copy the optimiser state of `source` into `target` (both compiled alike)."""
    import numpy as np

    target.optimizer.build(target.trainable_variables)
    theirs = source.optimizer.variables
    if len(theirs) != len(target.optimizer.variables):
        return  # a different optimiser state layout: the fresh state is still valid
    for mine, value in zip(target.optimizer.variables, theirs, strict=True):
        mine.assign(np.asarray(value))


class Engine:
    """One device (or whatever Keras picks by itself): nothing to set up."""

    name = "none"

    def __init__(self, global_batch: int):
        self.plan = BatchPlan(global_batch)
        self.worker_index = 0

    @property
    def is_chief(self) -> bool:
        """Whether this process writes the model folder, the exports and the logs."""
        return self.worker_index == 0

    def scope(self):
        """The context that model building, compiling and fitting run in."""
        return contextlib.nullcontext()

    def guard(self):
        """The context that ``fit`` runs in: turns a lost peer into a clear message."""
        return contextlib.nullcontext()

    def common_seed(self, seed: int | None) -> int | None:
        """The seed every worker uses (workers must shuffle and initialise alike)."""
        return seed

    def place(self, model, rebuild: Callable[[], object]):
        """The model to fit: `model` itself, or a copy built inside the engine."""
        return model

    def train_data(self, dataset, examples: int):
        """The batches this process feeds to ``fit``."""
        return dataset

    def after_fit(self, model, rebuild: Callable[[], object],
                  compile_model: Callable[[object], None]):
        """A one-device model with the trained weights (the model itself here)."""
        return model

    def describe(self) -> list[str]:
        """What the console says about the engine (nothing for one device)."""
        return []

    def close(self) -> None:
        """Undo what the engine set for the whole process."""


class MirroredEngine(Engine):
    """``tf.distribute.MirroredStrategy`` over every device of this machine (TensorFlow)."""

    name = "mirrored"

    def __init__(self, global_batch: int, where=None):
        import tensorflow as tf

        super().__init__(global_batch)
        # Every GPU; without one, every CPU device (one, unless the CPU was split
        # into logical devices, as Keras's own tests of this strategy do).
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        self.strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
        self.plan = BatchPlan(global_batch, 1, self.strategy.num_replicas_in_sync).check(where)

    def scope(self):
        return self.strategy.scope()

    def place(self, model, rebuild):
        with self.scope():
            placed = rebuild()
        copy_weights(model, placed)
        return placed

    def describe(self) -> list[str]:
        devices = ", ".join(self.strategy.extended.worker_devices)
        return [f"distribute mirrored on {self.plan.replicas} device(s): {devices}",
                self.plan.describe()]


class DataParallelEngine(Engine):
    """``keras.distribution.DataParallel`` over every device of every worker (JAX).

    Each worker feeds its own rows of every global batch (``auto_shard_dataset=False``:
    the sharding is :func:`compiler.distribute.sharding.shard_batches`); the
    validation and test data are fed whole by every worker, so that the metrics
    are those of the whole split (the replicas see each example once per worker,
    which leaves every mean and ratio unchanged).
    """

    name = "data_parallel"

    def __init__(self, global_batch: int, where=None):
        import jax
        import keras

        super().__init__(global_batch)
        self.worker_index = jax.process_index()
        self.devices = jax.devices()
        self.plan = BatchPlan(global_batch, jax.process_count(), jax.local_device_count())
        self.plan.check(where)
        self.distribution = keras.distribution.DataParallel(
            devices=self.devices, auto_shard_dataset=False)
        self._dropped = 0

    def common_seed(self, seed):
        if seed is not None or self.plan.workers == 1:
            return seed
        import numpy as np
        from jax.experimental import multihost_utils

        # Without a spec seed the chief draws one: the workers must shuffle alike
        # (each takes its rows of the same global batch) and start from equal weights.
        drawn = np.int32(np.random.default_rng().integers(0, 2**31 - 1))
        return int(multihost_utils.broadcast_one_to_all(drawn))

    def scope(self):
        return self.distribution.scope()

    @contextlib.contextmanager
    def guard(self):
        try:
            yield
        except Exception as err:
            # A peer that died breaks the collective in flight (gloo: "Connection
            # closed by peer"); the watchdog then names it and ends this process.
            if self.plan.workers == 1 or "RuntimeError" not in type(err).__name__:
                raise
            from compiler.distribute.process import joined_watchdog

            watchdog = joined_watchdog()
            if watchdog is not None:
                watchdog.wait_for_verdict()
            detail = " ".join(str(err).split())[:200]
            raise TrainingError(
                f"a collective operation with the other workers failed ({detail}): a worker "
                "was lost or cut off. Restart every worker with the same command and "
                "--resume") from None

    def place(self, model, rebuild):
        import keras

        keras.distribution.set_distribution(self.distribution)
        placed = rebuild()
        copy_weights(model, placed)
        return placed

    def train_data(self, dataset, examples: int):
        from compiler.distribute.sharding import shard_batches

        kept, self._dropped = self.plan.last_batch(examples)
        if self.plan.steps(examples) == 0:
            raise DataError(
                f"the training split has {examples} example(s), fewer than the "
                f"{self.plan.replicas} replicas that each need one per step")
        return shard_batches(dataset, self.plan, self.worker_index, examples)

    def after_fit(self, model, rebuild, compile_model):
        import keras

        keras.distribution.set_distribution(None)
        local = rebuild()
        copy_weights(model, local)
        compile_model(local)
        copy_optimizer(model, local)
        return local

    def close(self) -> None:
        import keras

        keras.distribution.set_distribution(None)

    def describe(self) -> list[str]:
        kinds = sorted({d.platform for d in self.devices})
        lines = [f"distribute data_parallel on {self.plan.replicas} device(s) "
                 f"({'/'.join(kinds)}) in {self.plan.workers} worker process(es); "
                 f"this is worker {self.worker_index}",
                 self.plan.describe()]
        if self._dropped:
            lines.append(f"each epoch's last batch is cut to a multiple of {self.plan.replicas} "
                         f"replicas: {self._dropped} example(s) sit out each epoch (shuffling "
                         "picks others each time)")
        return lines


def engine_for(training, where=None) -> Engine:
    """The engine `training.distribute` asks for (its backend is already the right one)."""
    if training.distribute == "mirrored":
        return MirroredEngine(training.batch_size, where)
    if training.distribute == "data_parallel":
        return DataParallelEngine(training.batch_size, where)
    return Engine(training.batch_size)
