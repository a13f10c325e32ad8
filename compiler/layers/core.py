"""Feed-forward layers: dense, activations, maxout, dropout, normalisation, shapes, embedding."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field

from compiler.layers.base import (
    LayerSpec,
    SameShape,
    ShapeProblem,
    WeightedSpec,
    input_size,
    input_volume,
    rank_message,
    register,
)
from compiler.layers.params import (
    ActivationName,
    Initializer,
    PositiveInt,
    Rate,
    Regularizer,
    activation_to_keras,
    initializer_to_keras,
    regularizer_to_keras,
)


@register("dense")
class Dense(WeightedSpec):
    """Fully connected layer: y = g(W x + b)."""

    shorthand = "units"
    units: PositiveInt
    """Number of units (neurons)."""
    activation: ActivationName | None = None
    """Activation g; default linear."""
    use_bias: bool = True
    """Add the bias b."""

    def estimate_params(self, shapes):
        return self.units * (input_size(shapes) + int(self.use_bias))

    def infer_output_shape(self, shapes):
        if shapes[0][-1] is None:
            raise ShapeProblem(f"dense needs the size of the last axis of its input; "
                               f"'{self.inputs[0]}' has shape {_shape(shapes[0])}")
        return (*shapes[0][:-1], self.units)

    def count_params(self, shapes):
        return self.units * (shapes[0][-1] + int(self.use_bias))

    def check_shapes(self, shapes, sources):
        return self.initializer_problem((shapes[0][-1], self.units), (self.units,))

    def build(self):
        import keras

        return keras.layers.Dense(self.units, activation=activation_to_keras(self.activation),
                                  use_bias=self.use_bias, **self.weight_kwargs(), **self.common())


@register("activation")
class Activation(SameShape, LayerSpec):
    """An activation function as its own layer, e.g. `- activation: relu`."""

    shorthand = "activation"
    activation: ActivationName
    """Function name: relu, sigmoid (= logistic), tanh, softmax, step (= threshold), ..."""

    def build(self):
        import keras

        return keras.layers.Activation(activation_to_keras(self.activation), **self.common())


@register("leaky_relu", keras=("LeakyReLU",))
class LeakyReLU(SameShape, LayerSpec):
    """max(x, slope·x)."""

    shorthand = "negative_slope"
    # Keras 2 called it `alpha` (`LeakyReLU(alpha=0.2)` in many examples); it is read as
    # negative_slope, which spec.resolved.yaml then says.
    negative_slope: Annotated[float, Field(ge=0)] = Field(
        0.3, validation_alias=AliasChoices("negative_slope", "alpha"))
    """Slope for negative inputs (Keras 2's `alpha`)."""

    def build(self):
        import keras

        return keras.layers.LeakyReLU(negative_slope=self.negative_slope, **self.common())


@register("relu", keras=("ReLU",))
class ReLU(SameShape, LayerSpec):
    """The rectifier as a layer: min(max(x, 0), max_value); optional slope below `threshold`."""

    shorthand = "max_value"  # `- relu: 6`, as Keras's ReLU(6.0)
    max_value: Annotated[float, Field(gt=0)] | None = None
    """Upper bound of the output (6 gives ReLU6); default: none."""
    negative_slope: Annotated[float, Field(ge=0)] = 0.0
    """Slope below `threshold`."""
    threshold: float = 0.0
    """Inputs below this are scaled by `negative_slope` (0 by default: plain ReLU)."""

    def build(self):
        import keras

        return keras.layers.ReLU(max_value=self.max_value, negative_slope=self.negative_slope,
                                 threshold=self.threshold, **self.common())


@register("prelu", keras=("PReLU",))
class PReLU(LayerSpec):
    """Leaky ReLU whose slope is learned per unit."""

    def estimate_params(self, shapes):
        return input_volume(shapes)

    def infer_output_shape(self, shapes):
        return tuple(shapes[0])

    def count_params(self, shapes):
        return _volume(shapes[0][1:])

    def build(self):
        import keras

        return keras.layers.PReLU(**self.common())


@register("elu")
class ELU(SameShape, LayerSpec):
    """Exponential linear unit with scale alpha."""

    alpha: Annotated[float, Field(gt=0)] = 1.0
    """Scale of the negative part."""

    def build(self):
        import keras

        return keras.layers.ELU(alpha=self.alpha, **self.common())


@register("softmax")
class Softmax(SameShape, LayerSpec):
    """Softmax over an axis."""

    axis: int = -1
    """Axis to normalise over."""

    def build(self):
        import keras

        return keras.layers.Softmax(axis=self.axis, **self.common())


@register("maxout")
class Maxout(WeightedSpec):
    """Maxout unit: the maximum of `pieces` affine functions of the input, per unit."""

    units: PositiveInt
    """Number of output units."""
    pieces: Annotated[int, Field(ge=2)] = 2
    """Affine pieces per unit."""

    def estimate_params(self, shapes):
        return self.units * self.pieces * (input_size(shapes) + 1)

    def infer_output_shape(self, shapes):
        return (*shapes[0][:-1], self.units)

    def count_params(self, shapes):
        features = shapes[0][-1]
        return None if features is None else self.units * self.pieces * (features + 1)

    def build(self):
        from custom_layers.maxout import Maxout as MaxoutLayer

        return MaxoutLayer(self.units, self.pieces, **self.weight_kwargs(), **self.common())


@register("dropout")
class Dropout(SameShape, LayerSpec):
    """Randomly zero a fraction `rate` of inputs during training (inverted dropout)."""

    shorthand = "rate"
    rate: Rate
    """Fraction of units dropped, in [0, 1)."""
    noise_shape: list[PositiveInt | None] | None = None
    """Shape of the dropout mask, batch axis first (null: the input's size); an axis of 1
    shares one draw along it, e.g. [null, 1, 1, 1] drops whole examples of an image batch
    (stochastic depth). Default: the input's shape."""
    seed: int | None = None
    """Seed of the dropout mask."""

    def check_shapes(self, shapes, sources):
        if self.noise_shape is None:
            return None
        shape, noise = shapes[0], self.noise_shape
        shown = "[" + ", ".join("null" if d is None else str(d) for d in noise) + "]"
        if len(noise) != len(shape):
            return (f"dropout: noise_shape {shown} has {len(noise)} axes but the input from "
                    f"'{sources[0]}' has {len(shape)}, {_shape(shape)} (the batch axis counts: "
                    f"write null for it, e.g. [null{', 1' * (len(shape) - 1)}])")
        for axis, (n, d) in enumerate(zip(noise, shape, strict=False)):
            if n is not None and n != 1 and d is not None and n != d:
                return (f"dropout: noise_shape {shown} does not fit the input {_shape(shape)} "
                        f"from '{sources[0]}': axis {axis} must be null, 1 or {d}")
        return None

    def build(self):
        import keras

        noise = tuple(self.noise_shape) if self.noise_shape is not None else None
        return keras.layers.Dropout(self.rate, noise_shape=noise, seed=self.seed,
                                    **self.common())


def _shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _volume(sizes) -> int | None:
    """The product of the sizes, or None when one is not known."""
    total = 1
    for size in sizes:
        if size is None:
            return None
        total *= size
    return total


def _axis(shape, axis: int):
    try:
        return shape[axis]
    except IndexError:
        return None


@register("spatial_dropout1d")
class SpatialDropout1D(SameShape, LayerSpec):
    """Drop whole feature maps of a sequence."""

    shorthand = "rate"
    rate: Rate

    def build(self):
        import keras

        # Keras's spatial dropout takes no `trainable`: it has no weights anyway.
        return keras.layers.SpatialDropout1D(self.rate, name=self.name)


@register("spatial_dropout2d")
class SpatialDropout2D(SameShape, LayerSpec):
    """Drop whole feature maps of an image."""

    shorthand = "rate"
    rate: Rate

    def build(self):
        import keras

        return keras.layers.SpatialDropout2D(self.rate, name=self.name)


@register("gaussian_noise")
class GaussianNoise(SameShape, LayerSpec):
    """Add zero-mean Gaussian noise during training."""

    shorthand = "stddev"
    stddev: Annotated[float, Field(ge=0)]

    def build(self):
        import keras

        return keras.layers.GaussianNoise(self.stddev, **self.common())


@register("gaussian_dropout")
class GaussianDropout(SameShape, LayerSpec):
    """Multiply by 1-centred Gaussian noise during training."""

    shorthand = "rate"
    rate: Rate

    def build(self):
        import keras

        return keras.layers.GaussianDropout(self.rate, **self.common())


@register("batch_norm", keras=("BatchNormalization",))
class BatchNorm(LayerSpec):
    """Batch normalisation: standardise over the batch, then scale (γ) and shift (β)."""

    axis: int = -1
    """Feature axis."""
    momentum: Annotated[float, Field(ge=0, lt=1)] = 0.99
    """Momentum of the moving mean and variance."""
    epsilon: Annotated[float, Field(gt=0)] = 1e-3
    """Added to the variance to avoid dividing by zero."""
    center: bool = True
    """Learn β."""
    scale: bool = True
    """Learn γ."""

    def estimate_params(self, shapes):
        return 4 * input_size(shapes, self.axis)

    def infer_output_shape(self, shapes):
        return tuple(shapes[0])

    def count_params(self, shapes):
        channels = _axis(shapes[0], self.axis)
        return None if channels is None else channels * (2 + int(self.center) + int(self.scale))

    def build(self):
        import keras

        return keras.layers.BatchNormalization(axis=self.axis, momentum=self.momentum,
                                               epsilon=self.epsilon, center=self.center,
                                               scale=self.scale, **self.common())


@register("layer_norm", keras=("LayerNormalization",))
class LayerNorm(LayerSpec):
    """Layer normalisation: standardise over the features of each example."""

    axis: int = -1
    epsilon: Annotated[float, Field(gt=0)] = 1e-3

    def estimate_params(self, shapes):
        return 2 * input_size(shapes, self.axis)

    def infer_output_shape(self, shapes):
        return tuple(shapes[0])

    def count_params(self, shapes):
        size = _axis(shapes[0], self.axis)
        return None if size is None else 2 * size

    def build(self):
        import keras

        return keras.layers.LayerNormalization(axis=self.axis, epsilon=self.epsilon,
                                               **self.common())


@register("group_norm", keras=("GroupNormalization",))
class GroupNorm(LayerSpec):
    """Group normalisation: standardise each group of channels of each example."""

    shorthand = "groups"
    groups: PositiveInt = 32
    """Number of channel groups (1: layer norm over all channels; channels: instance norm)."""
    axis: int = -1
    epsilon: Annotated[float, Field(gt=0)] = 1e-3
    center: bool = True
    scale: bool = True

    def check_shapes(self, shapes, sources):
        try:
            channels = shapes[0][self.axis]
        except IndexError:
            return (f"group_norm: axis {self.axis} is out of range for shape "
                    f"{tuple(shapes[0])} from '{sources[0]}'")
        if self.axis in (0, -len(shapes[0])):
            return "group_norm: axis 0 is the batch axis; normalise over the channels (-1)"
        if channels is not None and channels % self.groups:
            return (f"group_norm: {channels} channels of '{sources[0]}' do not split into "
                    f"{self.groups} groups; use a divisor of {channels}")
        return None

    def estimate_params(self, shapes):
        return (int(self.center) + int(self.scale)) * input_size(shapes, self.axis)

    def infer_output_shape(self, shapes):
        return tuple(shapes[0])

    def count_params(self, shapes):
        size = _axis(shapes[0], self.axis)
        return None if size is None else (int(self.center) + int(self.scale)) * size

    def build(self):
        import keras

        return keras.layers.GroupNormalization(groups=self.groups, axis=self.axis,
                                               epsilon=self.epsilon, center=self.center,
                                               scale=self.scale, **self.common())


@register("normalization")
class Normalization(LayerSpec):
    """Feature standardisation (x − mean) / std, adapted on the training split."""

    axis: int | None = -1
    """Axis with one mean/variance per entry (None: one for everything)."""
    mean: float | list[float] | None = None
    """Fixed mean (otherwise learned from the training data)."""
    variance: Annotated[float, Field(gt=0)] | list[float] | None = None
    """Fixed variance (with `mean`)."""

    def estimate_params(self, shapes):
        return 0 if self.axis is None else 2 * input_size(shapes, self.axis) + 1

    def check_shapes(self, shapes, sources):
        if (self.mean is None) != (self.variance is None):
            return "normalization: give both `mean` and `variance`, or neither (to adapt them)"
        if self.axis is None:
            return None
        try:
            size = shapes[0][self.axis]
        except IndexError:
            return (f"normalization: axis {self.axis} is out of range for shape "
                    f"{tuple(shapes[0])} from '{sources[0]}'")
        for key in ("mean", "variance"):
            value = getattr(self, key)
            if isinstance(value, list) and size is not None and len(value) not in (1, size):
                return (f"normalization: `{key}` has {len(value)} values but axis {self.axis} of "
                        f"the input from '{sources[0]}' has {size} features")
        return None

    def infer_output_shape(self, shapes):
        return tuple(shapes[0])

    def count_params(self, shapes):
        if self.mean is not None:
            return 0  # fixed statistics are constants, not weights
        if self.axis is None:
            return 3  # one mean, one variance and the count of examples adapted on
        size = _axis(shapes[0], self.axis)
        return None if size is None else 2 * size + 1

    def build(self):
        import keras

        return keras.layers.Normalization(axis=self.axis, mean=self.mean, variance=self.variance,
                                          **self.common())


@register("rescaling")
class Rescaling(SameShape, LayerSpec):
    """x · scale + offset, e.g. scale 1/255 for pixel values."""

    shorthand = "scale"
    scale: float | list[float]
    """Factor, or one per channel (last axis), e.g. [0.0171, 0.0175, 0.0174]."""
    offset: float | list[float] = 0.0
    """Added after scaling; one number or one per channel."""

    def check_shapes(self, shapes, sources):
        channels = shapes[0][-1] if len(shapes[0]) > 1 else None
        for key in ("scale", "offset"):
            value = getattr(self, key)
            if isinstance(value, list) and len(value) != 1 and channels is not None \
                    and len(value) != channels:
                return (f"rescaling: `{key}` has {len(value)} values but the input from "
                        f"'{sources[0]}' has {channels} channels (its last axis)")
        return None

    def build(self):
        import keras

        return keras.layers.Rescaling(self.scale, self.offset, **self.common())


@register("flatten")
class Flatten(LayerSpec):
    """Flatten each example to a vector."""

    def infer_output_shape(self, shapes):
        return (shapes[0][0], _volume(shapes[0][1:]))

    def count_params(self, shapes):
        return 0

    def build(self):
        import keras

        return keras.layers.Flatten(**self.common())


@register("reshape")
class Reshape(LayerSpec):
    """Reshape each example (one dimension may be -1)."""

    shorthand = "shape"
    shape: list[Annotated[int, Field(ge=-1)]] = Field(
        validation_alias=AliasChoices("shape", "target_shape"))
    """Target shape without the batch dimension."""

    def check_shapes(self, shapes, sources):
        import math

        given = shapes[0][1:]
        if any(d is None for d in given):
            return None
        size = math.prod(given)
        target = [d for d in self.shape if d != -1]
        if self.shape.count(-1) > 1:
            return "reshape: only one dimension may be -1"
        want = math.prod(target) if target else 1
        if (-1 not in self.shape and want != size) or (-1 in self.shape and size % want):
            return (f"reshape to {self.shape} needs a size compatible with {size} "
                    f"(shape {tuple(given)} from '{sources[0]}')")
        return None

    def infer_output_shape(self, shapes):
        size = _volume(shapes[0][1:])
        known_part = _volume([d for d in self.shape if d != -1])
        return (shapes[0][0], *[(size // known_part if size is not None and known_part else None)
                                if d == -1 else d for d in self.shape])

    def count_params(self, shapes):
        return 0

    def build(self):
        import keras

        return keras.layers.Reshape(tuple(self.shape), **self.common())


@register("permute")
class Permute(LayerSpec):
    """Permute the non-batch axes (1-based, as in Keras)."""

    shorthand = "dims"
    dims: list[PositiveInt]

    def infer_output_shape(self, shapes):
        rest = shapes[0][1:]
        if sorted(self.dims) != list(range(1, len(rest) + 1)):
            raise ShapeProblem(f"permute: dims {list(self.dims)} must order the axes 1 to "
                               f"{len(rest)} of '{self.inputs[0]}' {_shape(shapes[0])}")
        return (shapes[0][0], *[rest[d - 1] for d in self.dims])

    def count_params(self, shapes):
        return 0

    def build(self):
        import keras

        return keras.layers.Permute(tuple(self.dims), **self.common())


@register("repeat_vector")
class RepeatVector(LayerSpec):
    """Repeat a vector n times: (batch, d) → (batch, n, d)."""

    shorthand = "n"
    n: PositiveInt

    def infer_output_shape(self, shapes):
        if len(shapes[0]) != 2:
            raise ShapeProblem(rank_message("repeat_vector", "vectors (features)", shapes[0],
                                            self.inputs[0]))
        return (shapes[0][0], self.n, shapes[0][1])

    def count_params(self, shapes):
        return 0

    def build(self):
        import keras

        return keras.layers.RepeatVector(self.n, **self.common())


@register("identity")
class Identity(SameShape, LayerSpec):
    """Pass the input through unchanged (a named point in the graph)."""

    def build(self):
        import keras

        return keras.layers.Identity(**self.common())


@register("embedding")
class Embedding(LayerSpec):
    """Token ids → dense vectors (a lookup table of input_dim × output_dim)."""

    input_dim: PositiveInt
    """Vocabulary size (largest id + 1)."""
    output_dim: PositiveInt
    """Size of each vector."""
    mask_zero: bool = False
    """Treat id 0 as padding and mask it for later recurrent/attention layers."""
    embeddings_initializer: Initializer | None = None
    embeddings_regularizer: Regularizer | None = None

    def estimate_params(self, shapes):
        return self.input_dim * self.output_dim

    def infer_output_shape(self, shapes):
        return (*shapes[0], self.output_dim)

    def count_params(self, shapes):
        return self.input_dim * self.output_dim

    def build(self):
        import keras

        kwargs = {}
        if self.embeddings_initializer is not None:
            kwargs["embeddings_initializer"] = initializer_to_keras(self.embeddings_initializer)
        if self.embeddings_regularizer is not None:
            kwargs["embeddings_regularizer"] = regularizer_to_keras(self.embeddings_regularizer)
        return keras.layers.Embedding(self.input_dim, self.output_dim, mask_zero=self.mask_zero,
                                      **kwargs, **self.common())


@register("masking")
class Masking(SameShape, LayerSpec):
    """Mask time steps whose features all equal `mask_value` (padded steps)."""

    mask_value: float = 0.0

    def check_shapes(self, shapes, sources):
        if len(shapes[0]) < 3:
            return rank_message("masking", "a sequence (batch, steps, features)", shapes[0],
                                sources[0])
        return None

    def build(self):
        import keras

        return keras.layers.Masking(self.mask_value, **self.common())


@register("cast")
class Cast(SameShape, LayerSpec):
    """Change the dtype of the input (e.g. token ids read as float)."""

    shorthand = "dtype"
    dtype: Literal["float32", "float16", "int32", "int64"]

    def build(self):
        from custom_layers.cast import Cast as CastLayer

        return CastLayer(self.dtype, **self.common())
