"""MinimalGRU and MinimalGRUCell against a NumPy version of the book's equations."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import custom_layers
from custom_layers import BahdanauAttention, MinimalGRU, MinimalGRUCell, PairwiseDistance
from tests.helpers import (
    assert_config_round_trip,
    assert_loads_in_fresh_python,
    assert_saving_round_trip,
    assert_training_reduces_loss,
    assert_weights,
    to_numpy,
)

BATCH, STEPS, FEATURES, UNITS = 3, 6, 5, 4


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def minimal_gru_reference(
    x: np.ndarray,
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    mask: np.ndarray | None = None,
    go_backwards: bool = False,
    h0: np.ndarray | None = None,
    zero_output_for_mask: bool = False,
    initial_output: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Burkov 6.2.2, step by step in float64.

    Returns the outputs in processing order (as Keras does for go_backwards)
    and the last state. At a masked step the state is carried through and the
    output repeats the previous output (zeros with ``zero_output_for_mask``);
    before the first output, `initial_output` (zeros by default).
    """
    units = recurrent_kernel.shape[0]
    w, m = kernel[:, :units], kernel[:, units:]
    u, o = recurrent_kernel[:, :units], recurrent_kernel[:, units:]
    b, a = bias[:units], bias[units:]
    h = np.zeros((x.shape[0], units)) if h0 is None else h0.astype(np.float64)
    previous_output = np.zeros_like(h) if initial_output is None else initial_output
    outputs = []
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    for t in steps:
        candidate = np.tanh(x[:, t] @ w + h @ u + b)
        gate = sigmoid(x[:, t] @ m + h @ o + a)
        new_h = gate * candidate + (1.0 - gate) * h
        if mask is None:
            output = new_h
        else:
            keep = mask[:, t : t + 1]
            new_h = np.where(keep, new_h, h)
            fallback = np.zeros_like(h) if zero_output_for_mask else previous_output
            output = np.where(keep, new_h, fallback)
        h, previous_output = new_h, output
        outputs.append(output)
    return np.stack(outputs, axis=1), h


@pytest.fixture
def data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    mask = np.ones((BATCH, STEPS), dtype=bool)
    mask[0, 4:] = False  # right padding
    mask[1, :2] = False  # left padding
    mask[2, 3] = False  # a hole in the middle
    return {
        "x": rng.standard_normal((BATCH, STEPS, FEATURES)).astype("float32"),
        "mask": mask,
        "h0": rng.standard_normal((BATCH, UNITS)).astype("float32"),
        "kernel": rng.standard_normal((FEATURES, 2 * UNITS)).astype("float32") * 0.5,
        "recurrent_kernel": rng.standard_normal((UNITS, 2 * UNITS)).astype("float32") * 0.5,
        "bias": rng.standard_normal((2 * UNITS,)).astype("float32") * 0.5,
    }


def _weights(d: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [d["kernel"], d["recurrent_kernel"], d["bias"]]


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_layer_matches_reference(data, masked, go_backwards, return_sequences):
    layer = MinimalGRU(
        UNITS, return_sequences=return_sequences, go_backwards=go_backwards, return_state=True
    )
    layer.build((None, STEPS, FEATURES))
    layer.set_weights(_weights(data))
    mask = data["mask"] if masked else None
    output, state = to_numpy(layer(data["x"], mask=mask))
    expected_seq, expected_state = minimal_gru_reference(
        data["x"], *_weights(data), mask=mask, go_backwards=go_backwards
    )
    expected = expected_seq if return_sequences else expected_seq[:, -1]
    np.testing.assert_allclose(output, expected, atol=1e-5)
    np.testing.assert_allclose(state, expected_state, atol=1e-5)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="traces a tf.function")
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_fixed_batch_and_variable_length_runs_every_step(data, go_backwards, return_sequences):
    """A graph traced with a known batch and an unknown number of steps, as the
    TFLite export traces it (batch 1): Keras's time-major loop took its length
    from the batch axis there and stopped after `batch` steps."""
    import tensorflow as tf

    layer = MinimalGRU(
        UNITS, return_sequences=return_sequences, go_backwards=go_backwards, return_state=True
    )
    layer.build((None, None, FEATURES))
    layer.set_weights(_weights(data))
    traced = tf.function(
        lambda x, mask: layer(x, mask=mask),
        input_signature=[
            tf.TensorSpec([BATCH, None, FEATURES], tf.float32),
            tf.TensorSpec([BATCH, None], tf.bool),
        ],
    )
    output, state = to_numpy(traced(data["x"], data["mask"]))
    expected_seq, expected_state = minimal_gru_reference(
        data["x"], *_weights(data), mask=data["mask"], go_backwards=go_backwards
    )
    expected = expected_seq if return_sequences else expected_seq[:, -1]
    np.testing.assert_allclose(output, expected, atol=1e-5)
    np.testing.assert_allclose(state, expected_state, atol=1e-5)


@pytest.mark.parametrize("unroll", [False, True])
def test_initial_state_and_unroll_match_reference(data, unroll):
    layer = MinimalGRU(UNITS, return_sequences=True, unroll=unroll)
    layer.build((None, STEPS, FEATURES))
    layer.set_weights(_weights(data))
    output = to_numpy(layer(data["x"], initial_state=[data["h0"]], mask=data["mask"]))
    # Keras's JAX time loop (lax.scan, when not unrolled) repeats the initial
    # state at leading masked steps where the other loops give zeros;
    # keras.layers.GRU does the same there.
    scan = keras.backend.backend() == "jax" and not unroll
    expected, _ = minimal_gru_reference(
        data["x"],
        *_weights(data),
        mask=data["mask"],
        h0=data["h0"],
        initial_output=data["h0"] if scan else None,
    )
    np.testing.assert_allclose(output, expected, atol=1e-5)


