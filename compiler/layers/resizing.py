"""Zero padding, cropping and upsampling, generic in the number of spatial axes (see spatial.py)."""

# Annotations here are objects, not strings (no `from __future__ import annotations`):
# pydantic evaluates a class's string annotations again for every subclass, which
# `nncompile validate` pays for at start-up.

from typing import Any

from compiler.layers.params import NonNegativeInt, axis_widths, per_axis
from compiler.layers.spatial import AnyRank, SpatialSpec, side_widths, sizes

AnyWidths = NonNegativeInt | tuple


class ZeroPadding(SpatialSpec):
    """Rows of zeros around the spatial axes."""

    shorthand = "padding"
    keras_classes = {1: "ZeroPadding1D", 2: "ZeroPadding2D", 3: "ZeroPadding3D"}
    axis_fields = {"padding": axis_widths}

    padding: AnyWidths = 1

    def check_shapes(self, shapes, sources):
        return self.rank_problem(shapes, sources)

    def infer_output_shape(self, shapes):
        shape = shapes[0]
        out = [None if n is None else n + a + b for n, (a, b) in
               zip(self.spatial(shape), side_widths(self.padding, self.dims), strict=True)]
        return (shape[0], *out, shape[-1])

    def count_params(self, shapes):
        return 0

    def build(self):
        return self.keras_class()(self.padding, **self.common())


def _cropped_away(shape: tuple, crops: list, source: str, kind: str) -> str | None:
    for axis, (start, end) in enumerate(crops):
        size = shape[1 + axis]
        if size is not None and start + end >= size:
            return (f"{kind}: cropping {start} + {end} leaves nothing of {size} along axis "
                    f"{axis + 1} of shape {tuple(shape[1:])} from '{source}'")
    return None


class Cropping(SpatialSpec):
    """Rows removed at the borders of the spatial axes."""

    shorthand = "cropping"
    keras_classes = {1: "Cropping1D", 2: "Cropping2D", 3: "Cropping3D"}
    axis_fields = {"cropping": axis_widths}

    cropping: AnyWidths

    def check_shapes(self, shapes, sources):
        return (self.rank_problem(shapes, sources)
                or _cropped_away(shapes[0], side_widths(self.cropping, self.dims), sources[0],
                                 self.type_name))

    def infer_output_shape(self, shapes):
        shape = shapes[0]
        out = [None if n is None else n - a - b for n, (a, b) in
               zip(self.spatial(shape), side_widths(self.cropping, self.dims), strict=True)]
        return (shape[0], *out, shape[-1])

    def count_params(self, shapes):
        return 0

    def build(self):
        return self.keras_class()(self.cropping, **self.common())


class UpSampling(SpatialSpec):
    """Each row of the spatial axes repeated `size` times."""

    shorthand = "size"
    keras_classes = {1: "UpSampling1D", 2: "UpSampling2D", 3: "UpSampling3D"}
    axis_fields = {"size": per_axis}

    size: AnyRank = 2

    def check_shapes(self, shapes, sources):
        return self.rank_problem(shapes, sources)

    def infer_output_shape(self, shapes):
        shape = shapes[0]
        out = [None if n is None else n * k for n, k in
               zip(self.spatial(shape), sizes(self.size, self.dims), strict=True)]
        return (shape[0], *out, shape[-1])

    def count_params(self, shapes):
        return 0

    def options(self) -> dict[str, Any]:
        """Keras arguments of this rank's class beyond the size."""
        return {}

    def build(self):
        return self.keras_class()(self.size, **self.options(), **self.common())
