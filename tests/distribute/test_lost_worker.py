"""A SIGKILLed worker stops the other within 60 s, and --resume finishes the job."""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.distribute.workers import read, start_workers, wait_all
from tests.helpers import IRIS, write_training_spec

pytestmark = pytest.mark.long

EPOCHS = 30


def _backed_up_epochs(folder) -> int:
    try:
        return json.loads((folder / "backup" / "state.json").read_text())["epochs_completed"]
    except (OSError, ValueError, KeyError):
        return 0


def test_a_killed_worker_stops_the_chief_and_resume_loses_no_epoch(tmp_path):
    spec = write_training_spec(tmp_path, IRIS, epochs=EPOCHS, extra="export: []\n")
    out, folder = tmp_path / "out", tmp_path / "out" / "iris_mlp"
    workers = start_workers(spec, out, tmp_path / "logs")
    deadline = time.monotonic() + 400
    while _backed_up_epochs(folder) < 2 and time.monotonic() < deadline:
        assert all(w.poll() is None for w in workers), read(tmp_path / "logs", 0)
        time.sleep(0.2)
    backed_up = _backed_up_epochs(folder)
    assert 2 <= backed_up < EPOCHS, "the run ended before a worker could be killed"
    workers[1].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    code = wait_all(workers[:1], timeout=120)[0]
    seconds = time.monotonic() - killed
    workers[1].wait()
    message = read(tmp_path / "logs", 0)
    assert code != 0 and seconds < 60, (code, seconds, message[-2000:])
    assert "error: lost worker 1 of 2: it sent no heartbeat for " in message
    assert "internal error" not in message and "Traceback" not in message
    assert "restart every worker with the same command and --resume; epoch " in message
    assert "--worker-index 0 --resume" in message
    print(f"the chief exited {seconds:.1f} s after worker 1 was killed (code {code})")

    # Every completed epoch the backup holds is kept: the same command with --resume.
    at_restart = _backed_up_epochs(folder)
    assert at_restart >= backed_up
    resumed = start_workers(spec, out, tmp_path / "logs2", extra=("--resume",))
    assert wait_all(resumed) == [0, 0], read(tmp_path / "logs2", 0)[-3000:]
    said = read(tmp_path / "logs2", 0)
    assert f"resuming after epoch {at_restart} from" in said
    history = (folder / "history.csv").read_text().strip().splitlines()
    assert len(history) == 1 + EPOCHS  # a header, then one row per epoch
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["epochs_completed"] == EPOCHS
