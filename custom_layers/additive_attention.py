"""Bahdanau's additive attention with learned projections (Burkov, appendix D)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from custom_layers._validation import check_positive_int


@keras.saving.register_keras_serializable(package="nncompile")
class BahdanauAttention(keras.layers.Layer):
    """Additive attention of a decoder state over encoder states.

    For a query (decoder state) ``s`` and values (encoder states)
    ``h_1..h_T``::

        q_j = vᵀ tanh(W_s s + W_h h_j)      alignment scores
        α   = softmax_j(q)                  masked steps get weight 0
        a   = Σ_j α_j h_j                   context vector

    Unlike `keras.layers.AdditiveAttention` (a parameter-free score), this
    layer learns ``W_s`` (``query_kernel``, ``(query_dim, units)``), ``W_h``
    (``key_kernel``, ``(value_dim, units)``) and ``v`` (``score_kernel``,
    ``(units, 1)``), plus ``query_bias`` and ``key_bias`` when ``use_bias``.

    Args:
        units: Positive integer, size of the alignment model's hidden layer.
        use_bias: Whether the two projections have biases.
        kernel_initializer: Initializer for the three kernels.
        bias_initializer: Initializer for the biases.
        kernel_regularizer: Regularizer applied to the three kernels.
        bias_regularizer: Regularizer applied to the biases.
        kernel_constraint: Constraint applied to the three kernels.
        bias_constraint: Constraint applied to the biases.
        **kwargs: Base layer keyword arguments, such as ``name`` and ``dtype``.

    Call arguments:
        inputs: A list ``[query, value]``. ``query`` is one decoder state
            ``(batch, query_dim)`` or a sequence of them
            ``(batch, Tq, query_dim)`` (teacher forcing attends with all
            decoder states at once); ``value`` is ``(batch, Tv, value_dim)``.
        mask: Either a list ``[query_mask, value_mask]`` or the value mask
            alone. ``value_mask`` ``(batch, Tv)``: false steps get exactly
            zero weight. ``query_mask`` ``(batch, Tq)``: the context of a
            false query step is zero.
        return_attention_scores: If true, also return the weights ``α``.
        training: Unused; accepted for the common layer signature.

    Returns:
        The context ``(batch, value_dim)`` for a single query or
        ``(batch, Tq, value_dim)`` for a sequence; with
        ``return_attention_scores=True`` the tuple ``(context, weights)``,
        weights of shape ``(batch, Tv)`` or ``(batch, Tq, Tv)``.

    Example:

    >>> layer = BahdanauAttention(8)
    >>> s, h = keras.ops.ones((2, 16)), keras.ops.ones((2, 5, 12))
    >>> context, weights = layer([s, h], return_attention_scores=True)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 12), (2, 5))
    """

    def __init__(
        self,
        units: int,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.supports_masking = True

    @staticmethod
    def _split_shapes(input_shape: Any) -> tuple[tuple, tuple]:
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                "Received an invalid value for argument `inputs`, expected a "
                f"list [query, value], got shapes {input_shape!r}."
            )
        query_shape, value_shape = (tuple(s) for s in input_shape)
        if len(query_shape) not in (2, 3) or len(value_shape) != 3:
            raise ValueError(
                "Received an invalid value for argument `inputs`, expected a "
                "query of rank 2 or 3 and a value of rank 3, got shapes "
                f"{query_shape} and {value_shape}."
            )
        return query_shape, value_shape

    def _kernel(self, name: str, shape: tuple[int, ...]) -> Any:
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )

    def _bias(self, name: str) -> Any:
        return self.add_weight(
            name=name,
            shape=(self.units,),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
            constraint=self.bias_constraint,
        )

    def build(self, input_shape: Any) -> None:
        query_shape, value_shape = self._split_shapes(input_shape)
        self.query_kernel = self._kernel("query_kernel", (query_shape[-1], self.units))
        self.key_kernel = self._kernel("key_kernel", (value_shape[-1], self.units))
        self.score_kernel = self._kernel("score_kernel", (self.units, 1))
        if self.use_bias:
            self.query_bias = self._bias("query_bias")
            self.key_bias = self._bias("key_bias")
        else:
            self.query_bias = None
            self.key_bias = None
        self.built = True

    @staticmethod
    def _split_mask(mask: Any) -> tuple[Any, Any]:
        if mask is None:
            return None, None
        if isinstance(mask, (list, tuple)):
            if len(mask) != 2:
                raise ValueError(
                    "Received an invalid value for argument `mask`, expected "
                    f"[query_mask, value_mask] or a value mask, got {len(mask)} masks."
                )
            return mask[0], mask[1]
        return None, mask

    def call(
        self,
        inputs: Any,
        mask: Any = None,
        return_attention_scores: bool = False,
        training: bool | None = None,
    ) -> Any:
        query, value = inputs
        query_mask, value_mask = self._split_mask(mask)
        single_step = len(query.shape) == 2
        if single_step:
            query = ops.expand_dims(query, 1)
            # A single query has no time axis, so no query mask applies.
            query_mask = None

        projected_query = ops.matmul(query, self.query_kernel)  # (B, Tq, units)
        projected_key = ops.matmul(value, self.key_kernel)  # (B, Tv, units)
        if self.use_bias:
            projected_query = projected_query + self.query_bias
            projected_key = projected_key + self.key_bias
        hidden = ops.tanh(
            ops.expand_dims(projected_query, 2) + ops.expand_dims(projected_key, 1)
        )  # (B, Tq, Tv, units)
        scores = ops.squeeze(ops.matmul(hidden, self.score_kernel), -1)  # (B, Tq, Tv)

        if value_mask is not None:
            keep = ops.expand_dims(ops.cast(value_mask, "bool"), 1)  # (B, 1, Tv)
            # exp(very negative - max) underflows to exactly 0 in softmax.
            very_negative = -1e9 if scores.dtype in ("float32", "float64") else -6e4
            scores = ops.where(keep, scores, ops.cast(very_negative, scores.dtype))
            weights = ops.softmax(scores, axis=-1)
            # A sequence with every step masked would get uniform weights;
            # zero them so that it attends to nothing.
            weights = weights * ops.cast(keep, weights.dtype)
        else:
            weights = ops.softmax(scores, axis=-1)

        context = ops.matmul(weights, value)  # (B, Tq, value_dim)
        if query_mask is not None:
            context = context * ops.expand_dims(ops.cast(query_mask, context.dtype), -1)
        if single_step:
            context = ops.squeeze(context, 1)
            weights = ops.squeeze(weights, 1)
        if return_attention_scores:
            return context, weights
        return context

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        query_mask, _ = self._split_mask(mask)
        if query_mask is None or len(inputs[0].shape) == 2:
            return None
        return query_mask

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        query_shape, value_shape = self._split_shapes(input_shape)
        return (*query_shape[:-1], value_shape[-1])

    def compute_output_spec(
        self,
        inputs: Any,
        mask: Any = None,
        return_attention_scores: bool = False,
        training: bool | None = None,
    ) -> Any:
        query, value = inputs
        query_shape, value_shape = self._split_shapes([query.shape, value.shape])
        context = keras.KerasTensor(
            self.compute_output_shape([query_shape, value_shape]), dtype=self.compute_dtype
        )
        if not return_attention_scores:
            return context
        weights = keras.KerasTensor(
            (*query_shape[:-1], value_shape[1]), dtype=self.compute_dtype
        )
        return context, weights

    def get_config(self) -> dict[str, Any]:
        config = {
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        }
        return {**super().get_config(), **config}
