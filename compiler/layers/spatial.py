"""Layers over spatial axes (convolution, pooling, padding, ...), for any number of axes.

A family of such layers (the convolutions, the max poolings, ...) is one
generic class. Its layer for one, two or three axes derives from
``Family.of(dims)``, a subclass whose per-axis fields (`kernel`, `strides`,
...) are typed for that many axes, so `kernel: [3, 3]` is refused by a 3-D
convolution at validation. Each family names its Keras class for each number
of axes it has (``keras_classes``); any other ``dims`` is an error where the
class is defined, never a layer of another rank.
"""

# Annotations here are objects, not strings (no `from __future__ import annotations`):
# pydantic evaluates a class's string annotations again for every subclass, which
# `nncompile validate` pays for at start-up.

import copy
import functools
from collections.abc import Callable
from typing import Any, ClassVar

from compiler.layers.base import LayerSpec, rank_message
from compiler.layers.params import PositiveInt

# The type a family base gives a per-axis field; ``of(dims)`` gives each its own.
AnyRank = PositiveInt | tuple[PositiveInt, ...]

# What the spatial axes of an example are called, for messages.
AXIS_NAMES = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def _unsupported(family: type, dims: Any) -> str:
    have = ", ".join(f"{d} ({name})" for d, name in sorted(family.keras_classes.items()))
    return (f"{family.__name__}: no Keras layer of this family has {dims} spatial axes "
            f"(dims {have or 'none'})")


def sizes(value: Any, dims: int) -> tuple:
    """A per-axis field as one value per axis: `3` → (3, 3) for two axes."""
    return (value,) * dims if isinstance(value, int) else tuple(value)


def side_widths(value: Any, dims: int) -> list[tuple[int, int]]:
    """Padding or cropping widths (see :func:`compiler.layers.params.axis_widths`) as
    ``(before, after)`` for each axis."""
    if isinstance(value, int):
        return [(value, value)] * dims
    if dims == 1:
        return [tuple(value)]
    if isinstance(value[0], int):
        return [(v, v) for v in value]
    return [tuple(v) for v in value]


def keras_class(family: type, dims: int) -> Any:
    """The Keras layer class of ``family`` over ``dims`` axes (an error if it has none)."""
    if dims not in family.keras_classes:
        raise TypeError(_unsupported(family, dims))
    import keras

    return getattr(keras.layers, family.keras_classes[dims])


def shown(value: Any) -> str:
    return str(value) if isinstance(value, int) else "[" + ", ".join(map(str, value)) + "]"


