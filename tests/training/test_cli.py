"""The train, evaluate, predict and lr-find commands: exit codes, messages, files."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.helpers import DIGITS, REPO_ROOT, run_cli, write_training_spec


def test_train_prints_metrics_and_xla_decision(trained_iris):
    folder, _, result = trained_iris
    assert "XLA off" in result.output and "test: " in result.output and "loss=" in result.output
    assert "trained 2 epoch(s)" in result.output
    assert (folder / "out" / "iris_mlp" / "model.keras").is_file()


def test_train_spec_error_exits_1_with_location(tmp_path):
    spec = write_training_spec(tmp_path, epochs=1)
    result = run_cli("train", spec, "--set", "training.optimizer={adm: {}}", "--out", tmp_path)
    assert result.exit_code == 1
    assert "did you mean 'adam'" in result.output and "Traceback" not in result.output


def test_evaluate_writes_json(trained_iris):
    folder, spec, _ = trained_iris
    result = run_cli("evaluate", folder / "out" / "iris_mlp", "--split", "validation")
    assert result.exit_code == 0, result.output
    written = json.loads((folder / "out" / "iris_mlp" / "evaluation_validation.json").read_text())
    assert written["split"] == "validation" and "accuracy" in written["metrics"]
    by_spec = run_cli("evaluate", spec, "--out", folder / "out", "-o", folder / "e.json")
    assert by_spec.exit_code == 0, by_spec.output
    assert json.loads((folder / "e.json").read_text())["split"] == "test"


def test_evaluate_set_changes_the_data_only(trained_iris):
    folder, _, _ = trained_iris
    model_dir = folder / "out" / "iris_mlp"
    result = run_cli("evaluate", model_dir, "--set", "training.batch_size=7")
    assert result.exit_code == 0, result.output
    for item in ("layers[0].dense.units=5", "training.loss=mse", "name=other"):
        result = run_cli("evaluate", model_dir, "--set", item)
        assert result.exit_code == 2, result.output
        assert f"--set {item}: evaluate uses the trained model as it is" in result.output


def test_non_finite_numbers_are_written_as_null(tmp_path):
    from compiler.atomic import write_json

    write_json(tmp_path / "m.json", {"loss": float("nan"), "auc": np.float32(np.inf),
                                     "history": [1.5, np.array([np.nan, 2.0])]})
    text = (tmp_path / "m.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"loss": None, "auc": None, "history": [1.5, [None, 2.0]]}


@pytest.mark.parametrize("content", [None, b"", b"garbage, not a zip", "truncated"])
def test_bad_model_file_exits_1(trained_iris, tmp_path, content):
    folder, _, _ = trained_iris
    bad = tmp_path / "bad.keras"
    if content == "truncated":
        data = (folder / "out" / "iris_mlp" / "model.keras").read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    elif content is not None:
        bad.write_bytes(content)
    inputs = tmp_path / "x.npy"
    np.save(inputs, np.zeros((2, 4), "float32"))
    for args in (("predict", bad, "--input", inputs, "--output", tmp_path / "p.csv"),
                 ("evaluate", bad)):
        result = run_cli(*args)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert ("does not exist" in result.output or "cannot load model file" in result.output
                or "spec.resolved.yaml" in result.output or "neither" in result.output
                or "no such model file" in result.output)


def test_predict_csv_npy_npz(trained_iris, tmp_path):
    folder, _, _ = trained_iris
    model = folder / "out" / "iris_mlp" / "model.keras"
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.savetxt(tmp_path / "x.csv", x, delimiter=",", header="a,b,c,d", comments="")
    result = run_cli("predict", model, "--input", tmp_path / "x.csv",
                     "--output", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0].startswith("label_0,label_1,label_2,predicted,confidence") and len(lines) == 6
    np.save(tmp_path / "x.npy", x)
    result = run_cli("predict", model, "--input", tmp_path / "x.npy",
                     "--output", tmp_path / "p.npy")
    assert result.exit_code == 0, result.output
    probabilities = np.load(tmp_path / "p.npy")
    assert probabilities.shape == (5, 3)
    np.testing.assert_allclose(probabilities.sum(1), 1, rtol=1e-5)
    np.savez(tmp_path / "x.npz", features=x)
    result = run_cli("predict", model, "--input", tmp_path / "x.npz",
                     "--output", tmp_path / "p.npz")
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(np.load(tmp_path / "p.npz")["label"], probabilities, rtol=1e-5)


def test_predict_wrong_shape_is_a_data_error(trained_iris, tmp_path):
    folder, _, _ = trained_iris
    np.save(tmp_path / "x.npy", np.zeros((3, 5), "float32"))
    result = run_cli("predict", folder / "out" / "iris_mlp", "--input", tmp_path / "x.npy",
                     "--output", tmp_path / "p.csv")
    assert result.exit_code == 1 and "expects examples of shape (4,)" in result.output


@pytest.mark.slow
def test_sigkill_mid_training_then_resume(tmp_path):
    epochs = 5
    spec = write_training_spec(tmp_path, DIGITS, name="digits_mlp", epochs=epochs)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "compiler.cli", "train", str(spec), "--quiet"]
    crash_out, clean_out = tmp_path / "crash", tmp_path / "clean"
    process = subprocess.Popen(command + ["--out", str(crash_out)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    state_path = crash_out / "digits_mlp" / "backup" / "state.json"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if state_path.is_file() and json.loads(state_path.read_text())["epochs_completed"] >= 1:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = json.loads(state_path.read_text())["epochs_completed"]
    assert 1 <= killed_at < epochs
    assert not (crash_out / "digits_mlp" / "model.keras").exists()

    # Only the killed run needs a process of its own: resuming, and the
    # uninterrupted run to compare with, run here.
    resumed = run_cli("train", spec, "--quiet", "--out", crash_out, "--resume")
    assert resumed.exit_code == 0, resumed.output[-2000:]
    assert f"resuming after epoch {killed_at}" in resumed.output
    clean = run_cli("train", spec, "--quiet", "--out", clean_out)
    assert clean.exit_code == 0, clean.output[-2000:]
    crashed = json.loads((crash_out / "digits_mlp" / "metrics.json").read_text())
    uninterrupted = json.loads((clean_out / "digits_mlp" / "metrics.json").read_text())
    assert crashed["epochs_completed"] == uninterrupted["epochs_completed"] == epochs
    assert len(crashed["epoch_seconds"]) == epochs
    got = crashed["metrics"]["test"]["accuracy"]
    want = uninterrupted["metrics"]["test"]["accuracy"]
    assert got >= want - 0.03 and got > 0.9


@pytest.mark.slow
def test_damaged_or_mismatched_backup_is_a_clear_error(tmp_path):
    spec = write_training_spec(tmp_path, epochs=1)
    out = tmp_path / "out"
    assert run_cli("train", spec, "--out", out, "--quiet").exit_code == 0
    backup = out / "iris_mlp" / "backup"
    state = json.loads((backup / "state.json").read_text())
    # A spec changed after the backup was written: the weights no longer fit.
    changed = run_cli("train", spec, "--out", out, "--quiet", "--resume",
                      "--set", "layers[1].dense.units=7", "--set", "training.epochs=2")
    assert changed.exit_code == 1, changed.output
    assert "does not fit this model" in changed.output and "Traceback" not in changed.output
    assert json.loads((backup / "state.json").read_text()) == state  # nothing lost
    # A damaged state file.
    (backup / "state.json").write_text("{not json")
    damaged = run_cli("train", spec, "--out", out, "--quiet", "--resume")
    assert damaged.exit_code == 1 and "is damaged" in damaged.output, damaged.output
    assert "Traceback" not in damaged.output
    # Without --resume the damaged backup is moved aside and a fresh run trains.
    fresh = run_cli("train", spec, "--out", out, "--quiet")
    assert fresh.exit_code == 0, fresh.output
    assert (out / "iris_mlp" / "backup.previous" / "state.json").read_text() == "{not json"


def test_a_run_that_fails_before_training_leaves_the_backup_alone(tmp_path):
    spec = write_training_spec(tmp_path, epochs=1)
    out = tmp_path / "out"
    assert run_cli("train", spec, "--out", out, "--quiet").exit_code == 0
    backup = out / "iris_mlp" / "backup"
    finished = (backup / "state.json").read_text()
    assert json.loads(finished)["finished"]
    # Fails after the data are read (3 classes, 2 output units), before training starts.
    bad = ("--set", "layers[2].dense.units=2")
    failed = run_cli("train", spec, "--out", out, "--quiet", *bad)
    assert failed.exit_code == 1 and "Traceback" not in failed.output, failed.output
    assert (backup / "state.json").read_text() == finished  # `--resume --epochs N` still works
    # An interrupted run's backup is not even moved aside by a run that never trains.
    state = json.loads(finished)
    state["finished"] = False
    (backup / "state.json").write_text(json.dumps(state))
    failed = run_cli("train", spec, "--out", out, "--quiet", *bad)
    assert failed.exit_code == 1
    assert json.loads((backup / "state.json").read_text()) == state
    assert not (out / "iris_mlp" / "backup.previous").exists()


def test_missing_files_and_bad_specs_are_reported_before_tensorflow_loads(tmp_path):
    (tmp_path / "bad.yaml").write_text("name: b\ninputs: {x: [4]}\nlayers: [{dense: {units: 0}}]\n")
    program = """
