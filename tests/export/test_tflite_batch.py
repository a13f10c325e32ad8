"""TFLite batch: free for models without loops (checked at batch 1 and 4), 1 for loops.

Also the converter bug a free batch avoids: multi-head attention over an
input added back to it fails to convert at batch 1 (an MLIR rank error), and
the failure is reported by layer, not in the converter's words.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from compiler.errors import ExportError
from compiler.export.signature import model_signature
from compiler.export.tflite import convert_to_tflite, export_tflite, tflite_batch
from tests.helpers import load_text, make_model

SPECS = Path(__file__).resolve().parents[2] / "specs"
# Non-recurrent example specs small enough to convert in seconds.
SMALL_SPECS = ("mlp_figure6_1", "digits_cnn", "lenet5", "residual_mlp", "siamese")

ATTENTION_SPEC = """nncompile: 1
name: series_attention
inputs:
  series: [50, 1]
layers:
  - multi_head_attention: {key_dim: 16, num_heads: 2, inputs: [series, series], name: att}
  - add: {inputs: [att, series], name: skip}
  - conv1d: {filters: 4, kernel: 3}
  - global_avg_pool1d: {}
  - dense: {units: 1}
"""


def _runner(path):
    return Interpreter(model_path=str(path)).get_signature_runner("serving_default")


def test_models_without_loops_get_a_free_batch_and_run_at_batch_4(tmp_path):
    model = make_model("cnn")
    report = export_tflite(model, tmp_path / "m.tflite")
    assert report.batch is None and "dynamic batch" in report.summary()
    x = np.random.default_rng(0).standard_normal((4, 12, 5)).astype("float32")
    got = _runner(tmp_path / "m.tflite")(seq=x)["out"]
    assert got.shape == (4, 3)
    np.testing.assert_allclose(got, np.asarray(model(x)), atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "bidirectional", "minimal_gru"])
def test_recurrent_models_keep_batch_1(kind, tmp_path):
    model = make_model(kind)
    assert tflite_batch(model) == 1
    report = export_tflite(model, tmp_path / "m.tflite")
    assert report.batch == 1 and report.select_ops == []
    details = _runner(tmp_path / "m.tflite").get_input_details()
    assert list(details["seq"]["shape"]) == [1, 12, 5]


def test_attention_with_a_skip_converts_with_a_free_batch(tmp_path):
    from compiler.api import build_model
    from compiler.export.run import export_from_spec

    spec = load_text(tmp_path, ATTENTION_SPEC)
    model = build_model(spec)
    [report] = export_from_spec(model, spec, tmp_path / "out", formats=["tflite"])
    assert report.batch is None and report.max_rel_diff <= 1e-4
    meta = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert meta["tflite"] == {"signature": "serving_default", "batch": "dynamic"}


def test_a_failed_conversion_names_the_layer_not_the_converter_text(tmp_path):
    """At batch 1 the converter fails on this graph; the error says where and what to try."""
    from compiler.api import build_model

    model = build_model(load_text(tmp_path, ATTENTION_SPEC))
    with pytest.raises(ExportError) as info:
        convert_to_tflite(model, model_signature(model), batch=1)
    message = str(info.value)
    assert "'skip'" in message and "'att'" in message  # the layer and the one feeding it
    assert "--format saved_model" in message
    assert "tf.Transpose" not in message and "loc(" not in message


@pytest.mark.slow
@pytest.mark.parametrize("name", SMALL_SPECS)
def test_example_specs_accept_batch_4_and_match_keras(name, tmp_path):
    from compiler.api import build_model, load_spec
    from compiler.export.run import export_from_spec

    spec = load_spec(SPECS / f"{name}.yaml")
    model = build_model(spec)
    [report] = export_from_spec(model, spec, tmp_path, formats=["tflite"])
    assert report.batch is None
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["tflite"]["batch"] == "dynamic"
    sig = model_signature(model, meta_names(meta, "inputs"), meta_names(meta, "outputs"))
    rng = np.random.default_rng(7)
    inputs = {}
    for info in sig.inputs:
        shape = (4, *info.shape[1:])
        inputs[info.name] = (rng.integers(0, 2, shape) if "int" in info.dtype
                             else rng.standard_normal(shape)).astype(info.dtype)
    got = _runner(tmp_path / "model.tflite")(**inputs)
    ordered = [inputs[n] for n in sig.input_names]
    expected = model(ordered if len(ordered) > 1 else ordered[0], training=False)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    for out_name, value in zip(sig.output_names, expected, strict=True):
        assert got[out_name].shape[0] == 4
        np.testing.assert_allclose(got[out_name], np.asarray(value), atol=1e-4, rtol=1e-4)


def meta_names(meta: dict, key: str) -> list[str]:
    return [item["name"] for item in meta[key]]
