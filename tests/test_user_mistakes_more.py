"""More user mistakes around data, train, lr-find and export: exit 1 (or 2), a located line.

Each case fails before training where it can; those that train run one epoch
on a few dozen rows.
"""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest
from click.testing import CliRunner

from compiler.cli import cli

SPEC = """\
nncompile: 1
name: {name}
inputs:
  features: {{shape: [{width}]}}
layers:
  - dense: {{units: 8, activation: relu, name: hidden}}
  - dense: {{units: {units}, activation: {activation}, name: {output}}}
outputs: [{output}]
data: {{csv: {{path: {csv}, target: {output}}}, split: {{validation: 0.2, test: 0.2}}}}
training:
  loss: {loss}
  optimizer: {{adam: {{learning_rate: 0.01}}}}
  batch_size: 8
  epochs: 1
  jit_compile: false
  seed: 1
"""


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _fails(result, code=1):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result.output


def _classes_csv(path, rows=30, extra=None):
    rng = np.random.default_rng(0)
    lines = [f"{rng.random():.3f},{rng.random():.3f},{i % 3}" for i in range(rows)]
    if extra is not None:
        lines[4] = extra
    path.write_text("a,b,kind\n" + "\n".join(lines) + "\n")


def _numbers_csv(path, rows=30):
    rng = np.random.default_rng(1)
    lines = [f"{rng.random():.3f},{rng.random():.3f},{rng.random():.3f}" for _ in range(rows)]
    path.write_text("a,b,y\n" + "\n".join(lines) + "\n")


def _spec(folder, name="kinds", csv="c.csv", loss="sparse_categorical_crossentropy", units=3,
          activation="softmax", output="kind", width=2, extra=""):
    path = folder / f"{name}.yaml"
    path.write_text(SPEC.format(name=name, csv=csv, loss=loss, units=units, width=width,
                                activation=activation, output=output) + extra)
    return path


def _regression_spec(folder, name="numbers", extra=""):
    _numbers_csv(folder / "r.csv")
    return _spec(folder, name, "r.csv", "mse", 1, "linear", "y", extra=extra)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _classes_csv(tmp_path / "c.csv")
    return tmp_path


# ------------------------------------------------------------------ data files

def test_a_number_too_large_for_float32_names_row_and_column(folder):
    _classes_csv(folder / "c.csv", extra="1e300,0.5,1")
    output = _fails(_invoke("train", _spec(folder), "--out", "out"))
    assert "c.csv:6:1: column 'a': '1e300' is too large for a 32-bit float" in output
    assert not (folder / "out" / "kinds" / "model.keras").exists()


def test_an_array_too_large_for_float32_is_refused(folder):
    from compiler.data.readers.arrays import read_npy
    from compiler.errors import DataError

    np.save(folder / "x.npy", np.array([[0.0, 1.0], [1e300, 2.0]]))
    np.save(folder / "y.npy", np.array([0, 1]))
    with pytest.raises(DataError, match=r"x.npy: example 1 at \[0\] is 1e\+300, too large"):
        read_npy({"x": folder / "x.npy"}, {"y": folder / "y.npy"}, lambda p: p.name)


def test_a_class_label_int32_cannot_hold_is_not_wrapped(folder):
    from compiler.data.readers.arrays import read_npy
    from compiler.errors import DataError

    np.save(folder / "x.npy", np.zeros((2, 2), "float32"))
    np.save(folder / "y.npy", np.array([0, 2**32], dtype=np.int64))  # 2**32 would wrap to 0
    with pytest.raises(DataError, match=r"y.npy: example 1: class label 4294967296 is far out"):
        read_npy({"x": folder / "x.npy"}, {"y": folder / "y.npy"}, lambda p: p.name)


@pytest.mark.parametrize(("header", "expected"), [
    ("a,a,kind", "c.csv:1:2: the header names 2 columns 'a' (columns 1, 2)"),
    ("a,,kind", "c.csv:1:2: column 2 has no name in the header"),
    ("a;b;kind", "(the header looks separated by ';', not ',': set `delimiter: ';'`"),
])
def test_csv_headers_that_cannot_be_read_as_meant(folder, header, expected):
    _classes_csv(folder / "c.csv")
    text = (folder / "c.csv").read_text().split("\n", 1)[1]
    if ";" in header:
        text = text.replace(",", ";")
    (folder / "c.csv").write_text(header + "\n" + text)
    assert expected in _fails(_invoke("train", _spec(folder), "--out", "out"))


