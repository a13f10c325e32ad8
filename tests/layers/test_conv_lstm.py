"""`conv_lstm2d`: Keras's ConvLSTM2D from a spec, alone, with states, and under bidirectional.

Compared with the same layer written by hand in Keras (weights, output shape and,
with the weights copied, output numbers); a next-frame model in the style of
keras-io's ConvLSTM example is built, run and saved; mistakes of rank, window
and initial state are reported at the layer's line before Keras sees them.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from compiler.api import build_model
from compiler.errors import SpecError
from tests.helpers import assert_saving_round_trip, load_text, spec_text, to_numpy

L = keras.layers
FRAMES = [5, 8, 8, 2]  # steps, height, width, channels


def sample(shape, batch: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(batch, *shape)).astype("float32")


def assert_same_as_keras(model: keras.Model, hand: keras.Model, shape) -> None:
    assert model.count_params() == hand.count_params()
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in hand.weights]
    assert model.output_shape == hand.output_shape
    hand.set_weights(model.get_weights())
    x = sample(shape)
    np.testing.assert_allclose(to_numpy(model(x)), to_numpy(hand(x)), rtol=1e-5, atol=1e-5)


def by_hand(shape, layer) -> keras.Model:
    x = keras.Input(tuple(shape))
    return keras.Model(x, layer(x))


SAME_AS_KERAS = [
    ("- conv_lstm2d: {filters: 4, kernel: 3}", lambda: L.ConvLSTM2D(4, 3)),
    ("- ConvLSTM2D: {filters: 3, kernel_size: [3, 1], strides: 2, padding: same, "
     "return_sequences: true, activation: relu, recurrent_activation: hard_sigmoid, "
     "use_bias: false}",
     lambda: L.ConvLSTM2D(3, (3, 1), strides=2, padding="same", return_sequences=True,
                          activation="relu", recurrent_activation="hard_sigmoid",
                          use_bias=False)),
    ("- conv_lstm2d: {filters: 2, kernel: 2, dilation_rate: 2, go_backwards: true, "
     "unit_forget_bias: false}",
     lambda: L.ConvLSTM2D(2, 2, dilation_rate=2, go_backwards=True, unit_forget_bias=False)),
    ("- bidirectional: {layer: {conv_lstm2d: {filters: 3, kernel: 3, padding: same, "
     "return_sequences: true}}}",
     lambda: L.Bidirectional(L.ConvLSTM2D(3, 3, padding="same", return_sequences=True))),
    ("- Bidirectional: {layer: {ConvLSTM2D: {filters: 2, kernel_size: 3}}, merge_mode: sum}",
     lambda: L.Bidirectional(L.ConvLSTM2D(2, 3), merge_mode="sum")),
]


@pytest.mark.parametrize("layer, keras_layer", SAME_AS_KERAS,
                         ids=[f"case{i}" for i in range(len(SAME_AS_KERAS))])
def test_conv_lstm2d_equals_the_keras_layer(tmp_path, layer, keras_layer):
    spec = load_text(tmp_path, spec_text("f", {"x": FRAMES}, layer))
    model = build_model(spec)
    assert_same_as_keras(model, by_hand(FRAMES, keras_layer()), FRAMES)
    (_, layer_spec), = spec.entries
    assert layer_spec.estimate_params([(None, *FRAMES)]) == model.count_params()


def test_conv_lstm2d_passes_its_options_to_keras(tmp_path):
    layer = ("- conv_lstm2d: {filters: 2, kernel: 3, dropout: 0.25, recurrent_dropout: 0.5, "
             "kernel_initializer: he_normal, recurrent_initializer: orthogonal, "
             "bias_initializer: ones, kernel_regularizer: {l2: 0.01}, "
             "recurrent_regularizer: {l1: 0.001}, name: clstm}")
    model = build_model(load_text(tmp_path, spec_text("f", {"x": FRAMES}, layer)))
    config = model.get_layer("clstm").get_config()
    assert (config["dropout"], config["recurrent_dropout"]) == (0.25, 0.5)
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    assert config["recurrent_initializer"]["class_name"] == "Orthogonal"
    assert config["bias_initializer"]["class_name"] == "Ones"
    assert config["kernel_regularizer"]["config"]["l2"] == pytest.approx(0.01)
    assert config["recurrent_regularizer"]["config"]["l1"] == pytest.approx(0.001)
    assert len(model.losses) == 2  # one penalty per regularised kernel


def test_conv_lstm2d_states_out_and_in(tmp_path):
    # An encoder's final h and c start a decoder over other frames (keras-io's
    # sequence-to-sequence pattern, on feature maps).
    layers = """
        - conv_lstm2d: {filters: 3, kernel: 3, padding: same, return_state: true,
                        inputs: past, name: enc}
        - conv_lstm2d: {filters: 3, kernel: 3, padding: same, return_sequences: true,
                        inputs: [future, "enc[1]", "enc[2]"], name: dec}
        """
    spec = load_text(tmp_path, spec_text("s", {"past": FRAMES, "future": [4, 8, 8, 2]},
                                         layers, outputs=["enc", "enc[1]", "enc[2]", "dec"]))
    model = build_model(spec)
    assert [tuple(t.shape) for t in model.outputs] == [
        (None, 8, 8, 3), (None, 8, 8, 3), (None, 8, 8, 3), (None, 4, 8, 8, 3)]
    out, h, c, dec = to_numpy(model([sample(FRAMES), sample([4, 8, 8, 2], seed=1)]))
    np.testing.assert_allclose(out, h)  # the output of an LSTM is its last h
    assert dec.shape == (2, 4, 8, 8, 3) and not np.allclose(h, c)


# keras-io's next-frame prediction (ConvLSTM2D stack, a Conv3D with sigmoid over
# the sequence of feature maps), at a small size; any number of frames.
NEXT_FRAME = """
nncompile: 1
name: next_frame
inputs: {frames: [null, 16, 16, 1]}
layers:
  - conv_lstm2d: {filters: 8, kernel: 5, padding: same, return_sequences: true,
                  activation: relu}
  - batch_norm: {}
  - conv_lstm2d: {filters: 8, kernel: 3, padding: same, return_sequences: true,
                  activation: relu}
  - batch_norm: {}
  - ConvLSTM2D: {filters: 8, kernel_size: [1, 1], padding: same, return_sequences: true,
                 activation: relu}
  - conv3d: {filters: 1, kernel: 3, padding: same, activation: sigmoid, name: next}
