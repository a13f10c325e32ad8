"""One trial, in a process of its own: train the trial's spec, measure it, report back.

This module is what the study's fork server loads once (TensorFlow, Keras,
Optuna, matplotlib: seconds); every trial's process is forked from that server
ready to train, so a trial pays no import, and its memory (the model, the
Keras session, TensorFlow's caches) goes back to the system when it ends:
memory cannot grow across trials. Importing it imports TensorFlow; the
command line imports it only inside the fork server.
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def _preload() -> None:
    """Import the heavy libraries quietly (TensorFlow's native start-up logging silenced)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401
        import matplotlib  # noqa: F401
        import optuna  # noqa: F401
        import optuna_integration  # noqa: F401
        import tensorflow  # noqa: F401

        import compiler.training.run  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_preload()

import keras  # noqa: E402 - loaded quietly above

from compiler.tune.trial_job import TrialJob  # noqa: E402


class Infeasible(Exception):
    """A trial breaks a constraint before it trains (a model over max_params)."""


def run(job: TrialJob, conn: Any) -> None:
    """The trial process's entry point: send back a result dict, whatever happens."""
    _die_with_parent()
    _output_to(job.log_file)
    try:
        result = _train(job)
    except BaseException as err:  # noqa: BLE001 - reported to the study as the trial's end
        result = _failure(err)
    result["pid"] = os.getpid()
    try:
        conn.send(result)
    finally:
        conn.close()


def _output_to(log_file: str) -> None:
    """Send standard output and error (TensorFlow's native logging too) to the trial's log."""
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the fork server (and so the study) goes."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _failure(err: BaseException) -> dict:
    import optuna

    from compiler.errors import NNCompileError, TrainingError

    if isinstance(err, optuna.TrialPruned):
        return {"state": "PRUNED", "message": str(err) or "pruned"}
    if isinstance(err, Infeasible):
        return {"state": "PRUNED", "message": str(err.args[0]), "measures": err.args[1]}
    if isinstance(err, TrainingError):
        # A loss that became NaN is what a far too large learning rate does: a bad
        # trial the sampler should learn from, not a broken one.
        return {"state": "PRUNED", "message": str(err.problems[0].message)[:200]}
    if isinstance(err, NNCompileError):
        return {"state": "FAIL", "message": "; ".join(str(p) for p in err.problems)[:500]}
    return {"state": "FAIL", "message": f"internal error {type(err).__name__}: {err}"[:500],
            "traceback": traceback.format_exc()[-4000:]}


class ParamsGuard(keras.callbacks.Callback):
    """Stops a trial whose model has more parameters than max_params before it trains."""

    def __init__(self, limit: float):
        super().__init__()
        self.limit = limit

    def on_train_begin(self, logs=None):
        count = int(self.model.count_params())
        if count > self.limit:
            raise Infeasible(f"{count:,} parameters > max_params {int(self.limit):,}",
                             {"params": count})


def _train(job: TrialJob) -> dict:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from optuna_integration import KerasPruningCallback

    from compiler.spec.spaces import resolve_fixed
    from compiler.spec.validate import validate_spec
    from compiler.training.run import train_spec
    from compiler.tune.measures import epoch_seconds, tflite_latency_ms
    from compiler.tune.study import make_pruner

    like = SimpleNamespace(source=Path(job.source) if job.source else None,
                           allow_outside=job.allow_outside, overrides=())
    spec = validate_spec(resolve_fixed(job.tree, like))
    callbacks = []
    if "params" in job.bounds:
        callbacks.append(ParamsGuard(job.bounds["params"]))
    if job.monitor and job.pruner != "none":
        storage = JournalStorage(JournalFileBackend(job.journal))
        study = optuna.load_study(study_name=job.study_name, storage=storage,
                                  pruner=make_pruner(job.pruner))
        callbacks.append(KerasPruningCallback(optuna.trial.Trial(study, job.trial_id),
                                              job.monitor))
    def echo(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = train_spec(spec, out_root=job.out_root, verbose=0, echo=echo, callbacks=callbacks)
    measures: dict[str, float] = {"params": float(result.model.count_params())}
    seconds = epoch_seconds(result.metrics.get("epoch_seconds") or [])
    if seconds is not None:
        measures["epoch_seconds"] = seconds
    wanted = {name for name, _ in job.goals} | set(job.bounds)
    if "tflite_latency_ms" in wanted:
        measures["tflite_latency_ms"] = tflite_latency_ms(spec, result.model)
        echo(f"TFLite batch-1 latency: {measures['tflite_latency_ms']:.3f} ms")
    metrics = _flat_metrics(result.metrics.get("metrics") or {})
    values, missing = [], []
    for name, _ in job.goals:
        value = measures.get(name, metrics.get(name))
        if value is None:
            missing.append(name)
        values.append(value)
    del result
    keras.utils.clear_session(free_memory=True)
    gc.collect()
    if missing:
        known = sorted(set(metrics) | set(measures))
        return {"state": "FAIL", "message": f"the trial has no metric {', '.join(missing)} "
                f"(it has {', '.join(known)}); name one of those in tune.objective"}
    return {"state": "COMPLETE", "values": values, "measures": measures, "metrics": metrics}


def _flat_metrics(by_split: dict) -> dict[str, float]:
    """``{validation: {accuracy: x}}`` → ``{val_accuracy: x}`` (test_, and train without prefix)."""
    prefix = {"train": "", "validation": "val_", "test": "test_"}
    return {prefix.get(split, f"{split}_") + name: float(value)
            for split, values in by_split.items() for name, value in values.items()}


if __name__ == "__main__":  # pragma: no cover - the fork server imports it, never runs it
    sys.exit("compiler.tune.trial_process runs inside `nncompile tune`")
