"""The 1-D and 2-D convolution, pooling, padding, cropping and upsampling layer types.

Each type is its family (convolution.py, pooling.py, resizing.py) over one or two
spatial axes; what differs from the family is written here.
"""

# Annotations here are objects, not strings (no `from __future__ import annotations`):
# pydantic evaluates a class's string annotations again for every subclass, which
# `nncompile validate` pays for at start-up.

from typing import Any, Literal

from pydantic import AliasChoices, Field

from compiler.layers.base import register
from compiler.layers.convolution import (
    Convolution,
    ConvTranspose,
    DepthwiseConvolution,
    SeparableConvolution,
    conv_padding,
)
from compiler.layers.params import CausalPadding, PositiveInt, axis_widths, per_axis
from compiler.layers.pooling import (
    AveragePooling,
    GlobalAveragePooling,
    GlobalMaxPooling,
    MaxPooling,
)
from compiler.layers.resizing import Cropping, UpSampling, ZeroPadding

# The 1-D convolutions and poolings have always accepted a pair where Keras takes
# one number: Keras refuses it when the layer is built, and the error is located
# there. Kept as it was, so that a spec's first error stays the one it reported.
_PAIR = per_axis(2)


@register("conv2d", keras=("Convolution2D",))
class Conv2D(Convolution.of(2)):
    """2-D convolution over images (height, width, channels)."""


@register("conv1d", keras=("Convolution1D",))
class Conv1D(Convolution.of(1, kernel=_PAIR, strides=_PAIR, dilation=_PAIR)):
    """1-D convolution over sequences (steps, channels)."""

    padding: conv_padding(1) | CausalPadding = "valid"
    """valid, same, causal (no look-ahead), or a width p of zeros per side."""


@register("conv2d_transpose", keras=("Convolution2DTranspose",))
class Conv2DTranspose(ConvTranspose.of(2)):
    """Transposed 2-D convolution (learned upsampling)."""


@register("conv1d_transpose", keras=("Convolution1DTranspose",))
class Conv1DTranspose(ConvTranspose.of(1)):
    """Transposed 1-D convolution (learned upsampling of a sequence)."""

    kernel: PositiveInt = Field(validation_alias=AliasChoices("kernel", "kernel_size"))
    strides: PositiveInt = Field(1, validation_alias=AliasChoices("strides", "stride"))
    dilation: PositiveInt = Field(1, validation_alias=AliasChoices("dilation", "dilation_rate"))


@register("depthwise_conv2d")
class DepthwiseConv2D(DepthwiseConvolution.of(2)):
    """One filter per input channel (times depth_multiplier), no mixing of channels."""


@register("separable_conv2d", keras=("SeparableConvolution2D",))
class SeparableConv2D(SeparableConvolution.of(2)):
    """Depthwise convolution followed by a 1×1 pointwise convolution."""


@register("separable_conv1d", keras=("SeparableConvolution1D",))
class SeparableConv1D(SeparableConvolution.of(1, kernel=_PAIR, strides=_PAIR, dilation=_PAIR)):
    """Depthwise-separable convolution over sequences."""


@register("max_pool2d", keras=("MaxPooling2D",))
class MaxPool2D(MaxPooling.of(2)):
    """Maximum over each window of an image."""


@register("avg_pool2d", keras=("AveragePooling2D",))
class AvgPool2D(AveragePooling.of(2)):
    """Average over each window of an image."""


@register("max_pool1d", keras=("MaxPooling1D",))
class MaxPool1D(MaxPooling.of(1, pool=_PAIR, strides=_PAIR | None)):
    """Maximum over each window of a sequence."""


@register("avg_pool1d", keras=("AveragePooling1D",))
class AvgPool1D(AveragePooling.of(1, pool=_PAIR, strides=_PAIR | None)):
    """Average over each window of a sequence."""


@register("global_avg_pool2d", keras=("GlobalAveragePooling2D",))
class GlobalAvgPool2D(GlobalAveragePooling.of(2)):
    """Average of each feature map → one value per channel."""


@register("global_max_pool2d", keras=("GlobalMaxPooling2D",))
class GlobalMaxPool2D(GlobalMaxPooling.of(2)):
    """Maximum of each feature map."""


@register("global_avg_pool1d", keras=("GlobalAveragePooling1D",))
class GlobalAvgPool1D(GlobalAveragePooling.of(1)):
    """Average over the steps of a sequence."""


@register("global_max_pool1d", keras=("GlobalMaxPooling1D",))
class GlobalMaxPool1D(GlobalMaxPooling.of(1)):
    """Maximum over the steps of a sequence."""


@register("zero_padding2d")
class ZeroPadding2D(ZeroPadding.of(2)):
    """Add rows and columns of zeros around an image."""


@register("zero_padding1d")
class ZeroPadding1D(ZeroPadding.of(1)):
    """Add zero steps at both ends of a sequence."""


@register("cropping2d")
class Cropping2D(Cropping.of(2)):
    """Remove rows and columns at the borders of an image."""


@register("cropping1d")
class Cropping1D(Cropping.of(1)):
    """Remove steps at the start and end of a sequence: `cropping: [start, end]` or one number."""

    cropping: axis_widths(1) = 1


@register("upsampling2d", keras=("UpSampling2D",))
class UpSampling2D(UpSampling.of(2)):
    """Repeat rows and columns (nearest) or interpolate (bilinear)."""

    interpolation: Literal["nearest", "bilinear"] = "nearest"

    def options(self) -> dict[str, Any]:
        return {"interpolation": self.interpolation}


@register("upsampling1d", keras=("UpSampling1D",))
class UpSampling1D(UpSampling.of(1)):
    """Repeat each step `size` times."""

    size: PositiveInt = 2
