"""Training cost of nncompile against the same model written in plain Keras.

Prints, per example model:
  * epoch time ratio  spec-trained / plain Keras   (goal <= 1.02)
  * peak memory ratio spec-trained / plain Keras   (goal <= 1.05)
each as the median with its spread and a verdict; with ``--xla``, also the
XLA on / off epoch-time ratio and what ``jit_compile: auto`` picked.

Method. Both variants load the data the same way (``load_data``) and train
the same architecture with the same optimiser, batch size and epochs on one
shuffled tf.data pipeline; the spec variant goes through ``train_spec``
(callbacks, backups, NaN guard, reports), the plain variant is
``keras.Sequential`` + ``fit``. The data is generated: the scikit-learn
digits, each copied with noise until there are ``--examples`` of them (6,000
by default: 300 steps of 16 per epoch, about a second on a shared 2-core
machine, against the quarter second of the 1,797 digits). The default model
is ``digits_mlp``; ``--model all`` adds ``digits_cnn``.

Time. Each worker process (a fresh Python, ``--processes`` of them per
model) first trains one variant once, which warms TensorFlow up and is not
timed, then trains spec and plain in turn, the order reversed each round
(A B, B A, ...), for ``--rounds`` rounds. A run's figure is the median of
its epochs after the first (which traces); each round gives one ratio of
the two runs next to each other, and the median of those ratios over all
rounds of all processes is printed with its interquartile range. The same
is printed for the process's CPU seconds over the same epochs, which other
processes on a shared machine disturb less than wall time: when the
wall-time verdict is "within noise" under load, the CPU one may still decide.

Memory. The first, untimed run of each worker is the only thing that process
trains, so its peak resident set size (``ru_maxrss`` right after ``fit``;
train_spec records it in metrics.json as ``peak_rss_mib_after_fit``, before
the reports are written) minus the RSS just before training (after imports,
with the data path warmed up once) is what loading the data, building the
model and training add. Workers alternate which variant they start with, so
each variant gets ``--processes / 2`` memory figures. tracemalloc would miss
TensorFlow's native allocations.

Run: python benchmarks/bench_training.py [--rounds 3] [--processes 2] [--model all] [--xla]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from ratios import Spread, alternate, paired_ratios, verdict

SPECS = {
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
        data:
          npz: {path: digits.npz, inputs: {image: x}, targets: {label: y}}
          split: {validation: 0.1, test: 0.1}
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
        data:
          npz: {path: digits.npz, inputs: {image: x}, targets: {label: y}}
          split: {validation: 0.1, test: 0.1}
        training:
          loss: sparse_categorical_crossentropy
          metrics: [accuracy]
          optimizer: {adam: {learning_rate: 1e-3}}
          batch_size: 16
          epochs: EPOCHS
          jit_compile: JIT
        """,
}

JIT_VALUES = ("false", "true", "auto")
ROOT = Path(__file__).resolve().parent.parent


def plain_model(name: str) -> Any:
    """The hand-written Keras model the spec ``name`` describes."""
    import keras

    layers = keras.layers
    if name == "digits_mlp":
        body = [layers.Flatten(), layers.Dense(256, activation="relu"),
                layers.Dense(256, activation="relu")]
    else:
        body = [layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
                layers.Conv2D(64, 3, activation="relu"), layers.Flatten()]
    return keras.Sequential([keras.Input((8, 8, 1), name="image"), *body,
                             layers.Dense(10, activation="softmax", name="label")])


def write_data(path: Path, examples: int) -> None:
    """The digits, copied with Gaussian noise (sd 0.05 of the 0..1 range) up to ``examples``."""
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(digits.target), examples)
    x = digits.images[pick] / 16.0 + rng.normal(0, 0.05, (examples, 8, 8))
    np.savez(path, x=x[..., None].astype("float32"), y=digits.target[pick].astype("int32"))


