"""Compiler overhead, measured in one run.

Prints:
- `nncompile validate` cold start: wall time of a fresh process validating a
  spec (goal: under 0.5 s), with the same for `python -c pass` as a floor;
- spec build time ÷ hand-written Keras build time for VGG-16 and ResNet-50
  (goal: ≤ 1.10). "Hand-written Keras" is `keras.applications.<Net>(weights=None)`,
  which builds the identical graph (same layers, same parameter count).
  Both sides have their library imported before the clock starts (`import
  keras` imports `keras.applications`; the spec side imports its layer
  catalogue), and the spec side's clock covers reading, resolving and
  validating the YAML as well as building. The same ratio with the spec side's
  layer-catalogue import inside the clock is printed too.

Each build runs in its own fresh process (so neither side benefits from the
other's warm caches), alternating spec and Keras, and the medians are compared;
the ratio of the fastest runs is printed too, as the figure least touched by
other load on a shared machine.

    python benchmarks/bench_compiler.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BUILD_SPEC = """
import sys, time
from compiler.tf_runtime import import_tensorflow_quietly
import_tensorflow_quietly()
import keras
keras.Input((1,))  # warm the backend the same way on both sides
from compiler.api import load_spec, build_model
t0 = time.perf_counter()
from compiler.layers import all_layer_classes
all_layer_classes()  # the layer catalogue, imported lazily by a spec's first use
t = time.perf_counter()
model = build_model(load_spec(sys.argv[1]))
end = time.perf_counter()
print(end - t, model.count_params(), end - t0)
"""

BUILD_KERAS = """
import sys, time
from compiler.tf_runtime import import_tensorflow_quietly
import_tensorflow_quietly()
import keras
keras.Input((1,))
t = time.perf_counter()
model = getattr(keras.applications, sys.argv[1])(weights=None)
print(time.perf_counter() - t, model.count_params())
"""


def _run(code: str, arg: str) -> tuple[float, int, float]:
    out = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.split()
    return float(out[0]), int(out[1]), float(out[-1])


def _cold_start(args: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    floor = _cold_start([sys.executable, "-c", "pass"], args.repeats)
    validate = _cold_start([sys.executable, "-m", "compiler.cli", "validate",
                            "specs/resnet50.yaml"], args.repeats)
    print(f"validate cold start (specs/resnet50.yaml): {validate:.3f} s "
          f"(python start-up alone {floor:.3f} s; goal < 0.5 s)")

    for spec, net in (("specs/vgg16.yaml", "VGG16"), ("specs/resnet50.yaml", "ResNet50")):
        ours, cold, theirs = [], [], []
        for _ in range(args.repeats):
            t, n_ours, t_cold = _run(BUILD_SPEC, spec)
            ours.append(t)
            cold.append(t_cold)
            t, n_theirs, _ = _run(BUILD_KERAS, net)
            theirs.append(t)
        assert n_ours == n_theirs, (n_ours, n_theirs)
        a, b, c = statistics.median(ours), statistics.median(theirs), statistics.median(cold)
        print(f"{net}: spec build {a:.3f} s, keras.applications build {b:.3f} s, "
              f"ratio {a / b:.3f} (goal ≤ 1.10; {n_ours:,} parameters each); "
              f"fastest runs {min(ours):.3f} / {min(theirs):.3f} s, ratio "
              f"{min(ours) / min(theirs):.3f}; with the layer catalogue's import "
              f"{c:.3f} s, ratio {c / b:.3f}")


if __name__ == "__main__":
    main()
