"""Training cost of nncompile against the same model written in plain Keras.

Prints, measured in one run:
  * epoch time ratio  spec-trained / plain Keras   (goal <= 1.02)
  * peak memory ratio spec-trained / plain Keras   (goal <= 1.05)
  * XLA on / off epoch-time ratio per example, and what `jit_compile: auto` picked.

Method. Every measurement runs in its own fresh Python process so that
neither TensorFlow's allocator nor traced functions carry over. Both
variants load the data the same way (``load_data``) and train the same
architecture with the same optimiser, batch size and epochs on one shuffled
tf.data pipeline; the spec variant goes through ``train_spec`` (callbacks,
backups, NaN guard, reports), the plain variant is ``keras.Sequential`` +
``fit``. Epoch time is the median of the epochs after the first (which
traces). Memory is the process's peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) right after ``fit`` (train_spec
records it in metrics.json as ``peak_rss_mib_after_fit``, before the reports
and plots are written) minus the RSS measured just before training starts
(after imports, with the data path warmed up once), so it counts what loading
the data, building the model and training add on each side. tracemalloc would miss TensorFlow's native
allocations. Variants alternate (spec, plain, spec, plain...) and the
median over repeats is used, since the machine may be shared.

Run: python benchmarks/bench_training.py [--repeats 3] [--epochs 6]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

EXAMPLES = {
    "digits_mlp": """\
        nncompile: 1
        name: digits_mlp
        inputs: {image: {shape: [8, 8, 1]}}
        layers:
          - flatten: {}
          - dense: {units: 256, activation: relu}
          - dense: {units: 256, activation: relu}
          - dense: {units: 10, activation: softmax, name: label}
        outputs: [label]
        data: {builtin: digits, split: {validation: 0.2, test: 0.2}}
        training:
          loss: sparse_categorical_crossentropy
          metrics: [accuracy]
          optimizer: {adam: {learning_rate: 1e-3}}
          batch_size: 16
          epochs: EPOCHS
          jit_compile: JIT
        """,
    "digits_cnn": """\
        nncompile: 1
        name: digits_cnn
        inputs: {image: {shape: [8, 8, 1]}}
        layers:
          - conv2d: {filters: 32, kernel: 3, padding: same, activation: relu}
          - max_pool2d: {pool: 2}
          - conv2d: {filters: 64, kernel: 3, activation: relu}
          - flatten: {}
          - dense: {units: 10, activation: softmax, name: label}
        outputs: [label]
        data: {builtin: digits, split: {validation: 0.2, test: 0.2}}
        training:
          loss: sparse_categorical_crossentropy
          metrics: [accuracy]
          optimizer: {adam: {learning_rate: 1e-3}}
          batch_size: 16
          epochs: EPOCHS
          jit_compile: JIT
        """,
}

PLAIN = {
    "digits_mlp": """
        keras.Sequential([keras.Input((8, 8, 1), name="image"), keras.layers.Flatten(),
            keras.layers.Dense(256, activation="relu"), keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(10, activation="softmax", name="label")])""",
    "digits_cnn": """
        keras.Sequential([keras.Input((8, 8, 1), name="image"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax", name="label")])""",
}

WORKER = """
import json, os, resource, sys, time, statistics
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras, tensorflow as tf
from compiler.api import load_spec
from compiler.data.pipeline import load_data
mode, spec_path, out_root = sys.argv[1], sys.argv[2], sys.argv[3]
spec = load_spec(spec_path)
# Warm the data path once (imports, scikit-learn's files) so the baseline below
# holds the same libraries on both sides; each variant then loads its own data
# after the baseline, as a hand-written Keras program would.
load_data(spec, batch_size=spec.training.batch_size, seed=0)
def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
base = rss_kib()
result = {}
if mode == "spec":
    from compiler.training.run import train_spec
    r = train_spec(spec, out_root=out_root, verbose=0, echo=lambda m: None)
    seconds = r.metrics["epoch_seconds"]
    peak_kib = r.metrics["peak_rss_mib_after_fit"] * 1024
    result["xla_used"], result["xla_reason"] = r.xla.used, r.xla.reason
else:
    bundle = load_data(spec, batch_size=spec.training.batch_size, seed=0)
    model = PLAIN_MODEL
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=JIT)
    seconds = []
    class T(keras.callbacks.Callback):
        def on_epoch_begin(self, e, logs=None): self.t = time.perf_counter()
        def on_epoch_end(self, e, logs=None): seconds.append(time.perf_counter() - self.t)
    model.fit(bundle.train, validation_data=bundle.validation, epochs=spec.training.epochs,
              callbacks=[T()], verbose=0)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result["epoch"] = statistics.median(seconds[1:])
result["peak_mib"] = (peak_kib - base) / 1024
print("RESULT " + json.dumps(result))
"""


def _run(mode: str, name: str, jit: str, epochs: int, work: Path) -> dict:
    spec_path = work / f"{name}_{jit}.yaml"
    spec_path.write_text(
        textwrap.dedent(EXAMPLES[name]).replace("EPOCHS", str(epochs)).replace("JIT", jit)
    )
    code = WORKER.replace("PLAIN_MODEL", textwrap.dedent(PLAIN[name]).strip()).replace(
        "JIT", {"true": "True", "false": "False", "auto": "'auto'"}[jit]
    )
    out = subprocess.run(
        [sys.executable, "-c", code, mode, str(spec_path), str(work / "out")],
        capture_output=True, text=True, check=True,
    )
    line = next(l for l in out.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"{'example':<12} {'epoch s spec':>12} {'plain':>8} {'ratio':>6} "
              f"{'peak MiB spec':>13} {'plain':>8} {'ratio':>6}")
        for name in EXAMPLES:
            runs = {"spec": [], "plain": []}
            for _ in range(args.repeats):
                for mode in runs:
                    runs[mode].append(_run(mode, name, "false", args.epochs, work))
            t = {m: statistics.median(r["epoch"] for r in v) for m, v in runs.items()}
            mem = {m: statistics.median(r["peak_mib"] for r in v) for m, v in runs.items()}
            print(f"{name:<12} {t['spec']:>12.4f} {t['plain']:>8.4f} {t['spec'] / t['plain']:>6.3f} "
                  f"{mem['spec']:>13.1f} {mem['plain']:>8.1f} {mem['spec'] / max(mem['plain'], 1e-9):>6.3f}")
        print()
        print(f"{'example':<12} {'XLA s':>8} {'no-XLA s':>9} {'on/off':>7}  auto picked")
        for name in EXAMPLES:
            on = statistics.median(_run("spec", name, "true", args.epochs, work)["epoch"]
                                   for _ in range(args.repeats))
            off = statistics.median(_run("spec", name, "false", args.epochs, work)["epoch"]
                                    for _ in range(args.repeats))
            auto = _run("spec", name, "auto", args.epochs, work)
            picked = "XLA" if auto["xla_used"] else "no XLA"
            print(f"{name:<12} {on:>8.4f} {off:>9.4f} {on / off:>7.3f}  {picked} ({auto['xla_reason']})")


if __name__ == "__main__":
    main()
