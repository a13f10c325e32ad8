"""Layers over volumes (depth, height, width, channels): the 3-D convolutions, poolings,
zero padding and upsampling.

Each is compared with the same layer written by hand in Keras: the number of
weights and their shapes, the output shape, and (with the spec model's weights
copied over) the output numbers. A small volume classifier in the style of
keras-io's 3-D CT-scan example is built, run and saved; mistakes of rank and
window size are reported at the layer's line before Keras sees them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from compiler.api import build_model
from compiler.errors import SpecError
from tests.helpers import assert_saving_round_trip, load_text, spec_text, to_numpy

REPO_ROOT = Path(__file__).resolve().parents[2]
VOLUME = [6, 7, 8, 2]  # depth, height, width, channels


def sample(shape, batch: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(batch, *shape)).astype("float32")


def reference(shape, *layers) -> keras.Model:
    x = keras.Input(tuple(shape))
    y = x
    for layer in layers:
        y = layer(y)
    return keras.Model(x, y)


def assert_same_as_keras(model: keras.Model, hand: keras.Model, shape) -> None:
    """Same weights (count, shapes), same output shape, and with equal weights equal outputs."""
    assert model.count_params() == hand.count_params()
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in hand.weights]
    assert model.output_shape == hand.output_shape
    hand.set_weights(model.get_weights())
    x = sample(shape)
    np.testing.assert_allclose(to_numpy(model(x)), to_numpy(hand(x)), rtol=1e-5, atol=1e-5)


def one_layer(tmp_path, shape, layer: str):
    spec = load_text(tmp_path, spec_text("v", {"x": shape}, layer))
    return spec, build_model(spec)


L = keras.layers
SAME_AS_KERAS = [
    ("- conv3d: {filters: 4, kernel: [3, 2, 3], strides: [1, 2, 1], activation: relu}",
     lambda: [L.Conv3D(4, (3, 2, 3), strides=(1, 2, 1), activation="relu")]),
    ("- Conv3D: {filters: 3, kernel_size: 3, padding: same, dilation_rate: 2, use_bias: false}",
     lambda: [L.Conv3D(3, 3, padding="same", dilation_rate=2, use_bias=False)]),
    ("- Convolution3D: {filters: 4, kernel: 3, groups: 2, stride: 2}",
     lambda: [L.Conv3D(4, 3, groups=2, strides=2)]),
    ("- conv3d: {filters: 2, kernel: 3, padding: 1}",  # p zeros per side, then valid
     lambda: [L.ZeroPadding3D(1), L.Conv3D(2, 3)]),
    ("- conv3d: {filters: 2, kernel: 2, padding: [[1, 0], [0, 2], [1, 1]]}",
     lambda: [L.ZeroPadding3D(((1, 0), (0, 2), (1, 1))), L.Conv3D(2, 2)]),
    ("- conv3d_transpose: {filters: 3, kernel: 3, stride: 2, output_padding: 1}",
     lambda: [L.Conv3DTranspose(3, 3, strides=2, output_padding=1)]),
    ("- Conv3DTranspose: {filters: 2, kernel_size: [2, 3, 2], padding: same, "
     "activation: tanh}",
     lambda: [L.Conv3DTranspose(2, (2, 3, 2), padding="same", activation="tanh")]),
    ("- max_pool3d: 2", lambda: [L.MaxPooling3D(2)]),
    ("- MaxPooling3D: {pool_size: [2, 3, 2], strides: 1, padding: same}",
     lambda: [L.MaxPooling3D((2, 3, 2), strides=1, padding="same")]),
    ("- avg_pool3d: {pool: 3, stride: 2}", lambda: [L.AveragePooling3D(3, strides=2)]),
    ("- AveragePooling3D: {pool_size: [1, 2, 2]}", lambda: [L.AveragePooling3D((1, 2, 2))]),
    ("- global_avg_pool3d: {keepdims: true}",
     lambda: [L.GlobalAveragePooling3D(keepdims=True)]),
    ("- GlobalMaxPooling3D", lambda: [L.GlobalMaxPooling3D()]),
    ("- global_max_pool3d: {}", lambda: [L.GlobalMaxPooling3D()]),
    ("- zero_padding3d: 2", lambda: [L.ZeroPadding3D(2)]),
    ("- ZeroPadding3D: {padding: [1, 0, 3]}", lambda: [L.ZeroPadding3D((1, 0, 3))]),
    ("- zero_padding3d: [[1, 0], [0, 2], [1, 1]]",
     lambda: [L.ZeroPadding3D(((1, 0), (0, 2), (1, 1)))]),
    ("- upsampling3d: [1, 2, 3]", lambda: [L.UpSampling3D((1, 2, 3))]),
    ("- UpSampling3D: {size: 2}", lambda: [L.UpSampling3D(2)]),
]


@pytest.mark.parametrize("layer, keras_layers", SAME_AS_KERAS,
                         ids=[f"{c[0][2:].split(':')[0]}-{i}" for i, c in enumerate(SAME_AS_KERAS)])
def test_a_3d_layer_equals_the_keras_layer(tmp_path, layer, keras_layers):
    spec, model = one_layer(tmp_path, VOLUME, layer)
    assert_same_as_keras(model, reference(VOLUME, *keras_layers()), VOLUME)
    # The parameter budget is checked with the estimate, before Keras allocates anything.
    (entry, layer_spec), = spec.entries
    assert layer_spec.estimate_params([(None, *VOLUME)]) == model.count_params()


def test_the_3d_types_build_the_3d_keras_classes(tmp_path):
    layers = """
        - conv3d: {filters: 2, kernel: 3, padding: same}
        - conv3d_transpose: {filters: 2, kernel: 2}
        - zero_padding3d: 1
        - max_pool3d: 2
        - upsampling3d: 2
        - avg_pool3d: 2
        - global_max_pool3d: {keepdims: true}
        - global_avg_pool3d
        """
    _, model = one_layer(tmp_path, VOLUME, layers)
    assert [type(layer).__name__ for layer in model.layers[1:]] == [
        "Conv3D", "Conv3DTranspose", "ZeroPadding3D", "MaxPooling3D", "UpSampling3D",
        "AveragePooling3D", "GlobalMaxPooling3D", "GlobalAveragePooling3D"]
    assert model.output_shape == (None, 2)


# keras-io's 3-D CT-scan classifier, at a small size: Conv3D/MaxPool3D/BatchNorm
# stages, a global average, a dense head and one probability.
CT_CLASSIFIER = """
nncompile: 1
name: ct_scan_classifier
inputs: {scan: [16, 16, 8, 1]}
vars: {width: 8}
layers:
  - conv3d: {filters: $width, kernel: 3, activation: relu}
  - max_pool3d: 2
  - batch_norm: {}
  - conv3d: {filters: $width, kernel: 3, padding: same, activation: relu}
  - MaxPooling3D: {pool_size: 2}
  - batch_norm: {}
  - Conv3D: {filters: $width * 2, kernel_size: 2, padding: same, activation: relu}
  - batch_norm: {}
  - global_avg_pool3d
  - dense: {units: 16, activation: relu}
  - dropout: 0.3
  - dense: {units: 1, activation: sigmoid, name: tumour}
