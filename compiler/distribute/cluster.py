"""Who the workers of a `data_parallel` job are, and which one this process is.

The cluster comes, in this order, from the command line (``--coordinator
host:port --num-workers N --worker-index i``), from ``TF_CONFIG`` (as
Kubeflow's training operator, Ray and Vertex AI write it), from Slurm's
``SLURM_*`` variables, or from JAX's own detection (``--coordinator auto``:
Slurm, Open MPI, Cloud TPU, Kubernetes JobSets). Without any of them the job
is one process. Nothing here imports TensorFlow or JAX.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from compiler.errors import NNCompileError, UsageError

AUTO = "auto"


@dataclass(frozen=True)
class Cluster:
    """The worker processes of one job.

    Attributes:
        coordinator: ``host:port`` of worker 0's coordination service; None lets
            JAX find it (Slurm, MPI, TPU) or, with one worker, means no service.
        num_workers: Number of worker processes (None: JAX detects it).
        worker_index: This process's index (None: JAX detects it); 0 is the chief.
        source: Where the cluster came from, for messages.
    """

    coordinator: str | None = None
    num_workers: int | None = 1
    worker_index: int | None = 0
    source: str = "one process"

    @property
    def is_chief(self) -> bool:
        """Worker 0 writes the model folder, the exports and the logs."""
        return not self.worker_index

    @property
    def multi_process(self) -> bool:
        """Whether processes must meet through a coordination service."""
        return self.num_workers is None or self.num_workers > 1

    def describe(self) -> str:
        """One line for the console."""
        if not self.multi_process:
            return "one worker process"
        where = self.coordinator or "found by JAX"
        return (f"worker {self.worker_index} of {self.num_workers} (coordinator {where}, "
                f"from {self.source})")


def _check_address(address: str, what: str) -> str:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{what} '{address}': expected host:port, e.g. 10.0.0.1:1234")
    return address


def from_flags(coordinator: str | None, num_workers: int | None,
               worker_index: int | None) -> Cluster | None:
    """The cluster the command line gives, or None when it gives none.

    Raises:
        UsageError: The flags are incomplete or do not agree.
    """
    if coordinator is None and num_workers is None and worker_index is None:
        return None
    if coordinator == AUTO:
        if num_workers is not None or worker_index is not None:
            raise UsageError("--coordinator auto lets JAX find the workers; leave out "
                             "--num-workers and --worker-index")
        return Cluster(None, None, None, "JAX's cluster detection")
    missing = [flag for flag, value in (("--coordinator", coordinator),
                                        ("--num-workers", num_workers),
                                        ("--worker-index", worker_index)) if value is None]
    if missing and not (num_workers == 1 and coordinator is None):
        raise UsageError(f"a job of several workers needs --coordinator host:port, "
                         f"--num-workers N and --worker-index i; missing {', '.join(missing)}")
    if num_workers == 1 and coordinator is None:
        return Cluster(source="--num-workers 1")
    _check_address(coordinator, "--coordinator")
    if not 0 <= worker_index < num_workers:
        raise UsageError(f"--worker-index {worker_index} is not a worker of "
                         f"--num-workers {num_workers} (0..{num_workers - 1})")
    return Cluster(coordinator, num_workers, worker_index, "the command line")


def from_tf_config(text: str) -> Cluster:
    """The cluster of a ``TF_CONFIG`` value.

    ``{"cluster": {"chief": [a], "worker": [b, c]}, "task": {"type": "worker",
    "index": 0}}``: a ``chief`` task (Kubeflow, Vertex AI) is worker 0 and the
    ``worker`` tasks follow it; without one, ``worker`` 0 is the chief. The
    coordination service listens on the chief's address (no TensorFlow server
    runs there). ``ps`` and ``evaluator`` tasks have no place in data parallel
    training.

    Raises:
        NNCompileError: The value is not a TF_CONFIG, or names a task it lacks.
    """
    def bad(why: str) -> NNCompileError:
        return NNCompileError(f"TF_CONFIG: {why}; expected e.g. "
                              '{"cluster": {"worker": ["host0:2222", "host1:2222"]}, '
                              '"task": {"type": "worker", "index": 1}}')

    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise bad(f"not JSON ({err.msg} at character {err.pos})") from None
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict):
        raise bad("no `cluster` mapping")
    cluster, task = config["cluster"], config.get("task") or {}
    if not isinstance(task, dict):
        raise bad("`task` is not a mapping")
    for kind in cluster:
        if kind not in ("chief", "master", "worker"):
            raise bad(f"a `{kind}` task has no place in data parallel training (only "
                      "chief and worker tasks)")
    chiefs = list(cluster.get("chief") or cluster.get("master") or [])
    workers = list(cluster.get("worker") or [])
    addresses = [*chiefs, *workers]
    if not addresses or len(chiefs) > 1 or not all(isinstance(a, str) for a in addresses):
        raise bad("`cluster` needs at most one chief and a list of worker addresses")
    kind, index = task.get("type", "worker"), task.get("index", 0)
    if not isinstance(index, int) or isinstance(index, bool):
        raise bad(f"task index {index!r} is not a whole number")
    if kind in ("chief", "master"):
        position = index if chiefs and index == 0 else None
    elif kind == "worker":
        position = len(chiefs) + index if 0 <= index < len(workers) else None
    else:
        position = None
    if position is None:
        raise bad(f"the task {kind} {index} is not in the cluster")
    coordinator = _check_address(addresses[0], "TF_CONFIG's first address")
    return Cluster(coordinator, len(addresses), position, "TF_CONFIG")


def from_slurm(environ: Mapping[str, str]) -> Cluster | None:
    """The cluster of a Slurm job step (``srun``); JAX finds the coordinator's host."""
    tasks, rank = environ.get("SLURM_NTASKS"), environ.get("SLURM_PROCID")
    if tasks is None or rank is None or "SLURM_JOB_ID" not in environ:
        return None
    if not (tasks.isdigit() and rank.isdigit()):
        raise NNCompileError(f"SLURM_NTASKS={tasks!r} and SLURM_PROCID={rank!r} are not "
                             "whole numbers")
    if int(tasks) == 1:
        return Cluster(source="Slurm (one task)")
    return Cluster(None, int(tasks), int(rank), "Slurm")


def discover(coordinator: str | None = None, num_workers: int | None = None,
             worker_index: int | None = None,
             environ: Mapping[str, str] | None = None) -> Cluster:
    """The cluster of this process: the flags, else TF_CONFIG, else Slurm, else one process."""
    environ = os.environ if environ is None else environ
    given = from_flags(coordinator, num_workers, worker_index)
    if given is not None:
        return given
    if environ.get("TF_CONFIG", "").strip():
        return from_tf_config(environ["TF_CONFIG"])
    slurm = from_slurm(environ)
    if slurm is not None:
        return slurm
    return Cluster()
