"""Starting the worker processes of a `data_parallel` job on 127.0.0.1, for the long tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    """A TCP port nothing listens on now (the coordinator binds it next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_env(tmp: Path | None = None) -> dict:
    """This environment, with one thread pool per worker sized for a small machine."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    env.pop("TF_CONFIG", None)
    if tmp is not None:
        tmp.mkdir(parents=True, exist_ok=True)
        env["TMPDIR"] = str(tmp)  # where a worker other than the chief keeps its scratch copy
    return env


def start_workers(spec: Path, out: Path, logs: Path, count: int = 2, extra: tuple = (),
                  tmp: Path | None = None) -> list[subprocess.Popen]:
    """``nncompile train SPEC`` once per worker; stdout and stderr go to `logs`/worker<i>.*."""
    port = free_port()
    logs.mkdir(parents=True, exist_ok=True)
    workers = []
    for index in range(count):
        command = [sys.executable, "-m", "compiler.cli", "train", str(spec), "--out", str(out),
                   "--distribute", "data_parallel", "--coordinator", f"127.0.0.1:{port}",
                   "--num-workers", str(count), "--worker-index", str(index), *map(str, extra)]
        env = worker_env(tmp / f"worker{index}" if tmp is not None else None)
        workers.append(subprocess.Popen(
            command, env=env, stdout=open(logs / f"worker{index}.out", "w"),
            stderr=open(logs / f"worker{index}.err", "w")))
    return workers


def wait_all(workers: list[subprocess.Popen], timeout: float = 600) -> list[int]:
    """Exit codes of `workers`, killing any still running after `timeout` seconds."""
    codes = []
    for worker in workers:
        try:
            codes.append(worker.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            worker.kill()
            codes.append(worker.wait())
    return codes


def read(logs: Path, index: int, stream: str = "err") -> str:
    """What worker `index` printed on stderr ("err") or stdout ("out")."""
    return (logs / f"worker{index}.{stream}").read_text()
