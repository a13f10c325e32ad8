"""Training a spec end to end: `nncompile train`.

Reads data and model from the spec, fits with callbacks and resumable
backups, evaluates, and writes `saved_models/<name>/` (see DESIGN.md,
"Outputs"). Every file is written atomically.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler.errors import DataError, SpecError, TrainingError
from compiler.model_folder import DEFAULT_ROOT, ModelFolder
from compiler.training.xla import XlaDecision


@dataclass
class TrainResult:
    """What a training run produced."""

    out_dir: Path
    metrics: dict
    history: list[dict]
    epochs_completed: int
    xla: XlaDecision
    model: object = field(repr=False, default=None)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def set_seed(seed: int | None) -> None:
    """Seed Python, NumPy and TensorFlow and make TF ops deterministic (or not, without a seed).

    Op determinism is process-wide state: a run without a seed switches it off
    again, so an earlier seeded run in the same process does not take XLA away.
    """
    from tensorflow.python.framework import config as tf_config

    if seed is None:
        tf_config.disable_op_determinism()
        return
    import keras

    keras.utils.set_random_seed(seed)
    # Deterministic kernels make two CPU runs bitwise identical (and turn XLA off).
    tf_config.enable_op_determinism()


def load_spec_for_training(spec_or_path, overrides: Sequence[str] = ()):
    """Return a Spec, loading it when given a path; check it has `training:` and `data:`."""
    from compiler.api import load_spec

    spec = spec_or_path
    if isinstance(spec_or_path, (str, Path)):
        spec = load_spec(str(spec_or_path), list(overrides))
    if spec.training is None:
        raise SpecError("the spec has no `training:` section; nothing to train", spec.locate())
    if spec.data is None:
        raise SpecError("the spec has no `data:` section; nothing to train on", spec.locate())
    return spec


def steps_in(dataset, examples: int, batch_size: int) -> int:
    """Number of batches of `dataset` (computed from the size when unknown)."""
    count = int(dataset.cardinality())
    return count if count > 0 else max(1, -(-examples // batch_size))


def output_units(model) -> int:
    """Size of the last axis of the (first) output: the number of classes.

    A single unit (a sigmoid for binary cross-entropy) stands for two classes.
    """
    shape = model.outputs[0].shape
    units = int(shape[-1]) if len(shape) > 1 and shape[-1] else 1
    return 2 if units == 1 else units


def check_monitors(spec, has_validation: bool) -> None:
    """A callback watching `val_*` needs a validation split."""
    from compiler.training.callbacks import monitored_names

    training = spec.training
    for monitor, path in monitored_names(training.callbacks, training.schedule):
        if monitor.startswith("val_") and not has_validation:
            raise SpecError(
                f"monitors '{monitor}' but the data has no validation split; add "
                "`data: {split: {validation: 0.2}}` or monitor 'loss'",
                spec.locate(*path),
            )


def class_weights(spec, bundle, num_classes: int, num_outputs: int = 1):
    """Return the Keras `class_weight` argument for the spec, or None.

    Classes the mapping leaves out weigh 1; a class index the model does not
    have is an error (Keras would fail deep inside the first batch).
    """
    from compiler.training.prepare import balanced_class_weights

    wanted = spec.training.class_weight
    if wanted is None:
        return None
    where = spec.locate("training", "class_weight")
    if num_outputs > 1:
        raise SpecError(
            f"class_weight applies to a model with one output; this one has {num_outputs}. "
            "Remove class_weight (or train the outputs as separate models)",
            where,
        )
    if bundle.task not in ("classification", "binary"):
        raise SpecError(
            f"class_weight needs a classification task, but the data is {bundle.task}",
            where,
        )
    n = 2 if bundle.task == "binary" else num_classes
    if wanted == "balanced":
        return balanced_class_weights(bundle.arrays["train"][1], n)
    unknown = sorted(int(k) for k in wanted if not 0 <= int(k) < n)
    if unknown:
        raise SpecError(
            f"class_weight names class(es) {', '.join(map(str, unknown))}, but the model has "
            f"{n} classes (0..{n - 1})",
            where,
        )
    weights = {c: 1.0 for c in range(n)}
    weights.update({int(k): float(v) for k, v in wanted.items()})
    return weights


def _read_start_backup(backup_dir: Path, resume: bool, echo) -> dict | None:
    """Read `backup_dir` and decide how this run starts; change nothing on disk.

    Returns the state to resume from (``--resume``), or None for a fresh run;
    a fresh run's old backup is dealt with by :func:`_set_aside_backup` only
    once data, model and compilation are ready, so that a run failing before
    training starts leaves the earlier backup where it was.
    """
    from compiler.training.backup import BackupError, read_backup

    try:
        state = read_backup(backup_dir)
    except BackupError:
        if resume:
            raise
        return None
    if resume:
        if state is None:
            echo(f"no backup in {backup_dir}; starting from epoch 0")
        elif state["steps_completed"]:
            epochs, steps = state["epochs_completed"], state["steps_completed"]
            echo(f"resuming after epoch {epochs} and {steps} step(s) of epoch {epochs + 1} "
                 f"from {backup_dir}")
        else:
            echo(f"resuming after epoch {state['epochs_completed']} from {backup_dir}")
        return state
    return None


def _set_aside_backup(backup_dir: Path, echo) -> None:
    """Before a fresh run trains: drop a finished run's backup, keep an unfinished one aside."""
    from compiler.training.backup import BackupError, read_backup

    if not backup_dir.exists():
        return
    try:
        state = read_backup(backup_dir)
    except BackupError:
        state = {"damaged": True}  # moved aside below, like an unfinished run's
    if state is None:
        return
    if state.get("finished"):
        # The run that wrote it finished and saved its model: nothing to keep.
        shutil.rmtree(backup_dir, ignore_errors=True)
        return
    # A fresh run must not destroy the only copy of an interrupted one.
    previous = backup_dir.with_name("backup.previous")
    shutil.rmtree(previous, ignore_errors=True)
    backup_dir.rename(previous)
    echo(f"an unfinished run's backup was moved to {previous} (use --resume to continue one)")


