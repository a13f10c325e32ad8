"""Getting a process ready to train, before anything imports Keras.

The command line calls :func:`prepare_process` once the spec is valid: it
fixes the Keras backend, and for a `data_parallel` job of several workers it
joins the cluster (``jax.distributed.initialize``, gloo collectives on CPU)
and starts the watchdog.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.distribute.backend import activate_backend
from compiler.distribute.choices import effective_backend
from compiler.distribute.cluster import Cluster
from compiler.distribute.watchdog import JAX_HEARTBEAT_TIMEOUT, Watchdog
from compiler.errors import NNCompileError, UsageError

CONNECT_SECONDS = 300
"""How long a worker waits for all the others to join."""
SHUTDOWN_SECONDS = 24 * 3600
"""How long a finished worker waits for the chief to write its outputs (the
watchdog ends the wait early if the chief is lost)."""

_joined: Watchdog | None = None


@dataclass
class Runtime:
    """What a training process runs on."""

    backend: str
    distribute: str
    cluster: Cluster
    watchdog: Watchdog | None = None

    @property
    def is_chief(self) -> bool:
        """Only worker 0 writes the model folder."""
        return self.cluster.is_chief


def prepare_process(training, cluster: Cluster | None = None) -> Runtime:
    """Fix the backend of this process and join the cluster a `data_parallel` job needs.

    Args:
        training: The spec's `training:` section.
        cluster: The workers (from :func:`compiler.distribute.cluster.discover`).

    Raises:
        UsageError: Cluster flags for a run that is not `data_parallel`.
        NNCompileError: The backend cannot be set, or the cluster cannot be joined.
    """
    cluster = cluster or Cluster()
    distribute = training.distribute
    if cluster.multi_process and distribute != "data_parallel":
        raise UsageError(
            f"{cluster.describe()}: several worker processes train together only with "
            f"`distribute: data_parallel` (this spec has `distribute: {distribute}`); add "
            "--distribute data_parallel")
    backend = effective_backend(training.backend, distribute)
    activate_backend(backend)
    runtime = Runtime(backend, distribute, cluster)
    if distribute == "data_parallel" and cluster.multi_process:
        runtime.watchdog = join_cluster(cluster)
        if cluster.worker_index is None:  # JAX found the cluster: now we know who we are
            import jax

            runtime.cluster = Cluster(cluster.coordinator, jax.process_count(),
                                      jax.process_index(), cluster.source)
    return runtime


def join_cluster(cluster: Cluster) -> Watchdog:
    """``jax.distributed.initialize`` for `cluster`, then a started watchdog.

    Raises:
        NNCompileError: The coordinator could not be reached, or not every
            worker joined in time.
    """
    global _joined
    if _joined is not None:
        return _joined
    import jax

    # CPU collectives across processes need an implementation; gloo ships with jaxlib.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(
            coordinator_address=cluster.coordinator,
            num_processes=cluster.num_workers,
            process_id=cluster.worker_index,
            initialization_timeout=CONNECT_SECONDS,
            heartbeat_timeout_seconds=JAX_HEARTBEAT_TIMEOUT,
            shutdown_timeout_seconds=SHUTDOWN_SECONDS,
        )
    except Exception as err:  # noqa: BLE001 - JAX raises RuntimeError/ValueError/XlaRuntimeError
        detail = " ".join(str(err).split())[:300]
        raise NNCompileError(
            f"could not join the cluster ({cluster.describe()}): {detail}. Start every "
            f"worker within {CONNECT_SECONDS} s of the first, each with its own "
            "--worker-index, and check that worker 0 can be reached at the coordinator "
            "address") from None
    from jax._src.distributed import global_state

    _joined = Watchdog(global_state.client, jax.process_index(), jax.process_count()).start()
    return _joined


def joined_watchdog() -> Watchdog | None:
    """The watchdog of this process's cluster, if it joined one."""
    return _joined
