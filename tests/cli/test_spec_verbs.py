"""The spec verbs through the real click entry point: exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from tests.helpers import run_cli

GOOD = """
name: tiny
inputs: {x: [4]}
layers:
  - dense: {units: 3, activation: relu}
  - dense: {units: 2, activation: softmax, name: y}
expect: {params: 23}
"""


def test_validate_ok_and_error_exit_codes(write_spec):
    good = write_spec(GOOD, "good.yaml")
    bad = write_spec("name: t\ninputs: {x: [4]}\nlayers:\n  - dense: {units: 0}\n", "bad.yaml")
    result = run_cli("validate", str(good))
    assert result.exit_code == 0 and "good.yaml: ok (tiny: 2 layers, outputs y)" in result.output
    result = run_cli("validate", str(good), str(bad))
    assert result.exit_code == 1
    assert "bad.yaml:4:20: layers[0].dense.units: expected a number > 0, got 0" in result.output
    assert "Traceback" not in result.output


def test_validate_missing_file_and_usage_errors(write_spec):
    result = run_cli("validate", "nope.yaml")
    assert result.exit_code == 1 and "no such spec file 'nope.yaml'" in result.output
    result = run_cli("validate")
    assert result.exit_code == 2 and "Missing argument" in result.output
    good = write_spec(GOOD)
    result = run_cli("validate", str(good), "--set", "novalue")
    assert result.exit_code == 2 and "expected KEY=VALUE" in result.output
    result = run_cli("frobnicate")
    assert result.exit_code == 2


def test_build_prints_summary_and_writes_outputs(write_spec, tmp_path):
    path = write_spec(GOOD)
    result = run_cli("build", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    out = result.output
    for needle in ("Layer", "Type", "Output shape", "Params", "dense_1", "(None, 3)", "15",
                   "y", "(None, 2)", "8", "Total params:         23", "expect: ok"):
        assert needle in out
    folder = tmp_path / "out" / "tiny"
    assert (folder / "model.keras").is_file()
    resolved = yaml.safe_load((folder / "spec.resolved.yaml").read_text())
    last = resolved["layers"][1]["dense"]
    assert {"units": 2, "activation": "softmax", "name": "y", "inputs": ["dense_1"]}.items() <= (
        last.items())
    assert last["use_bias"] is True  # every parameter is explicit in the resolved spec
    assert not list(folder.glob("*.tmp*"))


def test_build_with_set_and_failed_expect(write_spec, tmp_path):
    path = write_spec(GOOD)
    result = run_cli("build", str(path), "--set", "layers[0].dense.units=5", "--no-save")
    assert result.exit_code == 1
    assert "expect.params: the model has 37 parameters; the spec expects 23" in result.output


def test_schema_is_json_and_lists_layer_types(tmp_path):
    result = run_cli("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    layer_names = {next(iter(item["properties"]))
                   for item in schema["properties"]["layers"]["items"]["anyOf"]
                   if item.get("properties")}
    assert {"dense", "conv2d", "lstm", "minimal_gru", "additive_attention"} <= layer_names
    target = tmp_path / "schema.json"
    assert run_cli("schema", "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text()) == schema


def test_debug_shows_traceback_for_user_errors(write_spec):
    bad = write_spec("name: t\ninputs: {x: [4]}\nlayers:\n  - dense: {units: 0}\n")
    result = run_cli("--debug", "validate", bad, catch=True)
    assert result.exit_code == 1
    assert "Traceback" in result.output


def test_console_script_runs_in_a_subprocess(write_spec):
    path = write_spec(GOOD)
    proc = subprocess.run([sys.executable, "-m", "compiler.cli", "validate", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "ok (tiny" in proc.stdout


def test_set_with_an_empty_key_part_names_the_flag(write_spec):
    path = write_spec(GOOD)
    for key in ("a..b=3", ".a=1", "a.=1", "layers[0]..units=2"):
        result = run_cli("validate", str(path), "--set", key)
        assert result.exit_code == 2, (key, result.output)
        assert f"--set {key}: the key path '{key.split('=')[0]}' has an empty part" in result.output


def test_build_into_a_folder_that_is_a_file(write_spec, tmp_path):
    path = write_spec(GOOD)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "tiny").write_text("not a folder")
    result = run_cli("build", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    assert (f"cannot write the model to '{tmp_path / 'out' / 'tiny'}': "
            f"'{tmp_path / 'out' / 'tiny'}' is a file, not a folder") in result.output
    (tmp_path / "plain").write_text("")
    result = run_cli("build", str(path), "--out", str(tmp_path / "plain" / "below"))
    assert result.exit_code == 1 and f"'{tmp_path / 'plain'}' is a file" in result.output


def test_user_mistakes_at_build_time_exit_1_without_a_traceback(write_spec):
    cases = {
        "conv": ("inputs: {x: [8, 8, 3]}\nlayers:\n  - conv2d: {filters: 2, kernel: 3, "
                 "strides: 2, dilation: 2}\n"),
        "index": "inputs: {x: [4]}\nlayers:\n  - dense: {units: 2, name: a}\noutputs: ['a[5]']\n",
        "name": "inputs: {x: [4]}\nlayers:\n  - dense: {units: 2, name: a/b}\n",
        "budget": "inputs: {x: [100000]}\nlayers:\n  - dense: 100000\n",
        "empty": "inputs: {x: [4]}\nlayers: []\n",
    }
    for case, body in cases.items():
        path = write_spec(f"name: {case}\n" + body, f"{case}.yaml")
        result = run_cli("build", str(path), "--no-save")
        assert result.exit_code == 1, (case, result.output)
        assert f"{case}.yaml:" in result.output and "internal error" not in result.output


def test_layers_no_output_needs_are_named_and_left_out_of_the_table(write_spec, tmp_path):
    path = write_spec("""
        name: dead
        inputs: {x: [4]}
        layers:
          - dense: {units: 8, name: a}
          - dense: {units: 3, name: out}
          - dense: {units: 5, name: extra}
        outputs: [out]
        """)
    result = run_cli("build", str(path), "--no-save")
    assert result.exit_code == 0, result.output
    assert "Total params:         67" in result.output
    assert "extra " not in result.output.split("Inputs:")[0]  # not a row of the table
    assert "Not connected to any output, so not in the model: extra" in result.output
