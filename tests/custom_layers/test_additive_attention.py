"""BahdanauAttention against a NumPy version of Burkov's appendix D."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from custom_layers import BahdanauAttention
from tests.helpers import (
    assert_config_round_trip,
    assert_saving_round_trip,
    assert_training_reduces_loss,
    assert_weights,
    to_numpy,
)

BATCH, TQ, TV, DQ, DV, UNITS = 3, 4, 6, 5, 7, 8


def bahdanau_reference(
    query: np.ndarray,
    value: np.ndarray,
    weights: dict[str, np.ndarray],
    value_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """q_tj = vᵀ tanh(W_s s_t + W_h h_j); α = softmax over unmasked j; a_t = Σ α_tj h_j.

    Written element by element in float64; ``query`` is (B, Tq, dq).
    """
    batch, tq, tv = query.shape[0], query.shape[1], value.shape[1]
    alpha = np.zeros((batch, tq, tv))
    context = np.zeros((batch, tq, value.shape[2]))
    v = weights["score_kernel"][:, 0]
    for b in range(batch):
        kept = [j for j in range(tv) if value_mask is None or value_mask[b, j]]
        for t in range(tq):
            ws_s = query[b, t] @ weights["query_kernel"] + weights["query_bias"]
            scores = {
                j: v @ np.tanh(ws_s + value[b, j] @ weights["key_kernel"] + weights["key_bias"])
                for j in kept
            }
            top = max(scores.values())
            total = sum(np.exp(s - top) for s in scores.values())
            for j in kept:
                alpha[b, t, j] = np.exp(scores[j] - top) / total
                context[b, t] += alpha[b, t, j] * value[b, j]
    return context, alpha


@pytest.fixture
def data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(4)
    value_mask = np.ones((BATCH, TV), dtype=bool)
    value_mask[0, 3:] = False
    value_mask[2, 0] = False
    return {
        "query": rng.standard_normal((BATCH, TQ, DQ)).astype("float32"),
        "value": rng.standard_normal((BATCH, TV, DV)).astype("float32"),
        "value_mask": value_mask,
        "weights": {
            "query_kernel": rng.standard_normal((DQ, UNITS)).astype("float32") * 0.5,
            "key_kernel": rng.standard_normal((DV, UNITS)).astype("float32") * 0.5,
            "score_kernel": rng.standard_normal((UNITS, 1)).astype("float32"),
            "query_bias": rng.standard_normal((UNITS,)).astype("float32") * 0.5,
            "key_bias": rng.standard_normal((UNITS,)).astype("float32") * 0.5,
        },
    }


def _layer(data: dict, query_rank: int = 3) -> BahdanauAttention:
    layer = BahdanauAttention(UNITS)
    query_shape = (None, TQ, DQ) if query_rank == 3 else (None, DQ)
    layer.build([query_shape, (None, TV, DV)])
    for variable in layer.weights:
        variable.assign(data["weights"][variable.name])
    return layer


@pytest.mark.parametrize("masked", [False, True])
def test_sequence_query_matches_reference(data, masked):
    layer = _layer(data)
    mask = data["value_mask"] if masked else None
    context, alpha = to_numpy(
        layer([data["query"], data["value"]], mask=mask, return_attention_scores=True)
    )
    expected_context, expected_alpha = bahdanau_reference(
        data["query"], data["value"], data["weights"], mask
    )
    np.testing.assert_allclose(alpha, expected_alpha, atol=1e-5)
    np.testing.assert_allclose(context, expected_context, atol=1e-5)
    np.testing.assert_allclose(alpha.sum(-1), 1.0, atol=1e-6)
    if masked:
        hidden = np.broadcast_to(~data["value_mask"][:, None, :], alpha.shape)
        assert np.all(alpha[hidden] == 0.0), "masked encoder steps must get exactly zero weight"


def test_single_step_query_matches_reference(data):
    layer = _layer(data, query_rank=2)
    query = data["query"][:, 0]
    context, alpha = to_numpy(
        layer(
            [query, data["value"]],
            mask=[None, data["value_mask"]],
            return_attention_scores=True,
        )
    )
    assert context.shape == (BATCH, DV) and alpha.shape == (BATCH, TV)
    expected_context, expected_alpha = bahdanau_reference(
        query[:, None], data["value"], data["weights"], data["value_mask"]
    )
    np.testing.assert_allclose(alpha, expected_alpha[:, 0], atol=1e-5)
    np.testing.assert_allclose(context, expected_context[:, 0], atol=1e-5)


def test_context_ignores_masked_encoder_steps(data):
    layer = _layer(data)
    changed = data["value"].copy()
    changed[~data["value_mask"]] = 1e3  # garbage in padded steps only
    inputs_mask = data["value_mask"]
    original = to_numpy(layer([data["query"], data["value"]], mask=inputs_mask))
    perturbed = to_numpy(layer([data["query"], changed], mask=inputs_mask))
    np.testing.assert_array_equal(original, perturbed)


def test_fully_masked_sequence_attends_to_nothing(data):
    layer = _layer(data)
    mask = np.zeros((BATCH, TV), dtype=bool)
    context, alpha = to_numpy(
        layer([data["query"], data["value"]], mask=mask, return_attention_scores=True)
    )
    assert np.all(alpha == 0.0) and np.all(context == 0.0)


def test_masks_flow_through_a_functional_model(data):
    """An Embedding(mask_zero=True) encoder's mask reaches the layer by itself."""
    tokens = keras.Input((TV,), dtype="int32")
    decoder_states = keras.Input((TQ, DQ))
    encoded = keras.layers.Embedding(10, DV, mask_zero=True)(tokens)
    context, alpha = BahdanauAttention(UNITS)(
        [decoder_states, encoded], return_attention_scores=True
    )
    model = keras.Model([tokens, decoder_states], [context, alpha])
    assert model.output_shape == [(None, TQ, DV), (None, TQ, TV)]
    ids = np.where(data["value_mask"], 3, 0).astype("int32")
    _, weights = to_numpy(model([ids, data["query"]]))
    hidden = np.broadcast_to(~data["value_mask"][:, None, :], weights.shape)
    assert np.all(weights[hidden] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)


