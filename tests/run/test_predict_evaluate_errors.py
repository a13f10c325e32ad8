"""Mistakes around train, predict, evaluate and schema -o: exit code 1, a located message."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.helpers import assert_user_error, classes_spec, run_cli

MIXED = """\
nncompile: 1
name: mixed
inputs:
  features: {shape: [2]}
layers:
  - dense: {units: 8, activation: relu, name: h}
  - dense: {units: 1, name: price, inputs: h}
  - dense: {units: 3, activation: softmax, name: kind, inputs: h}
outputs: [price, kind]
data: {csv: {path: m.csv, target: [price, kind], features: [a, b]}, split: none}
training:
  loss: {price: mse, kind: sparse_categorical_crossentropy}
  optimizer: {adam: {learning_rate: 0.01}}
  batch_size: 8
  epochs: 1
  jit_compile: false
  seed: 1
"""

CITIES = ["paris", "rome", "oslo"]


def _predict(model, inputs, output):
    return run_cli("predict", model, "--input", inputs, "--output", output)


def _labels_csv(path, last="0"):
    rows = "".join(f"{i / 10},{(i * 7 % 10) / 10},{i % 3}\n" for i in range(12))
    path.write_text("a,b,kind\n" + rows + f"0.5,0.5,{last}\n")


def _spec(folder, name="numeric", csv="c.csv", width=2, extra="", standardize=""):
    path = folder / f"{name}.yaml"
    path.write_text(classes_spec(name, width, csv, extra=extra, standardize=standardize))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A numeric-label classifier and a categorical + standardised one, trained for one epoch."""
    folder = tmp_path_factory.mktemp("models")
    _labels_csv(folder / "c.csv")
    numeric = _spec(folder)
    result = run_cli("train", numeric, "--out", folder / "out", "--quiet")
    assert result.exit_code == 0, result.output
    rng = np.random.default_rng(0)
    rows = [f"{rng.random():.3f},{CITIES[i % 3]},{i % 3}" for i in range(30)]
    (folder / "cat.csv").write_text("a,city,kind\n" + "\n".join(rows) + "\n")
    categorical = _spec(folder, "cities", "cat.csv", 4, ", categorical: [city]",
                        ", standardize: true")
    result = run_cli("train", categorical, "--out", folder / "out", "--quiet")
    assert result.exit_code == 0, result.output
    return folder


# ------------------------------------------------------------------ train: labels

