"""Convolutional layers: convolutions, pooling, padding, cropping, upsampling.

`padding` takes `valid`, `same`, or an integer width as in the seeds (p zeros on
each side); an integer becomes a zero-padding layer followed by a `valid`
convolution, which is what the formula (n + 2p − k)/s + 1 describes.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AliasChoices, Field, ValidationInfo, field_validator

from compiler.layers.base import (
    LayerSpec,
    WeightedSpec,
    input_size,
    part_weight_kwargs,
    rank_message,
    register,
)
from compiler.layers.params import (
    ActivationName,
    CausalPadding,
    Initializer,
    IntOrPair,
    Padding,
    PaddingMode,
    PositiveInt,
    Regularizer,
    activation_to_keras,
)

_RANK_HINT = {1: "(steps, channels)", 2: "(height, width, channels)"}


def _rank_check(kind: str, dims: int, shapes, sources) -> str | None:
    if len(shapes[0]) != dims + 2:
        hint = ("add `- reshape: [...]` to give the data channels" if len(shapes[0]) == dims + 1
                else "add a reshape, or use a layer for this rank")
        return rank_message(kind, f"{dims + 1}-D examples {_RANK_HINT[dims]}", shapes[0],
                            sources[0], hint)
    return None


def _tuple(value, dims: int):
    return (value,) * dims if isinstance(value, int) else tuple(value)


def _window(kernel, dims: int) -> int:
    size = 1
    for k in _tuple(kernel, dims):
        size *= k
    return size


def _shown(value) -> str:
    return str(value) if isinstance(value, int) else "[" + ", ".join(map(str, value)) + "]"


def _padding_layers(padding, dims: int, name: str):
    """Keras padding mode, and a zero-padding layer for an integer width."""
    if isinstance(padding, str):
        return padding, None
    import keras

    cls = keras.layers.ZeroPadding1D if dims == 1 else keras.layers.ZeroPadding2D
    return "valid", cls(padding, name=f"{name}_pad")


def _too_small(shapes, sources, kernel, strides, padding, dims, kind, dilation=1) -> str | None:
    if padding == "same":
        return None
    pad = _tuple(padding, dims) if not isinstance(padding, str) else (0,) * dims
    k = _tuple(kernel, dims)
    dil = _tuple(dilation, dims)
    for axis in range(dims):
        size = shapes[0][1 + axis]
        if size is None:
            continue
        span = (k[axis] - 1) * dil[axis] + 1
        if size + 2 * pad[axis] < span:
            return (f"{kind}: window {k[axis]} is larger than the input ({size}"
                    f"{f' + 2·{pad[axis]} padding' if pad[axis] else ''}) along axis {axis + 1} "
                    f"of shape {tuple(shapes[0][1:])} from '{sources[0]}'; use padding: same "
                    "or a smaller kernel")
    return None


def _dilation_without_strides(dilation, info: ValidationInfo):
    # Keras refuses the combination only when the layer is built; say it here.
    strides = info.data.get("strides", 1)
    if max(_tuple(dilation, 2)) > 1 and max(_tuple(strides, 2)) > 1:
        raise ValueError(
            f"`dilation` {_shown(dilation)} cannot be combined with `strides` "
            f"{_shown(strides)}: a dilated convolution moves one step at a time (use "
            "strides: 1 and a pooling layer after it, or dilation: 1)")
    return dilation


class _Conv(WeightedSpec):
    dims: ClassVar = 2
    filters: PositiveInt
    """Number of filters (output channels)."""
    kernel: IntOrPair = Field(validation_alias=AliasChoices("kernel", "kernel_size"))
    """Filter size, e.g. 3 or [3, 5]."""
    strides: IntOrPair = Field(1, validation_alias=AliasChoices("strides", "stride"))
    """Step of the filter."""
    padding: Padding = "valid"
    """valid (no padding), same (keep the size at stride 1), or a width p of zeros per side."""
    dilation: IntOrPair = Field(1, validation_alias=AliasChoices("dilation", "dilation_rate"))
    """Spacing between filter taps (atrous convolution)."""
    groups: PositiveInt = 1
    """Split channels into groups convolved separately."""
    activation: ActivationName | None = None
    use_bias: bool = True

    @field_validator("dilation")
    @classmethod
    def _not_with_strides(cls, dilation, info: ValidationInfo):
        return _dilation_without_strides(dilation, info)

    def check_shapes(self, shapes, sources):
        return (_rank_check(self.type_name, self.dims, shapes, sources)
                or _too_small(shapes, sources, self.kernel, self.strides, self.padding, self.dims,
                              self.type_name, self.dilation))

    def estimate_params(self, shapes):
        channels = max(1, input_size(shapes) // self.groups)
        return self.filters * (_window(self.kernel, self.dims) * channels + int(self.use_bias))

    def build(self):
        import keras

        cls = keras.layers.Conv1D if self.dims == 1 else keras.layers.Conv2D
        mode, pad = _padding_layers(self.padding, self.dims, self.name)
        conv = cls(self.filters, self.kernel, strides=self.strides, padding=mode,
                   dilation_rate=self.dilation, groups=self.groups,
                   activation=activation_to_keras(self.activation), use_bias=self.use_bias,
                   **self.weight_kwargs(), **self.common())
        return [pad, conv] if pad else conv


@register("conv2d")
class Conv2D(_Conv):
    """2-D convolution over images (height, width, channels)."""


@register("conv1d")
class Conv1D(_Conv):
    """1-D convolution over sequences (steps, channels)."""

    dims: ClassVar = 1
    padding: Padding | CausalPadding = "valid"
    """valid, same, causal (no look-ahead), or a width p of zeros per side."""


class _ConvTranspose(WeightedSpec):
    dims: ClassVar = 2
    filters: PositiveInt
    """Number of filters (output channels)."""
    kernel: IntOrPair = Field(validation_alias=AliasChoices("kernel", "kernel_size"))
    """Filter size, e.g. 3 or [3, 5]."""
    strides: IntOrPair = Field(1, validation_alias=AliasChoices("strides", "stride"))
    """Upsampling factor: each input step spreads over this many output steps."""
    padding: PaddingMode = "valid"
    """valid: output (n − 1)·s + k; same: output n·s."""
    output_padding: Annotated[int, Field(ge=0)] | tuple[Annotated[int, Field(ge=0)],
                                                        Annotated[int, Field(ge=0)]] | None = None
    """Extra rows/steps at the end of the output (each below the stride)."""
    dilation: IntOrPair = Field(1, validation_alias=AliasChoices("dilation", "dilation_rate"))
    """Spacing between filter taps."""
    activation: ActivationName | None = None
    use_bias: bool = True

    @field_validator("output_padding")
    @classmethod
    def _below_strides(cls, output_padding, info: ValidationInfo):
        if output_padding is None:
            return None
        strides = _tuple(info.data.get("strides", 1), cls.dims)
        if isinstance(output_padding, tuple) and len(output_padding) != cls.dims:
            raise ValueError(f"`output_padding` is one number or {cls.dims} numbers")
        for pad, stride in zip(_tuple(output_padding, cls.dims), strides):
            if pad >= stride:
                raise ValueError(f"`output_padding` {_shown(output_padding)} must be smaller "
                                 f"than `strides` {_shown(info.data.get('strides', 1))}")
        return output_padding

    def check_shapes(self, shapes, sources):
        return _rank_check(self.type_name, self.dims, shapes, sources)

    def estimate_params(self, shapes):
        return self.filters * (_window(self.kernel, self.dims) * input_size(shapes)
                               + int(self.use_bias))

    def build(self):
        import keras

        cls = keras.layers.Conv1DTranspose if self.dims == 1 else keras.layers.Conv2DTranspose
        return cls(self.filters, self.kernel, strides=self.strides, padding=self.padding,
                   output_padding=self.output_padding, dilation_rate=self.dilation,
                   activation=activation_to_keras(self.activation), use_bias=self.use_bias,
                   **self.weight_kwargs(), **self.common())


@register("conv2d_transpose")
class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution (learned upsampling)."""