@pytest.mark.parametrize(("features", "expected"), [
    ("[a, kind]", "data.csv.features[1]: column 'kind' is both a target and a feature"),
    ("[a, b, a]", "data.csv.features[2]: column 'a' is listed twice in `features`"),
])
def test_csv_features_that_leak_or_repeat(folder, features, expected):
    output = _fails(_invoke("train", _spec(folder), "--out", "out",
                            "--set", f"data.csv.features={features}"))
    assert expected in output


def test_a_split_that_leaves_no_training_examples(folder):
    output = _fails(_invoke("train", _spec(folder), "--out", "out",
                            "--set", "data.split={validation: 0.5, test: 0.49}"))
    assert "data.split: the split leaves no training examples: the data hold 30 example(s), " \
           "15 for validation, 15 for test" in output


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


def test_an_image_folder_with_one_class(folder):
    for i in range(3):
        _png(folder / "photos" / "cat" / f"{i}.png", i)
    output = _fails(_invoke("train", _image_spec(folder), "--out", "out"))
    assert "photos: found one class folder ('cat'); a classifier needs two or more" in output


def test_image_folder_mistakes_read_plainly(folder):
    _png(folder / "photos" / "cat" / "sub" / "0.png")
    _png(folder / "photos" / "dog" / "0.png")
    output = _fails(_invoke("train", _image_spec(folder), "--out", "out"))
    assert "photos/cat: class folder holds no images (only subfolders: sub;" in output
    (folder / "photos" / "cat" / "sub" / "0.png").rename(folder / "photos" / "cat" / "0.png")
    (folder / "photos" / "dog" / "1.png").write_bytes(b"")
    output = _fails(_invoke("train", _image_spec(folder), "--out", "out"))
    assert "photos/dog/1.png: cannot decode the image: Input is empty." in output
    assert "function_node" not in output and "[Op:" not in output


def test_a_labelled_line_with_an_empty_label(folder):
    from compiler.data.readers.text import read_text
    from compiler.data.schema import TextSource
    from compiler.errors import DataError

    (folder / "t.txt").write_text("pos\tgood\n\n\tno label\nneg\tbad\n")
    with pytest.raises(DataError, match=r"t.txt:3:1: the label before the tab is empty"):
        read_text(folder / "t.txt", TextSource(mode="labeled_lines"), "t.txt")


def test_labels_of_a_single_class(folder):
    from compiler.data.readers.csv_reader import read_csv
    from compiler.data.readers.text import read_text
    from compiler.data.schema import CsvSource, TextSource
    from compiler.errors import DataError

    (folder / "t.txt").write_text("pos\tgood\npos\tnice\n")
    with pytest.raises(DataError, match=r"t.txt: every line is labelled 'pos': a classifier needs"):
        read_text(folder / "t.txt", TextSource(mode="labeled_lines"), "t.txt")
    (folder / "y.csv").write_text("a,kind\n1,yes\n2,yes\n")
    with pytest.raises(DataError, match=r"y.csv: column 'kind': every label is 'yes'"):
        read_csv(folder / "y.csv", CsvSource(target="kind"), "y.csv")


def test_a_file_that_is_not_a_tfrecord(folder):
    from compiler.data.readers.tfrecord import read_tfrecord
    from compiler.data.schema import TFRecordFeature
    from compiler.errors import DataError

    (folder / "d.tfrecord").write_bytes(b"\x01\x02\x03")
    with pytest.raises(DataError, match="not a TFRecord file: its 3 bytes hold no complete record"):
        read_tfrecord(folder / "d.tfrecord", {"x": TFRecordFeature(), "y": TFRecordFeature()},
                      ["y"], "d.tfrecord")


# -------------------------------------------------------- loss, metrics, weights

