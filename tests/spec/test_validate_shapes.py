"""`nncompile validate` finds the shape mismatches `build` finds, without TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_cli

REPO_ROOT = Path(__file__).resolve().parents[2]
# The suite's files of mistakes that `build` reports.
FILES_OF_MISTAKES = [
    "tests/spec/test_mistakes.py", "tests/spec/test_errors.py", "tests/layers/test_volumes.py",
    "tests/layers/test_conv_lstm.py", "tests/layers/test_initial_states.py",
    "tests/layers/test_keras_names.py", "tests/layers/test_keras_applications.py",
    "tests/layers/test_wrappers.py",
]


@pytest.mark.long
def test_validate_finds_every_shape_mismatch_build_finds_in_the_suite(tmp_path):
    record = tmp_path / "record.jsonl"
    env = dict(os.environ, NNCOMPILE_SHAPE_RECORD=str(record), PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
         "-p", "tests.spec.shape_error_recorder", "-k",
         "error or mistake or refuse or wrong or shape or state or larger",
         *FILES_OF_MISTAKES], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    cases = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(cases) >= 20  # the files above hold that many
    missed = [case for case in cases if not case["validate"]]
    assert missed == []


def test_validate_reports_a_shape_mismatch_at_the_merge_line(write_spec):
    path = write_spec("""
nncompile: 1
name: mismatch
inputs: {x: [8]}
layers:
  - dense: {units: 4, name: a}
  - dense: {units: 3, name: b, inputs: x}
  - add: {inputs: [a, b]}
""")
    result = run_cli("validate", path)
    assert result.exit_code == 1
    assert ("spec.yaml:7:5: layers[2].add: add needs equal shapes, got (None, 4) from 'a' and "
            "(None, 3) from 'b'") in result.output


def test_validate_prints_each_output_s_shape_and_the_parameter_count(write_spec):
    path = write_spec("""
nncompile: 1
name: two
inputs: {x: [6, 6, 1]}
layers:
  - conv2d: {filters: 4, kernel: 3, name: c}
  - flatten
  - dense: {units: 3, name: y}
outputs: [y, c]
""")
    result = run_cli("validate", path)
    assert result.exit_code == 0, result.output
    assert "output y: (None, 3)" in result.output
    assert "output c: (None, 4, 4, 4)" in result.output
    assert f"parameters: {4 * 10 + 3 * (64 + 1)}" in result.output


def test_validate_checks_expect_params_without_building(write_spec):
    path = write_spec("""
nncompile: 1
name: expect
inputs: {x: [5]}
layers:
  - dense: {units: 3}
expect: {params: 17, output_shapes: {dense_1: [null, 4]}}
""")
    result = run_cli("validate", path)
    assert result.exit_code == 1
    assert "the model has 18 parameters; the spec expects 17 (difference +1)" in result.output
    assert "output 'dense_1' has shape [None, 3], the spec expects [None, 4]" in result.output


SHIPPED = sorted((REPO_ROOT / "specs").glob("*.yaml"))


def test_validate_s_count_is_every_shipped_spec_s_expected_count():
    """No TensorFlow: each example's `expect.params` is the count Keras gives (the spec
    tests build them and check it), and validation works out the same number."""
    from compiler.api import load_spec
    from compiler.spec.shapes import reaching

    for path in SHIPPED:
        spec = load_spec(path)
        report = spec.shape_report
        used = reaching(spec.outputs, spec.entries, spec.instances)
        assert report.total_params(used) == spec.expect.params, path.name
        for name, shape in spec.expect.output_shapes.items():
            assert list(report.shape_of(dict(spec.output_aliases).get(name, name))) == shape


@pytest.mark.long
@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_validate_s_count_and_shapes_are_keras_s_for_every_shipped_spec(path):
    from compiler.api import build, load_spec
    from compiler.spec.shapes import reaching

    spec = load_spec(path)
    result = build(spec, check_expect=False)
    report = spec.shape_report
    assert report.total_params(reaching(spec.outputs, spec.entries, spec.instances)) \
        == result.total_params
    assert [report.shape_of(ref) for ref in spec.outputs] == [
        tuple(None if d is None else int(d) for d in t.shape) for t in result.model.outputs]
    from tests.helpers import entry_weight_count

    for layer in result.model.layers:
        if layer.name in report.params:
            assert report.params[layer.name] == entry_weight_count(
                result.model, layer.name, report.params), layer.name