def _peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _replay_shuffles(dataset, epochs_done: int) -> None:
    """Advance a seeded dataset's shuffle past `epochs_done` epochs.

    Every new iterator of a ``reshuffle_each_iteration`` dataset draws the next
    shuffle order. Keras opens one iterator per epoch, plus one ahead for the
    next epoch when the number of batches is known; opening as many here makes
    a resumed seeded run see the same batches as an uninterrupted one. A run
    resumed within an epoch replays the epochs before it; the backup callback
    then passes over the batches of that epoch that were already trained.
    """
    known = int(dataset.cardinality()) >= 0
    for _ in range(epochs_done * (2 if known else 1)):
        iter(dataset)


def _first_example(arrays: tuple) -> tuple:
    """The first example of the training arrays ``(x, y)``, as a batch of one."""
    import tensorflow as tf

    return tf.nest.map_structure(lambda array: array[:1], arrays)


def train_spec(
    spec,
    *,
    out_root: str | Path = DEFAULT_ROOT,
    resume: bool = False,
    overrides: Sequence[str] = (),
    verbose: int = 2,
    echo: Callable[[str], None] = _stderr,
    callbacks: Sequence = (),
    allow_outside: bool = False,
) -> TrainResult:
    """Train the model a spec describes and write its output folder.

    Args:
        spec: A loaded Spec, or the path of a spec file.
        out_root: Folder holding `<name>/` output folders.
        resume: Continue from `<name>/backup/` after an interrupted run.
        overrides: ``key=value`` overrides, used when `spec` is a path.
        verbose: Keras progress output (0 silent, 1 bar, 2 one line per epoch).
        echo: Where progress notes go (default: standard error).
        callbacks: More Keras callbacks for the fit (a search's pruning), run after the spec's.
        allow_outside: The spec's files may lie outside its folder (passed on to
            the TensorFlow process that exports a model trained on JAX).

    Raises:
        SpecError, DataError: The spec or its data are wrong.
        TrainingError: The loss became NaN or infinite.
    """
    spec = load_spec_for_training(spec, overrides)
    training = spec.training
    from compiler.distribute.backend import activate_backend
    from compiler.distribute.choices import effective_backend
    from compiler.distribute.engine import engine_for
    from compiler.distribute.precision import describe as describe_precision
    from compiler.distribute.precision import outputs_in_float32, set_precision

    backend = effective_backend(training.backend, training.distribute)
    activate_backend(backend)  # refuses a Keras already imported on another backend
    engine = engine_for(training, spec.locate("training", "batch_size"))
    set_seed(training.seed)
    seed = engine.common_seed(training.seed)
    if seed != training.seed:
        import keras

        keras.utils.set_random_seed(seed)
    set_precision(training.precision)
    if not engine.is_chief:
        # Only the chief logs; the other workers train in silence.
        echo, verbose = (lambda message: None), 0

    folder = ModelFolder.for_spec(spec, out_root)
    scratch = None
    if not engine.is_chief:
        from compiler.distribute.worker_folder import scratch_folder

        folder, scratch = scratch_folder(folder, engine.worker_index, resume)
    try:
        # One writer per folder, for a Python caller as for `nncompile train`.
        with folder.lock("train"):
            return _train(spec, folder, engine, seed, resume, verbose, echo, backend,
                          describe_precision, outputs_in_float32, allow_outside, callbacks)
    finally:
        engine.close()
        set_precision("float32")  # the next model built in this process is float32 again
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _train(spec, folder, engine, seed, resume, verbose, echo, backend, describe_precision,
           outputs_in_float32, allow_outside, callbacks: Sequence) -> TrainResult:
    """The body of :func:`train_spec`, once the engine and the folder are chosen."""
    training = spec.training
    from compiler.api import build_model
    from compiler.data.bundle import check_labels
    from compiler.data.pipeline import load_data
    from compiler.training import artifacts, prepare
    from compiler.training.backup import (
        NanGuard,
        TrainingBackup,
        load_best_weights,
        restore_backup,
    )
    from compiler.training.callbacks import build_callbacks
    from compiler.training.compile import compile_args
    from compiler.training.timing import EpochTimer
    from compiler.training.xla import choose_xla

    folder.create()
    backup_dir = folder.backup_dir
    state = _read_start_backup(backup_dir, resume, echo)

    bundle = load_data(spec, batch_size=training.batch_size, seed=seed)
    if bundle.train is None:
        raise DataError("the training split is empty", spec.locate("data"))
    check_monitors(spec, bundle.validation is not None)

    def rebuild():
        return outputs_in_float32(build_model(spec))

    model = rebuild()
    if training.init_from is not None:
        copied = prepare.init_from(model, training.init_from, spec.base_dir, spec.locate)
        echo(f"init_from: copied weights of {len(copied)} layer(s): {', '.join(copied)}")
    adapted = prepare.adapt_normalization(model, bundle.arrays["train"][0])
    if adapted:
        echo(f"adapted normalization on the training split: {', '.join(adapted)}")
    num_classes = output_units(model)
    if bundle.task in ("classification", "binary", "sequence_labeling", "seq2seq"):
        from compiler.run.evaluate import output_classes

        check_labels(bundle, output_classes(model), spec.locate("outputs"))

    prepare.check_targets_fit_outputs(spec, bundle, model)
    prepare.check_metrics_fit(spec, bundle, model)
    prepare.check_embedding_ids(spec, bundle)
    weights = class_weights(spec, bundle, num_classes, len(model.outputs))

    # Built again inside the engine, with the weights prepared above.
    model = engine.place(model, rebuild)
    train_data = engine.train_data(bundle.train, bundle.size("train"))
    for line in engine.describe():
        echo(line)
    if training.precision != "float32":
        echo(describe_precision(training.precision, model))
    steps = steps_in(train_data, bundle.size("train"), training.batch_size)
    args = compile_args(spec, model, steps)
    with engine.scope():
        xla = choose_xla(model, training.jit_compile, lambda jit: args.compile(model, jit),
                         train_data)
    echo(f"XLA {'on' if xla.used else 'off'}: {xla.reason}")

    initial_epoch, history, stopped_early = 0, [], False
    if not resume:
        _set_aside_backup(backup_dir, echo)
    if state is not None:
        if state["steps_completed"] and state["epochs_completed"] >= training.epochs:
            raise TrainingError(
                f"the backup in {backup_dir} is within epoch {state['epochs_completed'] + 1}, "
                f"past the {training.epochs} epoch(s) asked for; resume with at least "
                f"{state['epochs_completed'] + 1} epochs, or train without --resume",
                spec.locate("training", "epochs"),
            )
        with engine.scope():
            restore_backup(model, state, training.optimizer.params.learning_rate)
        initial_epoch, history = int(state["epochs_completed"]), list(state["history"])
        # A finished run trained further (`--resume --epochs N`) starts its
        # callbacks afresh; an interrupted one carries on with their counters.
        stopped_early = bool(state.get("stopped_early")) and not state.get("finished")

    guard = NanGuard()
    timer = EpochTimer(state.get("epoch_seconds", []) if state else [])
    spec_callbacks = build_callbacks(training.callbacks, training.schedule, folder, guard,
                                     spec.locate)
    carried = state.get("callbacks") if state and not state.get("finished") else None
    mid_epoch = state if state and state["steps_completed"] else None
    backup = TrainingBackup(
        backup_dir, guard, history, timer, learning_rate=training.optimizer.params.learning_rate,
        tracked=spec_callbacks, restored=carried, every_steps=training.backup.every_steps,
        steps_per_epoch=steps, resume=mid_epoch,
        sample=_first_example(bundle.arrays["train"]) if mid_epoch else None,
    )
    callbacks = [guard, timer, *spec_callbacks, *callbacks, backup]
    if stopped_early:
        # Early stopping had ended the run before the crash: finish it as it would have.
        best = next((s["best_weights"] for s in carried or [] if s.get("best_weights")), None)
        if best:
            model.set_weights(load_best_weights(backup_dir / best))
        echo(f"early stopping had ended this run after epoch {initial_epoch}; writing its outputs")
    elif initial_epoch < training.epochs:
        if initial_epoch and seed is not None:
            _replay_shuffles(train_data, initial_epoch)
        with engine.scope(), engine.guard():
            model.fit(
                train_data,
                validation_data=bundle.validation,
                epochs=training.epochs,
                initial_epoch=initial_epoch,
                class_weight=weights,
                callbacks=callbacks,
                shuffle=False,  # the data pipeline shuffles each epoch itself
                verbose=verbose,
            )
    peak_rss_mib = _peak_rss_mib()
    if guard.tripped is not None:
        epoch, batch, value = guard.tripped
        kept = backup.describe_saved()
        if batch is None:
            raise TrainingError(
                f"the validation loss became {value} in epoch {epoch + 1} while the training "
                "loss stayed finite: the validation data hold values the model cannot compute "
                "with (far beyond the training data's range?); check them, or rescale the data "
                f"(`data: {{standardize: true}}`). The last good backup ({kept}) is in "
                f"{backup_dir}",
                spec.locate("data"),
            )
        raise TrainingError(
            f"the loss became {value} in epoch {epoch + 1}, batch {batch + 1}; training stopped. "
            f"The last good backup ({kept}) is in {backup_dir}; lower the learning rate or add "
            "clipnorm, then run again with --resume",
            spec.locate("training", "optimizer"),
        )

    # Reports, evaluation and export run on one device, as after any run.
    model = engine.after_fit(model, rebuild, lambda local: args.compile(local, xla.used))
    if not engine.is_chief:
        return TrainResult(folder.path, {"metrics": {}}, backup.history, len(backup.history),
                           xla, model)
    written = spec
    if backend != "tensorflow":
        # SavedModel and TFLite are made by TensorFlow, from model.keras, below.
        written = dataclasses.replace(spec, export=None)
    metrics = artifacts.write_outputs(
        model, written, bundle, folder, backup.history, timer.seconds, xla, num_classes, args,
        peak_rss_mib, echo,
    )
    if backend != "tensorflow" and spec.export is not None:
        from compiler.distribute.export_child import export_in_tensorflow

        export_in_tensorflow(folder.path, spec.export.formats(), allow_outside, echo)
    # Kept so that `--resume --epochs N` can train a finished model further.
    backup.mark_finished()
    return TrainResult(folder.path, metrics, backup.history, len(backup.history), xla, model)