# ----------------------------------------------------------------- worker


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def worker(args: argparse.Namespace) -> None:
    """Train in one fresh process and print ``RESULT {json}`` (see the module docstring)."""
    import gc
    import resource
    import shutil
    import time

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from compiler.tf_runtime import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras

    from compiler.api import load_spec
    from compiler.data.pipeline import load_data
    from compiler.training.run import train_spec

    work = Path(args.work)
    specs = {jit: load_spec(work / f"{args.worker}_{jit}.yaml") for jit in JIT_VALUES}
    # Warm the data path once (imports, file reading) so the memory baseline
    # holds the same libraries on both sides; each variant then loads its own
    # data after the baseline, as a hand-written Keras program would.
    load_data(specs["false"], batch_size=16, seed=0)
    base = _rss_kib()
    counter = iter(range(10**6))
    picked: dict[str, Any] = {}
    # The CPU seconds of this process over the same epochs train_spec times:
    # less touched than wall time by other processes on a shared machine.
    from compiler.training import timing

    cpu: list[float] = []
    begin, end = timing.EpochTimer.on_epoch_begin, timing.EpochTimer.on_epoch_end

    def on_begin(self, epoch, logs=None):
        self.cpu_start = time.process_time()
        begin(self, epoch, logs)

    def on_end(self, epoch, logs=None):
        end(self, epoch, logs)
        cpu.append(time.process_time() - self.cpu_start)

    timing.EpochTimer.on_epoch_begin, timing.EpochTimer.on_epoch_end = on_begin, on_end

    def run_spec(jit: str) -> tuple[float, float, float]:
        out = work / "out" / f"{os.getpid()}_{next(counter)}"
        cpu.clear()
        r = train_spec(specs[jit], out_root=out, verbose=0, echo=lambda m: None)
        shutil.rmtree(out, ignore_errors=True)
        picked.update(used=r.xla.used, reason=r.xla.reason)
        peak_kib = r.metrics["peak_rss_mib_after_fit"] * 1024
        wall = statistics.median(r.metrics["epoch_seconds"][1:])
        return wall, statistics.median(cpu[1:]), peak_kib

    def run_plain() -> tuple[float, float, float]:
        spec = specs["false"]
        bundle = load_data(spec, batch_size=spec.training.batch_size, seed=0)
        model = plain_model(args.worker)
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=False)
        seconds: list[float] = []
        cpu.clear()

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start, self.cpu_start = time.perf_counter(), time.process_time()

            def on_epoch_end(self, epoch, logs=None):
                seconds.append(time.perf_counter() - self.start)
                cpu.append(time.process_time() - self.cpu_start)

        model.fit(bundle.train, validation_data=bundle.validation, epochs=spec.training.epochs,
                  callbacks=[Timer()], verbose=0)
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return statistics.median(seconds[1:]), statistics.median(cpu[1:]), peak_kib

    def fresh(run):
        def measure() -> tuple[float, float]:
            # Both sides start from the same clean Keras state, whatever ran before.
            keras.backend.clear_session()
            gc.collect()
            return run()[:2]
        return measure

    variants = {"spec": fresh(lambda: run_spec("false")), "plain": fresh(run_plain)}
    if args.xla:
        variants["spec_xla"] = fresh(lambda: run_spec("true"))
    *_, peak_kib = run_spec("false") if args.first == "spec" else run_plain()
    result: dict[str, Any] = {"memory": {args.first: (peak_kib - base) / 1024}}
    # The round order starts with the variant the warm-up did not run: A | B A | A B ...
    order = sorted(variants, key=lambda v: v == args.first)
    result["epoch"] = alternate({v: variants[v] for v in order}, args.rounds)
    if args.xla:
        run_spec("auto")
        result["auto"] = dict(picked)
    print("RESULT " + json.dumps(result))


# ----------------------------------------------------------------- driver


