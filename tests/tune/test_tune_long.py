"""`nncompile tune` end to end: real studies, real trial processes, a real SIGKILL.

Long tier (``-m long``): each test runs a study of small models for tens of seconds.
"""

from __future__ import annotations

import csv
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest

from tests.helpers import REPO_ROOT, write_spec

pytestmark = pytest.mark.long

IRIS = """\
nncompile: 1
name: {name}
inputs:
  features: {{shape: [4]}}
layers:
  - normalization: {{}}
  - dense: {{units: {{choice: [4, 8]}}, activation: relu}}
  - dense: {{units: 3, activation: softmax, name: label}}
outputs: [label]
data: {{builtin: iris, split: {{validation: 0.3}}}}
training:
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
  optimizer: {{adam: {{learning_rate: {lr}}}}}
  batch_size: 16
  epochs: {epochs}
  jit_compile: false
  seed: 1
tune:
  objective: {{metric: val_loss}}
  seed: 0
"""

BLOBS = """\
nncompile: 1
name: blobs
inputs:
  x: {shape: [8]}
layers:
  - dense: {units: 16, activation: relu}
  - dense: {units: 2, activation: softmax, name: y}
outputs: [y]
data: {npz: {path: blobs.npz, inputs: {x: x}, targets: y}, split: {validation: 0.25}}
training:
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
  optimizer: {sgd: {learning_rate: LR}}
  batch_size: 32
  epochs: 2
  jit_compile: false
  seed: 3
tune:
  objective: {metric: val_loss}
  seed: 0
"""


def _tune(folder: Path, *args: object) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen([sys.executable, "-m", "compiler.cli", "tune", *map(str, args)],
                            cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _finish(process: subprocess.Popen, timeout: float = 900) -> str:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output
    return output


def _study(folder: Path, name: str) -> optuna.Study:
    from compiler.tune.study import journal_storage

    return optuna.load_study(study_name=name, storage=journal_storage(folder))


def _states(study: optuna.Study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts


def test_a_learning_rate_search_lands_near_the_best_of_a_dense_scan(tmp_path):
    from compiler.api import load_spec
    from compiler.training.run import train_spec

    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8)).astype("float32")
    y = (x @ rng.normal(size=8) + 0.5 * rng.normal(size=512) > 0).astype("int64")
    np.savez(tmp_path / "blobs.npz", x=x, y=y)
    write_spec(tmp_path, BLOBS.replace("LR", "{log_uniform: [1e-4, 10.0]}"))
    # The dense scan: 12 rates, a factor 2.85 apart, each trained as the trials are.
    rates = np.geomspace(1e-4, 10.0, 12)
    losses = []
    for rate in rates:
        scan = write_spec(tmp_path, BLOBS.replace("LR", repr(float(rate))), "scan.yaml")
        result = train_spec(load_spec(scan), out_root=tmp_path / "scan", verbose=0,
                            echo=lambda _: None)
        loss = result.metrics["metrics"]["validation"]["loss"]
        losses.append(loss if math.isfinite(loss) else math.inf)
    best_scanned = float(rates[int(np.argmin(losses))])

    output = _finish(_tune(tmp_path, "spec.yaml", "--trials", 20, "--pruner", "none",
                           "--out", "out"))
    folder = tmp_path / "out" / "blobs-tune"
    study = _study(folder, "blobs")
    assert _states(study).get("COMPLETE", 0) + _states(study).get("PRUNED", 0) == 20
    best = min((t for t in study.trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    found = best.params["training.optimizer.sgd.learning_rate"]
    print(f"dense scan best {best_scanned:.3g} (val_loss {min(losses):.4f}); "
          f"search found {found:.3g} (val_loss {best.value:.4f})")
    assert best_scanned / 3 <= found <= best_scanned * 3, (found, best_scanned, output)
    assert f"best: trial {best.number}" in output
    for name in ("history.png", "slice.png", "importances.png"):
        assert (folder / "plots" / name).stat().st_size > 1000
    with (folder / "trials.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 20 and {r["state"] for r in rows} <= {"COMPLETE", "PRUNED"}
    # best.yaml validates and trains as it is: the data lie outside the study folder,
    # so the copy beside the spec is the one to train, and it needs no flag.
    best_yaml = tmp_path / "spec.best.yaml"
    assert f"learning_rate: {found!r}" in best_yaml.read_text()
    assert f"learning_rate: {found!r}" in (folder / "best.yaml").read_text()
    result = train_spec(load_spec(best_yaml), out_root=tmp_path / "again", verbose=0,
                        echo=lambda _: None)
    assert math.isclose(result.metrics["metrics"]["validation"]["loss"], best.value,
                        rel_tol=1e-4)
    assert (folder / "best" / "blobs" / "model.keras").is_file()


def test_a_study_killed_mid_trial_resumes_with_two_jobs_to_exactly_n_trials(tmp_path):
    """SIGKILL mid-trial, then the same command with --jobs 2 finishes the one study."""
    write_spec(tmp_path, IRIS.format(name="killed", lr="{log_uniform: [1e-3, 1e-1]}", epochs=2))
    args = ["spec.yaml", "--trials", 5, "--pruner", "none", "--out", "out"]
    folder = tmp_path / "out" / "killed-tune"
    process = _tune(tmp_path, *args)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if (folder / "journal.log").exists():
            states = _states(_study(folder, "killed"))
            if states.get("COMPLETE", 0) >= 1 and states.get("RUNNING", 0) == 1:
                break
    else:
        pytest.fail("the study never had a complete trial and one running")
    time.sleep(1.0)  # into the running trial's training
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    before = _study(folder, "killed").trials
    killed = [t.number for t in before if t.state.name == "RUNNING"]
    assert len(killed) == 1
    done_before = {t.number for t in before if t.state.name == "COMPLETE"}

    output = _finish(_tune(tmp_path, *args, "--jobs", 2))
    assert f"trial(s) {killed[0]} were cut off" in output
    trials = _study(folder, "killed").trials
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)) and sorted(numbers) == list(range(6))
    assert _states(_study(folder, "killed")) == {"COMPLETE": 5, "FAIL": 1}
    lost = next(t for t in trials if t.state.name == "FAIL")
    assert lost.number == killed[0] and lost.user_attrs["lost"] is True
    retried = [t for t in trials if t.user_attrs.get("retry_of") == lost.number]
    assert len(retried) == 1 and retried[0].params == lost.params
    assert retried[0].state.name == "COMPLETE"
    # The resumed run: two trials at a time, each in a fresh process of its own.
    resumed = [t for t in trials if t.state.name == "COMPLETE" and t.number not in done_before]
    assert len(resumed) == 5 - len(done_before) >= 2
    assert len({t.user_attrs["pid"] for t in trials if t.state.name == "COMPLETE"}) == 5
    spans = sorted((t.datetime_start, t.datetime_complete) for t in resumed)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)), \
        "no two trials ran at the same time"
    # Running the finished study's command again trains nothing more.
    again = _finish(_tune(tmp_path, *args))
    assert "COMPLETE" not in again.split("study in", 1)[1].split("best:", 1)[0]
    assert len(_study(folder, "killed").trials) == 6