@pytest.mark.parametrize("loss", ["categorical_crossentropy", "mse"])
def test_a_loss_that_does_not_fit_class_index_targets(folder, loss):
    output = _fails(_invoke("train", _spec(folder), "--out", "out",
                            "--set", f"training.loss={loss}"))
    assert f"training.loss: output 'kind' gives shape (3,) per example, so {loss} needs targets " \
           "of shape (3,)" in output
    assert "use sparse_categorical_crossentropy" in output
    output = _fails(_invoke("lr-find", _spec(folder), "-o", "lr.png", "--steps", "5",
                            "--set", f"training.loss={loss}"))
    assert "use sparse_categorical_crossentropy" in output


def test_metrics_that_cannot_mean_anything(folder):
    output = _fails(_invoke("train", _regression_spec(folder), "--out", "out",
                            "--set", "training.metrics=[mae, accuracy, auc]"))
    assert "training.metrics[1]: 'accuracy' measures classification, but output 'y' is trained " \
           "with mse on continuous targets" in output
    assert "training.metrics[2]: 'auc' measures classification" in output
    output = _fails(_invoke("train", _spec(folder), "--out", "out",
                            "--set", "training.metrics=[accuracy, top_k]"))
    assert "training.metrics[1]: top_k with k=5 on output 'kind' of 3 classes is always 1; " \
           "choose k below 3" in output


def test_class_weight_for_a_class_the_model_lacks(folder):
    output = _fails(_invoke("train", _spec(folder), "--out", "out",
                            "--set", "training.class_weight={0: 1.0, 5: 2.0}"))
    assert "training.class_weight: class_weight names class(es) 5, but the model has 3 classes" \
           in output


def test_class_weight_on_a_model_with_two_outputs(folder):
    (folder / "m.csv").write_text("a,b,price,kind\n" + "".join(
        f"{i / 10},{i % 4 / 4},{i / 7:.3f},{i % 3}\n" for i in range(12)))
    spec = folder / "m.yaml"
    spec.write_text(
        "nncompile: 1\nname: m\ninputs:\n  features: {shape: [2]}\nlayers:\n"
        "  - dense: {units: 4, name: h}\n  - dense: {units: 1, name: price, inputs: h}\n"
        "  - dense: {units: 3, activation: softmax, name: kind, inputs: h}\n"
        "outputs: [price, kind]\n"
        "data: {csv: {path: m.csv, target: [price, kind], features: [a, b]}, split: none}\n"
        "training: {loss: {price: mse, kind: sparse_categorical_crossentropy}, epochs: 1,\n"
        "           jit_compile: false, class_weight: balanced}\n")
    output = _fails(_invoke("train", spec, "--out", "out"))
    assert "training.class_weight: class_weight applies to a model with one output; " \
           "this one has 2" in output


def test_init_from_a_model_with_no_layer_of_the_same_name(folder):
    other = _regression_spec(folder, "other")
    other.write_text(other.read_text().replace("name: hidden", "name: first"))
    assert _invoke("train", other, "--out", "out", "--quiet").exit_code == 0
    output = _fails(_invoke("train", _spec(folder), "--out", "out", "--set",
                            "training.init_from={model: out/other/model.keras}"))
    assert "training.init_from.model: no layer of this model has a namesake with weights in " \
           "'out/other/model.keras'" in output
    assert "its layers with weights are: first, y (this model's: hidden, kind)" in output


# ------------------------------------------------------------ the run itself

def test_a_partial_class_weight_mapping_trains_and_a_bad_validation_loss_stops(folder):
    result = _invoke("train", _spec(folder), "--out", "out", "--quiet",
                     "--set", "training.class_weight={2: 3.0}")  # classes 0 and 1 weigh 1
    assert result.exit_code == 0, result.output
    _numbers_csv(folder / "r.csv")
    (folder / "v.csv").write_text("a,b,y\n0.1,0.2,0.3\n1e30,0.5,0.3\n")  # finite, but squared: inf
    spec = _regression_spec(folder, "val")
    spec.write_text(spec.read_text().replace(
        "data: {csv: {path: r.csv, target: y}, split: {validation: 0.2, test: 0.2}}",
        "data: {csv: {target: y}, train: r.csv, validation: v.csv}"))
    output = _fails(_invoke("train", spec, "--out", "out", "--quiet"))
    assert "data: the validation loss became inf in epoch 1 while the training loss stayed finite" \
           in output


