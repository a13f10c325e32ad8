"""Activation functions the seeds use and Keras lacks."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="nncompile", name="step")
def step(x):
    """Heaviside step (the perceptron's threshold unit): 1 where x ≥ 0, else 0.

    Its gradient is zero almost everywhere, as for the book's perceptron, which
    is trained by the perceptron rule rather than by gradient descent.

    Example:

    >>> step(keras.ops.convert_to_tensor([-1.0, 0.0, 2.0]))  # [0., 1., 1.]
    """
    return ops.cast(ops.greater_equal(x, 0), x.dtype)