@pytest.mark.parametrize(("last", "expected"), [
    ("7", "c.csv:14:3: column 'kind': train example 12: label 7 is out of range for a model "
          "with 3 classes (expected 0..2; 1 bad labels in this split)"),
    ("1.5", "c.csv:14:3: column 'kind': expected a whole class index for "
            "sparse_categorical_crossentropy, got 1.5"),
    ("-1", "c.csv:14:3: column 'kind': expected a class index 0 or above"),
])
def test_train_refuses_class_labels_that_do_not_fit(tmp_path, last, expected):
    _labels_csv(tmp_path / "c.csv", last)
    result = run_cli("train", _spec(tmp_path), "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert_user_error(result)


@pytest.mark.parametrize("header", ["a,b,price,kind", "kind,price,b,a"])
def test_train_matches_mixed_targets_by_name_in_any_column_order(tmp_path, header):
    columns = header.split(",")
    values = {"a": lambda i: i / 10, "b": lambda i: (i * 3 % 7) / 7,
              "price": lambda i: 10 + i * 1.5, "kind": lambda i: ["x", "y", "z"][i % 3]}
    rows = [",".join(str(values[c](i)) for c in columns) for i in range(12)]
    (tmp_path / "m.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    (tmp_path / "mixed.yaml").write_text(MIXED)
    result = run_cli("train", tmp_path / "mixed.yaml", "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "mixed" / "metrics.json").read_text())
    assert metrics["class_names"] == ["x", "y", "z"]


# ------------------------------------------------------------------ predict

def test_predict_an_empty_input_names_the_file(models, tmp_path):
    model = models / "out" / "numeric"
    (tmp_path / "x.csv").write_text("a,b\n")
    np.save(tmp_path / "x.npy", np.zeros((0, 2), np.float32))
    for name, expected in (("x.csv", "x.csv:1: the file has a header row but no examples"),
                           ("x.npy", "x.npy: the file holds no examples (0 rows)")):
        result = _predict(model, tmp_path / name, tmp_path / "p.csv")
        assert result.exit_code == 1, result.output
        assert expected in result.output
        assert_user_error(result)


def test_predict_refuses_nan_and_inf_naming_row_and_column(models, tmp_path):
    model = models / "out" / "numeric"
    (tmp_path / "x.csv").write_text("a,b\n1,2\n3,nan\n")
    result = _predict(model, tmp_path / "x.csv", tmp_path / "p.csv")
    assert result.exit_code == 1
    assert "x.csv:3:2: column 'b': expected a finite number, got 'nan'" in result.output
    np.save(tmp_path / "x.npy", np.array([[1, 2], [np.inf, 0]], np.float32))
    result = _predict(model, tmp_path / "x.npy", tmp_path / "p.csv")
    assert result.exit_code == 1
    assert "x.npy: example 1 at [0] is inf; expected a finite number" in result.output
    assert not (tmp_path / "p.csv").exists()


def test_predict_refuses_unsafe_array_files(models, tmp_path):
    model = models / "out" / "numeric"
    np.savez(tmp_path / "x.npz", features=np.array([[1, None]], dtype=object))
    result = _predict(model, tmp_path / "x.npz", tmp_path / "p.csv")
    assert result.exit_code == 1
    assert "x.npz[features]: the array holds Python objects (dtype=object)" in result.output
    with open(tmp_path / "x.npy", "wb") as handle:
        np.lib.format.write_array_header_2_0(
            handle, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 10**6)})
    result = _predict(model, tmp_path / "x.npy", tmp_path / "p.csv")
    assert result.exit_code == 1 and "x.npy: the header declares shape" in result.output
    (tmp_path / "l.csv").write_bytes("a,b\n1,2\n3,\xe94\n".encode("latin-1"))
    result = _predict(model, tmp_path / "l.csv", tmp_path / "p.csv")
    assert result.exit_code == 1 and "l.csv:3:3: byte 0xe9 is not valid UTF-8" in result.output
    assert_user_error(result)


def test_predict_creates_a_missing_output_folder(models, tmp_path):
    model = models / "out" / "numeric"
    np.save(tmp_path / "x.npy", np.zeros((2, 2), np.float32))
    out = tmp_path / "new" / "deeper" / "p.csv"
    result = _predict(model, tmp_path / "x.npy", out)
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 3


def test_predict_never_overwrites_its_input(models, tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    result = _predict(models / "out" / "numeric", tmp_path / "x.csv", tmp_path / "x.csv")
    assert result.exit_code == 1 and "--output is the --input file" in result.output
    assert (tmp_path / "x.csv").read_text() == "a,b\n1,2\n"


def test_predict_into_a_folder_that_cannot_be_written(models, tmp_path, monkeypatch):
    model = models / "out" / "numeric"
    np.save(tmp_path / "x.npy", np.zeros((2, 2), np.float32))
    (tmp_path / "afile").write_text("keep me")
    result = _predict(model, tmp_path / "x.npy", tmp_path / "afile" / "p.csv")
    assert result.exit_code == 1
    assert f"cannot create the folder '{tmp_path / 'afile'}' for --output: " in result.output
    assert "is a file, not a folder" in result.output
    assert (tmp_path / "afile").read_text() == "keep me"
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: str(p) != str(locked) and real_access(p, mode))
    result = _predict(model, tmp_path / "x.npy", locked / "p.csv")
    assert result.exit_code == 1
    assert f"the folder '{locked}' is not writable (permission denied)" in result.output
    assert_user_error(result)


def test_predict_encodes_categories_and_standardises_as_in_training(models, tmp_path):
    from compiler.api import load_spec
    from compiler.data.pipeline import load_data
    from compiler.model_folder import load_model_file as load_keras_model

    model_dir = models / "out" / "cities"
    bundle = load_data(load_spec(str(models / "cities.yaml")))
    expected = load_keras_model(model_dir).predict(bundle.arrays["train"][0], verbose=0)
    # The training file itself (its target column is ignored), by column name.
    result = _predict(model_dir, models / "cat.csv", tmp_path / "p.npy")
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, rtol=1e-5, atol=1e-6)
    first = (models / "cat.csv").read_text().splitlines()[1].split(",")
    # Columns in another order, and no header at all, give the same prediction.
    (tmp_path / "swapped.csv").write_text(f"city,a\n{first[1]},{first[0]}\n")
    (tmp_path / "plain.csv").write_text(f"{first[0]},{first[1]}\n")
    for name in ("swapped.csv", "plain.csv"):
        result = _predict(model_dir, tmp_path / name, tmp_path / "q.npy")
        assert result.exit_code == 0, result.output
        got = np.load(tmp_path / "q.npy")[0]
        np.testing.assert_allclose(got, expected[0], rtol=1e-5, atol=1e-6)
    (tmp_path / "bad.csv").write_text("a,city\n0.5,rome\n0.2,berlin\n")
    result = _predict(model_dir, tmp_path / "bad.csv", tmp_path / "q.csv")
    assert result.exit_code == 1
    assert ("bad.csv:3:2: column 'city': category 'berlin' does not occur in the training data; "
            "known: oslo, paris, rome") in result.output
    (tmp_path / "missing.csv").write_text("a,town\n0.5,rome\n")
    result = _predict(model_dir, tmp_path / "missing.csv", tmp_path / "q.csv")
    assert result.exit_code == 1
    assert "missing.csv:1: no column 'city' in the header" in result.output