def test_ctrl_c_says_how_to_continue(folder, monkeypatch):
    import compiler.training.run as run

    spec = _spec(folder)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "train_spec", interrupted)
    result = _invoke("train", spec, "--out", "out", "--set", "training.epochs=3")
    assert result.exit_code == 130
    assert ("interrupted: no epoch of this run was backed up; run it again with: "
            f"nncompile train {spec} --set training.epochs=3 --out out") in result.output

    def interrupted_after_two_epochs(*args, **kwargs):
        backup = folder / "out" / "kinds" / "backup"
        backup.mkdir(parents=True)
        (backup / "epoch-0002.weights.h5").write_bytes(b"weights")
        (backup / "state.json").write_text(json.dumps(
            {"epochs_completed": 2, "weights": "epoch-0002.weights.h5", "history": []}))
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "train_spec", interrupted_after_two_epochs)
    result = _invoke("train", spec, "--out", "out", "--epochs", "3")
    assert result.exit_code == 130
    assert (f"interrupted: epoch 2 is backed up in out/kinds/backup; continue with: "
            f"nncompile train {spec} --epochs 3 --out out --resume") in result.output
    assert (folder / "out" / "kinds" / "backup" / "state.json").is_file()


def test_a_full_disk_after_training_keeps_the_backup_and_resume_finishes(folder, monkeypatch):
    import compiler.training.reports as reports

    real = reports.plot_training_curves

    def full(path, history):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(reports, "plot_training_curves", full)
    spec = _spec(folder)
    output = _fails(_invoke("train", spec, "--out", "out", "--quiet"))
    assert "out/kinds/training_curves.png: cannot write: No space left on device; free some " \
           "space: epoch 1 is backed up in out/kinds/backup; continue with: " \
           f"nncompile train {spec} --out out --resume" in output
    monkeypatch.setattr(reports, "plot_training_curves", real)
    result = _invoke("train", spec, "--out", "out", "--quiet", "--resume")
    assert result.exit_code == 0, result.output
    assert (folder / "out" / "kinds" / "training_curves.png").is_file()
    metrics = json.loads((folder / "out" / "kinds" / "metrics.json").read_text())
    assert metrics["epochs_completed"] == 1


def test_an_output_folder_that_cannot_be_written_is_refused_before_training(folder, monkeypatch):
    import os

    (folder / "out" / "kinds").mkdir(parents=True)
    (folder / "out" / "kinds" / "backup").write_text("a file, not a folder")
    (folder / "out" / "kinds" / "model.keras").mkdir()
    output = _fails(_invoke("train", _spec(folder), "--out", "out"))
    assert "out/kinds/backup: a file is in the way of the folder backup/" in output
    assert "out/kinds/model.keras: a folder is in the way of the file model.keras" in output

    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if "locked" in str(path)
                        else real(path, mode))
    (folder / "locked").mkdir()
    output = _fails(_invoke("train", _spec(folder), "--out", "locked/sub"))
    assert "locked/sub/kinds: cannot write here: the folder 'locked' is read-only" in output


def test_a_failed_write_names_the_final_path_and_keeps_the_old_file(tmp_path):
    from compiler.atomic import WriteFailed, atomic_file

    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(WriteFailed) as caught, atomic_file(target) as tmp:
        tmp.write_text("new")
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    assert caught.value.filename == str(target) and caught.value.errno == errno.ENOSPC
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


# ---------------------------------------------------------- lr-find and export

def test_lr_find_flags(folder):
    spec = _spec(folder)
    assert "cannot draw a .txt picture" in _fails(
        _invoke("lr-find", spec, "-o", "lr.txt"), 2)
    assert "finite" in _fails(_invoke("lr-find", spec, "--end", "inf"), 2)


