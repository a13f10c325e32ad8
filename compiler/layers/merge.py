"""Merge layers: several inputs in, one tensor out (skip connections, branches)."""

from __future__ import annotations

from typing import ClassVar, Literal

from compiler.layers.base import LayerSpec, ShapeProblem, register


def _show(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _broadcast(a: tuple, b: tuple, ranks_may_differ: bool) -> tuple | None:
    """The shape of an element-wise merge of shapes ``a`` and ``b``, or None when they clash.

    As Keras's merge layers: sizes of 1 stretch, and an input of lower rank gets axes
    of 1 after its batch axis, so (None, 96) multiplies (None, 7, 7, 96) (squeeze and
    excitation) and (None, 7) does not go with (None, 7, 96).
    """
    x, y = list(a[1:]), list(b[1:])
    if len(x) != len(y):
        if not ranks_may_differ:
            return None
        rank = max(len(x), len(y))
        x, y = [1] * (rank - len(x)) + x, [1] * (rank - len(y)) + y
    out = []
    for p, q in zip(x, y, strict=False):
        if p is not None and q is not None and p != q and p != 1 and q != 1:
            return None
        out.append(q if p == 1 else p if q == 1 else p if p is not None else q)
    return (a[0], *out)


class _Elementwise(LayerSpec):
    min_inputs = 2
    max_inputs = None
    keras_class: ClassVar = ""
    ranks_may_differ: ClassVar = True

    def check_shapes(self, shapes, sources):
        merged = shapes[0]
        for shape, source in zip(shapes[1:], sources[1:], strict=False):
            merged = _broadcast(merged, shape, self.ranks_may_differ)
            if merged is None:
                return (f"{self.type_name} needs equal shapes, got {_show(shapes[0])} from "
                        f"'{sources[0]}' and {_show(shape)} from '{source}'")
        return None

    def infer_output_shape(self, shapes):
        merged = tuple(shapes[0])
        for shape in shapes[1:]:
            merged = _broadcast(merged, tuple(shape), self.ranks_may_differ)
        return merged

    def count_params(self, shapes):
        return 0

    def build(self):
        import keras

        return getattr(keras.layers, self.keras_class)(**self.common())


@register("add")
class Add(_Elementwise):
    """Element-wise sum (residual/skip connections)."""

    keras_class: ClassVar = "Add"


@register("subtract")
class Subtract(_Elementwise):
    """First input minus the second."""

    keras_class: ClassVar = "Subtract"
    max_inputs = 2
    min_inputs = 2


@register("multiply")
class Multiply(_Elementwise):
    """Element-wise product (gating)."""

    keras_class: ClassVar = "Multiply"


@register("average")
class Average(_Elementwise):
    """Element-wise mean."""

    keras_class: ClassVar = "Average"


@register("maximum")
class Maximum(_Elementwise):
    """Element-wise maximum."""

    keras_class: ClassVar = "Maximum"


@register("minimum")
class Minimum(_Elementwise):
    """Element-wise minimum."""

    keras_class: ClassVar = "Minimum"


@register("concatenate")
class Concatenate(LayerSpec):
    """Join inputs along an axis (Inception branches, bidirectional states)."""

    min_inputs = 2
    max_inputs = None
    axis: int = -1
    """Axis to join along (the others must match)."""

    def check_shapes(self, shapes, sources):
        first = shapes[0]
        rank = len(first)
        axis = self.axis if self.axis >= 0 else rank + self.axis
        if not 1 <= axis < rank:
            return f"concatenate: axis {self.axis} is out of range for shape {_show(first)}"
        for shape, source in zip(shapes[1:], sources[1:], strict=False):
            if len(shape) != rank or any(
                i != axis and a is not None and b is not None and a != b
                for i, (a, b) in enumerate(zip(first, shape, strict=False)) if i > 0
            ):
                return (f"concatenate along axis {self.axis} needs the other dimensions equal, got "
                        f"{_show(first)} from '{sources[0]}' and {_show(shape)} from '{source}'")
        return None

    def infer_output_shape(self, shapes):
        rank = len(shapes[0])
        axis = self.axis if self.axis >= 0 else rank + self.axis
        sizes = [s[axis] for s in shapes]
        out = [next((s[i] for s in shapes if s[i] is not None), None) for i in range(rank)]
        out[axis] = None if None in sizes else sum(sizes)
        return (shapes[0][0], *out[1:])

    def count_params(self, shapes):
        return 0

    def build(self):
        import keras

        return keras.layers.Concatenate(axis=self.axis, **self.common())


@register("dot")
class Dot(LayerSpec):
    """Dot product of two inputs along the given axes (optionally cosine)."""

    min_inputs = 2
    max_inputs = 2
    axes: int | tuple[int, int] = -1
    normalize: bool = False

    def infer_output_shape(self, shapes):
        a, b = list(shapes[0]), list(shapes[1])
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        axes = [x % len(s) for x, s in zip(axes, (a, b), strict=True)]
        if None not in (a[axes[0]], b[axes[1]]) and a[axes[0]] != b[axes[1]]:
            raise ShapeProblem(f"dot: axis {axes[0]} of '{self.inputs[0]}' {_show(a)} and "
                               f"axis {axes[1]} of '{self.inputs[1]}' {_show(b)} must have "
                               "the same size")
        a.pop(axes[0])
        b.pop(axes[1])
        out = a + b[1:]
        return tuple(out + [1] if len(out) == 1 else out)

    def count_params(self, shapes):
        return 0

    def build(self):
        import keras

        return keras.layers.Dot(axes=self.axes, normalize=self.normalize, **self.common())


@register("distance")
class Distance(LayerSpec):
    """Distance between two embeddings, (batch, 1): the head of a siamese network."""

    min_inputs = 2
    max_inputs = 2
    metric: Literal["euclidean", "manhattan", "cosine"] = "euclidean"
    """euclidean (contrastive loss), manhattan (|a − b| summed) or cosine (1 − cos)."""

    def check_shapes(self, shapes, sources):
        if _broadcast(shapes[0], shapes[1], ranks_may_differ=False) is None:
            return (f"distance needs equal shapes, got {_show(shapes[0])} from '{sources[0]}' "
                    f"and {_show(shapes[1])} from '{sources[1]}'")
        return None

    def infer_output_shape(self, shapes):
        return (shapes[0][0], 1)

    def count_params(self, shapes):
        return 0

    def build(self):
        from custom_layers import PairwiseDistance

        return PairwiseDistance(metric=self.metric, **self.common())
