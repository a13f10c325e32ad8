"""train_spec end to end on real specs: outputs, early stopping, seeds, NaN, resume-more."""

import csv
import json

import numpy as np
import pytest
import yaml

from compiler.errors import SpecError, TrainingError
from tests.helpers import REPO_ROOT, run_cli, train_quietly, write_training_spec


@pytest.mark.slow
def test_outputs_are_written_and_well_formed(tmp_path):
    spec = write_training_spec(tmp_path, epochs=3,
                               extra="  callbacks: [{checkpoint: {}}, csv_logger]\n")
    result = train_quietly(spec, tmp_path / "out")
    folder = tmp_path / "out" / "iris_mlp"
    assert result.out_dir == folder and result.epochs_completed == 3
    for name in ("model.keras", "spec.resolved.yaml", "metrics.json", "history.csv",
                 "training_curves.png", "confusion_matrix.png", "worst_examples.csv",
                 "checkpoints/best.keras", "logs/training_log.csv"):
        assert (folder / name).is_file(), name
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics["metrics"]) == {"train", "validation", "test"}
    assert 0 <= metrics["metrics"]["test"]["accuracy"] <= 1
    assert metrics["seed"] == 3 and metrics["epochs_completed"] == 3
    assert metrics["xla"]["used"] is False and "false" in metrics["xla"]["reason"]
    assert {"tensorflow", "keras", "nncompile"} <= set(metrics["versions"])
    assert len(metrics["epoch_seconds"]) == 3
    rows = list(csv.DictReader((folder / "history.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    for png in ("training_curves.png", "confusion_matrix.png"):
        assert (folder / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    worst = list(csv.DictReader((folder / "worst_examples.csv").open()))
    confidences = [float(r["confidence"]) for r in worst]
    assert confidences == sorted(confidences, reverse=True)
    assert all(r["true"] != r["predicted"] for r in worst)
    resolved = yaml.safe_load((folder / "spec.resolved.yaml").read_text())
    assert resolved["name"] == "iris_mlp"
    # No temporary files are left behind by the atomic writes.
    assert not [p for p in folder.rglob(".*") if p.is_file()]


@pytest.mark.slow
def test_tensorboard_logs_or_a_clear_error(tmp_path):
    import importlib.util

    spec = write_training_spec(tmp_path, epochs=1, extra="  callbacks: [tensorboard]\n")
    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(SpecError, match=r"iris_mlp.yaml:\d+:\d+.*pip install tensorboard"):
            train_quietly(spec, tmp_path / "out")
    else:
        train_quietly(spec, tmp_path / "out")
        assert list((tmp_path / "out" / "iris_mlp" / "logs").rglob("events.out.tfevents*"))


def test_normalization_is_adapted_on_the_training_split_only(trained_iris):
    import keras

    from compiler.data.pipeline import load_data

    folder, spec, _ = trained_iris
    model = keras.models.load_model(folder / "out" / "iris_mlp" / "model.keras")
    layer = next(x for x in model.layers if isinstance(x, keras.layers.Normalization))
    from compiler.api import load_spec

    bundle = load_data(load_spec(spec), batch_size=16, seed=3)
    train_x = bundle.arrays["train"][0]
    train_x = train_x["features"] if isinstance(train_x, dict) else train_x
    np.testing.assert_allclose(np.ravel(layer.mean), train_x.mean(0), rtol=1e-4)


@pytest.mark.slow
def test_same_seed_gives_bitwise_identical_weights(tmp_path):
    import sys
    from subprocess import run

    import keras

    # The seed and determinism are process-wide settings: one run in a fresh process,
    # the other in this one, which has built and trained other models before.
    spec = write_training_spec(tmp_path, epochs=2,
                               extra="  schedule: {step_decay: {factor: 0.5, every: 1}}\n")
    run([sys.executable, "-m", "compiler.cli", "train", str(spec), "--out", str(tmp_path / "a"),
         "--quiet"], check=True, capture_output=True)
    result = run_cli("train", spec, "--out", tmp_path / "b", "--quiet")
    assert result.exit_code == 0, result.output
    weights = [keras.models.load_model(tmp_path / name / "iris_mlp" / "model.keras").get_weights()
               for name in ("a", "b")]
    for a, b in zip(*weights, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.slow
def test_early_stopping_restores_the_best_weights(tmp_path):
    extra = ("  callbacks: [{early_stopping: {patience: 2, restore_best: true,"
             " monitor: val_loss}}]\n")
    spec = write_training_spec(tmp_path, epochs=25, extra=extra)
    path = spec.read_text().replace("adam: {learning_rate: 0.02}", "sgd: {learning_rate: 0.9}")
    spec.write_text(path)
    result = train_quietly(spec, tmp_path / "out")
    best = min(row["val_loss"] for row in result.history)
    final = result.metrics["metrics"]["validation"]["loss"]
    assert final == pytest.approx(best, rel=1e-4)
    assert final < result.history[-1]["val_loss"] or result.history[-1]["val_loss"] == best


def _interrupt_after(out):
    """Leave `out`'s backup as a run killed right after its last backup would."""
    state_path = out / "iris_mlp" / "backup" / "state.json"
    state = json.loads(state_path.read_text())
    assert state["finished"]
    state["finished"] = False
    state_path.write_text(json.dumps(state))
    (out / "iris_mlp" / "model.keras").unlink()
    return state


@pytest.mark.slow
def test_resume_carries_early_stopping_and_replays_the_shuffle(tmp_path):
    extra = ("  callbacks: [{early_stopping: {patience: 3, restore_best: true,"
             " monitor: val_loss}}]\n")
    spec = write_training_spec(tmp_path, epochs=40, extra=extra)
    spec.write_text(spec.read_text().replace("adam: {learning_rate: 0.02}",
                                             "sgd: {learning_rate: 0.9}"))
    whole = train_quietly(spec, tmp_path / "whole")
    losses = [row["val_loss"] for row in whole.history]
    best = losses.index(min(losses))
    assert 1 <= best < len(losses) - 2, losses  # the run stopped on patience, after its best
    # Interrupted one epoch after the best: patience, best value and best weights
    # must survive the crash, and the seeded shuffle must go on where it was.
    cut = tmp_path / "cut"
    train_quietly(spec, cut, overrides=[f"training.epochs={best + 2}"])
    state = _interrupt_after(cut)
    assert state["callbacks"][0]["wait"] == 1 and state["callbacks"][0]["best_epoch"] == best
    resumed = train_quietly(spec, cut, resume=True)
    assert resumed.history == whole.history
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights(), strict=True):
        assert np.array_equal(a, b)
    # Killed after early stopping ended the run but before its outputs were written.
    _interrupt_after(tmp_path / "whole")
    again = train_quietly(spec, tmp_path / "whole", resume=True)
    assert again.history == whole.history
    for a, b in zip(whole.model.get_weights(), again.model.get_weights(), strict=True):
        assert np.array_equal(a, b)
    assert (tmp_path / "whole" / "iris_mlp" / "model.keras").is_file()


@pytest.mark.slow
def test_resume_carries_plateau_and_checkpoint_counters(tmp_path):
    extra = ("  schedule: {reduce_on_plateau: {patience: 1, factor: 0.5}}\n"
             "  callbacks: [{checkpoint: {monitor: val_loss}}]\n")
    spec = write_training_spec(tmp_path, epochs=13, extra=extra)
    spec.write_text(spec.read_text().replace("adam: {learning_rate: 0.02}",
                                             "sgd: {learning_rate: 0.9}"))
    whole = train_quietly(spec, tmp_path / "whole")
    rates = [row["learning_rate"] for row in whole.history]
    assert rates[-1] < rates[0], rates  # the plateau lowered the rate
    cut = tmp_path / "cut"
    train_quietly(spec, cut, overrides=["training.epochs=10"])
    kinds = [s["kind"] for s in _interrupt_after(cut)["callbacks"]]
    assert sorted(kinds) == ["checkpoint", "reduce_on_plateau"]
    resumed = train_quietly(spec, cut, resume=True)
    assert resumed.history == whole.history
    final = [json.loads((root / "iris_mlp" / "backup" / "state.json").read_text())["callbacks"]
             for root in (tmp_path / "whole", cut)]
    assert final[0] == final[1]


def test_nan_in_first_epoch_is_a_training_error(tmp_path):
    spec = write_training_spec(tmp_path, epochs=3)
    with pytest.raises(TrainingError) as info:
        train_quietly(spec, tmp_path / "out",
               overrides=["training.optimizer={sgd: {learning_rate: 1e30}}"])
    message = str(info.value)
    assert "epoch 1, batch" in message and "no completed epoch" in message
    assert not (tmp_path / "out" / "iris_mlp" / "model.keras").exists()


@pytest.mark.slow
def test_nan_keeps_the_last_good_backup_and_resume_trains_further(tmp_path):
    spec = write_training_spec(tmp_path, epochs=2,
                               extra="  optimizer: {sgd: {learning_rate: 0.05}}\n").read_text()
    spec = spec.replace("  optimizer: {adam: {learning_rate: 0.02}}\n", "")
    path = tmp_path / "iris_mlp.yaml"
    path.write_text(spec)
    out = tmp_path / "out"
    train_quietly(path, out)
    backup = out / "iris_mlp" / "backup"
    state = json.loads((backup / "state.json").read_text())
    assert state["epochs_completed"] == 2 and state["finished"]
    saved = (backup / state["weights"]).read_bytes()
    with pytest.raises(TrainingError, match="epoch 3, batch .*epoch 2"):
        train_quietly(path, out, resume=True,
               overrides=["training.epochs=4", "training.optimizer.sgd.learning_rate=1e30"])
    after = json.loads((backup / "state.json").read_text())
    assert after["epochs_completed"] == 2
    assert (backup / after["weights"]).read_bytes() == saved
    # Back to a sane rate: training continues from epoch 2 to 4.
    result = train_quietly(path, out, resume=True, overrides=["training.epochs=4"])
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4]


def test_unknown_output_in_per_output_loss_is_located(tmp_path):
    spec = write_training_spec(tmp_path, epochs=1).read_text().replace(
        "loss: sparse_categorical_crossentropy", "loss: {lable: sparse_categorical_crossentropy}")
    path = tmp_path / "bad.yaml"
    path.write_text(spec)
    with pytest.raises(SpecError, match=r"bad.yaml:\d+:\d+.*'lable'.*did you mean 'label'"):
        train_quietly(path, tmp_path / "out")


def test_val_monitor_without_validation_split(tmp_path):
    spec = write_training_spec(tmp_path, epochs=1,
                               extra="  callbacks: [early_stopping]\n").read_text()
    spec = spec.replace("split: {validation: 0.2, test: 0.2}", "split: {test: 0.2}")
    path = tmp_path / "noval.yaml"
    path.write_text(spec)
    with pytest.raises(SpecError, match="no validation split"):
        train_quietly(path, tmp_path / "out")


def test_init_from_copies_named_layers(tmp_path):
    import keras

    first = train_quietly(write_training_spec(tmp_path, epochs=1), tmp_path / "out")
    source = tmp_path / "out" / "iris_mlp" / "model.keras"
    hidden = first.model.layers[2].name
    extra = f"  init_from: {{model: {source}, layers: [{hidden}]}}\n"
    spec = write_training_spec(tmp_path, name="iris_transfer", epochs=1, extra=extra)
    from compiler.api import build_model, load_spec
    from compiler.training.prepare import init_from

    loaded = load_spec(spec)
    model = build_model(loaded)
    copied = init_from(model, loaded.training.init_from, loaded.base_dir, loaded.locate)
    assert copied == [hidden]
    trained = keras.models.load_model(source)
    for a, b in zip(model.get_layer(hidden).get_weights(), trained.get_layer(hidden).get_weights(),
                    strict=True):
        assert np.array_equal(a, b)
    bad = write_training_spec(tmp_path, name="iris_bad", epochs=1,
                     extra=f"  init_from: {{model: {source}, layers: [{hidden}x]}}\n")
    with pytest.raises(SpecError, match="did you mean"):
        train_quietly(bad, tmp_path / "out")


@pytest.mark.slow
def test_a_model_trained_with_an_epoch_schedule_loads_with_custom_layers_only(tmp_path):
    """The saved optimiser and metrics refer to project classes: `import custom_layers` finds
    them."""
    import subprocess
    import sys

    spec = write_training_spec(tmp_path, epochs=2, extra=(
        "  schedule: {warmup: {epochs: 1, then: {cosine: {min_lr: 0.001}}}}\n"))
    train_quietly(spec, tmp_path / "out",
                  overrides=["training.metrics=[accuracy, f1, precision, auc]"])
    model_file = tmp_path / "out" / "iris_mlp" / "model.keras"
    program = (
        "import sys; sys.path.insert(0, sys.argv[1]); import keras, custom_layers\n"
        "assert 'compiler' not in sys.modules\n"
        "m = keras.saving.load_model(sys.argv[2])\n"
        "assert len(m.metrics) > 1 and m.compiled\n"
        "print(m.optimizer.get_config()['learning_rate']['class_name'])\n")
    done = subprocess.run([sys.executable, "-c", program, str(REPO_ROOT), str(model_file)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("WarmupSchedule")


@pytest.mark.slow
def test_per_step_classifier_on_variable_length_npz_trains_and_exports(tmp_path):
    """Inputs [null, 4] with one class per step: the reports skip per-example files, TFLite
    exports."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 15, 4)).astype("float32")
    np.savez(tmp_path / "seq.npz", x=x, y=(x.sum(-1) > 0).astype("int64"))
    spec = tmp_path / "steps.yaml"
    spec.write_text(
        "nncompile: 1\nname: steps\ninputs: {x: [null, 4]}\nlayers:\n"
        "  - gru: {units: 6, return_sequences: true}\n"
        "  - dense: {units: 2, activation: softmax, name: out}\noutputs: [out]\n"
        "data: {npz: {path: seq.npz, inputs: {x: x}, targets: {out: y}}}\n"
        "training: {loss: sparse_categorical_crossentropy, metrics: [accuracy], epochs: 1,\n"
        "           jit_compile: false, seed: 1}\n"
        "export: [tflite]\n", encoding="utf-8")
    result = train_quietly(spec, tmp_path / "out")
    folder = tmp_path / "out" / "steps"
    assert result.epochs_completed == 1 and (folder / "model.tflite").is_file()
    assert not (folder / "confusion_matrix.png").exists()