def test_lr_find_never_suggests_a_rate_it_did_not_try():
    from compiler.training.lr_find import exponential_rates, suggest_rate

    rates = exponential_rates(1e-5, 10.0, 5)
    assert suggest_rate(rates, [1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(1e-5)


def test_export_of_a_trained_folder_reads_the_training_data_and_survives_init_from(folder,
                                                                                   monkeypatch):
    result = _invoke("train", _regression_spec(folder, "first"), "--out", "out", "--quiet")
    assert result.exit_code == 0, result.output
    spec = _regression_spec(folder, "second", extra="  init_from: {model: out/first/model.keras}\n")
    result = _invoke("train", spec, "--out", "out", "--quiet")
    assert result.exit_code == 0, result.output
    result = _invoke("export", folder / "out" / "second", "--format", "keras", "--out", "exp")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output and "no preprocessing" not in result.output
    assert json.loads((folder / "exp" / "second" / "metadata.json").read_text())["outputs"]
    assert "--tolerance must be a number" in _fails(
        _invoke("export", folder / "out" / "second", "--format", "tflite", "--tolerance", "nan"), 2)

    import compiler.export.run as export_run
    from compiler.atomic import WriteFailed

    def read_only(*args, **kwargs):
        raise WriteFailed(errno.EROFS, "Read-only file system", "exp/model.keras")

    monkeypatch.setattr(export_run, "export_from_spec", read_only)
    output = _fails(_invoke("export", folder / "out" / "second", "--format", "keras",
                            "--out", "exp"))
    assert "exp/model.keras: cannot write: Read-only file system; choose a folder you can " \
           "write to" in output


def test_predict_with_an_empty_model_file(folder):
    (folder / "m.keras").write_bytes(b"")
    np.save(folder / "x.npy", np.zeros((2, 2), "float32"))
    output = _fails(_invoke("predict", folder / "m.keras", "--input", folder / "x.npy",
                            "--output", folder / "p.csv"))
    assert "cannot load model file" in output and "it is empty (0 bytes)" in output


# ------------------------------------------------------------ Keras spellings, embeddings


def test_keras_names_of_losses_metrics_optimisers_and_callbacks():
    from compiler.training.schema import TrainingSpec

    training = TrainingSpec.model_validate({
        "loss": "mean_squared_error", "metrics": ["MeanAbsoluteError", "acc"],
        "optimizer": {"RMSprop": {"learning_rate": 0.01}}, "callbacks": None})
    assert training.loss.name == "mse" and training.optimizer.name == "rmsprop"
    assert [m.name for m in training.metrics] == ["mae", "accuracy"]
    assert training.callbacks == []
    assert TrainingSpec.model_validate({"loss": "mse", "optimizer": "Adam"}).optimizer.name == "adam"


def test_time_distributed_takes_a_bare_layer_name(tmp_path):
    from compiler.api import build_model, load_spec

    spec = tmp_path / "td.yaml"
    spec.write_text("name: td\ninputs: {x: [4, 3, 2]}\nlayers:\n"
                    "  - time_distributed: {layer: flatten}\n")
    assert build_model(load_spec(str(spec))).output_shape == (None, 4, 6)


def test_token_ids_beyond_the_embedding_are_located_before_training(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, size=(40, 6))
    x[:, 0] = 28  # in every split
    np.savez(tmp_path / "t.npz", x=x, y=rng.integers(0, 2, 40))
    (tmp_path / "t.yaml").write_text(
        "name: t\ninputs: {x: {shape: [6], dtype: int32}}\nlayers:\n"
        "  - embedding: {input_dim: 20, output_dim: 4, mask_zero: true}\n"
        "  - gru: 4\n  - dense: {units: 2, activation: softmax}\n"
        "data: {npz: {path: t.npz, inputs: x, targets: y}, split: {validation: 0.2, test: 0.2}}\n"
        "training: {loss: sparse_categorical_crossentropy, epochs: 1, jit_compile: auto}\n")
    out = _fails(_invoke("train", "t.yaml", "--out", tmp_path / "out", "--quiet"))
    assert ("t.yaml:4:28: layers[0].embedding.input_dim: input_dim 20 is too small for input 'x': "
            "its training data hold token ids up to 28; set input_dim to at least 29") in out
