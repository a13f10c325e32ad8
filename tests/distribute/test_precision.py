"""Mixed precision: 16-bit layers, a float32 output layer and loss scaling for float16."""

from __future__ import annotations

import keras
import pytest

from compiler.api import build_model, load_spec
from compiler.distribute.precision import describe, outputs_in_float32, set_precision
from compiler.training.compile import compile_args
from tests.distribute.mixed_spec import write_attending_gru


@pytest.fixture
def policy():
    yield set_precision
    set_precision("float32")  # the next test builds float32 models again


def test_mixed_float16_computes_in_float16_and_outputs_float32_with_loss_scaling(tmp_path, policy):
    spec = load_spec(write_attending_gru(tmp_path), ["training.precision=mixed_float16"])
    policy("mixed_float16")
    model = outputs_in_float32(build_model(spec))
    layers = {layer.name: layer for layer in model.layers}
    assert layers["states"].compute_dtype == "float16"
    assert layers["context"].compute_dtype == "float16"
    assert layers["total"].compute_dtype == "float32"
    assert all(w.dtype == "float32" for w in model.weights)
    assert model.outputs[0].dtype == "float32"
    compile_args(spec, model, steps_per_epoch=3).compile(model, jit_compile=False)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert describe("mixed_float16", model) == (
        "precision mixed_float16: layers compute in float16 with float32 weights; output "
        "layer(s) total and the losses in float32; dynamic loss scaling")
    assert model.get_config()["layers"][-1]["config"]["dtype"]["config"]["name"] == "float32"


def test_float32_leaves_the_model_as_built(tmp_path, policy):
    spec = load_spec(write_attending_gru(tmp_path))
    policy("float32")
    model = build_model(spec)
    assert outputs_in_float32(model) is model
