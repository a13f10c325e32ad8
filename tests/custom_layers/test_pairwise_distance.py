"""PairwiseDistance: the metrics against NumPy, and a siamese model around it."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from custom_layers import PairwiseDistance
from tests.helpers import (
    assert_config_round_trip,
    assert_saving_round_trip,
    assert_training_reduces_loss,
    assert_weights,
    to_numpy,
)

BATCH, DIM = 5, 6


@pytest.fixture
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(6)
    return (
        rng.standard_normal((BATCH, DIM)).astype("float32"),
        rng.standard_normal((BATCH, DIM)).astype("float32"),
    )


def reference(metric: str, a: np.ndarray, b: np.ndarray, epsilon: float = 1e-7) -> np.ndarray:
    a, b = a.astype(np.float64), b.astype(np.float64)
    if metric == "euclidean":
        value = np.sqrt(((a - b) ** 2).sum(-1) + epsilon)
    elif metric == "manhattan":
        value = np.abs(a - b).sum(-1)
    else:
        value = 1.0 - (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return value[:, None]


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
def test_metric_matches_numpy(pair, metric):
    out = to_numpy(PairwiseDistance(metric)(list(pair)))
    assert out.shape == (BATCH, 1)
    np.testing.assert_allclose(out, reference(metric, *pair), rtol=1e-5, atol=1e-6)


def test_cosine_of_parallel_and_opposite_vectors(pair):
    a, _ = pair
    layer = PairwiseDistance("cosine")
    np.testing.assert_allclose(to_numpy(layer([a, 3.0 * a])), 0.0, atol=1e-6)
    np.testing.assert_allclose(to_numpy(layer([a, -a])), 2.0, atol=1e-6)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_gradient_is_finite_for_identical_inputs(pair, metric):
    a = tf.Variable(pair[0])
    with tf.GradientTape() as tape:
        distance = PairwiseDistance(metric)([a, tf.constant(pair[0])])
    gradient = tape.gradient(distance, a).numpy()
    assert np.all(np.isfinite(gradient))


def test_sweep_with_a_siamese_model(pair, tmp_path):
    """A shared encoder and the distance, trained with a contrastive loss."""
    left, right = keras.Input((DIM,)), keras.Input((DIM,))
    encoder = keras.layers.Dense(4, name="encoder")
    layer = PairwiseDistance("euclidean", epsilon=1e-6, name="distance")
    distance = layer([encoder(left), encoder(right)])
    model = keras.Model([left, right], distance)
    assert model.output_shape == (None, 1)
    assert layer.compute_output_shape([(None, DIM), (None, DIM)]) == (None, 1)
    assert_weights(layer, {})
    clone = assert_config_round_trip(layer)
    assert clone.metric == "euclidean" and clone.epsilon == 1e-6
    assert_saving_round_trip(model, list(pair), tmp_path)

    same = np.array([1, 0, 1, 0, 1], dtype="float32")[:, None]

    def contrastive(y_true, d, margin=1.0):
        return keras.ops.mean(
            y_true * d**2 + (1.0 - y_true) * keras.ops.relu(margin - d) ** 2
        )

    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=contrastive, jit_compile=True)
    before = model.evaluate(list(pair), same, verbose=0)
    model.fit(list(pair), same, epochs=10, batch_size=BATCH, verbose=0)
    assert model.evaluate(list(pair), same, verbose=0) < before


def test_training_step_without_xla(pair):
    left, right = keras.Input((DIM,)), keras.Input((DIM,))
    encoder = keras.layers.Dense(3)
    distance = PairwiseDistance("manhattan")([encoder(left), encoder(right)])
    model = keras.Model([left, right], distance)
    assert_training_reduces_loss(model, list(pair), np.zeros((BATCH, 1), "float32"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PairwiseDistance("chebyshev"), "`metric`"),
        (lambda: PairwiseDistance(epsilon=0.0), "`epsilon`"),
        (lambda: PairwiseDistance().build([(None, 3), (None, 4)]), "`inputs`"),
    ],
)
def test_invalid_arguments_name_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()
