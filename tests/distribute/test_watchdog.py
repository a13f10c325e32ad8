"""The watchdog's decisions, on an in-memory key-value store shaped like JAX's.

The real coordination service, with real processes and a real SIGKILL, is
exercised by test_lost_worker.py (long tier).
"""

from __future__ import annotations

import time

from compiler.distribute.watchdog import Watchdog


class KeyValueStore:
    """The two calls the watchdog makes of JAX's DistributedRuntimeClient."""

    def __init__(self):
        self.values: dict[str, str] = {}
        self.down = False

    def key_value_set(self, key, value, allow_overwrite=False):
        if self.down:
            raise RuntimeError("UNAVAILABLE: failed to connect to all addresses")
        self.values[key] = value

    def key_value_try_get(self, key):
        if self.down:
            raise RuntimeError("UNAVAILABLE: failed to connect to all addresses")
        if key not in self.values:
            raise RuntimeError(f"NOT_FOUND: {key} not found")
        return self.values[key]


def _watch(store, index, lost):
    return Watchdog(store, index, 3, interval=0.02, timeout=0.3,
                    on_lost=lambda message: lost.setdefault(index, message))


def _wait_for(condition, seconds=5.0):
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        time.sleep(0.02)


def test_a_silent_worker_is_named_and_a_finished_one_is_not():
    store, lost = KeyValueStore(), {}
    dogs = [_watch(store, i, lost).start() for i in range(3)]
    dogs[0].hint = lambda: "continue with: nncompile train s.yaml --resume"
    dogs[2].finish()
    dogs[2].stop()  # finished on purpose: silence from it is no loss
    time.sleep(0.5)
    assert lost == {}
    dogs[1].stop()  # killed: its heartbeat stops without a word
    _wait_for(lambda: 0 in lost)
    assert lost[0].startswith("error: lost worker 1 of 3: it sent no heartbeat for ")
    assert "Stopping worker 0" in lost[0]
    assert lost[0].endswith("and --resume; continue with: nncompile train s.yaml --resume")
    dogs[0].stop()


def test_a_worker_that_cannot_reach_the_chief_s_service_names_the_chief():
    store, lost = KeyValueStore(), {}
    dog = _watch(store, 1, lost).start()
    store.down = True  # worker 0 runs the coordination service: it is gone
    started = time.monotonic()
    _wait_for(lambda: 1 in lost)
    assert 0.3 <= time.monotonic() - started < 3
    assert lost[1].startswith("error: lost worker 0 (the chief) of 3: it stopped answering "
                              "(its coordination service cannot be reached: RuntimeError)")
    dog.stop()
    assert not dog._thread.is_alive()
