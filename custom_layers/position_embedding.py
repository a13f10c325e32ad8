"""A learned embedding of positions 0, 1, ..., steps − 1, for transformers."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from custom_layers._validation import check_positive_int


@keras.saving.register_keras_serializable(package="nncompile")
class PositionEmbedding(keras.layers.Layer):
    """One learned vector per position: the embeddings of ``arange(steps)``.

    The output has the input's shape, (batch, steps, features), and holds
    row t of the table at step t, the same for every example: add it to the
    token embeddings, as keras-io's ``TokenAndPositionEmbedding`` does with an
    ``Embedding(sequence_length, features)`` applied to ``range(steps)``. No
    second input of position ids is needed.

    Args:
        sequence_length: The most steps an input may have (rows of the table).
        embeddings_initializer: Initial table (default uniform, as Keras's Embedding).

    Example:

    >>> PositionEmbedding(10)(keras.ops.ones((2, 7, 4))).shape
    (2, 7, 4)
    """

    def __init__(self, sequence_length: int, embeddings_initializer: Any = "uniform",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sequence_length = check_positive_int("sequence_length", sequence_length)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.supports_masking = True

    def build(self, input_shape) -> None:
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError("Received an invalid value for argument `inputs`, expected a "
                             f"shape (batch, steps, features), got {tuple(input_shape)}.")
        self.embeddings = self.add_weight(
            name="embeddings", shape=(self.sequence_length, input_shape[-1]),
            initializer=self.embeddings_initializer)

    def call(self, inputs):
        steps = ops.shape(inputs)[1]
        # A tensor, not the variable (JAX traces a variable only as a tensor), and the
        # static feature size.
        table = ops.slice(ops.convert_to_tensor(self.embeddings), (0, 0),
                          (steps, self.embeddings.shape[1]))
        return ops.broadcast_to(ops.cast(table, inputs.dtype), ops.shape(inputs))

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer)}
