"""A lost worker stops the others within a bounded time, with a message that names it.

JAX's collectives (gloo on CPU) wait for a dead peer for a long time, and
JAX's own failure detection ends the process with a generic message. So
every worker also beats a counter in the coordination service's key-value
store every `INTERVAL` seconds and watches the others' counters: a counter
that stands still for `TIMEOUT` seconds, or a coordination service that
cannot be reached (the chief runs it), means that worker is gone. The
watchdog then prints which worker was lost and how to continue, and ends
this process at once (``os._exit``: the main thread may be stuck inside a
collective that no Python exception can interrupt).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

INTERVAL = 2.0
"""Seconds between two heartbeats."""
TIMEOUT = 15.0
"""Seconds of silence after which a worker counts as lost."""
JAX_HEARTBEAT_TIMEOUT = 45
"""JAX's own detection, kept longer than ours so that ours speaks first."""
EXIT_CODE = 1

_PREFIX = "nncompile/watchdog"


def _key(kind: str, index: int) -> str:
    return f"{_PREFIX}/{kind}/{index}"


class Watchdog:
    """Heartbeats of this worker, and a watch on every other one.

    Args:
        client: The coordination service client (``key_value_set``,
            ``key_value_try_get``), e.g. JAX's distributed runtime client.
        index: This worker's index.
        num_workers: Number of workers.
        interval: Seconds between heartbeats.
        timeout: Seconds of silence after which a worker is lost.
        on_lost: Called with the message; the default prints it and exits.
    """

    def __init__(self, client, index: int, num_workers: int, *, interval: float = INTERVAL,
                 timeout: float = TIMEOUT, on_lost: Callable[[str], None] | None = None):
        self.client = client
        self.index = index
        self.num_workers = num_workers
        self.interval = interval
        self.timeout = timeout
        self.on_lost = on_lost or _exit_with
        self.hint: Callable[[], str] | None = None
        """Says how to continue (what the backup holds, the command with --resume)."""
        self._beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nncompile-watchdog", daemon=True)

    def start(self) -> Watchdog:
        """Beat once, then watch in a background thread."""
        self._beat()
        self._thread.start()
        return self

    def finish(self) -> None:
        """Say this worker ended on purpose; keep watching the others until the process ends."""
        try:
            self.client.key_value_set(_key("done", self.index), "1", allow_overwrite=True)
        except Exception:  # noqa: BLE001 - the service may already be shutting down
            pass

    def wait_for_verdict(self, seconds: float | None = None) -> None:
        """Wait until the watchdog has named a lost worker (and ended the process).

        Called when a collective failed: the watchdog then knows within
        `timeout` seconds which worker went silent.
        """
        self._thread.join(self.timeout + 3 * self.interval if seconds is None else seconds)

    def stop(self) -> None:
        """Stop the background thread (tests)."""
        self._stop.set()
        self._thread.join(timeout=2 * self.interval)

    def _beat(self) -> None:
        self._beats += 1
        self.client.key_value_set(_key("beat", self.index), str(self._beats), allow_overwrite=True)

    def _read(self, kind: str, index: int) -> str | None:
        try:
            return self.client.key_value_try_get(_key(kind, index))
        except Exception as err:  # noqa: BLE001 - the client raises one type for all failures
            if "NOT_FOUND" in str(err) or "not found" in str(err).lower():
                return None
            raise

    def _run(self) -> None:
        now = time.monotonic()
        seen = {i: (None, now) for i in range(self.num_workers) if i != self.index}
        unreachable_since = None
        while not self._stop.wait(self.interval):
            now = time.monotonic()
            try:
                self._beat()
                for peer, (last, since) in list(seen.items()):
                    if self._read("done", peer) is not None:
                        del seen[peer]
                        continue
                    value = self._read("beat", peer)
                    if value != last:
                        seen[peer] = (value, now)
                    elif now - since > self.timeout:
                        self._lost(peer, f"sent no heartbeat for {now - since:.0f} s")
                        return
                unreachable_since = None
            except Exception as err:  # noqa: BLE001 - the coordination service is gone
                if self.index == 0:
                    continue  # the chief runs the service; it cannot lose itself
                unreachable_since = unreachable_since or now
                if now - unreachable_since > self.timeout:
                    self._lost(0, f"stopped answering (its coordination service cannot be "
                                  f"reached: {type(err).__name__})")
                    return

    def _lost(self, peer: int, why: str) -> None:
        who = "worker 0 (the chief)" if peer == 0 else f"worker {peer}"
        message = (f"error: lost {who} of {self.num_workers}: it {why}; it was killed, crashed "
                   f"or was cut off. Stopping worker {self.index}. The job does not continue "
                   "with fewer workers: restart every worker with the same command")
        try:
            hint = self.hint() if self.hint is not None else ""
        except Exception:  # noqa: BLE001 - the message about the lost worker matters more
            hint = ""
        message += f" and --resume; {hint}" if hint else " and --resume"
        self.on_lost(message)


def _exit_with(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(EXIT_CODE)