DIGITS = """\
nncompile: 1
name: digits_pareto
inputs:
  image: {shape: [8, 8, 1]}
layers:
  - flatten: {}
  - dense: {units: {choice: [2, 4, 8, 16, 32]}, activation: relu}
  - dense: {units: 10, activation: softmax, name: digit}
outputs: [digit]
data: {builtin: digits, split: {validation: 0.2}}
training:
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
  optimizer: {adam: {learning_rate: {log_uniform: [3e-3, 3e-2]}}}
  batch_size: 64
  epochs: 1
  jit_compile: false
  seed: 2
tune:
  objectives:
    - {metric: val_accuracy, direction: maximize}
    - {metric: params, direction: minimize}
  constraints: {max_params: 3000}
  seed: 1
"""


def test_accuracy_against_size_on_digits_gives_an_undominated_pareto_front(tmp_path):
    write_spec(tmp_path, DIGITS)
    output = _finish(_tune(tmp_path, "spec.yaml", "--trials", 6, "--out", "out"))
    folder = tmp_path / "out" / "digits_pareto-tune"
    with (folder / "trials.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle)]
    assert len(rows) == 6
    done = [(float(r["val_accuracy"]), float(r["params"])) for r in rows
            if r["state"] == "COMPLETE" and r["feasible"] == "True"]
    # 32 units is 2,410 parameters... over max_params: those trials stop before training.
    assert all(p <= 3000 for _, p in done)
    with (folder / "pareto_front.csv").open() as handle:
        front = [(float(r["val_accuracy"]), float(r["params"])) for r in csv.DictReader(handle)]
    assert front
    for acc, params in front:
        assert not any(a >= acc and p <= params and (a > acc or p < params) for a, p in done)
    for acc, params in done:  # every undominated trial is on the front
        if not any(a >= acc and p <= params and (a > acc or p < params) for a, p in done):
            assert (acc, params) in front
    assert (folder / "plots" / "pareto_front.png").stat().st_size > 1000
    assert output.count("pareto: trial") == len(front)


def test_trials_with_a_huge_learning_rate_are_pruned_before_their_last_epoch(tmp_path):
    write_spec(tmp_path, IRIS.format(name="pruned", lr="{choice: [0.01, 0.02, 0.03, 0.05, 40.0, "
                                     "60.0]}", epochs=3).replace("[4, 8]", "[8]"))
    _finish(_tune(tmp_path, "spec.yaml", "--trials", 6, "--sampler", "grid", "--out", "out"))
    trials = sorted(_study(tmp_path / "out" / "pruned-tune", "pruned").trials,
                    key=lambda t: t.datetime_complete)
    huge = [t for t in trials if t.params["training.optimizer.adam.learning_rate"] > 1]
    assert len(huge) == 2
    complete_before = {t.number: sum(o.state.name == "COMPLETE" and
                                     o.datetime_complete < t.datetime_start for o in trials)
                       for t in trials}
    checked = [t for t in huge if complete_before[t.number] >= 3]
    assert checked, "no huge-rate trial ran after the pruner's three startup trials"
    for t in checked:
        assert t.state.name == "PRUNED"
        assert len(t.intermediate_values) < 3
    # A good rate may be pruned too (slower than the median so far); one at least completes.
    assert any(t.state.name == "COMPLETE" for t in trials if t not in huge)
