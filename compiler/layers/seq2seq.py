"""The decoder of an encoder–decoder network with additive attention.

    - attention_decoder:
        inputs: [encoder, decoder_input]   # encoder states, teacher-forcing tokens
        vocab_size: 13
        units: 128
        start_token: 1
        stop_token: 2
        max_length: 11

While training, the decoder reads the true previous token (teacher forcing)
and outputs next-token probabilities; `name[1]` is the attention weights. The
exported inference graph drops the teacher-forcing input and decodes greedily
from `start_token` for `max_length` steps (see `compiler.build.graph.build_inference_model`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from compiler.layers.base import LayerSpec, input_size, rank_message, register
from compiler.layers.params import PositiveInt, Rate


@register("attention_decoder")
class AttentionDecoder(LayerSpec):
    """Recurrent decoder attending over all encoder states at every step (seq2seq)."""

    min_inputs = 2
    max_inputs = 2
    vocab_size: PositiveInt
    """Number of output symbols (id 0 is padding)."""
    units: PositiveInt
    """Size of the decoder state."""
    embedding_dim: PositiveInt = 32
    """Size of the output-symbol embedding."""
    attention_units: PositiveInt | None = None
    """Hidden size of the alignment model (default: units)."""
    cell: Literal["gru", "lstm", "minimal_gru", "simple_rnn"] = "gru"
    """Recurrent cell of the decoder."""
    start_token: Annotated[int, Field(ge=0)] = 1
    """Id fed at the first decoding step."""
    stop_token: Annotated[int, Field(ge=0)] = 2
    """Id that ends a sequence."""
    max_length: PositiveInt = 20
    """Steps of greedy decoding in the inference graph."""
    dropout: Rate = 0.0
    """Dropout on the decoder cell's inputs while training."""

    def check_shapes(self, shapes, sources):
        if len(shapes[0]) != 3:
            return rank_message("attention_decoder", "encoder states (steps, features) as first "
                                "input (use return_sequences: true)", shapes[0], sources[0])
        if len(shapes[1]) != 2:
            return rank_message("attention_decoder", "token ids (steps) as second input",
                                shapes[1], sources[1])
        if shapes[1][1] is None:
            return (f"attention_decoder needs a fixed number of target steps; '{sources[1]}' "
                    "has a variable length (give its shape, e.g. [11])")
        return None

    def estimate_params(self, shapes):
        encoder = input_size(shapes)
        gates = {"gru": 3, "lstm": 4, "minimal_gru": 2, "simple_rnn": 1}[self.cell]
        attention = self.attention_units or self.units
        return (self.vocab_size * self.embedding_dim
                + gates * self.units * (self.embedding_dim + encoder + self.units + 2)
                + self.units * (encoder + 1)
                + attention * (self.units + encoder + 3)
                + self.vocab_size * (self.units + encoder + 1))

    def infer_output_shape(self, shapes):
        batch, steps, sources = shapes[0][0], shapes[1][1], shapes[0][1]
        return [(batch, steps, self.vocab_size), (batch, steps, sources)]

    def count_params(self, shapes):
        encoder = shapes[0][-1]
        if encoder is None:
            return None
        u, e = self.units, self.embedding_dim
        gates = {"gru": 3, "lstm": 4, "minimal_gru": 2, "simple_rnn": 1}[self.cell]
        biases = {"gru": 6, "lstm": 4, "minimal_gru": 2, "simple_rnn": 1}[self.cell] * u
        attention = self.attention_units or u
        return (self.vocab_size * e + gates * u * (e + encoder + u) + biases
                + u * (encoder + 1) + attention * (u + encoder + 3)
                + self.vocab_size * (u + encoder + 1))

    def build(self):
        from custom_layers.attention_decoder import AttentionDecoder as Layer

        return Layer(vocab_size=self.vocab_size, units=self.units,
                     embedding_dim=self.embedding_dim, attention_units=self.attention_units,
                     cell=self.cell, start_token=self.start_token, stop_token=self.stop_token,
                     max_length=self.max_length, dropout=self.dropout, **self.common())

    def call(self, layers, tensors):
        (layer,) = layers
        return layer(list(tensors))
