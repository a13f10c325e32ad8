"""The ModelFolder object: its paths, what a build writes, and what later verbs read back."""

from __future__ import annotations

import json

import pytest

from compiler.api import build_model, load_spec
from compiler.errors import ModelFileError
from compiler.model_folder import (
    RUN_FILES,
    RUN_FOLDERS,
    ModelFolder,
    RunOptions,
    find_model_and_spec,
    load_model_file,
)

SPEC = """\
nncompile: 1
name: tiny
inputs: {x: [3]}
layers:
  - dense: {units: 2, activation: softmax, name: y}
data: {builtin: iris}
training: {loss: sparse_categorical_crossentropy, epochs: 1}
"""


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC)
    return load_spec(path, ["training.epochs=2"])


def test_paths_are_the_documented_layout(tmp_path):
    folder = ModelFolder.for_spec("net", tmp_path / "out")
    assert folder.path == tmp_path / "out" / "net" and folder.name == "net"
    names = [folder.model_file, folder.resolved_spec_file, folder.run_file, folder.metrics_file,
             folder.metadata_file, folder.history_file, folder.curves_file,
             folder.confusion_file, folder.worst_examples_file]
    assert [p.name for p in names] == list(RUN_FILES[:2]) + ["run.json", "metrics.json",
                                                             "metadata.json", "history.csv",
                                                             "training_curves.png",
                                                             "confusion_matrix.png",
                                                             "worst_examples.csv"]
    assert {p.parent for p in names} == {folder.path}
    assert [folder.backup_dir.name, folder.checkpoints_dir.name, folder.logs_dir.name] == list(
        RUN_FOLDERS)
    assert folder.tflite_file().name == "model.tflite"
    assert folder.tflite_file("int8").name == "model.int8.tflite"
    assert folder.evaluation_file("test").name == "evaluation_test.json"
    assert set(RUN_FILES) >= {"model.keras", "run.json", "metadata.json"}


def test_a_build_writes_model_spec_and_run_and_keeps_a_trained_model(spec, tmp_path):
    folder = ModelFolder.for_spec(spec, tmp_path / "out")
    model = build_model(spec)
    folder.write_build(spec, model)
    assert folder.model_file.is_file() and folder.resolved_spec_file.is_file()
    assert folder.run_options() == RunOptions(str(spec.source_path.resolve()),
                                              ["training.epochs=2"], False)
    assert not folder.is_trained()
    folder.write_metrics({"name": "tiny"})  # what a training run leaves
    assert folder.is_trained()
    with pytest.raises(ModelFileError, match="holds a trained model.*--force"):
        folder.write_build(spec, model)
    folder.write_build(spec, model, replace_trained=True)
    assert not folder.metrics_file.exists()
    loaded = folder.load_model()
    assert loaded.name == "tiny" and loaded.count_params() == model.count_params()


def test_the_data_spec_is_the_original_with_the_runs_options(spec, tmp_path):
    folder = ModelFolder.for_spec(spec, tmp_path / "out")
    folder.write_build(spec, build_model(spec))
    again = folder.data_spec(["training.batch_size=4"])
    assert again.source_path.resolve() == spec.source_path.resolve()
    assert again.training.epochs == 2 and again.training.batch_size == 4
    # Gone: the folder's own spec.resolved.yaml is used.
    spec.source_path.unlink()
    assert folder.data_spec().source_path == folder.resolved_spec_file
    found, loaded = find_model_and_spec(folder.path)
    assert found.path == folder.path and loaded.name == "tiny"


def test_folders_without_run_json_use_what_metrics_json_recorded(tmp_path):
    folder = ModelFolder(tmp_path / "old")
    folder.create()
    folder.metrics_file.write_text(json.dumps({"spec": "specs/a.yaml", "overrides": ["a=1"]}))
    assert folder.run_options() == RunOptions("specs/a.yaml", ["a=1"], False)
    folder.metrics_file.write_text("{not json")
    assert folder.run_options() == RunOptions()


def test_the_one_loader_refuses_what_is_not_a_keras_model(tmp_path):
    with pytest.raises(ModelFileError, match="no such file or folder"):
        load_model_file(tmp_path / "missing.keras")
    (tmp_path / "empty.keras").write_bytes(b"")
    with pytest.raises(ModelFileError, match=r"it is empty \(0 bytes\)"):
        load_model_file(tmp_path / "empty.keras")
    (tmp_path / "m.h5").write_bytes(b"x")
    with pytest.raises(ModelFileError, match="'.h5' file cannot be loaded here"):
        load_model_file(tmp_path / "m.h5")
    with pytest.raises(ModelFileError, match="holds no model.keras"):
        load_model_file(tmp_path)
    with pytest.raises(ModelFileError, match="neither a model folder"):
        ModelFolder.open(tmp_path / "nowhere")