import sys
from click.testing import CliRunner
from compiler.cli import cli
for args in (["train", "nope.yaml"], ["train", "bad.yaml"], ["lr-find", "bad.yaml"],
             ["evaluate", "nope"], ["predict", "nope", "--input", "x.npy", "--output", "y.csv"],
             ["export", "nope", "--format", "tflite"]):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, (args, result.output)
    assert "nope" in result.output or "bad.yaml:3:" in result.output, result.output
assert "tensorflow" not in sys.modules
"""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


def test_evaluate_reuses_the_training_overrides_and_refuses_an_untrained_build(tmp_path):
    spec = write_training_spec(tmp_path, epochs=1)
    out = tmp_path / "out"
    trained = run_cli("train", spec, "--out", out, "--quiet", "--set", "data.split.test=0.4")
    assert trained.exit_code == 0, trained.output
    result = run_cli("evaluate", out / "iris_mlp")
    assert result.exit_code == 0, result.output
    assert "test: 60 examples" in result.output  # 40 % of 150, as in training
    assert (out / "iris_mlp" / "metadata.json").is_file()  # written without an export list

    built = run_cli("build", spec, "--out", tmp_path / "built")
    assert built.exit_code == 0, built.output
    result = run_cli("evaluate", tmp_path / "built" / "iris_mlp")
    assert result.exit_code == 1 and "was built, not trained" in result.output, result.output