def test_query_mask_zeroes_context_and_is_passed_on(data):
    layer = _layer(data)
    query_mask = np.ones((BATCH, TQ), dtype=bool)
    query_mask[1, 2:] = False
    context = to_numpy(layer([data["query"], data["value"]], mask=[query_mask, None]))
    assert np.all(context[1, 2:] == 0.0) and np.all(np.abs(context[1, :2]).sum(-1) > 0)
    out_mask = layer.compute_mask([data["query"], data["value"]], [query_mask, None])
    np.testing.assert_array_equal(to_numpy(out_mask), query_mask)


def test_layer_sweep(data, tmp_path):
    layer = BahdanauAttention(UNITS, kernel_regularizer="l2", name="attention")
    query = keras.Input((TQ, DQ))
    value = keras.Input((TV, DV))
    context = layer([query, value])
    model = keras.Model([query, value], keras.layers.Dense(1)(context))
    assert model.output_shape == (None, TQ, 1)
    assert layer.compute_output_shape([(None, DQ), (None, TV, DV)]) == (None, DV)
    assert_weights(
        layer,
        {
            "query_kernel": (DQ, UNITS),
            "key_kernel": (DV, UNITS),
            "score_kernel": (UNITS, 1),
            "query_bias": (UNITS,),
            "key_bias": (UNITS,),
        },
    )
    clone = assert_config_round_trip(layer)
    assert clone.units == UNITS
    inputs = [data["query"], data["value"]]
    assert_saving_round_trip(model, inputs, tmp_path)
    y = np.random.default_rng(5).standard_normal((BATCH, TQ, 1)).astype("float32")
    assert_training_reduces_loss(model, inputs, y)


def test_without_bias_has_three_kernels():
    layer = BahdanauAttention(UNITS, use_bias=False)
    layer.build([(None, DQ), (None, TV, DV)])
    assert_weights(
        layer, {"query_kernel": (DQ, UNITS), "key_kernel": (DV, UNITS), "score_kernel": (UNITS, 1)}
    )


def test_xla_fit_step_single_step_query(data):
    query = keras.Input((DQ,))
    value = keras.Input((TV, DV))
    context = BahdanauAttention(UNITS)([query, value])
    model = keras.Model([query, value], keras.layers.Dense(1)(context))
    y = np.ones((BATCH, 1), dtype="float32")
    assert_training_reduces_loss(
        model, [data["query"][:, 0], data["value"]], y, jit_compile=True, epochs=3
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BahdanauAttention(0), "`units`"),
        (lambda: BahdanauAttention(4).build([(None, 3)]), "`inputs`"),
        (lambda: BahdanauAttention(4).build([(None, 3), (None, 5)]), "rank"),
    ],
)
def test_invalid_arguments_name_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()
