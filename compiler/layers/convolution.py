"""The convolution families, generic in the number of spatial axes (see spatial.py).

`padding` takes `valid`, `same`, or integer widths as in the seeds (p zeros on
each side, or widths as zero_padding takes them); widths become a zero-padding
layer followed by a `valid` convolution, which is what the formula
(n + 2p − k)/s + 1 describes.

A layer type derives from ``Family.of(dims)`` in its own module, e.g.
``class Conv3D(Convolution.of(3))`` registered as `conv3d`.
"""

# Annotations here are objects, not strings (no `from __future__ import annotations`):
# pydantic evaluates a class's string annotations again for every subclass, which
# `nncompile validate` pays for at start-up.

from typing import Any

from pydantic import AliasChoices, Field, ValidationInfo, field_validator

from compiler.layers.base import WeightedSpec, input_size, part_weight_kwargs
from compiler.layers.params import (
    ActivationName,
    Initializer,
    NonNegativeInt,
    PaddingMode,
    PositiveInt,
    Regularizer,
    activation_to_keras,
    axis_widths,
    per_axis,
)
from compiler.layers.spatial import AnyRank, SpatialSpec, keras_class, shown, sizes


def _channels(shape: tuple) -> int | None:
    return shape[-1]


def transpose_output(size: int | None, kernel: int, stride: int, padding: str,
                     output_padding: int | None, dilation: int) -> int | None:
    """Length along one axis after a transposed convolution, as Keras computes it."""
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (size - 1) * stride + span + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + span % 2 + output_padding

AnyPadding = PaddingMode | NonNegativeInt | tuple


def conv_padding(dims: int) -> Any:
    """`valid`, `same`, or integer widths (as zero_padding takes them) over ``dims`` axes."""
    return PaddingMode | axis_widths(dims)


def output_padding(dims: int) -> Any:
    return per_axis(dims, NonNegativeInt) | None


def padding_layer(spec: SpatialSpec, padding: Any) -> tuple[str, Any]:
    """Keras's padding mode, and a zero-padding layer (or None) for integer widths."""
    if isinstance(padding, str):
        return padding, None
    from compiler.layers.resizing import ZeroPadding

    return "valid", keras_class(ZeroPadding, spec.dims)(padding, name=f"{spec.name}_pad")


def dilation_without_strides(dilation: Any, info: ValidationInfo) -> Any:
    # Keras refuses the combination only when the layer is built; say it here.
    strides = info.data.get("strides", 1)
    if max(sizes(dilation, 1)) > 1 and max(sizes(strides, 1)) > 1:
        raise ValueError(
            f"`dilation` {shown(dilation)} cannot be combined with `strides` "
            f"{shown(strides)}: a dilated convolution moves one step at a time (use "
            "strides: 1 and a pooling layer after it, or dilation: 1)")
    return dilation


def _with_padding(layer: Any, pad: Any) -> Any:
    return [pad, layer] if pad else layer