outputs: [next]
"""


def next_frame_by_hand() -> keras.Model:
    frames = keras.Input((None, 16, 16, 1))
    x = L.ConvLSTM2D(8, 5, padding="same", return_sequences=True, activation="relu")(frames)
    x = L.BatchNormalization()(x)
    x = L.ConvLSTM2D(8, 3, padding="same", return_sequences=True, activation="relu")(x)
    x = L.BatchNormalization()(x)
    x = L.ConvLSTM2D(8, 1, padding="same", return_sequences=True, activation="relu")(x)
    return keras.Model(frames, L.Conv3D(1, 3, padding="same", activation="sigmoid")(x))


def test_a_next_frame_model_builds_runs_and_equals_keras(tmp_path):
    model = build_model(load_text(tmp_path, NEXT_FRAME))
    assert model.output_shape == (None, None, 16, 16, 1)
    assert_same_as_keras(model, next_frame_by_hand(), (6, 16, 16, 1))
    for steps in (3, 7):  # a variable number of frames
        y = to_numpy(model(sample((steps, 16, 16, 1)), training=False))
        assert y.shape == (2, steps, 16, 16, 1) and np.all((y > 0) & (y < 1))


def test_a_next_frame_model_survives_a_save_and_load(tmp_path):
    model = build_model(load_text(tmp_path, NEXT_FRAME))
    assert_saving_round_trip(model, sample((4, 16, 16, 1)), tmp_path)


# ---------------------------------------------------------------- mistakes

@pytest.mark.parametrize("shape, hint", [
    ([8, 8, 3], "add `- reshape: [...]` to give the data channels"),
    ([5, 8, 8], "add `- reshape: [...]` to give the data channels"),
    ([2, 5, 8, 8, 1], "add a reshape, or use a layer for this rank"),
])
@pytest.mark.parametrize("wrapped", [False, True])
def test_conv_lstm2d_on_the_wrong_rank_is_a_located_error(tmp_path, shape, hint, wrapped):
    layer = "conv_lstm2d: {filters: 2, kernel: 3}"
    written = f"- bidirectional: {{layer: {{{layer}}}}}" if wrapped else f"- {layer}"
    spec = load_text(tmp_path, spec_text("f", {"x": shape}, written))
    with pytest.raises(SpecError) as err:
        build_model(spec)
    shown = ", ".join(map(str, shape))
    kind = "bidirectional" if wrapped else "conv_lstm2d"
    assert str(err.value) == (
        f"{tmp_path / 'spec.yaml'}:6:5: layers[0].{kind}: conv_lstm2d expects sequences of "
        f"3-D examples (steps, height, width, channels), got shape (None, {shown}) from 'x'; "
        f"{hint}")


def test_a_kernel_larger_than_the_frames_is_a_located_error(tmp_path):
    spec = load_text(tmp_path, spec_text("f", {"x": [5, 4, 6, 1]},
                                         "- conv_lstm2d: {filters: 2, kernel: 5}"))
    with pytest.raises(SpecError, match=r"spec.yaml:6:5: layers\[0\].conv_lstm2d: conv_lstm2d: "
                       r"window 5 is larger than the input \(4\) along axis 2 of shape "
                       r"\(5, 4, 6, 1\) from 'x'; use padding: same or a smaller kernel"):
        build_model(spec)


def test_an_initial_state_of_the_wrong_size_is_a_located_error(tmp_path):
    spec = load_text(tmp_path, spec_text(
        "f", {"x": FRAMES, "h": [8, 8, 2], "c": [8, 8, 2]},
        "- conv_lstm2d: {filters: 2, kernel: 3, inputs: [x, h, c]}"))
    with pytest.raises(SpecError, match=(
            r"spec.yaml:8:5: layers\[0\].conv_lstm2d: conv_lstm2d has filters 2 and outputs "
            r"6×6, so its initial state h must have shape \(None, 6, 6, 2\); 'h' has shape "
            r"\(None, 8, 8, 2\)")):
        build_model(spec)
    spec = load_text(tmp_path, spec_text(
        "f", {"x": FRAMES, "h": [6, 6, 2]},
        "- conv_lstm2d: {filters: 2, kernel: 3, inputs: [x, h]}"), "one.yaml")
    with pytest.raises(SpecError, match=r"takes its sequence and then 2 initial state\(s\) "
                       r"\(h, c\), got 1 \('h'\)"):
        build_model(spec)


@pytest.mark.parametrize("layer, message", [
    ("- conv_lstm2d: {filters: 2, kernel: [3, 3, 3]}",
     r"conv_lstm2d\.kernel: expected an integer or a list of at most 2 items"),
    ("- conv_lstm2d: {filters: 2, kernel: 3, strides: 2, dilation: 2}",
     r"conv_lstm2d\.dilation: `dilation` 2 cannot be combined with `strides` 2"),
    ("- conv_lstm2d: {filters: 2, kernel: 3, padding: 1}", r"conv_lstm2d\.padding"),
    ("- conv_lstm2d: {filters: 2, kernel: 3, recurrent_dropout: 1.5}",
     r"conv_lstm2d\.recurrent_dropout"),
    ("- conv_lstm2d: {filters: 2, kernel: 3, unroll: true}",
     r"unknown key 'unroll'"),
    ("- bidirectional: {layer: {conv_lstm2d: {filter: 2, kernel: 3}}}",
     r"bidirectional\.layer\.conv_lstm2d\.filter: unknown key 'filter' for bidirectional's "
     r"conv_lstm2d layer \(did you mean 'filters'\?\)"),
    ("- bidirectional: {layer: {conv2d: {filters: 2, kernel: 3}}}",
     r"bidirectional\.layer\.conv2d: bidirectional wraps [a-z_0-9, ]*conv_lstm2d[a-z_0-9, ]*; "
     r"got 'conv2d'"),
])
def test_a_wrong_conv_lstm2d_parameter_is_a_located_validation_error(tmp_path, layer, message):
    with pytest.raises(SpecError, match=r"spec.yaml:6:\d+: layers\[0\]\..*" + message):
        load_text(tmp_path, spec_text("f", {"x": FRAMES}, layer))
