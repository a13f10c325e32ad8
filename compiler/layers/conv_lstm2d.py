"""`conv_lstm2d`: an LSTM whose gates are convolutions, over sequences of images.

Keras's ConvLSTM2D (Shi et al., 2015): the input is (steps, height, width,
channels); the states h and c are feature maps (height', width', filters), and
each gate is a convolution of x_t plus a `same` convolution of h_{t-1}. Like
the other recurrent layers it takes initial states as further inputs,
`return_state: true` gives h and c as `name[1]`, `name[2]`, and `bidirectional`
wraps it.

    - conv_lstm2d: {filters: 16, kernel: 3, padding: same, return_sequences: true}
"""

from __future__ import annotations

import math
from typing import ClassVar

from pydantic import AliasChoices, Field, ValidationInfo, field_validator

from compiler.layers.base import input_size, register
from compiler.layers.convolution import dilation_without_strides
from compiler.layers.params import (
    ActivationName,
    Initializer,
    PaddingMode,
    PositiveInt,
    Rate,
    Regularizer,
    activation_to_keras,
    initializer_to_keras,
    per_axis,
    regularizer_to_keras,
)
from compiler.layers.recurrent import RecurrentSpec
from compiler.layers.spatial import AnyRank, SpatialSpec, sizes


class ConvLSTM(SpatialSpec, RecurrentSpec):
    """An LSTM whose input and recurrent transformations are convolutions."""

    keras_classes = {1: "ConvLSTM1D", 2: "ConvLSTM2D", 3: "ConvLSTM3D"}
    axis_fields = {"kernel": per_axis, "strides": per_axis, "dilation": per_axis}
    leading_axes = 1  # (batch, steps, spatial axes..., channels)
    state_names: ClassVar[tuple[str, ...]] = ("h", "c")

    filters: PositiveInt
    """Number of filters: the channels of the output and of the states h and c."""
    kernel: AnyRank = Field(validation_alias=AliasChoices("kernel", "kernel_size"))
    """Filter size of the input and recurrent convolutions, e.g. 3 or [3, 5]."""
    strides: AnyRank = Field(1, validation_alias=AliasChoices("strides", "stride"))
    """Step of the input convolution."""
    padding: PaddingMode = "valid"
    """valid (the states shrink by kernel − 1) or same (they keep the input's size)."""
    dilation: AnyRank = Field(1, validation_alias=AliasChoices("dilation", "dilation_rate"))
    """Spacing between filter taps of the input convolution."""
    activation: ActivationName = "tanh"
    """Activation of the candidate state and of the output."""
    recurrent_activation: ActivationName = "sigmoid"
    """Activation of the gates."""
    use_bias: bool = True
    unit_forget_bias: bool = True
    """Start the forget-gate bias at 1."""
    return_sequences: bool = False
    """Output h_t at every step (for stacking, next-frame prediction) instead of the last one."""
    return_state: bool = False
    """Also output the final states h and c: refer to them as name[1], name[2]."""
    go_backwards: bool = False
    """Read the sequence from the end."""
    dropout: Rate = 0.0
    """Dropout on the inputs x_t."""
    recurrent_dropout: Rate = 0.0
    """Dropout on the recurrent state h_{t-1}."""
    recurrent_initializer: Initializer | None = None
    recurrent_regularizer: Regularizer | None = None

    @field_validator("dilation")
    @classmethod
    def _not_with_strides(cls, dilation, info: ValidationInfo):
        return dilation_without_strides(dilation, info)

    def check_shapes(self, shapes, sources):
        return (self.rank_problem(shapes, sources)
                or self.window_problem(shapes, sources, self.kernel, self.padding,
                                       self.dilation)
                or self.check_initial_states(shapes[1:], sources[1:], sequence=shapes[0]))

    def state_shape(self, sequence):
        """(height', width', filters): the input convolution's output size."""
        spatial = tuple(sequence[2:2 + self.dims]) if sequence else (None,) * self.dims
        out = []
        for size, k, s, d in zip(spatial, sizes(self.kernel, self.dims),
                                 sizes(self.strides, self.dims), sizes(self.dilation, self.dims),
                                 strict=True):
            if size is None:
                out.append(None)
            elif self.padding == "same":
                out.append(math.ceil(size / s))
            else:
                out.append((size - ((k - 1) * d + 1)) // s + 1)
        shown = "×".join("?" if n is None else str(n) for n in out)
        return (*out, self.filters), f"has filters {self.filters} and outputs {shown}"

    def estimate_params(self, shapes):
        # Four gates, each a kernel over x_t (channels) and over h_{t-1} (filters), and a bias.
        window = self.window(self.kernel)
        return 4 * self.filters * (window * (input_size(shapes) + self.filters)
                                   + int(self.use_bias))

    def infer_output_shape(self, shapes):
        state, _ = self.state_shape(shapes[0])
        batch = shapes[0][0]
        out = (batch, shapes[0][1], *state) if self.return_sequences else (batch, *state)
        return [out, (batch, *state), (batch, *state)] if self.return_state else out

    def count_params(self, shapes):
        channels = shapes[0][-1]
        if channels is None:
            return None
        return 4 * self.filters * (self.window(self.kernel) * (channels + self.filters)
                                   + int(self.use_bias))

    def build(self):
        kwargs = self.weight_kwargs()
        if self.recurrent_initializer is not None:
            kwargs["recurrent_initializer"] = initializer_to_keras(self.recurrent_initializer)
        if self.recurrent_regularizer is not None:
            kwargs["recurrent_regularizer"] = regularizer_to_keras(self.recurrent_regularizer)
        return self.keras_class()(
            self.filters, self.kernel, strides=self.strides, padding=self.padding,
            dilation_rate=self.dilation, activation=activation_to_keras(self.activation),
            recurrent_activation=activation_to_keras(self.recurrent_activation),
            use_bias=self.use_bias, unit_forget_bias=self.unit_forget_bias,
            return_sequences=self.return_sequences, return_state=self.return_state,
            go_backwards=self.go_backwards, dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout, **kwargs, **self.common())


@register("conv_lstm2d")
class ConvLSTM2D(ConvLSTM.of(2)):
    """Convolutional LSTM over sequences of images (steps, height, width, channels)."""
