"""The base classes every layer type derives from, and the decorator that registers one.

A layer type is one class: its pydantic fields are the spec's parameters (so
validation and the JSON Schema come from it), and its ``build`` method makes
the Keras layer. ``build`` imports Keras inside, so validating a spec never
imports TensorFlow.
"""

# Annotations here are objects, not strings (no `from __future__ import annotations`):
# pydantic evaluates a class's string annotations again for every subclass, which
# `nncompile validate` pays for at start-up.

from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field

from compiler.layers.params import (
    Initializer,
    Regularizer,
    initializer_to_keras,
    regularizer_to_keras,
)
from compiler.layers.registry import REGISTRY, register  # noqa: F401  (layer modules' import)
from compiler.spec.base import StrictModel

# A model may have at most this many parameters (weights): far above VGG-16's
# 138 million, far below what makes Keras allocate for minutes and run out of
# memory on a typo such as `units: 1e12`. Checked before Keras creates a weight.
MAX_MODEL_PARAMS = 2_000_000_000


class LayerSpec(StrictModel):
    """Parameters every layer entry accepts."""

    type_name: ClassVar[str] = ""
    shorthand: ClassVar[str | None] = None  # `- dropout: 0.3` sets this field
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1

    name: str | None = None
    """Layer name; other layers refer to it in `inputs:` and `outputs:`."""
    inputs: list[str] = Field(default_factory=list)
    """Names of the layers (or spec inputs) this layer takes; default: the layer above."""
    trainable: bool = True
    """False freezes the layer's weights (transfer learning)."""

    def build(self) -> Any:
        """Return the Keras layer (or a list of layers applied in order)."""
        raise NotImplementedError

    def check_shapes(self, shapes: list[tuple], sources: list[str]) -> str | None:
        """Explain why these input shapes cannot work, before Keras sees them."""
        return None

    def infer_output_shape(self, shapes: list[tuple]) -> Any:
        """The shape of this layer's output for inputs of these shapes, without TensorFlow.

        Shapes have the batch axis first; a size not known is None. Returns a
        tuple, a list of tuples for a layer with several outputs (``name[1]``),
        or None when this layer type does not say (validation then knows
        nothing of the shapes after it, and `build` checks them). Raise
        :class:`ShapeProblem` for inputs Keras would refuse.
        """
        return None

    def count_params(self, shapes: list[tuple]) -> int | None:
        """The number of weights Keras creates for inputs of these shapes (as
        ``layer.count_params()``), or None when it is not known here."""
        return None

    def estimate_params(self, shapes: list[tuple] | None) -> int:
        """About how many weights the Keras layer will create for inputs of these shapes.

        Used to refuse a model over :data:`MAX_MODEL_PARAMS` before Keras
        allocates it. With ``shapes`` None (validation, before shapes are
        known) every unknown size counts as 1, which gives a lower bound.
        """
        return 0

    def call(self, layers: list[Any], tensors: list[Any]) -> Any:
        """Apply the built layer(s) to the input tensors."""
        x = tensors if len(tensors) > 1 else tensors[0]
        for layer in layers:
            x = layer(x)
        return x

    def keras_name(self, suffix: str = "") -> str:
        return f"{self.name}{suffix}"

    def common(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable}


class ShapeProblem(ValueError):
    """Inputs of shapes a layer cannot take, found by its shape rule (a located message)."""


class SameShape:
    """Mixin of a layer whose output has its input's shape and which has no weights."""

    def infer_output_shape(self, shapes: list[tuple]) -> Any:
        return tuple(shapes[0])

    def count_params(self, shapes: list[tuple]) -> int | None:
        return 0


def known(*sizes: Any) -> bool:
    """Whether every size is known (not None)."""
    return all(size is not None for size in sizes)


def _no_identity_bias(value: Any) -> Any:
    name = value if isinstance(value, str) else next(iter(value)) if isinstance(value, dict) \
        else None
    if name in ("identity", "orthogonal"):
        raise ValueError(f"`{name}` makes a matrix, and a bias is a vector (one value per "
                         "unit): use zeros, ones or {constant: {value: ...}}")
    return value


class WeightedSpec(LayerSpec):
    """A layer with a kernel and a bias: initialisers and regularisers attach here."""

    kernel_initializer: Initializer | None = None
    """Initial kernel weights, e.g. he_normal, glorot_uniform (= xavier),
    {random_normal: {stddev: 0.01}}."""
    bias_initializer: Annotated[Initializer | None, AfterValidator(_no_identity_bias)] = None
    """Initial biases (default zeros)."""
    kernel_regularizer: Regularizer | None = None
    """Weight penalty on the kernel, e.g. {l2: 1e-4}."""
    bias_regularizer: Regularizer | None = None
    """Weight penalty on the bias."""
    activity_regularizer: Regularizer | None = None
    """Penalty on the layer's output."""

    def initializer_problem(self, kernel: tuple, bias: tuple) -> str | None:
        """Why a constant initialiser's list does not fit the kernel or bias, or None."""
        from compiler.layers.params import constant_problem

        if None in kernel:
            return None
        return (constant_problem("kernel_initializer", self.kernel_initializer, kernel)
                or constant_problem("bias_initializer", self.bias_initializer, bias))

    def weight_kwargs(self, prefix: str = "kernel") -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.kernel_initializer is not None:
            out[f"{prefix}_initializer"] = initializer_to_keras(self.kernel_initializer)
        if self.bias_initializer is not None:
            out["bias_initializer"] = initializer_to_keras(self.bias_initializer)
        if self.kernel_regularizer is not None:
            out[f"{prefix}_regularizer"] = regularizer_to_keras(self.kernel_regularizer)
        if self.bias_regularizer is not None:
            out["bias_regularizer"] = regularizer_to_keras(self.bias_regularizer)
        if self.activity_regularizer is not None:
            out["activity_regularizer"] = regularizer_to_keras(self.activity_regularizer)
        return out


def part_weight_kwargs(spec: Any, parts: tuple[str, ...]) -> dict[str, Any]:
    """Keras keywords for the `<part>_initializer` / `<part>_regularizer` fields a spec set."""
    out: dict[str, Any] = {}
    for part in parts:
        init = getattr(spec, f"{part}_initializer")
        reg = getattr(spec, f"{part}_regularizer")
        if init is not None:
            out[f"{part}_initializer"] = initializer_to_keras(init)
        if reg is not None:
            out[f"{part}_regularizer"] = regularizer_to_keras(reg)
    return out


def input_size(shapes: list[tuple] | None, axis: int = -1) -> int:
    """Size of ``axis`` of the first input; 1 when it is not known (yet)."""
    if not shapes or not shapes[0]:
        return 1
    try:
        size = shapes[0][axis]
    except IndexError:
        return 1
    return int(size) if size else 1


def input_volume(shapes: list[tuple] | None) -> int:
    """Number of values in one example of the first input (unknown sizes count as 1)."""
    total = 1
    for axis in range(1, len(shapes[0]) if shapes and shapes[0] else 1):
        total *= input_size(shapes, axis)
    return total


def rank_message(kind: str, expected: str, shape: tuple, source: str, hint: str = "") -> str:
    shown = "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
    return (f"{kind} expects {expected}, got shape {shown} from '{source}'"
            + (f"; {hint}" if hint else ""))