@register("conv1d_transpose")
class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution (learned upsampling of a sequence)."""

    dims: ClassVar = 1
    kernel: PositiveInt = Field(validation_alias=AliasChoices("kernel", "kernel_size"))
    strides: PositiveInt = Field(1, validation_alias=AliasChoices("strides", "stride"))
    dilation: PositiveInt = Field(1, validation_alias=AliasChoices("dilation", "dilation_rate"))


@register("depthwise_conv2d")
class DepthwiseConv2D(WeightedSpec):
    """One filter per input channel (times depth_multiplier), no mixing of channels."""

    # Keras calls the kernel of this layer `depthwise_kernel`: its names are accepted too.
    kernel_initializer: Initializer | None = Field(
        None, validation_alias=AliasChoices("kernel_initializer", "depthwise_initializer"))
    """Initial depthwise kernel (Keras: depthwise_initializer), e.g. he_normal."""
    kernel_regularizer: Regularizer | None = Field(
        None, validation_alias=AliasChoices("kernel_regularizer", "depthwise_regularizer"))
    """Weight penalty on the depthwise kernel (Keras: depthwise_regularizer), e.g. {l2: 1e-4}."""
    kernel: IntOrPair = Field(validation_alias=AliasChoices("kernel", "kernel_size"))
    strides: IntOrPair = Field(1, validation_alias=AliasChoices("strides", "stride"))
    padding: Padding = "valid"
    depth_multiplier: PositiveInt = 1
    dilation: IntOrPair = Field(1, validation_alias=AliasChoices("dilation", "dilation_rate"))
    """Spacing between filter taps (atrous convolution)."""
    activation: ActivationName | None = None
    use_bias: bool = True

    @field_validator("dilation")
    @classmethod
    def _not_with_strides(cls, dilation, info: ValidationInfo):
        return _dilation_without_strides(dilation, info)

    def check_shapes(self, shapes, sources):
        return (_rank_check(self.type_name, 2, shapes, sources)
                or _too_small(shapes, sources, self.kernel, self.strides, self.padding, 2,
                              self.type_name, self.dilation))

    def estimate_params(self, shapes):
        depth = input_size(shapes) * self.depth_multiplier
        return depth * (_window(self.kernel, 2) + int(self.use_bias))

    def build(self):
        import keras

        mode, pad = _padding_layers(self.padding, 2, self.name)
        conv = keras.layers.DepthwiseConv2D(
            self.kernel, strides=self.strides, padding=mode,
            depth_multiplier=self.depth_multiplier, dilation_rate=self.dilation,
            activation=activation_to_keras(self.activation), use_bias=self.use_bias,
            **self.weight_kwargs("depthwise"), **self.common())
        return [pad, conv] if pad else conv


class _Separable(LayerSpec):
    dims: ClassVar = 2
    filters: PositiveInt
    kernel: IntOrPair = Field(validation_alias=AliasChoices("kernel", "kernel_size"))
    strides: IntOrPair = Field(1, validation_alias=AliasChoices("strides", "stride"))
    padding: Padding = "valid"
    depth_multiplier: PositiveInt = 1
    dilation: IntOrPair = Field(1, validation_alias=AliasChoices("dilation", "dilation_rate"))
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
        return _dilation_without_strides(dilation, info)

    def check_shapes(self, shapes, sources):
        return (_rank_check(self.type_name, self.dims, shapes, sources)
                or _too_small(shapes, sources, self.kernel, self.strides, self.padding, self.dims,
                              self.type_name, self.dilation))

    def estimate_params(self, shapes):
        depth = input_size(shapes) * self.depth_multiplier
        return (depth * _window(self.kernel, self.dims) + depth * self.filters
                + self.filters * int(self.use_bias))

    def build(self):
        import keras

        cls = keras.layers.SeparableConv1D if self.dims == 1 else keras.layers.SeparableConv2D
        kwargs = part_weight_kwargs(self, ("depthwise", "pointwise"))
        mode, pad = _padding_layers(self.padding, self.dims, self.name)
        conv = cls(self.filters, self.kernel, strides=self.strides, padding=mode,
                   depth_multiplier=self.depth_multiplier, dilation_rate=self.dilation,
                   activation=activation_to_keras(self.activation), use_bias=self.use_bias,
                   **kwargs, **self.common())
        return [pad, conv] if pad else conv


@register("separable_conv2d")
class SeparableConv2D(_Separable):
    """Depthwise convolution followed by a 1×1 pointwise convolution."""


@register("separable_conv1d")
class SeparableConv1D(_Separable):
    """Depthwise-separable convolution over sequences."""

    dims: ClassVar = 1


class _Pool(LayerSpec):
    dims: ClassVar = 2
    kind: ClassVar = "max"
    shorthand = "pool"  # `- max_pool2d: 3`, as Keras's MaxPooling2D(3)
    pool: IntOrPair = Field(2, validation_alias=AliasChoices("pool", "pool_size"))
    """Window size."""
    strides: IntOrPair | None = Field(None, validation_alias=AliasChoices("strides", "stride"))
    """Step of the window (default: the window size)."""
    padding: PaddingMode = "valid"

    def check_shapes(self, shapes, sources):
        return (_rank_check(self.type_name, self.dims, shapes, sources)
                or _too_small(shapes, sources, self.pool, self.strides, self.padding, self.dims,
                              self.type_name))

    def build(self):
        import keras

        cls = {(1, "max"): keras.layers.MaxPooling1D, (2, "max"): keras.layers.MaxPooling2D,
               (1, "avg"): keras.layers.AveragePooling1D,
               (2, "avg"): keras.layers.AveragePooling2D}[(self.dims, self.kind)]
        return cls(self.pool, strides=self.strides, padding=self.padding, **self.common())


@register("max_pool2d")
class MaxPool2D(_Pool):
    """Maximum over each window of an image."""


@register("avg_pool2d")
class AvgPool2D(_Pool):
    """Average over each window of an image."""

    kind: ClassVar = "avg"


@register("max_pool1d")
class MaxPool1D(_Pool):
    """Maximum over each window of a sequence."""

    dims: ClassVar = 1


@register("avg_pool1d")
class AvgPool1D(_Pool):
    """Average over each window of a sequence."""

    dims: ClassVar = 1
    kind: ClassVar = "avg"


class _GlobalPool(LayerSpec):
    dims: ClassVar = 2
    kind: ClassVar = "avg"
    keepdims: bool = False

    def check_shapes(self, shapes, sources):
        return _rank_check(self.type_name, self.dims, shapes, sources)

    def build(self):
        import keras

        cls = {(1, "max"): keras.layers.GlobalMaxPooling1D,
               (2, "max"): keras.layers.GlobalMaxPooling2D,
               (1, "avg"): keras.layers.GlobalAveragePooling1D,
               (2, "avg"): keras.layers.GlobalAveragePooling2D}[(self.dims, self.kind)]
        return cls(keepdims=self.keepdims, **self.common())


@register("global_avg_pool2d")
class GlobalAvgPool2D(_GlobalPool):
    """Average of each feature map → one value per channel."""


@register("global_max_pool2d")
class GlobalMaxPool2D(_GlobalPool):
    """Maximum of each feature map."""

    kind: ClassVar = "max"


@register("global_avg_pool1d")
class GlobalAvgPool1D(_GlobalPool):
    """Average over the steps of a sequence."""

    dims: ClassVar = 1


@register("global_max_pool1d")
class GlobalMaxPool1D(_GlobalPool):
    """Maximum over the steps of a sequence."""

    dims: ClassVar = 1
    kind: ClassVar = "max"


@register("zero_padding2d")
class ZeroPadding2D(LayerSpec):
    """Add rows and columns of zeros around an image."""

    shorthand = "padding"
    padding: Annotated[int, Field(ge=0)] | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]] = 1

    def check_shapes(self, shapes, sources):
        return _rank_check(self.type_name, 2, shapes, sources)

    def build(self):
        import keras

        return keras.layers.ZeroPadding2D(self.padding, **self.common())


@register("zero_padding1d")
class ZeroPadding1D(LayerSpec):
    """Add zero steps at both ends of a sequence."""

    shorthand = "padding"
    padding: Annotated[int, Field(ge=0)] | tuple[int, int] = 1

    def build(self):
        import keras

        return keras.layers.ZeroPadding1D(self.padding, **self.common())


def _cropped_away(shape, crops, source, kind) -> str | None:
    for axis, (start, end) in enumerate(crops):
        size = shape[1 + axis]
        if size is not None and start + end >= size:
            return (f"{kind}: cropping {start} + {end} leaves nothing of {size} along axis "
                    f"{axis + 1} of shape {tuple(shape[1:])} from '{source}'")
    return None


def _pairs(value, dims: int):
    if isinstance(value, int):
        return [(value, value)] * dims
    if dims == 1 or isinstance(value[0], int):
        return [tuple(value)] if dims == 1 else [(v, v) for v in value]
    return [tuple(v) for v in value]


@register("cropping2d")
class Cropping2D(LayerSpec):
    """Remove rows and columns at the borders of an image."""

    shorthand = "cropping"
    cropping: Annotated[int, Field(ge=0)] | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]]

    def check_shapes(self, shapes, sources):
        return (_rank_check(self.type_name, 2, shapes, sources)
                or _cropped_away(shapes[0], _pairs(self.cropping, 2), sources[0], "cropping2d"))

    def build(self):
        import keras

        return keras.layers.Cropping2D(self.cropping, **self.common())


@register("cropping1d")
class Cropping1D(LayerSpec):
    """Remove steps at the start and end of a sequence: `cropping: [start, end]` or one number."""

    shorthand = "cropping"
    cropping: Annotated[int, Field(ge=0)] | tuple[Annotated[int, Field(ge=0)],
                                                  Annotated[int, Field(ge=0)]] = 1

    def check_shapes(self, shapes, sources):
        return (_rank_check(self.type_name, 1, shapes, sources)
                or _cropped_away(shapes[0], _pairs(self.cropping, 1), sources[0], "cropping1d"))

    def build(self):
        import keras

        return keras.layers.Cropping1D(self.cropping, **self.common())


@register("upsampling2d")
class UpSampling2D(LayerSpec):
    """Repeat rows and columns (nearest) or interpolate (bilinear)."""

    shorthand = "size"
    size: IntOrPair = 2
    interpolation: Literal["nearest", "bilinear"] = "nearest"

    def build(self):
        import keras

        return keras.layers.UpSampling2D(self.size, interpolation=self.interpolation,
                                         **self.common())


@register("upsampling1d")
class UpSampling1D(LayerSpec):
    """Repeat each step `size` times."""

    shorthand = "size"
    size: PositiveInt = 2

    def build(self):
        import keras

        return keras.layers.UpSampling1D(self.size, **self.common())
