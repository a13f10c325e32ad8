"""A study on disk: Optuna's journal in the study folder, shared by every process that tunes it.

``<study folder>/journal.log`` is an Optuna ``JournalStorage`` with a file
backend: every process appends to it, so a study killed at any point carries
on with the same command, and several ``nncompile tune`` processes (``--jobs``,
or two commands) share one study. Optuna's advice for several processes on one
machine is this journal rather than SQLite.

Trials are claimed one at a time under ``.claim.lock`` (an exclusive
``flock``): the claim counts the trials that are finished or running and asks
for a new one only below the target, so the study ends with exactly that many,
whatever the number of processes. Each tuning process holds a lock file of
its own in ``workers/`` while it lives; a trial still RUNNING whose process's
lock is free was cut off (the process was killed), so the next claim fails it,
marks it ``lost`` (it does not count) and queues its parameters again. Optuna's
own stale-trial detection (heartbeats) exists for its RDB storage only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compiler.errors import NNCompileError

JOURNAL = "journal.log"
LOST = "lost"
"""User attribute of a trial whose process was killed (failed, not counted, re-queued)."""
WORKER = "worker"
"""User attribute: the id of the process that ran the trial."""


def journal_storage(folder: Path) -> Any:
    """The study folder's Optuna journal storage (created when missing)."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    folder.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(folder / JOURNAL)))


def make_pruner(kind: str) -> Any:
    """The Optuna pruner for ``median``, ``hyperband`` or ``none``."""
    import optuna

    if kind == "median":
        # A trial is compared from its second epoch on, once three have finished.
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1)
    return optuna.pruners.NopPruner()


def make_sampler(kind: str, seed: int | None) -> Any:
    """The Optuna sampler for ``tpe``, ``random``, ``nsga2`` or ``grid``.

    A grid study queues its points itself (see compiler.tune.runner); what the
    queue leaves open is drawn at random. Constraints are set on each trial
    (``Trial.set_constraint``), where TPE and NSGA-II read them.
    """
    import optuna

    if kind in ("random", "grid"):
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def open_study(folder: Path, name: str, directions: list[str], fingerprint: str) -> Any:
    """Create the study ``name`` in ``folder``'s journal, or load it to continue.

    Raises:
        NNCompileError: the study there was made from other search spaces or
            objectives; continuing it would mix two searches.
    """
    import optuna

    storage = journal_storage(folder)
    study = optuna.create_study(study_name=name, storage=storage, directions=directions,
                                load_if_exists=True)
    known = study.user_attrs.get("fingerprint")
    if known is None:
        study.set_user_attr("fingerprint", fingerprint)
    elif known != fingerprint or [d.name.lower() for d in study.directions] != directions:
        raise NNCompileError(
            f"the study in {folder} was made from other search spaces or objectives than this "
            "spec's; continuing it would mix two searches. Remove that folder to start again, "
            "or tune into another one with --out")
    return study


def counts_toward_target(trial: Any) -> bool:
    """Finished (complete, pruned, failed by an error) or running; not lost or waiting."""
    from optuna.trial import TrialState

    if trial.state == TrialState.FAIL:
        return not trial.user_attrs.get(LOST)
    return trial.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)


class Worker:
    """This process's membership of the study: a lock file held while it lives."""

    def __init__(self, folder: Path):
        self.id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        workers = folder / "workers"
        workers.mkdir(parents=True, exist_ok=True)
        self.path = workers / f"{self.id}.lock"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)


def worker_alive(folder: Path, worker_id: str | None) -> bool:
    """Whether the process ``worker_id`` still holds its lock (the kernel drops it on death)."""
    if not worker_id:
        return False
    path = folder / "workers" / f"{worker_id}.lock"
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        path.unlink()  # a dead process's lock file
    return False


@contextlib.contextmanager
def claim_lock(folder: Path) -> Iterator[None]:
    """Exclusive for the block among every process tuning ``folder`` (waits its turn)."""
    fd = os.open(folder / ".claim.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def recover_lost(study: Any, folder: Path) -> list[int]:
    """Fail every RUNNING trial whose process is gone, and queue its parameters again.

    Call it holding :func:`claim_lock` (a trial is RUNNING without a worker only
    inside a claim). Returns the numbers of the trials recovered.
    """
    from optuna.trial import TrialState

    lost = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if worker_alive(folder, trial.user_attrs.get(WORKER)):
            continue
        study._storage.set_trial_user_attr(trial._trial_id, LOST, True)
        study.tell(trial.number, state=TrialState.FAIL)
        if trial.params:
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
        lost.append(trial.number)
    return lost