outputs: [tumour]
"""


def ct_classifier_by_hand(width: int = 8) -> keras.Model:
    scan = keras.Input((16, 16, 8, 1))
    x = L.Conv3D(width, 3, activation="relu")(scan)
    x = L.BatchNormalization()(L.MaxPooling3D(2)(x))
    x = L.Conv3D(width, 3, padding="same", activation="relu")(x)
    x = L.BatchNormalization()(L.MaxPooling3D(2)(x))
    x = L.Conv3D(2 * width, 2, padding="same", activation="relu")(x)
    x = L.GlobalAveragePooling3D()(L.BatchNormalization()(x))
    x = L.Dropout(0.3)(L.Dense(16, activation="relu")(x))
    return keras.Model(scan, L.Dense(1, activation="sigmoid")(x))


def test_a_volume_classifier_builds_runs_and_equals_keras(tmp_path):
    spec = load_text(tmp_path, CT_CLASSIFIER)
    model = build_model(spec)
    assert_same_as_keras(model, ct_classifier_by_hand(), (16, 16, 8, 1))
    scans = sample((16, 16, 8, 1), batch=3)
    p = to_numpy(model(scans, training=False))
    assert p.shape == (3, 1) and np.all((p > 0) & (p < 1))
    # Each layer's estimate is its exact count, so the budget check sees the real size.
    for entry, layer_spec in spec.entries:
        layer = model.get_layer(entry.name)
        assert layer_spec.estimate_params([tuple(layer.input.shape)]) == layer.count_params()


def test_a_volume_classifier_survives_a_save_and_load(tmp_path):
    model = build_model(load_text(tmp_path, CT_CLASSIFIER))
    assert_saving_round_trip(model, sample((16, 16, 8, 1)), tmp_path)


def test_a_3d_spec_validates_without_tensorflow(tmp_path):
    path = tmp_path / "ct.yaml"
    path.write_text(CT_CLASSIFIER, encoding="utf-8")
    code = textwrap.dedent(f"""
        import sys
        from compiler.api import load_spec
        spec = load_spec({str(path)!r})
        assert [e.type for e, _ in spec.entries][:2] == ['conv3d', 'max_pool3d']
        heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)
        assert not heavy, heavy
        """)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- mistakes

THREE_D = ["conv3d: {filters: 2, kernel: 3}", "conv3d_transpose: {filters: 2, kernel: 3}",
           "max_pool3d: 2", "avg_pool3d: 2", "global_avg_pool3d: {}", "global_max_pool3d: {}",
           "zero_padding3d: 1", "upsampling3d: 2"]


@pytest.mark.parametrize("layer", THREE_D, ids=[t.split(":")[0] for t in THREE_D])
def test_a_3d_layer_on_images_is_a_located_rank_error(tmp_path, layer):
    kind = layer.split(":")[0]
    spec = load_text(tmp_path, spec_text("v", {"x": [8, 8, 3]}, f"- {layer}"))
    with pytest.raises(SpecError) as err:
        build_model(spec)
    assert str(err.value) == (
        f"{tmp_path / 'spec.yaml'}:6:5: layers[0].{kind}: {kind} expects 4-D examples "
        "(depth, height, width, channels), got shape (None, 8, 8, 3) from 'x'; add "
        "`- reshape: [...]` to give the data channels")


def test_a_3d_layer_on_a_sequence_of_volumes_says_which_rank_it_takes(tmp_path):
    spec = load_text(tmp_path, spec_text("v", {"x": [2, 4, 4, 4, 1]}, "- max_pool3d: 2"))
    with pytest.raises(SpecError, match=r"spec.yaml:6:5: layers\[0\].max_pool3d: max_pool3d "
                       r"expects 4-D examples .* got shape \(None, 2, 4, 4, 4, 1\) from 'x'; "
                       r"add a reshape, or use a layer for this rank"):
        build_model(spec)


@pytest.mark.parametrize("layer, message", [
    ("conv3d: {filters: 2, kernel: 5",
     "conv3d: window 5 is larger than the input (3) along axis 1 of shape (3, 6, 6, 1)"),
    ("conv3d: {filters: 2, kernel: [1, 1, 9], padding: 1",
     "window 9 is larger than the input (6 + 2·1 padding) along axis 3"),
    ("max_pool3d: {pool: [1, 7, 1]", "max_pool3d: window 7 is larger than the input (6) along "
                                     "axis 2"),
    ("avg_pool3d: {pool_size: 4", "avg_pool3d: window 4 is larger than the input (3)"),
    ("conv3d: {filters: 2, kernel: 2, dilation: 3",
     "window 2 is larger than the input (3) along axis 1"),
])
def test_a_window_larger_than_the_volume_is_a_located_error(tmp_path, layer, message):
    spec = load_text(tmp_path, spec_text("v", {"x": [3, 6, 6, 1]}, f"- {layer}}}"))
    with pytest.raises(SpecError) as err:
        build_model(spec)
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'spec.yaml'}:6:5: layers[0].")
    assert message in text and text.endswith("use padding: same or a smaller kernel")
    # With padding: same the window fits: ceil(size / stride) along each axis.
    same = layer.split(", padding:")[0] + ", padding: same}"
    model = build_model(load_text(tmp_path, spec_text("v", {"x": [3, 6, 6, 1]}, f"- {same}"),
                                  "same.yaml"))
    strides = model.layers[-1].strides
    assert model.output_shape[1:4] == tuple(-(-n // s) for n, s in zip((3, 6, 6), strides,
                                                                        strict=True))


@pytest.mark.parametrize("layer, message", [
    ("- conv3d: {filters: 2, kernel: [3, 3]}", r"layers\[0\]\.conv3d\.kernel"),
    ("- conv3d: {filters: 2, kernel: [3, 3, 3, 3]}",
     r"layers\[0\]\.conv3d\.kernel: expected an integer or a list of at most 3 items"),
    ("- max_pool3d: {pool: [2, 2]}", r"layers\[0\]\.max_pool3d\.pool"),
    ("- upsampling3d: 0", r"layers\[0\]\.upsampling3d\.size"),
    ("- zero_padding3d: [1, 2]", r"layers\[0\]\.zero_padding3d\.padding"),
    ("- zero_padding3d: -1", r"layers\[0\]\.zero_padding3d\.padding"),
    ("- conv3d_transpose: {filters: 2, kernel: 3, strides: 2, output_padding: [1, 2, 1]}",
     r"conv3d_transpose\.output_padding: `output_padding` \[1, 2, 1\] must be smaller than "
     r"`strides` 2"),
    ("- conv3d: {filters: 2, kernel: 3, strides: 2, dilation: 2}",
     r"conv3d\.dilation: `dilation` 2 cannot be combined with `strides` 2"),
    ("- conv3d: {filters: 2, kernel: 3, padding: full}", r"layers\[0\]\.conv3d\.padding"),
    ("- conv3d: {filters: 2, kernal: 3}", r"unknown key 'kernal'.*did you mean 'kernel'"),
])
def test_a_wrong_3d_parameter_is_a_located_validation_error(tmp_path, layer, message):
    with pytest.raises(SpecError, match=r"spec.yaml:6:\d+: .*" + message):
        load_text(tmp_path, spec_text("v", {"x": VOLUME}, layer))
