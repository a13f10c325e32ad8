"""The same CSV rows reach the model as identical arrays in train, evaluate, predict and export.

A regression on a CSV with numeric and categorical columns, standardised, is
trained through the command line. The rows are encoded here independently,
with NumPy, from metadata.json's `preprocessing` as the README tells an
application to; that encoding must equal the arrays every verb gives the model.
"""

from __future__ import annotations

import csv
import json
import random
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from compiler.cli import cli

pytestmark = pytest.mark.slow

SPEC = """\
nncompile: 1
name: houses
inputs:
  features: {shape: [5]}
layers:
  - dense: {units: 8, activation: relu}
  - dense: {units: 1, name: price}
outputs: [price]
data:
  csv: {path: houses.csv, target: price, categorical: [city]}
  split: {validation: 0.2, test: 0.2}
  standardize: true
training:
  loss: mse
  optimizer: {adam: {learning_rate: 0.01}}
  batch_size: 16
  epochs: 2
  jit_compile: false
  seed: 3
"""

COLUMNS = ["city", "area", "price", "rooms"]  # the target among the features, on purpose


def _invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(folder of the spec and data, the trained model folder, {line: row} of the CSV)."""
    folder = tmp_path_factory.mktemp("houses")
    rng = random.Random(1)
    rows = []
    for i in range(60):
        city = ["paris", "lyon", "nice"][i % 3]
        area, rooms = round(rng.uniform(20, 200), 2), rng.randint(1, 6)
        price = round(3 * area + 10 * rooms + {"paris": 100, "lyon": 50, "nice": 70}[city], 2)
        rows.append({"city": city, "area": str(area), "price": str(price), "rooms": str(rooms)})
    _write_csv(folder / "houses.csv", rows, COLUMNS)
    (folder / "houses.yaml").write_text(SPEC)
    _invoke("train", folder / "houses.yaml", "--out", folder / "out", "--quiet")
    return folder, folder / "out" / "houses", {line: row for line, row in enumerate(rows, 2)}


def _write_csv(path, rows, columns, header=True):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        if header:
            writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in rows)


def app_encode(rows, preprocessing, model_input="features"):
    """Encode CSV rows as the README documents it, from metadata.json's `preprocessing` alone."""
    data_input = preprocessing["inputs"][model_input]
    features = []
    for row in rows:
        values = []
        for column in preprocessing["columns"]:
            if column in preprocessing["categorical"]:
                values += [float(row[column] == c) for c in preprocessing["categories"][column]]
            else:
                values.append(float(row[column]))
        features.append(values)
    x = np.asarray(features, dtype=np.float32)
    constants = preprocessing["standardization"][data_input]
    return (x - np.float32(constants["mean"])) / np.float32(constants["std"])


def _preprocessing(model_dir):
    return json.loads((model_dir / "metadata.json").read_text())["preprocessing"]


def _split_rows(bundle, split, rows):
    return [rows[int(origin.rpartition(":")[2])] for origin in bundle.origins[split]]


def _bundle(folder):
    from compiler.api import load_spec
    from compiler.data.pipeline import load_data

    return load_data(load_spec(str(folder / "houses.yaml")), batch_size=16, seed=3)


