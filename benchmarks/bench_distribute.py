"""Throughput of `data_parallel` with 1 and 2 worker processes on this machine.

Prints the ratio (2 workers / 1 worker) of training throughput in examples per
second, as the median of paired rounds with its spread and a verdict; with
``--gpu`` and a GPU present, also ``mirrored`` against one device and
``mixed_float16`` against float32 (TensorFlow), there.

Method. Each variant is one ``nncompile train`` of the same spec (digits_mlp
by default, exports off) with ``--distribute data_parallel``: "1 worker" is
one process, "2 workers" two processes joined through a coordinator on
127.0.0.1, each reading half of every global batch. The figure of a run is
the chief's epochs per second over the epochs after the first (which
compiles), from metrics.json's ``epoch_seconds``; every variant trains on
the same examples, so that is examples per second up to a constant. Variants run in
turn, the order reversed every round (see ratios.py), and each round gives
one ratio of the two runs next to each other.

What to expect. The workers of one machine share its cores: on a CPU with
few cores two processes compete for them and exchange every gradient over
TCP (gloo), so the ratio measures that overhead, not a cluster's scaling.
On two machines, or several GPUs, the same command spreads the work.

Run: python benchmarks/bench_distribute.py [--rounds 3] [--epochs 4] [--spec FILE] [--gpu]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from ratios import alternate, paired_ratios, verdict

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    env.pop("TF_CONFIG", None)
    return env


def _throughput(folder: Path) -> float:
    """Epochs per second of a finished run, after its first epoch (which compiles).

    Every variant trains on the same examples, so a ratio of epochs per second
    is the ratio of examples per second.
    """
    seconds = json.loads((folder / "metrics.json").read_text())["epoch_seconds"]
    seconds = seconds[1:] or seconds
    return len(seconds) / sum(seconds)


def _train(spec: str, epochs: int, workers: int, extra: list[str]) -> float:
    """Train `spec` with `workers` processes; return the chief's epochs per second."""
    with tempfile.TemporaryDirectory() as out:
        port = _port()
        base = [sys.executable, "-m", "compiler.cli", "train", spec, "--out", out, "--quiet",
                "--epochs", str(epochs), "--set", "export=[]", *extra]
        if workers > 1:
            commands = [[*base, "--distribute", "data_parallel", "--coordinator",
                         f"127.0.0.1:{port}", "--num-workers", str(workers), "--worker-index",
                         str(i)] for i in range(workers)]
        else:
            commands = [base]
        running = [subprocess.Popen(c, env=_env(), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True) for c in commands]
        for process in running:
            _, err = process.communicate(timeout=1800)
            if process.returncode:
                raise SystemExit(f"training failed:\n{err[-3000:]}")
        folder = next(p for p in Path(out).iterdir() if (p / "metrics.json").is_file())
        return _throughput(folder)


def _report(title: str, ratio, more: str, less: str) -> None:
    print(f"{title}: {ratio.describe()}")
    print(f"  {verdict(ratio, title.split(' /')[0], more, less)}")


def _has_gpu() -> bool:
    probe = "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))"
    done = subprocess.run([sys.executable, "-c", probe], env=_env(), capture_output=True,
                          text=True)
    return done.returncode == 0 and done.stdout.strip().splitlines()[-1:] != ["0"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--spec", default=str(ROOT / "specs" / "digits_mlp.yaml"))
    parser.add_argument("--gpu", action="store_true", help="also mirrored and mixed precision")
    args = parser.parse_args()

    dp = ["--distribute", "data_parallel"]
    runs = alternate({
        "1 worker": lambda: _train(args.spec, args.epochs, 1, dp),
        "2 workers": lambda: _train(args.spec, args.epochs, 2, []),
    }, args.rounds)
    for name, values in runs.items():
        print(f"{name}: " + ", ".join(f"{1 / v:.2f}" for v in values) + " s/epoch")
    _report("2 workers / 1 worker throughput", paired_ratios(runs["2 workers"], runs["1 worker"]),
            "faster", "slower")
    if not args.gpu:
        return
    if not _has_gpu():
        print("no GPU visible to TensorFlow here: mirrored and mixed precision not measured")
        return
    runs = alternate({
        "one device": lambda: _train(args.spec, args.epochs, 1, ["--distribute", "none"]),
        "mirrored": lambda: _train(args.spec, args.epochs, 1, ["--distribute", "mirrored"]),
        "mixed_float16": lambda: _train(args.spec, args.epochs, 1,
                                        ["--set", "training.precision=mixed_float16"]),
    }, args.rounds)
    _report("mirrored / one device throughput", paired_ratios(runs["mirrored"],
                                                              runs["one device"]),
            "faster", "slower")
    _report("mixed_float16 / float32 throughput", paired_ratios(runs["mixed_float16"],
                                                                runs["one device"]),
            "faster", "slower")


if __name__ == "__main__":
    main()
