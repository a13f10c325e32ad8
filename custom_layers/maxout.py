"""Maxout units (Goodfellow et al.): each output is the maximum of several affine pieces."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="nncompile")
class Maxout(keras.layers.Layer):
    """y_i = max_k (x · W[:, i, k] + b[i, k]) over `pieces` affine functions.

    Args:
        units: Positive integer, number of outputs.
        pieces: Integer ≥ 2, affine pieces per output.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer: As for `keras.layers.Dense`.

    Call arguments:
        inputs: A tensor (batch, ..., features).

    Example:

    >>> Maxout(4, pieces=3)(keras.ops.ones((2, 5))).shape
    (2, 4)
    """

    def __init__(self, units: int, pieces: int = 2, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError("Received an invalid value for argument `units`, expected a "
                             f"positive integer, got {units!r}.")
        if not isinstance(pieces, int) or pieces < 2:
            raise ValueError("Received an invalid value for argument `pieces`, expected an "
                             f"integer ≥ 2, got {pieces!r}.")
        self.units = units
        self.pieces = pieces
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    def build(self, input_shape) -> None:
        features = input_shape[-1]
        # One matrix for all pieces: a single matmul, then a max over the piece axis.
        self.kernel = self.add_weight(name="kernel", shape=(features, self.units * self.pieces),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight(name="bias", shape=(self.units * self.pieces,),
                                    initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer)

    def call(self, inputs):
        z = ops.matmul(inputs, self.kernel) + self.bias
        z = ops.reshape(z, (*ops.shape(z)[:-1], self.units, self.pieces))
        return ops.max(z, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "pieces": self.pieces,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
        }
