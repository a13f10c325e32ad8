"""Compiler overhead, measured in one run.

Prints:
- `nncompile validate` cold start: wall time of a fresh process validating a
  spec (goal: under 0.5 s), with the same for `python -c pass` as a floor;
  Python's bytecode cache is on, as by default (one untimed run fills it);
- spec build time ÷ hand-written Keras build time for VGG-16 and ResNet-50
  (goal: ≤ 1.10). "Hand-written Keras" is `keras.applications.<Net>(weights=None)`,
  which builds the identical graph (same layers, same parameter count).
  Both sides have their library imported before the clock starts (`import
  keras` imports `keras.applications`; the spec side imports its layer
  catalogue), and the spec side's clock covers reading, resolving and
  validating the YAML as well as building. The same ratio with the spec side's
  layer-catalogue import inside the clock is printed too.

Each build runs in its own fresh process (so neither side benefits from the
other's warm caches), spec and Keras in turn with the order reversed each
round (A B, B A, ...); each round gives one ratio of the two builds next to
each other, and the median of those ratios is printed with its spread and a
verdict (see benchmarks/ratios.py). The validate cold start alternates with
a bare `python -c pass` the same way.

    python benchmarks/bench_compiler.py [--repeats 5] [--validate-only] [--spec PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ratios import Spread, against_goal, alternate, paired_ratios, verdict

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


# A user's Python caches the compiled modules (``__pycache__``); an environment
# that sets PYTHONDONTWRITEBYTECODE would make every start compile nncompile's
# sources again (about 0.1 s), which is not what a user sees. The cold start is
# measured with the cache as Python keeps it by default, after one untimed run.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, capture_output=True, check=True, cwd=ROOT, env=_ENV)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--validate-only", action="store_true",
                        help="Only the validate cold start (seconds, not minutes).")
    parser.add_argument("--spec", default="specs/resnet50.yaml",
                        help="The spec the cold start validates (default: %(default)s).")
    args = parser.parse_args()

    validate_command = [sys.executable, "-m", "compiler.cli", "validate", args.spec]
    _wall(validate_command)  # untimed: writes the bytecode cache a user's first run writes
    starts = alternate({
        "validate": lambda: _wall(validate_command),
        "python": lambda: _wall([sys.executable, "-c", "pass"]),
    }, args.repeats)
    validate = Spread.of(starts["validate"])
    print(f"validate cold start ({args.spec}): {validate.describe(unit=' s')}; "
          f"python start-up alone {Spread.of(starts['python']).median:.3f} s")
    print(f"  -> {against_goal(validate, 0.5, unit=' s')}")
    if args.validate_only:
        return

    for spec, net in (("specs/vgg16.yaml", "VGG16"), ("specs/resnet50.yaml", "ResNet50")):
        runs = alternate({"spec": lambda spec=spec: _run(BUILD_SPEC, spec),
                          "keras": lambda net=net: _run(BUILD_KERAS, net)}, args.repeats)
        counts = {run[1] for side in runs.values() for run in side}
        assert len(counts) == 1, counts  # the same network on both sides
        ours = [t for t, _, _ in runs["spec"]]
        cold = [t for _, _, t in runs["spec"]]
        theirs = [t for t, _, _ in runs["keras"]]
        ratio, cold_ratio = paired_ratios(ours, theirs), paired_ratios(cold, theirs)
        print(f"{net} ({counts.pop():,} parameters each): spec build "
              f"{statistics.median(ours):.3f} s, keras.applications build "
              f"{statistics.median(theirs):.3f} s")
        print(f"  build time spec / keras  {ratio.describe()}")
        print(f"  -> {verdict(ratio, 'spec', 'slower', 'faster', goal=1.10)}")
        print(f"  with the layer catalogue's import in the clock: {cold_ratio.describe()}")


if __name__ == "__main__":
    main()