class Convolution(SpatialSpec, WeightedSpec):
    """A convolution: `filters` kernels slid over the spatial axes."""

    keras_classes = {1: "Conv1D", 2: "Conv2D", 3: "Conv3D"}
    axis_fields = {"kernel": per_axis, "strides": per_axis, "padding": conv_padding,
                   "dilation": per_axis}

    filters: PositiveInt
    """Number of filters (output channels)."""
    kernel: AnyRank = Field(validation_alias=AliasChoices("kernel", "kernel_size"))
    """Filter size, e.g. 3 or [3, 5]."""
    strides: AnyRank = Field(1, validation_alias=AliasChoices("strides", "stride"))
    """Step of the filter."""
    padding: AnyPadding = "valid"
    """valid (no padding), same (keep the size at stride 1), or a width p of zeros per side."""
    dilation: AnyRank = Field(1, validation_alias=AliasChoices("dilation", "dilation_rate"))
    """Spacing between filter taps (atrous convolution)."""
    groups: PositiveInt = 1
    """Split channels into groups convolved separately."""
    activation: ActivationName | None = None
    use_bias: bool = True

    @field_validator("dilation")
    @classmethod
    def _not_with_strides(cls, dilation, info: ValidationInfo):
        return dilation_without_strides(dilation, info)

    def check_shapes(self, shapes, sources):
        channels = shapes[0][-1]
        kernel = (*sizes(self.kernel, self.dims),
                  None if channels is None else channels // self.groups, self.filters)
        return (self.rank_problem(shapes, sources)
                or self.window_problem(shapes, sources, self.kernel, self.padding,
                                       self.dilation)
                or self.initializer_problem(kernel, (self.filters,)))

    def estimate_params(self, shapes):
        channels = max(1, input_size(shapes) // self.groups)
        return self.filters * (self.window(self.kernel) * channels + int(self.use_bias))

    def infer_output_shape(self, shapes):
        shape = shapes[0]
        if shape[-1] is not None and shape[-1] % self.groups:
            from compiler.layers.base import ShapeProblem

            raise ShapeProblem(f"{self.type_name}: {shape[-1]} input channels of "
                               f"'{self.inputs[0]}' do not split into {self.groups} groups")
        out = self.windowed(shape, self.kernel, self.strides, self.padding, self.dilation)
        return (shape[0], *out, self.filters)

    def count_params(self, shapes):
        channels = _channels(shapes[0])
        if channels is None:
            return None
        return self.filters * (self.window(self.kernel) * (channels // self.groups)
                               + int(self.use_bias))

    def build(self):
        mode, pad = padding_layer(self, self.padding)
        conv = self.keras_class()(
            self.filters, self.kernel, strides=self.strides, padding=mode,
            dilation_rate=self.dilation, groups=self.groups,
            activation=activation_to_keras(self.activation), use_bias=self.use_bias,
            **self.weight_kwargs(), **self.common())
        return _with_padding(conv, pad)


class ConvTranspose(SpatialSpec, WeightedSpec):
    """A transposed convolution (learned upsampling)."""

    keras_classes = {1: "Conv1DTranspose", 2: "Conv2DTranspose", 3: "Conv3DTranspose"}
    axis_fields = {"kernel": per_axis, "strides": per_axis, "output_padding": output_padding,
                   "dilation": per_axis}

    filters: PositiveInt
    """Number of filters (output channels)."""
    kernel: AnyRank = Field(validation_alias=AliasChoices("kernel", "kernel_size"))
    """Filter size, e.g. 3 or [3, 5]."""
    strides: AnyRank = Field(1, validation_alias=AliasChoices("strides", "stride"))
    """Upsampling factor: each input step spreads over this many output steps."""
    padding: PaddingMode = "valid"
    """valid: output (n − 1)·s + k; same: output n·s."""
    output_padding: NonNegativeInt | tuple[NonNegativeInt, ...] | None = None
    """Extra rows/steps at the end of the output (each below the stride)."""
    dilation: AnyRank = Field(1, validation_alias=AliasChoices("dilation", "dilation_rate"))
    """Spacing between filter taps."""
    activation: ActivationName | None = None
    use_bias: bool = True

    @field_validator("output_padding")
    @classmethod
    def _below_strides(cls, output_padding, info: ValidationInfo):
        if output_padding is None:
            return None
        strides = sizes(info.data.get("strides", 1), cls.dims)
        if isinstance(output_padding, tuple) and len(output_padding) != cls.dims:
            raise ValueError(f"`output_padding` is one number or {cls.dims} numbers")
        for pad, stride in zip(sizes(output_padding, cls.dims), strides, strict=False):
            if pad >= stride:
                raise ValueError(f"`output_padding` {shown(output_padding)} must be smaller "
                                 f"than `strides` {shown(info.data.get('strides', 1))}")
        return output_padding

    def check_shapes(self, shapes, sources):
        return self.rank_problem(shapes, sources)

    def estimate_params(self, shapes):
        return self.filters * (self.window(self.kernel) * input_size(shapes)
                               + int(self.use_bias))

    def infer_output_shape(self, shapes):
        shape = shapes[0]
        pads = (sizes(self.output_padding, self.dims) if self.output_padding is not None
                else (None,) * self.dims)
        out = tuple(transpose_output(n, k, s, self.padding, p, d) for n, k, s, p, d in zip(
            self.spatial(shape), sizes(self.kernel, self.dims), sizes(self.strides, self.dims),
            pads, sizes(self.dilation, self.dims), strict=True))
        return (shape[0], *out, self.filters)

    def count_params(self, shapes):
        channels = _channels(shapes[0])
        if channels is None:
            return None
        return self.filters * (self.window(self.kernel) * channels + int(self.use_bias))

    def build(self):
        return self.keras_class()(
            self.filters, self.kernel, strides=self.strides, padding=self.padding,
            output_padding=self.output_padding, dilation_rate=self.dilation,
            activation=activation_to_keras(self.activation), use_bias=self.use_bias,
            **self.weight_kwargs(), **self.common())


class DepthwiseConvolution(SpatialSpec, WeightedSpec):
    """One filter per input channel (times depth_multiplier), no mixing of channels."""

    keras_classes = {1: "DepthwiseConv1D", 2: "DepthwiseConv2D"}
    axis_fields = {"kernel": per_axis, "strides": per_axis, "padding": conv_padding,
                   "dilation": per_axis}

    # Keras calls the kernel of this layer `depthwise_kernel`: its names are accepted too.
    kernel_initializer: Initializer | None = Field(
        None, validation_alias=AliasChoices("kernel_initializer", "depthwise_initializer"))
    """Initial depthwise kernel (Keras: depthwise_initializer), e.g. he_normal."""
    kernel_regularizer: Regularizer | None = Field(
        None, validation_alias=AliasChoices("kernel_regularizer", "depthwise_regularizer"))
    """Weight penalty on the depthwise kernel (Keras: depthwise_regularizer), e.g. {l2: 1e-4}."""
    kernel: AnyRank = Field(validation_alias=AliasChoices("kernel", "kernel_size"))
    strides: AnyRank = Field(1, validation_alias=AliasChoices("strides", "stride"))
    padding: AnyPadding = "valid"
    depth_multiplier: PositiveInt = 1
    dilation: AnyRank = Field(1, validation_alias=AliasChoices("dilation", "dilation_rate"))
    """Spacing between filter taps (atrous convolution)."""
    activation: ActivationName | None = None
    use_bias: bool = True

    @field_validator("dilation")
    @classmethod
    def _not_with_strides(cls, dilation, info: ValidationInfo):
        return dilation_without_strides(dilation, info)

    def check_shapes(self, shapes, sources):
        return (self.rank_problem(shapes, sources)
                or self.window_problem(shapes, sources, self.kernel, self.padding,
                                       self.dilation))

    def estimate_params(self, shapes):
        depth = input_size(shapes) * self.depth_multiplier
        return depth * (self.window(self.kernel) + int(self.use_bias))

    def infer_output_shape(self, shapes):
        shape = shapes[0]
        out = self.windowed(shape, self.kernel, self.strides, self.padding, self.dilation)
        channels = _channels(shape)
        return (shape[0], *out, None if channels is None else channels * self.depth_multiplier)

    def count_params(self, shapes):
        channels = _channels(shapes[0])
        if channels is None:
            return None
        return channels * self.depth_multiplier * (self.window(self.kernel) + int(self.use_bias))

    def build(self):
        mode, pad = padding_layer(self, self.padding)
        conv = self.keras_class()(
            self.kernel, strides=self.strides, padding=mode,
            depth_multiplier=self.depth_multiplier, dilation_rate=self.dilation,
            activation=activation_to_keras(self.activation), use_bias=self.use_bias,
            **self.weight_kwargs("depthwise"), **self.common())
        return _with_padding(conv, pad)


class SeparableConvolution(SpatialSpec):
    """A depthwise convolution followed by a 1×1 pointwise convolution."""

    keras_classes = {1: "SeparableConv1D", 2: "SeparableConv2D"}
    axis_fields = {"kernel": per_axis, "strides": per_axis, "padding": conv_padding,
                   "dilation": per_axis}

    filters: PositiveInt
    kernel: AnyRank = Field(validation_alias=AliasChoices("kernel", "kernel_size"))
    strides: AnyRank = Field(1, validation_alias=AliasChoices("strides", "stride"))
    padding: AnyPadding = "valid"
    depth_multiplier: PositiveInt = 1
    dilation: AnyRank = Field(1, validation_alias=AliasChoices("dilation", "dilation_rate"))
    """Spacing between the depthwise filter's taps (atrous convolution)."""
    activation: ActivationName | None = None
    use_bias: bool = True
    depthwise_initializer: Initializer | None = None
    pointwise_initializer: Initializer | None = None
    depthwise_regularizer: Regularizer | None = None
    pointwise_regularizer: Regularizer | None = None

    @field_validator("dilation")
    @classmethod
    def _not_with_strides(cls, dilation, info: ValidationInfo):
        return dilation_without_strides(dilation, info)

    def check_shapes(self, shapes, sources):
        return (self.rank_problem(shapes, sources)
                or self.window_problem(shapes, sources, self.kernel, self.padding,
                                       self.dilation))

    def estimate_params(self, shapes):
        depth = input_size(shapes) * self.depth_multiplier
        return (depth * self.window(self.kernel) + depth * self.filters
                + self.filters * int(self.use_bias))

    def infer_output_shape(self, shapes):
        shape = shapes[0]
        out = self.windowed(shape, self.kernel, self.strides, self.padding, self.dilation)
        return (shape[0], *out, self.filters)

    def count_params(self, shapes):
        channels = _channels(shapes[0])
        if channels is None:
            return None
        depth = channels * self.depth_multiplier
        return (depth * self.window(self.kernel) + depth * self.filters
                + self.filters * int(self.use_bias))

    def build(self):
        kwargs = part_weight_kwargs(self, ("depthwise", "pointwise"))
        mode, pad = padding_layer(self, self.padding)
        conv = self.keras_class()(
            self.filters, self.kernel, strides=self.strides, padding=mode,
            depth_multiplier=self.depth_multiplier, dilation_rate=self.dilation,
            activation=activation_to_keras(self.activation), use_bias=self.use_bias,
            **kwargs, **self.common())
        return _with_padding(conv, pad)
