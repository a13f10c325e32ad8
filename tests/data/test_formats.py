"""Each data format read from real files, builtins, splits and standardisation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from compiler.data.pipeline import load_data
from compiler.data.sequences import fit_length
from compiler.data.splits import auto_fractions
from tests.helpers import make_spec

HOUSES = """area,rooms,city,price
50,2,paris,300
80,3,lyon,250
120,4,paris,700
65,2,nice,280
90,3,lyon,310
150,5,nice,900
70,2,paris,420
100,4,lyon,380
"""


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_csv_numeric_and_categorical_features(tmp_path):
    write(tmp_path / "data" / "houses.csv", HOUSES)
    spec = make_spec(
        tmp_path,
        {"csv": {"path": "data/houses.csv", "target": "price", "categorical": ["city"]},
         "split": "none"},
        {"x": [5]},
        ["price"],
    )
    bundle = load_data(spec)
    x, y = bundle.arrays["train"]
    assert x.shape == (8, 5) and y.shape == (8, 1) and bundle.task == "regression"
    assert bundle.metadata["feature_names"] == ["area", "rooms", "city=lyon", "city=nice",
                                                "city=paris"]
    np.testing.assert_array_equal(x[0], [50, 2, 0, 0, 1])
    assert y[5, 0] == 900 and bundle.validation is None and bundle.test is None
    assert bundle.origins["train"][0] == "data/houses.csv:2"
    json.dumps(bundle.metadata)


def test_csv_text_labels_become_classes(tmp_path):
    write(tmp_path / "f.csv", "a,b,kind\n1,2,cat\n3,4,dog\n5,6,cat\n")
    spec = make_spec(tmp_path, {"csv": {"path": "f.csv", "target": "kind"}, "split": "none"},
                     {"x": [2]}, ["kind"])
    bundle = load_data(spec)
    assert bundle.class_names == ["cat", "dog"] and bundle.num_classes == 2
    np.testing.assert_array_equal(bundle.arrays["train"][1], [0, 1, 0])


def test_csv_split_files_share_the_training_encoding(tmp_path):
    write(tmp_path / "train.csv", HOUSES)
    write(tmp_path / "val.csv", "area,rooms,city,price\n60,2,nice,290\n")
    spec = make_spec(
        tmp_path,
        {"csv": {"target": "price", "categorical": ["city"]}, "train": "train.csv",
         "validation": "val.csv"},
        {"x": [5]}, ["price"],
    )
    bundle = load_data(spec)
    assert bundle.size("train") == 8 and bundle.size("validation") == 1 and bundle.test is None
    np.testing.assert_array_equal(bundle.arrays["validation"][0][0], [60, 2, 0, 1, 0])


def test_standardization_is_fitted_on_the_training_split_only(tmp_path):
    rows = "\n".join(f"{i * 3.0},{(i % 7) * 1.5},{['a', 'b'][i % 2]},{i}" for i in range(40))
    write(tmp_path / "d.csv", "u,v,c,y\n" + rows + "\n")
    data = {"csv": {"path": "d.csv", "target": "y", "categorical": ["c"]},
            "split": {"validation": 0.25, "test": 0.25}, "seed": 3}
    raw = load_data(make_spec(tmp_path, data, {"x": [4]}, ["y"]))
    std = load_data(make_spec(tmp_path, {**data, "standardize": True}, {"x": [4]}, ["y"]))
    train_raw = raw.arrays["train"][0]
    constants = std.metadata["standardization"]["features"]
    np.testing.assert_allclose(constants["mean"][:2], train_raw[:, :2].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(constants["std"][:2], train_raw[:, :2].std(axis=0), rtol=1e-5)
    assert constants["mean"][2:] == [0.0, 0.0]  # one-hot columns are left alone
    np.testing.assert_allclose(std.arrays["train"][0][:, :2].mean(axis=0), 0, atol=1e-5)
    val_raw, val_std = raw.arrays["validation"][0], std.arrays["validation"][0]
    expected = (val_raw[:, :2] - train_raw[:, :2].mean(0)) / train_raw[:, :2].std(0)
    np.testing.assert_allclose(val_std[:, :2], expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(val_std[:, 2:], val_raw[:, 2:])
    assert abs(val_std[:, :2].mean()) > 1e-3  # not re-fitted on validation


def test_npz_with_named_inputs(tmp_path):
    x = np.random.default_rng(0).random((20, 3, 2)).astype(np.float32)
    y = np.arange(20) % 4
    np.savez(tmp_path / "set.npz", x=x, y=y)
    spec = make_spec(tmp_path, {"npz": {"path": "set.npz", "inputs": {"image": "x"},
                                        "targets": "y"},
                                "split": "none"}, {"image": [3, 2]}, ["label"])
    bundle = load_data(spec)
    np.testing.assert_array_equal(bundle.arrays["train"][0], x)
    assert bundle.task == "classification" and bundle.num_classes == 4


def test_npy_pair(tmp_path):
    x = np.random.default_rng(0).random((12, 4))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", x.sum(axis=1))
    spec = make_spec(tmp_path, {"npy": {"inputs": "x.npy", "targets": "y.npy"}, "split": "none"},
                     {"x": [4]}, ["y"])
    bundle = load_data(spec)
    assert bundle.task == "regression" and bundle.arrays["train"][0].dtype == np.float32
    np.testing.assert_allclose(bundle.arrays["train"][1], x.sum(axis=1), rtol=1e-6)


def _png(path, color, shape=(6, 5, 3)):
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros(shape, dtype=np.uint8) + np.array(color, dtype=np.uint8)
    path.write_bytes(tf.io.encode_png(pixels).numpy())


def test_image_folder_labels_from_subfolders(tmp_path):
    for i in range(3):
        _png(tmp_path / "photos" / "cat" / f"{i}.png", (255, 0, 0))
        _png(tmp_path / "photos" / "dog" / f"{i}.png", (0, 0, 255))
    spec = make_spec(tmp_path, {"images": {"path": "photos", "size": [4, 4]}, "split": "none"},
                     {"image": [4, 4, 3]}, ["label"])
    bundle = load_data(spec)
    x, y = bundle.arrays["train"]
    assert x.shape == (6, 4, 4, 3) and bundle.class_names == ["cat", "dog"]
    np.testing.assert_allclose(x[y == 0][..., 0], 1.0)  # red cats, scaled to [0, 1]
    np.testing.assert_allclose(x[y == 1][..., 2], 1.0)
    gray = make_spec(tmp_path, {"images": {"path": "photos", "size": [2, 3], "color": "grayscale"},
                                "split": "none"}, {"image": [2, 3, 1]}, ["label"])
    assert load_data(gray).arrays["train"][0].shape == (6, 2, 3, 1)


def test_tfrecord_examples(tmp_path):
    import tensorflow as tf

    with tf.io.TFRecordWriter(str(tmp_path / "t.tfrecord")) as writer:
        for i in range(10):
            example = tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=[i, i + 1, i + 2])),
                "y": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 3])),
            }))
            writer.write(example.SerializeToString())
    spec = make_spec(tmp_path, {"tfrecord": {"path": "t.tfrecord", "target": "y", "features": {
        "x": {"shape": [3]}, "y": {"dtype": "int64"}}}, "split": "none"}, {"x": [3]}, ["y"])
    bundle = load_data(spec)
    x, y = bundle.arrays["train"]
    np.testing.assert_array_equal(x[4], [4, 5, 6])
    np.testing.assert_array_equal(y, np.arange(10) % 3)
    assert bundle.num_classes == 3


def test_text_next_char_and_labeled_lines(tmp_path):
    write(tmp_path / "c.txt", "abcabcabd\n")
    spec = make_spec(tmp_path, {"text": {"path": "c.txt", "max_length": 3}, "split": "none"},
                     {"chars": [3]}, ["next_char"], dtypes={"chars": "int32"})
    bundle = load_data(spec)
    vocab = bundle.metadata["vocabulary"]
    x, y = bundle.arrays["train"]
    assert "".join(vocab[i] for i in x[0]) == "abc" and vocab[y[0]] == "a"
    assert x.shape == (7, 3)
    write(tmp_path / "l.txt", "pos\tgood film\nneg\tbad\n")
    spec = make_spec(tmp_path, {"text": {"path": "l.txt", "mode": "labeled_lines", "max_length": 5,
                                         "padding": "pre", "truncating": "pre"}, "split": "none"},
                     {"text": [5]}, ["label"], dtypes={"text": "int32"})
    bundle = load_data(spec)
    x, y = bundle.arrays["train"]
    vocab = bundle.metadata["vocabulary"]
    assert "".join(vocab[i] for i in x[0]) == " film" and x[1, 0] == 0 and x[1, 1] == 0
    assert bundle.class_names == ["neg", "pos"] and list(y) == [1, 0]


@pytest.mark.parametrize(
    ("name", "shape", "task", "classes"),
    [("iris", [4], "classification", 3), ("wine", [13], "classification", 3),
     ("breast_cancer", [30], "classification", 2), ("diabetes", [10], "regression", None)],
)
def test_tabular_builtins(tmp_path, name, shape, task, classes):
    bundle = load_data(make_spec(tmp_path, {"builtin": name}, {"x": shape}, ["y"]))
    assert bundle.task == task and bundle.num_classes == classes
    total = sum(bundle.size(s) for s in ("train", "validation", "test"))
    assert bundle.size("validation") == bundle.size("test") == round(total * 0.2)


def test_digits_builtin_batches_and_shuffles_train_only(tmp_path):
    spec = make_spec(tmp_path, {"builtin": "digits", "split": {"validation": 0.2, "test": 0.2}},
                     {"image": [8, 8, 1]}, ["digit"])
    bundle = load_data(spec, batch_size=64, seed=5)
    x, y = bundle.arrays["train"]
    assert x.shape[1:] == (8, 8, 1) and 0 <= x.min() and x.max() <= 1 and bundle.num_classes == 10
    assert sum(bundle.size(s) for s in ("train", "validation", "test")) == 1797
    batch_x, batch_y = next(iter(bundle.train))
    assert batch_x.shape == (64, 8, 8, 1)
    assert not np.array_equal(batch_y.numpy(), y[:64])  # shuffled
    val_y = np.concatenate([b.numpy() for _, b in bundle.validation])
    np.testing.assert_array_equal(val_y, bundle.arrays["validation"][1])  # in order
    again = load_data(spec, batch_size=64, seed=5)
    np.testing.assert_array_equal(again.arrays["test"][1], bundle.arrays["test"][1])
    other = load_data(spec, batch_size=64, seed=6)
    assert not np.array_equal(other.arrays["test"][1], bundle.arrays["test"][1])


def test_data_names_map_onto_model_inputs(tmp_path):
    spec = make_spec(tmp_path, {"generate": {"task": "digit_pairs", "samples": 40},
                                "inputs": {"left": "image_a", "right": "image_b"}, "split": "none"},
                     {"left": [8, 8, 1], "right": [8, 8, 1]}, ["similarity"])
    bundle = load_data(spec, batch_size=8)
    x, y = bundle.arrays["train"]
    assert set(x) == {"left", "right"} and y.shape == (40, 1)
    batch_x, _ = next(iter(bundle.train))
    assert set(batch_x) == {"left", "right"}
    assert bundle.metadata["inputs"] == {"left": "image_a", "right": "image_b"}


def test_auto_split_rule():
    assert auto_fractions(9_999) == (0.2, 0.2)
    assert auto_fractions(2_000_000) == (0.01, 0.01)
    middle, _ = auto_fractions(100_000)
    assert 0.01 < middle < 0.2 and middle == pytest.approx(0.0447, abs=1e-3)
    sizes = [auto_fractions(n)[0] for n in (10_000, 50_000, 300_000, 1_000_000)]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] == pytest.approx(0.2) and sizes[-1] == pytest.approx(0.01)


def test_fit_length_cuts_and_pads_both_ways():
    seqs = [[1, 2, 3, 4], [5]]
    assert fit_length(seqs, 3).tolist() == [[1, 2, 3], [5, 0, 0]]
    assert fit_length(seqs, 3, padding="pre", truncating="pre").tolist() == [[2, 3, 4], [0, 0, 5]]
    assert fit_length(seqs).shape == (2, 4)


def test_schema_imports_no_tensorflow_and_documents_its_fields():
    import subprocess
    import sys

    code = "import sys, compiler.data.schema; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
    from compiler.data.schema import DataSpec
    from compiler.spec.base import attach_field_docstrings

    attach_field_docstrings()  # what `nncompile schema` does before generating
    schema = DataSpec.model_json_schema()
    assert "fitted on the training split only" in schema["properties"]["standardize"]["description"]