def test_train_evaluate_and_predict_see_the_same_arrays(trained, tmp_path):
    from compiler.model_folder import load_model_file as load_keras_model

    folder, model_dir, rows = trained
    preprocessing = _preprocessing(model_dir)
    assert preprocessing["categories"]["city"] == ["lyon", "nice", "paris"]
    model = load_keras_model(model_dir)

    # train: the arrays the pipeline feeds `fit` are the application's encoding of
    # each split's rows, and the losses train measured on them are reproduced.
    bundle = _bundle(folder)
    assert json.loads(json.dumps(bundle.metadata)) == preprocessing
    metrics = json.loads((model_dir / "metrics.json").read_text())["metrics"]
    for split in ("train", "validation", "test"):
        x, y = bundle.arrays[split]
        expected = app_encode(_split_rows(bundle, split, rows), preprocessing)
        np.testing.assert_array_equal(x, expected)
        loss = model.evaluate(expected, y, batch_size=16, verbose=0, return_dict=True)["loss"]
        np.testing.assert_allclose(metrics[split]["loss"], loss, rtol=1e-5)
    # Standardised with the training split's constants (so not centred elsewhere).
    train_x = bundle.arrays["train"][0]
    np.testing.assert_allclose(train_x[:, 3:].mean(axis=0), 0, atol=1e-5)
    assert abs(bundle.arrays["test"][0][:, 3:].mean(axis=0)).max() > 1e-3

    # evaluate re-reads the data: its loss is the one of the application's encoding.
    _invoke("evaluate", model_dir, "--split", "test", "-o", tmp_path / "e.json")
    test_rows = _split_rows(bundle, "test", rows)
    expected = model.evaluate(app_encode(test_rows, preprocessing), bundle.arrays["test"][1],
                              batch_size=16, verbose=0, return_dict=True)["loss"]
    evaluated = json.loads((tmp_path / "e.json").read_text())["metrics"]["loss"]
    np.testing.assert_allclose(evaluated, expected, rtol=1e-6)

    # predict: a model that returns its input shows exactly what reaches it, from
    # a header naming the columns in any order (the target column ignored) and
    # from a header-less file of the training columns in order.
    import keras

    shown = tmp_path / "shown"
    shutil.copytree(model_dir, shown)
    inputs = keras.Input((5,), name="features")
    keras.Model(inputs, keras.layers.Identity(name="price")(inputs), name="houses").save(
        shown / "identity.keras")
    all_rows = list(rows.values())
    _write_csv(tmp_path / "named.csv", all_rows, ["rooms", "price", "city", "area"])
    _write_csv(tmp_path / "plain.csv", all_rows, ["city", "area", "rooms"], header=False)
    for name in ("named.csv", "plain.csv"):
        _invoke("predict", shown / "identity.keras", "--input", tmp_path / name,
                "--output", tmp_path / "seen.npy")
        seen = np.load(tmp_path / "seen.npy")
        np.testing.assert_array_equal(seen, app_encode(all_rows, preprocessing))
        for split in ("train", "validation", "test"):
            lines = [int(o.rpartition(":")[2]) - 2 for o in bundle.origins[split]]
            np.testing.assert_array_equal(seen[lines], bundle.arrays[split][0])
    # ...and the trained model predicts from it what it gives for those arrays.
    _invoke("predict", model_dir, "--input", tmp_path / "named.csv",
            "--output", tmp_path / "p.npy")
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"),
                               model.predict(app_encode(all_rows, preprocessing), verbose=0),
                               rtol=1e-6, atol=1e-6)


def test_the_saved_model_with_its_metadata_predicts_as_predict_does(trained, tmp_path):
    import tensorflow as tf

    folder, model_dir, rows = trained
    all_rows = list(rows.values())
    _write_csv(tmp_path / "rows.csv", all_rows, COLUMNS)
    _invoke("predict", model_dir, "--input", tmp_path / "rows.csv", "--output", tmp_path / "p.npy")
    predicted = np.load(tmp_path / "p.npy")
    copy = tmp_path / "houses"
    shutil.copytree(model_dir, copy)
    _invoke("export", copy, "--format", "saved_model")
    [saved] = [p.parent for p in copy.rglob("saved_model.pb")]
    # An application has the SavedModel and the metadata.json inside it, nothing else.
    preprocessing = json.loads((saved / "assets.extra" / "metadata.json").read_text())[
        "preprocessing"]
    assert preprocessing["standardization"] == _preprocessing(model_dir)["standardization"]
    serve = tf.saved_model.load(str(saved)).signatures["serving_default"]
    outputs = serve(features=tf.constant(app_encode(all_rows, preprocessing)))["price"]
    np.testing.assert_allclose(outputs.numpy(), predicted, rtol=1e-5, atol=1e-5)
    # The export leaves the folder's encoding as training fitted it: predict is unchanged.
    _invoke("predict", copy, "--input", tmp_path / "rows.csv", "--output", tmp_path / "q.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "q.npy"), predicted)
