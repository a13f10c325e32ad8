"""Keras's attention layers: dot-product (Luong) attention and multi-head attention.

Bahdanau's additive attention, the seeds' own, is `additive_attention` (a
custom layer, in recurrent.py). These two are Keras's built-ins, for specs
written from Keras code: inputs are `[query, value]` or `[query, value, key]`;
multi-head attention with one input attends over that input itself
(self-attention). With `return_attention_scores: true` the weights are a
second output (`name[1]`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from compiler.layers.base import (
    LayerSpec,
    input_size,
    part_weight_kwargs,
    rank_message,
    register,
)
from compiler.layers.params import (
    Initializer,
    PositiveInt,
    Rate,
    Regularizer,
)


def _show(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape[1:]) + ")"


def _check_sequences(kind: str, shapes, sources, names) -> str | None:
    """Query, value and key are (steps, features); value and key have as many steps."""
    for shape, source, role in zip(shapes, sources, names, strict=False):
        if len(shape) != 3:
            return rank_message(kind, f"a {role} of shape (steps, features)", shape, source,
                                "add `- reshape: [steps, features]`" if len(shape) == 2 else "")
    if len(shapes) == 3 and None not in (shapes[1][1], shapes[2][1]) \
            and shapes[1][1] != shapes[2][1]:
        return (f"{kind}: the value '{sources[1]}' {_show(shapes[1])} and the key "
                f"'{sources[2]}' {_show(shapes[2])} must have as many steps")
    return None


@register("attention")
class Attention(LayerSpec):
    """Dot-product attention (Luong): context = softmax(q·kᵀ) v; Keras's `Attention`.

    Inputs: `[query, value]` (the value is also the key) or `[query, value, key]`.
    """

    min_inputs = 2
    max_inputs = 3
    use_scale: bool = False
    """Multiply the scores by a learned scalar."""
    score_mode: Literal["dot", "concat"] = "dot"
    """dot: q·k; concat: Σ tanh(q + k)."""
    dropout: Rate = 0.0
    """Dropout on the attention weights while training."""
    use_causal_mask: bool = False
    """Step i of the query sees value steps ≤ i only (decoder self-attention)."""
    return_attention_scores: bool = False
    """Also output the weights (batch, query steps, value steps)."""

    def check_shapes(self, shapes, sources):
        problem = _check_sequences("attention", shapes, sources, ("query", "value", "key"))
        if problem:
            return problem
        query, key = shapes[0][-1], shapes[-1][-1]
        if None not in (query, key) and query != key:
            return (f"attention: the query '{sources[0]}' has {query} features and the key "
                    f"'{sources[-1]}' {key}; dot-product attention needs the same number "
                    "(add a dense layer to one of them, or use multi_head_attention)")
        return None

    def estimate_params(self, shapes):
        return int(self.use_scale) + int(self.score_mode == "concat")

    def infer_output_shape(self, shapes):
        query, value = shapes[0], shapes[1]
        out = (query[0], query[1], value[-1])
        scores = (query[0], query[1], value[1])
        return [out, scores] if self.return_attention_scores else out

    def count_params(self, shapes):
        return self.estimate_params(shapes)

    def build(self):
        import keras

        return keras.layers.Attention(use_scale=self.use_scale, score_mode=self.score_mode,
                                      dropout=self.dropout, **self.common())

    def call(self, layers, tensors):
        (layer,) = layers
        return layer(list(tensors), return_attention_scores=self.return_attention_scores,
                     use_causal_mask=self.use_causal_mask)


@register("multi_head_attention")
class MultiHeadAttention(LayerSpec):
    """Multi-head attention (Keras's `MultiHeadAttention`), as in the Transformer.

    Inputs: `[x]` (self-attention), `[query, value]` or `[query, value, key]`.
    The output has the query's features unless `output_shape` says otherwise.
    """

    min_inputs = 1
    max_inputs = 3
    num_heads: PositiveInt
    """Number of attention heads."""
    key_dim: PositiveInt
    """Size of each head for query and key."""
    value_dim: PositiveInt | None = None
    """Size of each head for the value (default: key_dim)."""
    dropout: Rate = 0.0
    """Dropout on the attention weights while training."""
    use_bias: bool = True
    output_shape: PositiveInt | None = None
    """Features of the output (default: the query's)."""
    use_causal_mask: bool = False
    """Step i of the query sees value steps ≤ i only (decoder self-attention)."""
    return_attention_scores: bool = False
    """Also output the weights (batch, heads, query steps, value steps)."""
    kernel_initializer: Initializer | None = None
    bias_initializer: Initializer | None = None
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None

    @model_validator(mode="after")
    def _size(self):
        if self.num_heads * self.key_dim > 100_000_000:
            raise ValueError("num_heads × key_dim is over 100,000,000")
        return self

    def check_shapes(self, shapes, sources):
        names = ("query", "value", "key")
        return _check_sequences("multi_head_attention", shapes, sources, names)

    def estimate_params(self, shapes):
        def features(i):
            if not shapes:
                return 1
            return input_size([shapes[min(i, len(shapes) - 1)]])

        query, value = features(0), features(1)
        key = features(2) if shapes and len(shapes) == 3 else value
        heads, kd = self.num_heads, self.key_dim
        vd = self.value_dim or kd
        out = self.output_shape or query
        bias = int(self.use_bias)
        return (heads * kd * (query + bias) + heads * kd * (key + bias)
                + heads * vd * (value + bias) + out * (heads * vd + bias))

    def infer_output_shape(self, shapes):
        query = shapes[0]
        value = shapes[1] if len(shapes) > 1 else query
        out = (query[0], query[1], self.output_shape_size(query))
        scores = (query[0], self.num_heads, query[1], value[1])
        return [out, scores] if self.return_attention_scores else out

    def output_shape_size(self, query: tuple) -> int | None:
        return self.output_shape if self.output_shape is not None else query[-1]

    def count_params(self, shapes):
        if any(s[-1] is None for s in shapes):
            return None
        return self.estimate_params(shapes)

    def build(self):
        import keras

        kwargs = part_weight_kwargs(self, ("kernel", "bias"))
        return keras.layers.MultiHeadAttention(
            self.num_heads, self.key_dim, value_dim=self.value_dim, dropout=self.dropout,
            use_bias=self.use_bias, output_shape=self.output_shape, **kwargs, **self.common())

    def call(self, layers, tensors):
        (layer,) = layers
        query = tensors[0]
        value = tensors[1] if len(tensors) > 1 else query
        key = tensors[2] if len(tensors) > 2 else None
        return layer(query, value, key=key,
                     return_attention_scores=self.return_attention_scores,
                     use_causal_mask=self.use_causal_mask)
