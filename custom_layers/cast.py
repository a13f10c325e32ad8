"""A layer that changes the dtype of its input."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="nncompile")
class Cast(keras.layers.Layer):
    """Cast the input to `dtype` (e.g. token ids stored as floats → int32).

    Args:
        dtype: Target dtype name, e.g. "int32" or "float32".

    Example:

    >>> Cast("int32")(keras.ops.ones((2, 3))).dtype  # int32
    """

    def __init__(self, target_dtype: str = "float32", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_dtype = target_dtype

    def call(self, inputs):
        return ops.cast(inputs, self.target_dtype)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape, dtype=self.target_dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_dtype": self.target_dtype}
