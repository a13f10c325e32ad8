"""`nncompile validate` of a spec with search spaces against the same spec with none.

A spec with spaces is validated with its stand-in values and once more per
variant (every option of every choice, every range at its high end; at most
compiler.spec.spaces.MAX_VARIANTS). This measures what that costs a cold
start: specs/tune/digits_tune.yaml against the same spec with every space
replaced by its first option or low end, each validated by a fresh process,
in turn (A B, B A, ...). Wall time is noisy on a shared machine, so the CPU
time (user + system) of each process is printed too. Goal: under 0.5 s.

    python benchmarks/bench_tune_validate.py [--repeats 7] [--plain-code DIR]

``--plain-code`` names another checkout (e.g. main) to validate the plain spec with.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ratios import Spread, against_goal, alternate, paired_ratios

ROOT = Path(__file__).resolve().parent.parent
SPACED = ROOT / "specs" / "tune" / "digits_tune.yaml"


def _plain_spec(folder: Path) -> Path:
    """digits_tune.yaml with the stand-in of each space written in (and no `tune:`)."""
    sys.path.insert(0, str(ROOT))
    from compiler.spec.spaces import load_search_spec
    from compiler.tune.results import best_tree, spec_yaml

    _, search = load_search_spec(SPACED)
    params = {}
    for space in search.all():
        params[space.name] = space.labels[0] if space.kind == "choice" else space.low
    tree = best_tree(search, {k: v for k, v in params.items() if "[sgd]" not in k})
    path = folder / "digits_plain.yaml"
    path.write_text(spec_yaml(tree, "digits_tune.yaml without search spaces"))
    return path


def _run(spec: Path, code: Path) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(code))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "compiler.cli", "validate", str(spec)],
                   capture_output=True, check=True, cwd=code, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--plain-code", type=Path, default=ROOT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain = _plain_spec(Path(tmp))
        runs = alternate({"spaces": lambda: _run(SPACED, ROOT),
                          "plain": lambda: _run(plain, args.plain_code)}, args.repeats)
    for i, what in enumerate(("wall", "cpu")):
        spaces = Spread.of([r[i] for r in runs["spaces"]])
        fixed = Spread.of([r[i] for r in runs["plain"]])
        ratio = paired_ratios([r[i] for r in runs["spaces"]], [r[i] for r in runs["plain"]])
        print(f"{what}: with spaces {spaces.describe(unit=' s')}; without "
              f"{fixed.describe(unit=' s')}; ratio {ratio.describe()}")
        print(f"  -> {against_goal(spaces, 0.5, unit=' s')}")


if __name__ == "__main__":
    main()
