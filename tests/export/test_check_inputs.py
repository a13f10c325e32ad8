"""The export check runs on inputs the model accepts, and says when it proves little.

A free (``null``) dimension is sampled at the shortest length the model runs
on, not always 8; a model whose outputs are the same for every input (an
untrained or saturated network) gets a check marked weak, since agreeing with
a constant shows nothing.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from compiler.errors import ExportError
from compiler.export.saved_model import export_saved_model
from compiler.export.signature import accepted_length, model_signature, sample_inputs
from compiler.export.tflite import export_tflite
from tests.helpers import load_text


def _free_length_text(kernel: int = 9) -> str:
    """The spec of the bug report: a free length, a kernel longer than 8 steps."""
    return f"""nncompile: 1
name: free_conv
inputs:
  x: [null, 4]
layers:
  - conv1d: {{filters: 8, kernel: {kernel}}}
  - global_max_pool1d: {{}}
  - dense: {{units: 1}}
"""


def _free_length_spec(tmp_path, kernel: int = 9):
    return load_text(tmp_path, _free_length_text(kernel))


def test_free_length_is_one_the_convolution_accepts(tmp_path):
    from compiler.api import build_model

    model = build_model(_free_length_spec(tmp_path))
    sig = model_signature(model)
    length = accepted_length(model, sig)
    assert length >= 9  # the kernel's width: 8 steps give an empty sequence
    inputs = sample_inputs(model, sig, 3)
    assert inputs["x"].shape == (3, length, 4)


def test_free_length_spec_exports_both_formats_and_passes_its_check(tmp_path):
    from compiler.api import build_model
    from compiler.export.run import export_from_spec

    spec = _free_length_spec(tmp_path)
    model = build_model(spec)
    reports = export_from_spec(model, spec, tmp_path / "out", formats=["saved_model", "tflite"])
    by_format = {r.format: r for r in reports}
    assert by_format["saved_model"].max_abs_diff <= 1e-5
    assert by_format["tflite"].max_rel_diff <= 1e-4 and by_format["tflite"].samples == 16
    # The flatbuffer keeps the free length: a longer series runs too.
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(tmp_path / "out" / "model.tflite")).get_signature_runner()
    x = np.random.default_rng(1).standard_normal((2, 40, 4)).astype("float32")
    got = next(iter(runner(x=x).values()))
    np.testing.assert_allclose(got, np.asarray(model(x)), atol=1e-5)


def test_a_model_that_runs_on_no_length_is_a_located_export_error(tmp_path):
    from compiler.api import build_model

    model = build_model(_free_length_spec(tmp_path, kernel=3000))
    with pytest.raises(ExportError, match=r"does not run on any length up to 1024.*\['x'\].*"
                                          r"fixed length"):
        accepted_length(model, model_signature(model))


@pytest.mark.slow
def test_free_length_spec_exports_from_the_command_line(tmp_path):
    """The spec of the bug report: exit 0 for --format tflite and for all formats."""
    from click.testing import CliRunner

    from compiler.cli import cli

    path = tmp_path / "spec.yaml"
    path.write_text(_free_length_text())
    for formats in (["--format", "tflite"], []):
        result = CliRunner().invoke(cli, ["export", str(path), "--out", str(tmp_path / "o"),
                                          *formats])
        assert result.exit_code == 0, result.output
        assert "tflite (float32, dynamic batch)" in result.output
    meta = json.loads((tmp_path / "o" / "free_conv" / "metadata.json").read_text())
    assert meta["tflite"]["batch"] == "dynamic"


def _constant_model():
    inp = keras.Input((6,), name="x")
    hidden = keras.layers.Dense(5, activation="relu", name="hidden")(inp)
    out = keras.layers.Dense(3, activation="softmax", kernel_initializer="zeros",
                             bias_initializer="ones", name="out")(hidden)
    return keras.Model(inp, out)


def test_constant_outputs_mark_the_tflite_check_weak(tmp_path):
    report = export_tflite(_constant_model(), tmp_path / "m.tflite")
    assert report.max_abs_diff < 1e-6 and report.agreement == 1.0  # proves nothing...
    assert report.weak  # ...and the report says so
    assert "weak check" in report.summary() and "'out'" in report.summary()


def test_varying_outputs_are_not_marked_weak(tmp_path):
    keras.utils.set_random_seed(0)
    inp = keras.Input((6,), name="x")
    model = keras.Model(inp, keras.layers.Dense(3, name="out")(inp))
    report = export_tflite(model, tmp_path / "m.tflite")
    assert not report.weak and "weak" not in report.summary()
    saved = export_saved_model(model, tmp_path / "sm")
    assert not saved.weak and "weak" not in saved.summary()


def test_constant_outputs_mark_the_saved_model_check_weak(tmp_path):
    report = export_saved_model(_constant_model(), tmp_path / "sm")
    assert report.max_abs_diff == 0.0 and report.weak
    assert "weak check" in report.summary()
