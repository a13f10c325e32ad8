"""Bad data is a DataError naming the file, row and column, before any training."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from compiler.api import load_spec
from compiler.data.bundle import check_labels
from compiler.data.pipeline import load_data
from compiler.errors import DataError, SpecError
from tests.helpers import make_spec

GOOD = "area,rooms,price\n50,2,300\n80,3,250\n120,4,700\n"


def csv_spec(tmp_path, text, path="h.csv", **options):
    (tmp_path / path).write_text(text)
    return make_spec(tmp_path, {"csv": {"path": path, "target": "price", **options},
                                "split": "none"},
                     {"x": [2]}, ["price"])


def error_of(spec, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        load_data(spec, **kwargs)
    return str(caught.value)


def test_missing_file_suggests_the_closest_name(tmp_path):
    (tmp_path / "houses.csv").write_text(GOOD)
    spec = make_spec(tmp_path, {"csv": {"path": "house.csv", "target": "price"}}, {"x": [2]}, ["p"])
    message = error_of(spec)
    assert message.startswith("spec.yaml:1:1: data.csv.path: ")
    assert "file 'house.csv' not found (did you mean 'houses.csv'?)" in message


@pytest.mark.parametrize("reference", ["../../etc/passwd", "/etc/passwd", "sub/../../x.csv"])
def test_paths_outside_the_spec_folder_are_refused(tmp_path, reference):
    base = tmp_path / "specs"
    base.mkdir()
    spec = make_spec(base, {"csv": {"path": reference, "target": "price"}}, {"x": [2]}, ["p"])
    assert "is outside the spec's folder" in error_of(spec)


def test_allow_outside_reads_a_file_beside_the_spec_folder(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "h.csv").write_text(GOOD)
    spec = make_spec(tmp_path / "specs", {"csv": {"path": "../h.csv", "target": "price"},
                                          "split": "none"}, {"x": [2]}, ["p"])
    assert load_data(spec, allow_outside=True).size("train") == 3


def test_missing_column_names_the_header_and_suggests(tmp_path):
    spec = csv_spec(tmp_path, GOOD, features=["area", "room"])
    assert error_of(spec).startswith(
        "h.csv:1: no column 'room' in the header (did you mean 'rooms'?); "
        "columns are: area, rooms, price"
    )


def test_non_numeric_cell_names_row_and_column(tmp_path):
    spec = csv_spec(tmp_path, GOOD + "90,three,310\n")
    assert error_of(spec) == (
        "h.csv:5:2: column 'rooms': expected a number, got 'three'; "
        "if the column holds categories, add it to `categorical`"
    )


def test_empty_numeric_cell_is_called_a_missing_value_not_a_category(tmp_path):
    # It said "got ''; if the column holds categories, add it to `categorical`".
    spec = csv_spec(tmp_path, GOOD + "90,,310\n")
    assert error_of(spec) == (
        "h.csv:5:2: column 'rooms': expected a number, got an empty cell (a missing value); "
        "fill it in or remove the row")


def test_typo_in_a_numeric_target_is_not_taken_for_a_class(tmp_path):
    spec = csv_spec(tmp_path, "area,rooms,price\n\n50,2,300\n80,3,25o\n")
    assert error_of(spec) == "h.csv:4:3: column 'price': expected a number, got '25o'"


def test_ragged_row(tmp_path):
    spec = csv_spec(tmp_path, GOOD + "90,3\n")
    assert error_of(spec) == "h.csv:5: row has 2 fields, expected 3 as in the header"


@pytest.mark.parametrize(("text", "expected"), [
    ("", "h.csv: the file is empty; expected a header row and examples"),
    ("area,rooms,price\n", "h.csv:1: the file has a header row but no examples"),
])
def test_empty_files(tmp_path, text, expected):
    assert error_of(csv_spec(tmp_path, text)) == expected


def test_nan_and_inf_cells(tmp_path):
    assert error_of(csv_spec(tmp_path, GOOD + "nan,2,3\n")) == (
        "h.csv:5:1: column 'area': expected a finite number, got 'nan'")
    assert "h.csv:3:3: column 'price': expected a finite number, got 'inf'" in error_of(
        csv_spec(tmp_path, "area,rooms,price\n1,2,3\n1,2,inf\n"))


def test_nan_in_an_array_file(tmp_path):
    x = np.ones((5, 2), dtype=np.float32)
    x[3, 1] = np.nan
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(5))
    spec = make_spec(tmp_path, {"npz": {"path": "d.npz", "inputs": "x", "targets": "y"}},
                     {"x": [2]}, ["y"])
    assert error_of(spec).startswith("d.npz[x]: example 3 at [1] is nan; expected a finite number")


def test_missing_array_key_suggests(tmp_path):
    np.savez(tmp_path / "d.npz", images=np.ones((5, 2)), y=np.arange(5))
    spec = make_spec(tmp_path, {"npz": {"path": "d.npz", "inputs": "image", "targets": "y"}},
                     {"x": [2]}, ["y"])
    assert "no array 'image' in the archive (did you mean 'images'?)" in error_of(spec)


def test_undecodable_image_is_named(tmp_path):
    import tensorflow as tf

    folder = tmp_path / "photos" / "cat"
    folder.mkdir(parents=True)
    (folder / "ok.png").write_bytes(tf.io.encode_png(np.zeros((3, 3, 3), np.uint8)).numpy())
    (folder / "broken.png").write_bytes(b"this is not a png")
    spec = make_spec(tmp_path, {"images": {"path": "photos", "size": [3, 3]}}, {"i": [3, 3, 3]},
                     ["l"])
    assert error_of(spec).startswith("photos/cat/broken.png: cannot decode the image")


def test_tfrecord_feature_of_the_wrong_size(tmp_path):
    import tensorflow as tf

    with tf.io.TFRecordWriter(str(tmp_path / "t.tfrecord")) as writer:
        for values in ([1.0, 2.0], [1.0]):
            feature = {"x": tf.train.Feature(float_list=tf.train.FloatList(value=values)),
                       "y": tf.train.Feature(float_list=tf.train.FloatList(value=[0.5]))}
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature))
                         .SerializeToString())
    spec = make_spec(tmp_path, {"tfrecord": {"path": "t.tfrecord", "target": "y",
                                             "features": {"x": {"shape": [2]}, "y": {}}}},
                     {"x": [2]}, ["y"])
    assert error_of(spec).startswith("t.tfrecord:2: record: record does not match the `features`")


def test_labeled_line_without_a_tab(tmp_path):
    (tmp_path / "l.txt").write_text("pos\tfine\nno tab here\n")
    spec = make_spec(tmp_path, {"text": {"path": "l.txt", "mode": "labeled_lines"}},
                     {"text": [4]}, ["label"])
    assert error_of(spec) == "l.txt:2: expected `label<TAB>text`, found no tab"


def test_unknown_category_in_a_validation_file(tmp_path):
    (tmp_path / "t.csv").write_text("a,c,price\n1,x,2\n2,y,3\n")
    (tmp_path / "v.csv").write_text("a,c,price\n1,x,2\n1,z,2\n")
    spec = make_spec(tmp_path, {"csv": {"target": "price", "categorical": ["c"]},
                                "train": "t.csv", "validation": "v.csv"}, {"x": [3]}, ["price"])
    assert error_of(spec) == (
        "v.csv:3:2: column 'c': category 'z' does not occur in the training file; known: x, y")


def test_shape_mismatch_names_both_shapes_and_the_spec_location(tmp_path):
    spec = make_spec(tmp_path, {"builtin": "iris"}, {"x": [5]}, ["y"])
    spec.lines[("inputs", "x", "shape")] = 4
    assert error_of(spec) == (
        "spec.yaml:4:1: inputs.x.shape: data input 'features' has shape (4,) per example, "
        "but model input 'x' is declared with shape (5,); change `inputs.x.shape` to [4]")


def test_unmapped_model_input(tmp_path):
    spec = make_spec(tmp_path, {"generate": {"task": "digit_pairs", "samples": 10}},
                     {"left": [8, 8, 1], "right": [8, 8, 1]}, ["same"])
    message = error_of(spec)
    assert "model input 'left' gets no data: the data's inputs are image_a, image_b" in message
    assert "`data: {inputs: {left: image_a}}`" in message
    bad_map = make_spec(tmp_path, {"generate": {"task": "digit_pairs", "samples": 10},
                                   "inputs": {"left": "imge_a", "right": "image_b"}},
                        {"left": [8, 8, 1], "right": [8, 8, 1]}, ["same"])
    assert "the data has no input 'imge_a' (did you mean 'image_a'?)" in error_of(bad_map)


def test_labels_out_of_range_name_the_row(tmp_path):
    rows = "".join(f"{i},{i % 3}\n" for i in range(6)) + "9,7\n"
    (tmp_path / "c.csv").write_text("a,kind\n" + rows)
    spec = make_spec(tmp_path, {"csv": {"path": "c.csv", "target": "kind"}, "split": "none",
                                "task": "classification"}, {"x": [1]}, ["kind"])
    bundle = load_data(spec)
    check_labels(bundle, 8)  # 0..7 fit
    with pytest.raises(DataError) as caught:
        check_labels(bundle, 3)
    assert str(caught.value) == (
        "c.csv:8:2: column 'kind': train example 6: label 7 is out of range for a model with "
        "3 classes (expected 0..2; 1 bad labels in this split)")


def test_only_one_source_kind(tmp_path):
    with pytest.raises(ValidationError) as caught:
        make_spec(tmp_path, {"builtin": "iris", "csv": {"path": "a.csv", "target": "y"}})
    assert "give exactly one data source, got 2: builtin, csv" in str(caught.value)
    with pytest.raises(ValidationError, match="no data source"):
        make_spec(tmp_path, {"split": "auto"})
    with pytest.raises(ValidationError, match="must be below 1"):
        make_spec(tmp_path, {"builtin": "iris", "split": {"validation": 0.5, "test": 0.5}})


# --------------------------------------------------------------- labels and losses

def _with_loss(spec, loss):
    from compiler.training.schema import TrainingSpec

    spec.training = TrainingSpec.model_validate({"loss": loss})
    return spec


LABELS = "a,b,kind\n" + "".join(f"{i},{i * 2},{i % 3}\n" for i in range(6))


@pytest.mark.parametrize(("bad", "expected"), [
    ("1.5", "c.csv:8:3: column 'kind': expected a whole class index for "
            "sparse_categorical_crossentropy, got 1.5 (1 bad example(s))"),
    ("-1", "c.csv:8:3: column 'kind': expected a class index 0 or above for "
           "sparse_categorical_crossentropy, got -1 (1 bad example(s))"),
])
def test_numeric_class_labels_are_checked_for_a_class_loss(tmp_path, bad, expected):
    (tmp_path / "c.csv").write_text(LABELS + f"9,9,{bad}\n")
    spec = make_spec(tmp_path, {"csv": {"path": "c.csv", "target": "kind"}, "split": "none"},
                     {"x": [2]}, ["kind"])
    assert error_of(_with_loss(spec, "sparse_categorical_crossentropy")) == expected


def test_numeric_labels_of_a_class_loss_become_classes_checked_against_the_model(tmp_path):
    (tmp_path / "c.csv").write_text(LABELS + "9,9,7\n")
    spec = make_spec(tmp_path, {"csv": {"path": "c.csv", "target": "kind"}, "split": "none"},
                     {"x": [2]}, ["kind"])
    bundle = load_data(_with_loss(spec, "sparse_categorical_crossentropy"))
    assert bundle.task == "classification" and bundle.arrays["train"][1].dtype == np.int32
    assert bundle.arrays["train"][1].shape == (7,)
    with pytest.raises(DataError) as caught:
        check_labels(bundle, 3)
    assert str(caught.value).startswith(
        "c.csv:8:3: column 'kind': train example 6: label 7 is out of range for a model with 3 "
        "classes (expected 0..2")
    # Without a class loss the same column stays a regression target.
    plain = make_spec(tmp_path, {"csv": {"path": "c.csv", "target": "kind"}, "split": "none"},
                      {"x": [2]}, ["kind"])
    assert load_data(_with_loss(plain, "mse")).task == "regression"


def test_binary_crossentropy_targets_must_lie_between_0_and_1(tmp_path):
    (tmp_path / "c.csv").write_text("a,y\n1,0\n2,1\n3,0.5\n4,3\n")
    spec = make_spec(tmp_path, {"csv": {"path": "c.csv", "target": "y"}, "split": "none"},
                     {"x": [1]}, ["y"])
    assert error_of(_with_loss(spec, "binary_crossentropy")) == (
        "c.csv:5:2: column 'y': expected a value from 0 to 1 for binary_crossentropy, got 3 "
        "(1 bad example(s))")


@pytest.mark.parametrize("header", ["a,b,price,kind", "kind,a,price,b", "price,kind,b,a"])
@pytest.mark.parametrize("targets", [["price", "kind"], ["kind", "price"]])
def test_mixed_targets_match_outputs_by_name_whatever_the_column_order(tmp_path, header, targets):
    columns = header.split(",")
    values = {"a": [1, 2, 3, 4], "b": [5, 6, 7, 8], "price": [10.5, 20.25, 30.0, 40.75],
              "kind": ["x", "y", "x", "z"]}
    rows = [",".join(str(values[c][i]) for c in columns) for i in range(4)]
    (tmp_path / "m.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    spec = make_spec(tmp_path, {"csv": {"path": "m.csv", "target": targets, "features": ["a", "b"]},
                                "split": "none"}, {"x": [2]}, ["kind", "price"])
    spec = _with_loss(spec, {"kind": "sparse_categorical_crossentropy", "price": "mse"})
    bundle = load_data(spec)
    inputs, got = bundle.arrays["train"]
    assert list(got) == ["kind", "price"]
    np.testing.assert_allclose(got["price"][:, 0], values["price"])
    np.testing.assert_array_equal(got["kind"], [0, 1, 0, 2])
    np.testing.assert_allclose(inputs, [[1, 5], [2, 6], [3, 7], [4, 8]])
    assert bundle.task == "classification"
    assert bundle.target_tasks == {"kind": "classification", "price": "regression"}
    assert bundle.class_names == ["x", "y", "z"]
    # The regression target is never range-checked as class labels.
    check_labels(bundle, {"kind": 3, "price": 2})
    check_labels(bundle, 3)  # one number: the first output's classes
    with pytest.raises(DataError, match=r"m.csv:5:\d: column 'kind': .*label 2 is out of range"):
        check_labels(bundle, {"kind": 2, "price": 1})


def test_mixed_numeric_targets_follow_each_outputs_loss(tmp_path):
    (tmp_path / "m.csv").write_text("kind,a,price\n0,1,2.5\n1,2,3.5\n2,3,4.5\n")
    spec = make_spec(tmp_path, {"csv": {"path": "m.csv", "target": ["price", "kind"]},
                                "split": "none"}, {"x": [1]}, ["price", "kind"])
    spec = _with_loss(spec, {"kind": "sparse_categorical_crossentropy", "price": "mse"})
    bundle = load_data(spec)
    assert bundle.target_tasks == {"price": "regression", "kind": "classification"}
    assert bundle.arrays["train"][1]["kind"].dtype == np.int32
    assert bundle.arrays["train"][1]["price"].dtype == np.float32
    with pytest.raises(DataError, match=r"m.csv:4:1: column 'kind': .*label 2 is out of range"):
        check_labels(bundle, {"price": 2, "kind": 2})


# --------------------------------------------------------------- encodings and arrays

def test_a_csv_that_is_not_utf8_names_the_row_and_column(tmp_path):
    text = "area,rooms,price\n50,2,300\n80,caf\xe9,250\n"
    (tmp_path / "h.csv").write_bytes(text.encode("latin-1"))
    spec = make_spec(tmp_path, {"csv": {"path": "h.csv", "target": "price"}, "split": "none"},
                     {"x": [2]}, ["price"])
    assert error_of(spec).startswith(
        "h.csv:3:7: byte 0xe9 is not valid UTF-8 text; save the file as UTF-8")


def test_an_object_array_is_refused_without_unpickling(tmp_path, monkeypatch):
    np.savez(tmp_path / "d.npz", x=np.array([[1, "a"], [None, 2]], dtype=object), y=np.arange(2))
    original = np.load

    def no_pickle(*args, **kwargs):
        assert not kwargs.get("allow_pickle"), "data files are never unpickled"
        return original(*args, **kwargs)

    monkeypatch.setattr(np, "load", no_pickle)
    read_array = np.lib.format.read_array

    def read_without_pickle(*args, **kwargs):
        assert not kwargs.get("allow_pickle"), "data files are never unpickled"
        return read_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "read_array", read_without_pickle)
    spec = make_spec(tmp_path, {"npz": {"path": "d.npz", "inputs": "x", "targets": "y"}},
                     {"x": [2]}, ["y"])
    assert error_of(spec).startswith(
        "d.npz[x]: the array holds Python objects (dtype=object), which are never unpickled")
    np.save(tmp_path / "x.npy", np.array([1, None], dtype=object), allow_pickle=True)
    np.save(tmp_path / "y.npy", np.arange(2))
    spec = make_spec(tmp_path, {"npy": {"inputs": "x.npy", "targets": "y.npy"}}, {"x": [1]}, ["y"])
    assert error_of(spec).startswith("x.npy: the array holds Python objects")


def _huge_header(path, shape=(10**12, 10**6)):
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(
            handle, {"descr": "<f4", "fortran_order": False, "shape": shape})
        handle.write(b"\0" * 64)


def test_an_npy_header_claiming_more_data_than_the_file_holds(tmp_path):
    _huge_header(tmp_path / "x.npy")
    np.save(tmp_path / "y.npy", np.arange(2))
    spec = make_spec(tmp_path, {"npy": {"inputs": "x.npy", "targets": "y.npy"}}, {"x": [1]}, ["y"])
    message = error_of(spec)
    assert message.startswith(
        "x.npy: the header declares shape (1000000000000, 1000000) of float32")
    assert "but the file holds only 64 bytes of data: it is truncated or damaged" in message
    # The same inside an .npz archive.
    import zipfile

    with zipfile.ZipFile(tmp_path / "d.npz", "w") as archive:
        archive.write(tmp_path / "x.npy", "x.npy")
        archive.write(tmp_path / "y.npy", "y.npy")
    spec = make_spec(tmp_path, {"npz": {"path": "d.npz", "inputs": "x", "targets": "y"}},
                     {"x": [1]}, ["y"])
    assert error_of(spec).startswith("d.npz[x]: the header declares shape (1000000000000, 1000000)")


def test_npz_label_errors_name_the_file_and_the_index(tmp_path):
    x = np.zeros((8, 2), np.float32)
    for name, labels in (("int", np.array([0, 1, 2, 0, 1, 2, 7, 0])),
                         ("float", np.array([0, 1, 2, 0, 1, 2, 7, 0], np.float64))):
        np.savez(tmp_path / f"{name}.npz", x=x, y=labels)
        spec = make_spec(tmp_path, {"npz": {"path": f"{name}.npz", "inputs": "x", "targets": "y"},
                                    "split": {"validation": 0.25}, "seed": 1}, {"x": [2]}, ["y"])
        bundle = load_data(_with_loss(spec, "sparse_categorical_crossentropy"))
        with pytest.raises(DataError) as caught:
            check_labels(bundle, 3)
        message = str(caught.value)
        assert message.startswith(f"{name}.npz[y]: index 6: "), message
        assert "label 7 is out of range for a model with 3 classes (expected 0..2" in message


def spec_problems(path) -> str:
    with pytest.raises(SpecError) as err:
        load_spec(path)
    return str(err.value)


def test_npy_files_outside_the_spec_folder_are_refused_by_validate(write_spec):
    # `train` refused them; `validate` said ok.
    path = write_spec("""
        name: npy_outside
        inputs: {x: [3]}
        layers: [{dense: 1}]
        data: {npy: {inputs: ../x.npy, targets: {y: /tmp/y.npy}}}
    """)
    text = spec_problems(path)
    assert "data.npy.inputs: data file '../x.npy' is outside the spec's folder" in text
    assert "data.npy.targets.y: data file '/tmp/y.npy' is outside" in text
    assert load_spec(path, allow_outside=True).data.npy is not None