def test_bidirectional_matches_reference(data):
    inputs = keras.Input((STEPS, FEATURES))
    masked = keras.layers.Masking(mask_value=0.0)(inputs)
    bidi = keras.layers.Bidirectional(MinimalGRU(UNITS, return_sequences=True))
    model = keras.Model(inputs, bidi(masked))
    rng = np.random.default_rng(2)
    forward_w = _weights(data)
    backward_w = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in forward_w]
    bidi.set_weights(forward_w + backward_w)
    x = data["x"] * data["mask"][..., None]  # Masking sees the zeros
    output = to_numpy(model(x))
    forward, _ = minimal_gru_reference(x, *forward_w, mask=data["mask"], zero_output_for_mask=True)
    backward, _ = minimal_gru_reference(
        x, *backward_w, mask=data["mask"], go_backwards=True, zero_output_for_mask=True
    )
    expected = np.concatenate([forward, backward[:, ::-1]], axis=-1)
    np.testing.assert_allclose(output, expected, atol=1e-5)


def test_cell_follows_keras_cell_protocol(data):
    """The cell alone inside keras.layers.RNN computes what MinimalGRU computes."""
    rnn = keras.layers.RNN(MinimalGRUCell(UNITS), return_sequences=True)
    rnn.build((None, STEPS, FEATURES))
    rnn.set_weights(_weights(data))
    expected, _ = minimal_gru_reference(data["x"], *_weights(data), mask=data["mask"])
    np.testing.assert_allclose(to_numpy(rnn(data["x"], mask=data["mask"])), expected, atol=1e-5)
    assert MinimalGRUCell(UNITS).state_size == UNITS


def test_layer_sweep(data, tmp_path):
    layer = MinimalGRU(
        UNITS,
        return_sequences=True,
        kernel_regularizer=keras.regularizers.L2(1e-4),
        recurrent_initializer="glorot_normal",
        name="mgru",
    )
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    assert model.output_shape == (None, STEPS, 1)
    assert_weights(
        layer,
        {
            "kernel": (FEATURES, 2 * UNITS),
            "recurrent_kernel": (UNITS, 2 * UNITS),
            "bias": (2 * UNITS,),
        },
    )
    clone = assert_config_round_trip(layer)
    assert clone.units == UNITS and clone.return_sequences
    assert_saving_round_trip(model, data["x"], tmp_path)
    y = np.random.default_rng(3).standard_normal((BATCH, STEPS, 1)).astype("float32")
    assert_training_reduces_loss(model, data["x"], y, jit_compile=False)


def test_without_bias_has_two_weights():
    layer = MinimalGRU(UNITS, use_bias=False)
    layer.build((None, STEPS, FEATURES))
    assert_weights(
        layer, {"kernel": (FEATURES, 2 * UNITS), "recurrent_kernel": (UNITS, 2 * UNITS)}
    )


@pytest.mark.slow
def test_xla_fit_step(data):
    inputs = keras.Input((STEPS, FEATURES))
    hidden = MinimalGRU(UNITS, dropout=0.1, recurrent_dropout=0.1)(
        keras.layers.Masking()(inputs)
    )
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    y = np.ones((BATCH, 1), dtype="float32")
    assert_training_reduces_loss(model, data["x"], y, jit_compile=True, epochs=3)


@pytest.mark.parametrize("rates", [(0.5, 0.0), (0.0, 0.5)])
def test_dropout_only_in_training(data, rates):
    layer = MinimalGRU(UNITS, dropout=rates[0], recurrent_dropout=rates[1], seed=1)
    plain = MinimalGRU(UNITS)
    for each in (layer, plain):
        each.build((None, STEPS, FEATURES))
        each.set_weights(_weights(data))
    inference = to_numpy(layer(data["x"], training=False))
    np.testing.assert_allclose(inference, to_numpy(plain(data["x"])), atol=1e-6)
    trained = to_numpy(layer(data["x"], training=True))
    assert np.abs(trained - inference).max() > 1e-3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": -3}, "`units`"),
        ({"units": 4, "dropout": 1.5}, "`dropout`"),
        ({"units": 4, "recurrent_dropout": -0.1}, "`recurrent_dropout`"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MinimalGRU(**kwargs)


@pytest.mark.slow
def test_model_with_all_custom_layers_loads_in_fresh_python(data, tmp_path):
    """`import custom_layers` alone is enough to load a saved model."""
    assert set(custom_layers.__all__) >= {"MinimalGRU", "BahdanauAttention", "PairwiseDistance"}
    inputs = keras.Input((STEPS, FEATURES))
    sequence = MinimalGRU(UNITS, return_sequences=True)(keras.layers.Masking()(inputs))
    last = keras.layers.Bidirectional(MinimalGRU(UNITS))(sequence)
    query = keras.layers.Dense(UNITS)(last)
    context = BahdanauAttention(3)([query, sequence])
    outputs = PairwiseDistance("euclidean")([context, query])
    model = keras.Model(inputs, outputs)
    path = assert_saving_round_trip(model, data["x"], tmp_path)
    expected = to_numpy(model(data["x"]))
    assert_loads_in_fresh_python(path, data["x"], expected)