def test_predict_uses_the_model_folders_metadata_without_the_training_data(models, tmp_path):
    from compiler.api import load_spec
    from compiler.data.pipeline import load_data
    from compiler.model_folder import load_model_file as load_keras_model

    bundle = load_data(load_spec(str(models / "cities.yaml")))
    copy = tmp_path / "cities"
    shutil.copytree(models / "out" / "cities", copy)
    # The spec, and so the data, can no longer be found (run.json and metrics.json name it).
    (copy / "metrics.json").unlink()
    (copy / "run.json").unlink()
    # Training writes metadata.json; with it, predict needs neither the spec nor the data.
    assert (copy / "metadata.json").exists()
    result = _predict(copy, models / "cat.csv", tmp_path / "p.npy")
    assert result.exit_code == 0, result.output
    (copy / "metadata.json").unlink()  # now nothing says how inputs were standardised
    result = _predict(copy, models / "cat.csv", tmp_path / "p.npy")
    assert result.exit_code == 1
    assert "standardised inputs" in result.output and "cat.csv" in result.output
    assert_user_error(result)
    (copy / "metadata.json").write_text(json.dumps({"preprocessing": bundle.metadata}))
    result = _predict(copy, models / "cat.csv", tmp_path / "p.npy")
    assert result.exit_code == 0, result.output
    expected = load_keras_model(copy).predict(bundle.arrays["train"][0], verbose=0)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ evaluate, schema

def test_evaluate_a_model_copied_from_another_spec(models, tmp_path):
    folder = tmp_path / "mixed_up"
    shutil.copytree(models / "out" / "cities", folder)
    shutil.copy(models / "out" / "numeric" / "model.keras", folder / "model.keras")
    result = run_cli("evaluate", folder, "--split", "train")
    assert result.exit_code == 1, result.output
    assert "model.keras: does not match" in result.output and "cities.yaml" in result.output
    assert "the model is named 'numeric', the spec 'cities'" in result.output
    assert "input 'features' has shape (2,) in the model, (4,) in the spec" in result.output
    assert_user_error(result)


def test_evaluate_writes_into_a_new_folder(models, tmp_path):
    out = tmp_path / "reports" / "e.json"
    result = run_cli("evaluate", models / "out" / "numeric", "--split", "train", "-o", out)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["split"] == "train"


def test_schema_output_folder(tmp_path, monkeypatch):
    out = tmp_path / "missing" / "schema.json"
    result = run_cli("schema", "-o", out)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["type"] == "object"
    (tmp_path / "afile").write_text("")
    result = run_cli("schema", "-o", tmp_path / "afile" / "x.json")
    assert result.exit_code == 1 and "is a file, not a folder" in result.output
    import compiler.atomic

    def refuse(path, text):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(compiler.atomic, "write_text_atomic", refuse)
    result = run_cli("schema", "-o", out)
    assert result.exit_code == 1
    assert f"{out}: cannot write -o/--output: Permission denied" in result.output
    assert_user_error(result)


def test_predict_with_an_empty_model_file(tmp_path):
    (tmp_path / "m.keras").write_bytes(b"")
    np.save(tmp_path / "x.npy", np.zeros((2, 2), "float32"))
    output = assert_user_error(run_cli("predict", tmp_path / "m.keras", "--input",
                                       tmp_path / "x.npy", "--output", tmp_path / "p.csv"))
    assert "cannot load model file" in output and "it is empty (0 bytes)" in output
