"""`position_embedding`: a learned vector per position, so a transformer needs no position input.

    - embedding: {input_dim: 20000, output_dim: 32, name: tokens}
    - position_embedding: {sequence_length: 200, name: positions}
    - add: {inputs: [tokens, positions]}
"""

from __future__ import annotations

from compiler.layers.base import LayerSpec, ShapeProblem, rank_message, register
from compiler.layers.params import Initializer, PositiveInt, initializer_to_keras


@register("position_embedding")
class PositionEmbedding(LayerSpec):
    """The embeddings of positions 0 … steps−1, shaped as the input (batch, steps, features)."""

    shorthand = "sequence_length"
    sequence_length: PositiveInt
    """The most steps an input may have: rows of the learned table."""
    embeddings_initializer: Initializer | None = None
    """Initial table (default uniform, as Keras's Embedding)."""

    def check_shapes(self, shapes, sources):
        shape = shapes[0]
        if len(shape) != 3:
            return rank_message("position_embedding", "a sequence (steps, features), e.g. the "
                                "output of an embedding", shape, sources[0])
        if shape[1] is not None and shape[1] > self.sequence_length:
            return (f"position_embedding: '{sources[0]}' has {shape[1]} steps, more than "
                    f"sequence_length {self.sequence_length}")
        return None

    def infer_output_shape(self, shapes):
        if shapes[0][-1] is None:
            raise ShapeProblem(f"position_embedding needs the number of features of "
                               f"'{self.inputs[0]}'")
        return tuple(shapes[0])

    def count_params(self, shapes):
        return self.sequence_length * shapes[0][-1]

    def estimate_params(self, shapes):
        return self.sequence_length * (shapes[0][-1] or 1 if shapes and shapes[0] else 1)

    def build(self):
        from custom_layers.position_embedding import PositionEmbedding as Layer

        kwargs = {}
        if self.embeddings_initializer is not None:
            kwargs["embeddings_initializer"] = initializer_to_keras(self.embeddings_initializer)
        return Layer(self.sequence_length, **kwargs, **self.common())
