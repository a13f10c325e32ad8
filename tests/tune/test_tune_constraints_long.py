"""Constraints measured per trial, best.yaml trained as it is, coarse-to-fine: real studies.

Long tier (``-m long``): each test runs one small study (and one `nncompile train`).
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest

from tests.helpers import REPO_ROOT, write_spec

pytestmark = pytest.mark.long

# Two trials: a tiny model meets both bounds; a wide one (4M parameters, trained with
# batches of one) is over both, yet fits the data better.
CONSTRAINED = """\
nncompile: 1
name: kinds
vars:
  width: {choice: [2, 2048]}
inputs:
  features: {shape: [2]}
layers:
  - dense: {units: $width, activation: relu}
  - dense: {units: $width, activation: relu}
  - dense: {units: 3, activation: softmax, name: kind}
outputs: [kind]
data: {csv: {path: data/c.csv, target: kind}, split: {validation: 0.2}}
training:
  loss: sparse_categorical_crossentropy
  optimizer: {adam: {learning_rate: 0.003}}
  batch_size: 1
  epochs: 2
  jit_compile: false
  seed: 1
tune:
  objective: {metric: loss, direction: minimize}
  constraints: {max_tflite_latency_ms: LATENCY, max_epoch_seconds: EPOCH}
  seed: 0
"""
LATENCY, EPOCH = 0.3, 3.0


def _write_bands_csv(path: Path, rows: int) -> None:
    """Two features; the class is the band a + b falls in (a wide model learns it faster)."""
    rng = np.random.default_rng(0)
    a, b = rng.random(rows), rng.random(rows)
    kind = np.digitize(a + b, [0.8, 1.2])
    path.write_text("a,b,kind\n" + "".join(f"{x:.3f},{y:.3f},{k}\n"
                                           for x, y, k in zip(a, b, kind, strict=True)))


def _cli(cwd: Path, *args: object) -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run([sys.executable, "-m", "compiler.cli", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_latency_and_epoch_bounds_make_trials_infeasible_and_best_yaml_trains_elsewhere(
        tmp_path):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    _write_bands_csv(project / "data" / "c.csv", rows=120)
    write_spec(project, CONSTRAINED.replace("LATENCY", str(LATENCY)).replace("EPOCH", str(EPOCH)),
               "kinds.yaml")
    work = tmp_path / "work"
    work.mkdir()
    output = _cli(work, "tune", project / "kinds.yaml", "--trials", 2, "--sampler", "grid",
                  "--pruner", "none")
    folder = work / "saved_models" / "kinds-tune"
    rows = {int(r["vars.width"]): r for r in _rows(folder / "trials.csv")}
    print({k: (r["loss"], r["tflite_latency_ms"], r["epoch_seconds"], r["feasible"])
           for k, r in rows.items()})
    assert set(rows) == {2, 2048}
    assert all(r["state"] == "COMPLETE" for r in rows.values())
    tiny, wide = rows[2], rows[2048]
    assert float(tiny["tflite_latency_ms"]) <= LATENCY < float(wide["tflite_latency_ms"])
    assert float(tiny["epoch_seconds"]) <= EPOCH < float(wide["epoch_seconds"])
    assert (tiny["feasible"], wide["feasible"]) == ("True", "False")
    # The bounds decide: the infeasible trial reached the lower loss, the feasible one is best.
    assert float(wide["loss"]) < float(tiny["loss"])
    assert f"best: trial {tiny['trial']}:" in output

    # best.yaml names the tuned spec's data; the copy beside the spec trains as it is,
    # from yet another working folder, with no flag.
    best = (folder / "best.yaml").read_text()
    assert os.path.relpath(project / "data" / "c.csv", folder) in best
    beside = project / "kinds.best.yaml"
    assert "width: 2\n" in beside.read_text()
    other = tmp_path / "other"
    other.mkdir()
    trained = _cli(other, "train", beside, "--out", "models")
    metrics = (other / "models" / "kinds" / "metrics.json")
    assert metrics.is_file(), trained
    assert (folder / "best" / "kinds" / "model.keras").is_file()


IRIS_C2F = """\
nncompile: 1
name: fine
inputs:
  features: {shape: [4]}
layers:
  - normalization: {}
  - dense: {units: {int: [2, 32]}, activation: relu}
  - dense: {units: 3, activation: softmax, name: label}
outputs: [label]
data: {builtin: iris, split: {validation: 0.3}}
training:
  loss: sparse_categorical_crossentropy
  optimizer: {adam: {learning_rate: {log_uniform: [1e-4, 1.0]}}}
  batch_size: 32
  epochs: 1
  jit_compile: false
  seed: 1
tune:
  objective: {metric: val_loss}
  coarse_to_fine: {top: 2, trials: 3, margin: 0.25}
  seed: 0
"""


def test_coarse_to_fine_searches_a_second_round_inside_the_first_around_its_best(tmp_path):
    write_spec(tmp_path, IRIS_C2F)
    output = _cli(tmp_path, "tune", "spec.yaml", "--trials", 4, "--sampler", "random",
                  "--pruner", "none", "--coarse-to-fine", "--out", "out")
    folder = tmp_path / "out" / "fine-tune"
    from compiler.tune.study import journal_storage

    storage = journal_storage(folder)
    coarse = optuna.load_study(study_name="fine", storage=storage)
    fine = optuna.load_study(study_name="fine-fine", storage=storage)
    assert len(coarse.trials) == 4 and len(fine.trials) == 3
    top = sorted((t for t in coarse.trials if t.state.name == "COMPLETE"),
                 key=lambda t: t.value)[:2]
    assert "round 2: ranges narrowed around the best 2 trial(s)" in output
    for name, low, high in (("layers[1].dense.units", 2, 32),
                            ("training.optimizer.adam.learning_rate", 1e-4, 1.0)):
        lows = {t.distributions[name].low for t in fine.trials}
        highs = {t.distributions[name].high for t in fine.trials}
        assert len(lows) == len(highs) == 1
        fine_low, fine_high = lows.pop(), highs.pop()
        # Inside the first round's range, narrower than it, and around its best trials.
        assert low <= fine_low < fine_high <= high
        assert (fine_high - fine_low) < (high - low) or math.log(fine_high / fine_low) < \
            math.log(high / low)
        assert all(fine_low <= t.params[name] <= fine_high for t in top + fine.trials)
    rows = _rows(folder / "trials.csv")
    assert sorted(r["round"] for r in rows) == ["1"] * 4 + ["2"] * 3
    assert (folder / "plots-fine" / "history.png").is_file()
    best = min((t for t in coarse.trials + fine.trials if t.state.name == "COMPLETE"),
               key=lambda t: t.value)
    assert f"best: trial {best.number}:" in output
