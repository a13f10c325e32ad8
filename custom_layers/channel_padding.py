"""Zeros added as extra channels (the last axis): the option-A shortcut of ResNet."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="nncompile")
class ChannelPadding(keras.layers.Layer):
    """Add ``before`` channels of zeros in front of the last axis and ``after`` behind it.

    He et al.'s option A (ResNet-20 on CIFAR-10) widens the identity shortcut
    this way where a stage doubles the channels, with no weights.

    Args:
        before: Zero channels added before the input's.
        after: Zero channels added after them.

    Example:

    >>> ChannelPadding(2, 2)(keras.ops.ones((1, 4, 4, 3))).shape
    (1, 4, 4, 7)
    """

    def __init__(self, before: int = 0, after: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, value in (("before", before), ("after", after)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Received an invalid value for argument `{name}`, expected "
                                 f"a whole number ≥ 0, got {value!r}.")
        self.before, self.after = before, after
        self.supports_masking = True

    def call(self, inputs):
        widths = [[0, 0]] * (len(inputs.shape) - 1) + [[self.before, self.after]]
        return ops.pad(inputs, widths)

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        return (*input_shape[:-1],
                None if channels is None else channels + self.before + self.after)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "before": self.before, "after": self.after}