def window_output(size: int | None, window: int, stride: int, padding: Any,
                  dilation: int = 1) -> int | None:
    """Length along one axis after a window (kernel, pool) slides over it, as Keras computes it.

    ``padding`` is `valid`, `same`, `causal` or ``(before, after)`` zeros added first.
    """
    if size is None:
        return None
    if padding in ("same", "causal"):
        return -(-size // stride)
    if not isinstance(padding, str):
        size += padding[0] + padding[1]
    span = (window - 1) * dilation + 1
    return (size - span) // stride + 1 if size >= span else 0


class SpatialSpec(LayerSpec):
    """A layer type over ``dims`` spatial axes; its family's base is generic in ``dims``."""

    dims: ClassVar[int | None] = None
    """Number of spatial axes; set by ``Family.of(dims)``."""
    keras_classes: ClassVar[dict[int, str]] = {}
    """The family's Keras class (in keras.layers) for each number of spatial axes."""
    axis_fields: ClassVar[dict[str, Callable[[int], Any]]] = {}
    """Fields with a value per spatial axis → their type for a number of axes."""
    leading_axes: ClassVar[int] = 0
    """Axes between the batch and the spatial axes (the steps of a ConvLSTM)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.dims is not None and cls.dims not in cls.keras_classes:
            raise TypeError(_unsupported(cls, cls.dims))

    @classmethod
    @functools.cache
    def of(cls, dims: int, **types: Any) -> type:
        """This family's layer over ``dims`` spatial axes, its per-axis fields typed for them.

        Args:
            dims: The number of spatial axes (a key of ``keras_classes``).
            **types: Another type for some per-axis fields (by name).
        """
        if dims not in cls.keras_classes:
            raise TypeError(_unsupported(cls, dims))
        unknown = set(types) - set(cls.axis_fields)
        if unknown:
            raise TypeError(f"{cls.__name__}.of: {sorted(unknown)} are not per-axis fields")
        annotations = {name: make(dims) for name, make in cls.axis_fields.items()} | types
        namespace: dict[str, Any] = {
            "__module__": cls.__module__,
            "__qualname__": f"{cls.__qualname__}.of({dims}{', ...' if types else ''})",
            "__doc__": cls.__doc__,
            "__annotations__": annotations,
            "dims": dims,
        }
        # The same field (default, Keras's alias, docstring), typed for `dims` axes.
        namespace.update({name: copy.copy(cls.model_fields[name]) for name in annotations})
        return type(cls)(f"{cls.__name__}{dims}D", (cls,), namespace)

    def keras_class(self) -> Any:
        return keras_class(type(self), self.dims)

    def rank_problem(self, shapes: list[tuple], sources: list[str]) -> str | None:
        """Why the first input is not (batch, [steps,] spatial axes..., channels)."""
        rank = 2 + self.leading_axes + self.dims
        if len(shapes[0]) == rank:
            return None
        axes = ", ".join(AXIS_NAMES.get(self.dims, [f"axis {i + 1}" for i in range(self.dims)]))
        expected = (f"sequences of {self.dims + 1}-D examples (steps, {axes}, channels)"
                    if self.leading_axes else f"{self.dims + 1}-D examples ({axes}, channels)")
        hint = ("add `- reshape: [...]` to give the data channels" if len(shapes[0]) == rank - 1
                else "add a reshape, or use a layer for this rank")
        return rank_message(self.type_name, expected, shapes[0], sources[0], hint)

    def window_problem(self, shapes: list[tuple], sources: list[str], window: Any,
                       padding: Any, dilation: Any = 1) -> str | None:
        """Why a window (kernel, pool) does not fit in the input, before Keras sees it."""
        if padding == "same":
            return None
        widths = side_widths(padding, self.dims) if not isinstance(padding, str) \
            else [(0, 0)] * self.dims
        k, dil = sizes(window, self.dims), sizes(dilation, self.dims)
        first = 1 + self.leading_axes
        for axis in range(self.dims):
            size = shapes[0][first + axis]
            if size is None:
                continue
            span = (k[axis] - 1) * dil[axis] + 1
            before, after = widths[axis]
            if size + before + after < span:
                pad = (f" + 2·{before} padding" if before == after else
                       f" + {before} + {after} padding") if before or after else ""
                return (f"{self.type_name}: window {k[axis]} is larger than the input ({size}"
                        f"{pad}) along axis {first + axis} of shape {tuple(shapes[0][1:])} "
                        f"from '{sources[0]}'; use padding: same or a smaller kernel")
        return None

    def spatial(self, shape: tuple) -> tuple:
        """The spatial sizes of an input of this layer."""
        first = 1 + self.leading_axes
        return tuple(shape[first:first + self.dims])

    def windowed(self, shape: tuple, window: Any, strides: Any, padding: Any,
                 dilation: Any = 1) -> tuple:
        """The spatial sizes after sliding ``window`` over those of ``shape``."""
        widths = padding if isinstance(padding, str) else side_widths(padding, self.dims)
        return tuple(
            window_output(n, k, s, widths if isinstance(widths, str) else widths[axis], d)
            for axis, (n, k, s, d) in enumerate(zip(
                self.spatial(shape), sizes(window, self.dims), sizes(strides, self.dims),
                sizes(dilation, self.dims), strict=True)))

    def window(self, value: Any) -> int:
        """Number of taps of a per-axis window: `3` over two axes is 9."""
        size = 1
        for k in sizes(value, self.dims):
            size *= k
        return size
