"""Distance between two embeddings, the head of a siamese network."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

METRICS = ("euclidean", "manhattan", "cosine")


@keras.saving.register_keras_serializable(package="nncompile")
class PairwiseDistance(keras.layers.Layer):
    """Row-wise distance between two batches of vectors.

    ``euclidean``: ``sqrt(Σ (a − b)² + epsilon)``; the epsilon keeps the
    gradient finite when ``a == b`` (a contrastive loss pulls matching pairs
    exactly there). ``manhattan``: ``Σ |a − b|``. ``cosine``:
    ``1 − a·b / (‖a‖ ‖b‖)``, with the norms floored at ``sqrt(epsilon)``.

    Args:
        metric: One of ``"euclidean"``, ``"manhattan"``, ``"cosine"``.
        epsilon: Small positive float, see above.
        **kwargs: Base layer keyword arguments, such as ``name`` and ``dtype``.

    Call arguments:
        inputs: A list ``[a, b]`` of two tensors ``(batch, d)``.

    Returns:
        The distances, shape ``(batch, 1)``.

    Example:

    >>> a, b = keras.ops.zeros((4, 3)), keras.ops.ones((4, 3))
    >>> tuple(PairwiseDistance("manhattan")([a, b]).shape)
    (4, 1)
    """

    def __init__(self, metric: str = "euclidean", epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if metric not in METRICS:
            raise ValueError(
                "Received an invalid value for argument `metric`, expected one "
                f"of {', '.join(METRICS)}, got {metric!r}."
            )
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(
                "Received an invalid value for argument `epsilon`, expected a "
                f"positive float, got {epsilon!r}."
            )
        self.metric = metric
        self.epsilon = float(epsilon)

    def _check_shapes(self, input_shape: Any) -> tuple[tuple, tuple]:
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                "Received an invalid value for argument `inputs`, expected a "
                f"list [a, b], got shapes {input_shape!r}."
            )
        a_shape, b_shape = (tuple(s) for s in input_shape)
        if len(a_shape) != 2 or len(b_shape) != 2 or a_shape[-1] != b_shape[-1]:
            raise ValueError(
                "Received an invalid value for argument `inputs`, expected two "
                f"tensors (batch, d) with the same d, got shapes {a_shape} and {b_shape}."
            )
        return a_shape, b_shape

    def build(self, input_shape: Any) -> None:
        self._check_shapes(input_shape)
        self.built = True

    def call(self, inputs: Any) -> Any:
        a, b = inputs
        if self.metric == "euclidean":
            squared = ops.sum(ops.square(a - b), axis=-1, keepdims=True)
            return ops.sqrt(squared + self.epsilon)
        if self.metric == "manhattan":
            return ops.sum(ops.abs(a - b), axis=-1, keepdims=True)
        a_norm = ops.sqrt(ops.maximum(ops.sum(ops.square(a), axis=-1, keepdims=True), self.epsilon))
        b_norm = ops.sqrt(ops.maximum(ops.sum(ops.square(b), axis=-1, keepdims=True), self.epsilon))
        similarity = ops.sum(a * b, axis=-1, keepdims=True) / (a_norm * b_norm)
        return 1.0 - similarity

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, int]:
        a_shape, _ = self._check_shapes(input_shape)
        return (a_shape[0], 1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "metric": self.metric, "epsilon": self.epsilon}
