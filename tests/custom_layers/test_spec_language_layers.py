"""PositionEmbedding, Sampling and ChannelPadding in one sweep each: weights, config and
saving round trips, and (for the weighted one) a training step."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from custom_layers import ChannelPadding, PositionEmbedding, Sampling
from tests.helpers import (
    assert_config_round_trip,
    assert_saving_round_trip,
    assert_training_reduces_loss,
    assert_weights,
)


def test_position_embedding(tmp_path):
    layer = PositionEmbedding(6, name="pos")
    x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype("float32")
    out = np.asarray(layer(x))
    assert_weights(layer, {"embeddings": (6, 5)})
    table = np.asarray(layer.embeddings)
    np.testing.assert_allclose(out, np.broadcast_to(table[:4], (3, 4, 5)))
    assert_config_round_trip(layer)
    inputs = keras.Input((4, 5))
    model = keras.Model(inputs, keras.layers.Add()([inputs, PositionEmbedding(6)(inputs)]))
    assert_saving_round_trip(model, x, tmp_path)
    assert_training_reduces_loss(model, x, np.zeros_like(x))
    with pytest.raises(ValueError, match="sequence_length"):
        PositionEmbedding(0)


def test_sampling(tmp_path):
    layer = Sampling(inference="mean", kl_weight=0.5, seed=3)
    assert_config_round_trip(layer)
    mean, log_var = np.ones((2, 3), "float32"), np.zeros((2, 3), "float32")
    np.testing.assert_allclose(np.asarray(layer([mean, log_var])), mean)
    a, b = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([a, b], Sampling(inference="mean")([a, b]))
    assert_saving_round_trip(model, [mean, log_var], tmp_path)
    drawing = Sampling(seed=1)
    assert not np.allclose(np.asarray(drawing([mean, log_var])), mean)  # inference: sample
    for bad in ({"inference": "mode"}, {"kl_weight": -1}):
        with pytest.raises(ValueError, match="Received an invalid value"):
            Sampling(**bad)


def test_channel_padding(tmp_path):
    layer = ChannelPadding(1, 2)
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 2)).astype("float32")
    np.testing.assert_allclose(np.asarray(layer(x)),
                               np.pad(x, [(0, 0), (0, 0), (0, 0), (1, 2)]))
    assert layer.compute_output_shape((None, 3, 3, 2)) == (None, 3, 3, 5)
    assert_config_round_trip(layer)
    inputs = keras.Input((3, 3, 2))
    assert_saving_round_trip(keras.Model(inputs, ChannelPadding(2, 0)(inputs)), x, tmp_path)
    with pytest.raises(ValueError, match="`before`"):
        ChannelPadding(-1)
