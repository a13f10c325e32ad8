"""Array, image, text and TFRecord files a reader cannot take as meant: a located DataError."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import assert_user_error, run_cli


def test_an_array_too_large_for_float32_is_refused(tmp_path):
    from compiler.data.readers.arrays import read_npy
    from compiler.errors import DataError

    np.save(tmp_path / "x.npy", np.array([[0.0, 1.0], [1e300, 2.0]]))
    np.save(tmp_path / "y.npy", np.array([0, 1]))
    with pytest.raises(DataError, match=r"x.npy: example 1 at \[0\] is 1e\+300, too large"):
        read_npy({"x": tmp_path / "x.npy"}, {"y": tmp_path / "y.npy"}, lambda p: p.name)


def test_a_class_label_int32_cannot_hold_is_not_wrapped(tmp_path):
    from compiler.data.readers.arrays import read_npy
    from compiler.errors import DataError

    np.save(tmp_path / "x.npy", np.zeros((2, 2), "float32"))
    np.save(tmp_path / "y.npy", np.array([0, 2**32], dtype=np.int64))  # 2**32 would wrap to 0
    with pytest.raises(DataError, match=r"y.npy: example 1: class label 4294967296 is far out"):
        read_npy({"x": tmp_path / "x.npy"}, {"y": tmp_path / "y.npy"}, lambda p: p.name)


def _png(path, seed=0):
    import tensorflow as tf

    pixels = np.random.default_rng(seed).integers(0, 255, (4, 4, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(pixels).numpy())


def _image_spec(folder):
    path = folder / "img.yaml"
    path.write_text(
        "nncompile: 1\nname: img\ninputs:\n  image: [4, 4, 3]\nlayers:\n  - flatten\n"
        "  - dense: {units: 2, activation: softmax, name: label}\n"
        "data: {images: {path: photos, size: [4, 4]}, split: none}\n"
        "training: {loss: sparse_categorical_crossentropy, epochs: 1, jit_compile: false}\n")
    return path


def test_an_image_folder_with_one_class(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for i in range(3):
        _png(tmp_path / "photos" / "cat" / f"{i}.png", i)
    output = assert_user_error(run_cli("train", _image_spec(tmp_path), "--out", "out"))
    assert "photos: found one class folder ('cat'); a classifier needs two or more" in output


def test_image_folder_mistakes_read_plainly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _png(tmp_path / "photos" / "cat" / "sub" / "0.png")
    _png(tmp_path / "photos" / "dog" / "0.png")
    output = assert_user_error(run_cli("train", _image_spec(tmp_path), "--out", "out"))
    assert "photos/cat: class folder holds no images (only subfolders: sub;" in output
    photos = tmp_path / "photos"
    (photos / "cat" / "sub" / "0.png").rename(photos / "cat" / "0.png")
    (tmp_path / "photos" / "dog" / "1.png").write_bytes(b"")
    output = assert_user_error(run_cli("train", _image_spec(tmp_path), "--out", "out"))
    assert "photos/dog/1.png: cannot decode the image: Input is empty." in output
    assert "function_node" not in output and "[Op:" not in output


def test_a_labelled_line_with_an_empty_label(tmp_path):
    from compiler.data.readers.text import read_text
    from compiler.data.schema import TextSource
    from compiler.errors import DataError

    (tmp_path / "t.txt").write_text("pos\tgood\n\n\tno label\nneg\tbad\n")
    with pytest.raises(DataError, match=r"t.txt:3:1: the label before the tab is empty"):
        read_text(tmp_path / "t.txt", TextSource(mode="labeled_lines"), "t.txt")


def test_labels_of_a_single_class(tmp_path):
    from compiler.data.readers.csv_reader import read_csv
    from compiler.data.readers.text import read_text
    from compiler.data.schema import CsvSource, TextSource
    from compiler.errors import DataError

    (tmp_path / "t.txt").write_text("pos\tgood\npos\tnice\n")
    with pytest.raises(DataError, match=r"t.txt: every line is labelled 'pos': a classifier needs"):
        read_text(tmp_path / "t.txt", TextSource(mode="labeled_lines"), "t.txt")
    (tmp_path / "y.csv").write_text("a,kind\n1,yes\n2,yes\n")
    with pytest.raises(DataError, match=r"y.csv: column 'kind': every label is 'yes'"):
        read_csv(tmp_path / "y.csv", CsvSource(target="kind"), "y.csv")


def test_a_file_that_is_not_a_tfrecord(tmp_path):
    from compiler.data.readers.tfrecord import read_tfrecord
    from compiler.data.schema import TFRecordFeature
    from compiler.errors import DataError

    (tmp_path / "d.tfrecord").write_bytes(b"\x01\x02\x03")
    with pytest.raises(DataError, match="not a TFRecord file: its 3 bytes hold no complete record"):
        read_tfrecord(tmp_path / "d.tfrecord", {"x": TFRecordFeature(), "y": TFRecordFeature()},
                      ["y"], "d.tfrecord")
