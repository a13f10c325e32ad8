"""Peak memory and time per row of `nncompile predict` on CSVs of 10^4, 10^5 and 10^6 rows.

A small classifier (four numeric columns and one categorical, standardised)
is trained by the script; each CSV is then predicted in a fresh process, and
its peak resident memory is that child's own ``ru_maxrss`` (``os.wait4``
returns the usage of the one child it waited for; ``getrusage(RUSAGE_CHILDREN)``
would give the largest of all children so far). Prints, per size, peak RSS and
time per row as ratios to the smallest run: a streaming predict keeps the RSS
ratio near 1 however large the file. Time per row is also given without the
start-up (importing TensorFlow, loading the model), measured on a one-row file.

``--whole`` also runs each size as one chunk holding the whole file (the
reading of a file at once), for comparison.

Usage: python benchmarks/bench_predict_memory.py [--sizes 10000 100000 1000000] [--whole]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SPEC = """\
nncompile: 1
name: bench_predict
inputs:
  features: {shape: [9]}
layers:
  - dense: {units: 32, activation: relu}
  - dense: {units: 3, activation: softmax, name: kind}
outputs: [kind]
data: {csv: {path: train.csv, target: kind, categorical: [city]}, split: none, standardize: true}
training:
  loss: sparse_categorical_crossentropy
  optimizer: {adam: {learning_rate: 0.01}}
  batch_size: 64
  epochs: 1
  jit_compile: false
  seed: 1
"""

CITIES = np.array(["paris", "rome", "oslo", "lyon", "nice"])
COLUMNS = "a,b,city,c,d,kind"
WHOLE = ("import compiler.run.predict as p; p.CHUNK_ROWS = 10**12; "
         "from compiler.cli import main; main()")


def write_csv(path: Path, rows: int, seed: int) -> None:
    """``rows`` examples with a header, written a block at a time."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as handle:
        handle.write(COLUMNS + "\n")
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            x = rng.normal(size=(n, 4))
            city = CITIES[rng.integers(len(CITIES), size=n)]
            kind = rng.integers(3, size=n)
            handle.writelines(
                f"{r[0]:.4f},{r[1]:.4f},{c},{r[2]:.4f},{r[3]:.4f},{k}\n"
                for r, c, k in zip(x, city, kind, strict=True)
            )


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one child process; it must succeed."""
    start = time.perf_counter()
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    error = child.stderr.read().decode(errors="replace")
    child.stderr.close()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({child.returncode}):\n{error}")
    rss_kib = usage.ru_maxrss  # KiB on Linux
    return seconds, rss_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**4, 10**5, 10**6])
    parser.add_argument("--whole", action="store_true",
                        help="also predict each file as one chunk, for comparison")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "TF_CPP_MIN_LOG_LEVEL": "3"}
    cli = [sys.executable, "-m", "compiler.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_csv(folder / "train.csv", 2000, seed=0)
        (folder / "spec.yaml").write_text(SPEC)
        run_child([*cli, "train", str(folder / "spec.yaml"), "--out", str(folder / "out"),
                   "--quiet"], env)
        model = str(folder / "out" / "bench_predict")
        write_csv(folder / "one.csv", 1, seed=9)
        startup, _ = run_child([*cli, "predict", model, "-i", str(folder / "one.csv"),
                                "-o", str(folder / "one.out.csv")], env)
        print(f"start-up (a one-row file): {startup:.2f} s")
        variants = [("streamed", cli)] + ([("whole", [sys.executable, "-c", WHOLE])]
                                          if args.whole else [])
        for label, command in variants:
            print(f"\n{label}:")
            print(f"{'rows':>9} {'peak RSS MiB':>13} {'÷ first':>8} {'s':>8} {'µs/row':>8} "
                  f"{'÷ first':>8} {'µs/row net':>11} {'÷ first':>8}")
            first = None
            for rows in args.sizes:
                path = folder / f"x{rows}.csv"
                if not path.exists():
                    write_csv(path, rows, seed=rows)
                seconds, rss = run_child(
                    [*command, "predict", model, "-i", str(path), "-o", str(folder / "p.csv")],
                    env)
                per_row = seconds / rows * 1e6
                net = max(seconds - startup, 0.0) / rows * 1e6
                first = first or (rss, per_row, net)
                print(f"{rows:>9} {rss:>13.0f} {rss / first[0]:>8.2f} {seconds:>8.2f} "
                      f"{per_row:>8.1f} {per_row / first[1]:>8.3f} {net:>11.1f} "
                      f"{net / first[2] if first[2] else float('nan'):>8.2f}")


if __name__ == "__main__":
    main()
