"""The pooling families, generic in the number of spatial axes (see spatial.py)."""

# Annotations here are objects, not strings (no `from __future__ import annotations`):
# pydantic evaluates a class's string annotations again for every subclass, which
# `nncompile validate` pays for at start-up.

from typing import Any

from pydantic import AliasChoices, Field

from compiler.layers.params import PaddingMode, per_axis
from compiler.layers.spatial import AnyRank, SpatialSpec


def _strides(dims: int) -> Any:
    return per_axis(dims) | None


class Pooling(SpatialSpec):
    """A window slid over the spatial axes, reduced to one value (max, average)."""

    shorthand = "pool"  # `- max_pool2d: 3`, as Keras's MaxPooling2D(3)
    axis_fields = {"pool": per_axis, "strides": _strides}

    pool: AnyRank = Field(2, validation_alias=AliasChoices("pool", "pool_size"))
    """Window size."""
    strides: AnyRank | None = Field(None, validation_alias=AliasChoices("strides", "stride"))
    """Step of the window (default: the window size)."""
    padding: PaddingMode = "valid"

    def check_shapes(self, shapes, sources):
        return (self.rank_problem(shapes, sources)
                or self.window_problem(shapes, sources, self.pool, self.padding))

    def infer_output_shape(self, shapes):
        shape = shapes[0]
        strides = self.strides if self.strides is not None else self.pool
        return (shape[0], *self.windowed(shape, self.pool, strides, self.padding), shape[-1])

    def count_params(self, shapes):
        return 0

    def build(self):
        return self.keras_class()(self.pool, strides=self.strides, padding=self.padding,
                                  **self.common())


class MaxPooling(Pooling):
    """Maximum over each window."""

    keras_classes = {1: "MaxPooling1D", 2: "MaxPooling2D", 3: "MaxPooling3D"}


class AveragePooling(Pooling):
    """Average over each window."""

    keras_classes = {1: "AveragePooling1D", 2: "AveragePooling2D", 3: "AveragePooling3D"}


class GlobalPooling(SpatialSpec):
    """One value per channel, over all the spatial axes."""

    keepdims: bool = False

    def check_shapes(self, shapes, sources):
        return self.rank_problem(shapes, sources)

    def infer_output_shape(self, shapes):
        shape = shapes[0]
        if self.keepdims:
            return (shape[0], *(1,) * self.dims, shape[-1])
        return (shape[0], shape[-1])

    def count_params(self, shapes):
        return 0

    def build(self):
        return self.keras_class()(keepdims=self.keepdims, **self.common())


class GlobalMaxPooling(GlobalPooling):
    """Maximum of each feature map."""

    keras_classes = {1: "GlobalMaxPooling1D", 2: "GlobalMaxPooling2D", 3: "GlobalMaxPooling3D"}


class GlobalAveragePooling(GlobalPooling):
    """Average of each feature map."""

    keras_classes = {1: "GlobalAveragePooling1D", 2: "GlobalAveragePooling2D",
                     3: "GlobalAveragePooling3D"}
