"""Model files given to `nncompile export`: clear errors for bad ones; the CLI end to end."""

from __future__ import annotations

import json
import zipfile

import pytest

from compiler.errors import ModelFileError
from compiler.export.schema import ExportSpec
from compiler.model_folder import load_model_file
from tests.helpers import make_model, run_cli


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.keras"
    make_model("gru").save(path)
    return path


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        load_model_file(tmp_path / "nope.keras")


def test_truncated_file(tmp_path, keras_file):
    data = keras_file.read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        load_model_file(tmp_path / "cut.keras")


def test_garbage_file(tmp_path):
    (tmp_path / "junk.keras").write_bytes(b"\x00not a model" * 50)
    with pytest.raises(ModelFileError, match="zip archive"):
        load_model_file(tmp_path / "junk.keras")


def test_zip_without_config(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.keras", "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ModelFileError, match="lacks config.json"):
        load_model_file(tmp_path / "z.keras")


def test_saved_model_folder_where_keras_expected(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"")
    with pytest.raises(ModelFileError, match="SavedModel folder.*expected a .keras"):
        load_model_file(tmp_path)


def test_model_folder_loads_its_model_keras(keras_file):
    model = load_model_file(keras_file.parent)
    assert model.output_names == ["out"]


def test_schema_forms_and_typos():
    spec = ExportSpec.model_validate(["saved_model", {"tflite": {"quantize": "int8"}}])
    assert spec.formats() == ["saved_model", "tflite"]
    assert spec.options("tflite").quantize == "int8"
    assert spec.options("tflite").effective_tolerance() == 0.25
    for bad, needle in ([["tflte"]], "tflte"), ([{"tflite": {"quantise": "int8"}}], "quantise"), (
        ["keras", "keras"], "twice"
    ):
        with pytest.raises(ValueError, match=needle):
            ExportSpec.model_validate(bad)


@pytest.mark.slow
def test_cli_exports_all_formats_with_metadata(tmp_path, keras_file):
    # --out holds model folders, as for every verb: the export goes to <out>/<name>/.
    result = run_cli("export", keras_file, "--out", tmp_path / "exp")
    assert result.exit_code == 0, result.output
    out = tmp_path / "exp" / load_model_file(keras_file).name
    assert "builtin only" in result.output
    assert {p.name for p in out.iterdir()} == {
        "saved_model", "model.tflite", "model.keras", "metadata.json"
    }
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["inputs"] == [{"name": "seq", "shape": [None, 12, 5], "dtype": "float32"}]
    assert meta["outputs"][0]["name"] == "out"
    assert (out / "saved_model" / "assets.extra" / "metadata.json").is_file()


def test_cli_bad_model_file_is_exit_1_without_traceback(tmp_path):
    (tmp_path / "junk.keras").write_text("hello")
    junk = str(tmp_path / "junk.keras")
    result = run_cli("export", junk, "--out", tmp_path)
    assert result.exit_code == 1
    assert "not a .keras file" in result.output and "Traceback" not in result.output


def test_cli_quantize_without_tflite_is_usage_error(keras_file):
    result = run_cli("export", keras_file, "--format", "keras", "--quantize", "dynamic")
    assert result.exit_code == 2 and "--format tflite" in result.output
