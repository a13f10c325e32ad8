"""One writer per model folder: a second train/build/export is refused, a stale lock taken over.

The first writer is a real process (a Python holding ModelFolder.lock, or a
real `nncompile train`); the second is the CLI.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from compiler.folder_lock import LOCK_NAME
from compiler.model_folder import ModelFolder
from tests.helpers import run_cli
from tests.model_folder.locking import TINY_SPEC, hold_lock


def _invoke(*args):
    return run_cli(*args, catch=True)


def test_second_writer_is_refused_naming_the_first(tmp_path, tiny_spec):
    folder = tmp_path / "out" / "tiny"
    holder = hold_lock(folder, "train")
    try:
        for args in (["build", tiny_spec, "--out", tmp_path / "out"],
                     ["train", tiny_spec, "--out", tmp_path / "out", "--quiet"]):
            result = _invoke(*args)
            assert result.exit_code == 1, result.output
            assert "in use by another nncompile process" in result.output
            assert f"pid {holder.pid}, `train` since " in result.output, result.output
            assert "Traceback" not in result.output
        assert not (folder / "model.keras").exists()  # neither wrote anything
    finally:
        holder.communicate("")
    assert holder.returncode == 0
    assert not (folder / LOCK_NAME).exists()  # released on exit
    result = _invoke("build", tiny_spec, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output


def test_export_is_refused_beside_a_writer(tmp_path, tiny_spec):
    assert _invoke("build", tiny_spec, "--out", tmp_path / "out").exit_code == 0
    folder = tmp_path / "out" / "tiny"
    holder = hold_lock(folder, "train")
    try:
        result = _invoke("export", folder, "--format", "keras")
        assert result.exit_code == 1, result.output
        assert f"pid {holder.pid}, `train`" in result.output, result.output
    finally:
        holder.communicate("")


def test_lock_of_a_killed_process_is_taken_over(tmp_path):
    folder = tmp_path / "m"
    holder = hold_lock(folder, "export")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    left = json.loads((folder / LOCK_NAME).read_text())
    assert left["pid"] == holder.pid and left["verb"] == "export"  # a stale lock file
    with ModelFolder(folder).lock("build"):
        now = json.loads((folder / LOCK_NAME).read_text())
        assert now["pid"] == os.getpid() and now["verb"] == "build"
    assert not (folder / LOCK_NAME).exists()


def test_lock_file_naming_a_dead_pid_is_taken_over(tmp_path, tiny_spec):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "out" / "tiny"
    folder.mkdir(parents=True)
    (folder / LOCK_NAME).write_text(json.dumps(
        {"pid": dead.pid, "verb": "train", "since": "2026-01-01 00:00:00 UTC"}))
    result = _invoke("build", tiny_spec, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (folder / "model.keras").is_file() and not (folder / LOCK_NAME).exists()


@pytest.mark.slow
def test_two_nncompile_train_runs_on_one_folder(tmp_path, tiny_spec):
    """A real `nncompile train` process trains; a second `train` of the same folder (the CLI,
    in this process) is refused while the first runs, and says who holds the folder."""
    tiny_spec.write_text(TINY_SPEC.replace("epochs: 1", "epochs: 100000"))
    args = ["train", str(tiny_spec), "--out", str(tmp_path / "out"), "--quiet"]
    first = subprocess.Popen([sys.executable, "-m", "compiler.cli", *args],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = tmp_path / "out" / "tiny" / LOCK_NAME
    try:
        deadline = time.monotonic() + 120
        while not (lock.is_file() and lock.read_text()) and time.monotonic() < deadline:
            assert first.poll() is None, "the first run ended early"
            time.sleep(0.2)
        started = time.monotonic()
        second = _invoke(*args)
        assert second.exit_code == 1, second.output
        assert f"pid {first.pid}, `train` since" in second.output
        assert time.monotonic() - started < 60
        assert first.poll() is None  # refused without disturbing the run that holds the lock
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
