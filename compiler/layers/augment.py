"""Data augmentation layers: active while training, identity at inference."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from compiler.layers.base import LayerSpec, rank_message, register
from compiler.layers.params import PositiveInt

Factor = Annotated[float, Field(ge=0, le=1)] | tuple[float, float]


class _Augment(LayerSpec):
    seed: int | None = None
    """Seed of the random transformation."""

    def check_shapes(self, shapes, sources):
        if len(shapes[0]) != 4:
            return rank_message(self.type_name, "images (height, width, channels)", shapes[0],
                                sources[0])
        return None

    def infer_output_shape(self, shapes):
        return tuple(shapes[0])

    def count_params(self, shapes):
        return 0

    def make(self, cls_name: str, *args, **kwargs):
        import keras

        return getattr(keras.layers, cls_name)(*args, seed=self.seed, **kwargs, **self.common())


@register("random_flip")
class RandomFlip(_Augment):
    """Flip images at random."""

    shorthand = "mode"
    mode: Literal["horizontal", "vertical", "horizontal_and_vertical"] = "horizontal"

    def build(self):
        return self.make("RandomFlip", self.mode)


@register("random_rotation")
class RandomRotation(_Augment):
    """Rotate by a random fraction of a full turn in [-factor, factor]."""

    shorthand = "factor"
    factor: Factor
    fill_mode: Literal["reflect", "wrap", "constant", "nearest"] = "reflect"

    def build(self):
        return self.make("RandomRotation", self.factor, fill_mode=self.fill_mode)


@register("random_translation")
class RandomTranslation(_Augment):
    """Shift by random fractions of the height and width."""

    height_factor: Factor
    width_factor: Factor
    fill_mode: Literal["reflect", "wrap", "constant", "nearest"] = "reflect"

    def build(self):
        return self.make("RandomTranslation", self.height_factor, self.width_factor,
                         fill_mode=self.fill_mode)


@register("random_zoom")
class RandomZoom(_Augment):
    """Zoom in or out by a random fraction."""

    shorthand = "height_factor"
    height_factor: Factor
    width_factor: Factor | None = None
    fill_mode: Literal["reflect", "wrap", "constant", "nearest"] = "reflect"

    def build(self):
        return self.make("RandomZoom", self.height_factor, self.width_factor,
                         fill_mode=self.fill_mode)


@register("random_contrast")
class RandomContrast(_Augment):
    """Scale contrast by a random factor in [1 − factor, 1 + factor]."""

    shorthand = "factor"
    factor: Factor

    def build(self):
        return self.make("RandomContrast", self.factor)


@register("random_brightness")
class RandomBrightness(_Augment):
    """Add a random brightness offset (a fraction of value_range)."""

    shorthand = "factor"
    factor: Factor
    value_range: tuple[float, float] = (0.0, 1.0)

    def build(self):
        return self.make("RandomBrightness", self.factor, value_range=self.value_range)


@register("random_crop")
class RandomCrop(_Augment):
    """Crop a random height × width window (center crop at inference)."""

    height: PositiveInt
    width: PositiveInt

    def infer_output_shape(self, shapes):
        return (shapes[0][0], self.height, self.width, shapes[0][-1])

    def build(self):
        import keras

        # Keras's RandomCrop passes images through uncropped at inference, which
        # contradicts its declared output shape; a centre crop after it makes
        # inference crop too (and is the identity while training).
        return [self.make("RandomCrop", self.height, self.width),
                keras.layers.CenterCrop(self.height, self.width, name=f"{self.name}_center")]


@register("random_shear")
class RandomShear(_Augment):
    """Shear by a random factor along x and/or y."""

    x_factor: Factor = 0.0
    y_factor: Factor = 0.0
    fill_mode: Literal["reflect", "wrap", "constant", "nearest"] = "reflect"

    def build(self):
        return self.make("RandomShear", x_factor=self.x_factor, y_factor=self.y_factor,
                         fill_mode=self.fill_mode)