def _spawn(name: str, first: str, args: argparse.Namespace, work: Path) -> dict:
    command = [sys.executable, __file__, "--worker", name, "--first", first,
               "--work", str(work), "--rounds", str(args.rounds)]
    if args.xla:
        command.append("--xla")
    # The checkout this script is in is the one measured, installed or not.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    out = subprocess.run(command, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": path})
    if out.returncode:
        raise SystemExit(f"worker for {name} failed:\n{out.stderr[-4000:]}")
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def measure_example(name: str, args: argparse.Namespace, work: Path) -> None:
    """Run the workers for one example model and print its figures."""
    for jit in JIT_VALUES:
        (work / f"{name}_{jit}.yaml").write_text(
            textwrap.dedent(SPECS[name]).replace("EPOCHS", str(args.epochs)).replace("JIT", jit))
    epochs: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    memory: dict[str, list[float]] = {"spec": [], "plain": []}
    auto = None
    for index in range(args.processes):
        result = _spawn(name, ("spec", "plain")[index % 2], args, work)
        for variant, pairs in result["epoch"].items():
            epochs.setdefault(variant, []).extend(wall for wall, _ in pairs)
            cpu.setdefault(variant, []).extend(cpu_s for _, cpu_s in pairs)
        for variant, mib in result["memory"].items():
            memory[variant].append(mib)
        auto = result.get("auto", auto)

    time_ratio = paired_ratios(epochs["spec"], epochs["plain"])
    print(f"{name}: epoch seconds, spec {Spread.of(epochs['spec']).describe()}, "
          f"plain {Spread.of(epochs['plain']).describe()}")
    print(f"  epoch time spec / plain  {time_ratio.describe()}")
    print(f"  -> {verdict(time_ratio, 'spec', 'slower', 'faster', goal=1.02)}")
    cpu_ratio = paired_ratios(cpu["spec"], cpu["plain"])
    print(f"  CPU seconds per epoch spec / plain  {cpu_ratio.describe()}")
    print(f"  -> {verdict(cpu_ratio, 'spec', 'uses more CPU', 'uses less CPU', goal=1.02)}")
    if memory["spec"] and memory["plain"]:
        # Memory figures come from different processes, so they are not paired:
        # the ratio of medians, with the extremes of each side.
        spec_mib, plain_mib = Spread.of(memory["spec"]), Spread.of(memory["plain"])
        ratio = spec_mib.median / max(plain_mib.median, 1e-9)
        print(f"  peak MiB spec {spec_mib.describe(1)}, plain {plain_mib.describe(1)}; "
              f"ratio of medians {ratio:.3f} (goal ≤ 1.05)")
    if args.xla:
        xla_ratio = paired_ratios(epochs["spec_xla"], epochs["spec"])
        print(f"  epoch time XLA on / off  {xla_ratio.describe()}")
        print(f"  -> {verdict(xla_ratio, 'XLA', 'slower', 'faster')}; "
              f"auto picked {'XLA' if auto['used'] else 'no XLA'} ({auto['reason']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per worker process")
    parser.add_argument("--processes", type=int, default=2,
                        help="fresh worker processes per model (half start with each variant)")
    parser.add_argument("--epochs", type=int, default=3,
                        help="epochs per run; the first is not timed")
    parser.add_argument("--examples", type=int, default=6000, help="generated examples")
    parser.add_argument("--model", choices=[*SPECS, "all"], default="digits_mlp")
    parser.add_argument("--xla", action="store_true", help="also time XLA on / off and `auto`")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--first", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch traces and is not timed")
    names = list(SPECS) if args.model == "all" else [args.model]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_data(work / "digits.npz", args.examples)
        print(f"{args.examples} generated examples (80% train), batch 16, {args.epochs} epochs "
              f"per run; {args.processes} processes x {args.rounds} rounds per model")
        for name in names:
            measure_example(name, args, work)


if __name__ == "__main__":
    main()
