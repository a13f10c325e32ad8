"""Catalogue cases (see test_catalogue.py) for the position embedding, sampling and
channel-padding layer types."""

from __future__ import annotations

import numpy as np


def _weights(model, name):
    return [np.asarray(w) for w in model.get_layer(name).get_weights()]


def check_position_embedding(model, x, y):
    (table,) = _weights(model, "pos")
    steps = x["x"].shape[1]
    np.testing.assert_allclose(y[0], np.broadcast_to(table[:steps], y[0].shape), rtol=1e-6)


def check_sampling_mean(model, x, y):
    np.testing.assert_allclose(y[0], x["mu"], rtol=1e-6)  # inference: mean gives μ


def check_channel_padding(model, x, y):
    expected = np.pad(x["x"], [(0, 0), (0, 0), (0, 0), (1, 2)])
    np.testing.assert_allclose(y[0], expected)


CASES = {
    "position_embedding": dict(
        inputs={"x": [5, 4]}, layers="- position_embedding: {sequence_length: 7, name: pos}",
        expected=[(5, 4)], check=check_position_embedding,
        needs="custom_layers.position_embedding"),
    "sampling": dict(
        inputs={"mu": [3], "log_var": [3]},
        layers="- sampling: {inputs: [mu, log_var], inference: mean}", expected=[(3,)],
        check=check_sampling_mean, needs="custom_layers.sampling"),
    "channel_padding": dict(
        inputs={"x": [4, 4, 2]}, layers="- channel_padding: [1, 2]", expected=[(4, 4, 5)],
        check=check_channel_padding, needs="custom_layers.channel_padding"),
}
