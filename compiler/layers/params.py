"""Typed parameters shared by many layer types: activations, initialisers, regularisers.

Each is validated here (closed sets of names, numeric ranges) and turned into a
Keras object by a ``to_keras`` function that imports Keras only when called.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from compiler.spec.base import StrictModel


def snake_case(name: str) -> str:
    """Keras's class-name rule: `MaxPooling2D` → `max_pooling2d`, `HeNormal` → `he_normal`."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _snake_name(value: Any) -> Any:
    return snake_case(value) if isinstance(value, str) and value.isidentifier() else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


# Spec names → Keras names. `logistic` and `xavier` are the seeds' words.
ACTIVATIONS = {
    "linear": "linear", "sigmoid": "sigmoid", "logistic": "sigmoid", "tanh": "tanh",
    "relu": "relu", "relu6": "relu6", "leaky_relu": "leaky_relu", "elu": "elu", "selu": "selu",
    "gelu": "gelu", "swish": "silu", "silu": "silu", "softmax": "softmax",
    "log_softmax": "log_softmax", "softplus": "softplus", "softsign": "softsign",
    "hard_sigmoid": "hard_sigmoid", "hard_silu": "hard_silu", "hard_swish": "hard_silu",
    "mish": "mish", "exponential": "exponential",
    "step": "step", "threshold": "step",
}
ActivationName = Literal[tuple(ACTIVATIONS)]  # type: ignore[valid-type]

INITIALIZERS = {
    "he_normal": "he_normal", "he_uniform": "he_uniform",
    "glorot_normal": "glorot_normal", "glorot_uniform": "glorot_uniform",
    "xavier_normal": "glorot_normal", "xavier_uniform": "glorot_uniform", "xavier": "glorot_normal",
    "lecun_normal": "lecun_normal", "lecun_uniform": "lecun_uniform",
    "zeros": "zeros", "ones": "ones", "orthogonal": "orthogonal", "identity": "identity",
    "random_normal": "random_normal", "random_uniform": "random_uniform",
    "truncated_normal": "truncated_normal", "constant": "constant",
    "variance_scaling": "variance_scaling",
    "uniform": "random_uniform", "normal": "random_normal",  # Keras's short names
}
# Keras's class names (`GlorotUniform`, `HeNormal`) are read as their snake_case names.
InitializerName = Annotated[Literal[tuple(INITIALIZERS)],  # type: ignore[valid-type]
                            BeforeValidator(_snake_name)]


# A constant initialiser's value as a list, nested up to four deep (a conv kernel).
ConstantList = (list[float] | list[list[float]] | list[list[list[float]]]
                | list[list[list[list[float]]]])


def list_shape(value: Any) -> tuple[int, ...]:
    """The shape of a nested list of numbers: [[1, 2, 3], [4, 5, 6]] → (2, 3)."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


def constant_problem(what: str, value: Any, weight: tuple) -> str | None:
    """Why a constant initialiser's list does not fit a weight of shape ``weight``, or None."""
    if not (isinstance(value, dict) and "constant" in value):
        return None
    given = value["constant"].value
    if not isinstance(given, list):
        return None
    shape = list_shape(given)
    fits = len(shape) <= len(weight) and all(
        g in (1, w) for g, w in zip(reversed(shape), reversed(weight), strict=False))
    if fits:
        return None
    return (f"`{what}` {{constant: ...}} has a list of shape {list(shape)}, which does not "
            f"broadcast to the weight's shape {list(weight)}")


class InitializerArgs(StrictModel):
    """Arguments of a parameterised initialiser, e.g. `{random_normal: {stddev: 0.01}}`."""

    mean: float | None = None
    stddev: Annotated[float, Field(gt=0)] | None = None
    minval: float | None = None
    maxval: float | None = None
    value: float | ConstantList | None = None
    """The constant: one number, or a list (nested for a matrix) that broadcasts to the
    weight's shape, e.g. one value per unit for a bias."""
    gain: Annotated[float, Field(gt=0)] | None = None
    scale: Annotated[float, Field(gt=0)] | None = None
    mode: Literal["fan_in", "fan_out", "fan_avg"] | None = None
    distribution: Literal["truncated_normal", "untruncated_normal", "uniform"] | None = None
    seed: int | None = None


_KERAS_CONFIG_KEYS = {"class_name", "config", "module", "registered_name"}


def _keras_config_form(value: Any) -> Any:
    """Keras's serialised form `{class_name: X, config: {...}}` → `{X: {...}}`.

    That is how Keras writes an initialiser in a saved config and how the
    keras.applications sources spell theirs (EfficientNet's CONV_KERNEL_INITIALIZER),
    so it is read as the short form. `module`/`registered_name` may be Keras's own only.
    """
    if not (isinstance(value, dict) and "class_name" in value and set(value) <= _KERAS_CONFIG_KEYS):
        return value
    name = value["class_name"]
    if value.get("module") not in (None, "keras.initializers") or \
            value.get("registered_name") not in (None, name):
        return value
    config = value.get("config")
    return name if config in (None, {}) else {name: config}


Initializer = Annotated[InitializerName | dict[InitializerName, InitializerArgs],
                        BeforeValidator(_keras_config_form)]


def initializer_to_keras(value: Any):
    if value is None:
        return None
    import keras

    if isinstance(value, str):
        return keras.initializers.get(INITIALIZERS[value])
    (name, args), = value.items()
    kwargs = {k: v for k, v in args.model_dump().items() if v is not None}
    return keras.initializers.get({"class_name": INITIALIZERS[name], "config": kwargs})


NonNegative = Annotated[float, Field(ge=0)]


class L1L2(StrictModel):
    l1: NonNegative = 0.0
    """Weight of the sum of absolute values."""
    l2: NonNegative = 0.0
    """Weight of the sum of squares."""


class RegularizerSpec(StrictModel):
    """A weight penalty: `{l2: 1e-4}`, `{l1: 1e-5}` or `{l1_l2: {l1: ..., l2: ...}}`."""

    l1: NonNegative | None = None
    l2: NonNegative | None = None
    l1_l2: L1L2 | None = None

    @model_validator(mode="after")
    def _exactly_one(self):
        given = [k for k in ("l1", "l2", "l1_l2") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of l1, l2, l1_l2, e.g. {l2: 1e-4}")
        return self


Regularizer = Literal["l1", "l2", "l1_l2"] | RegularizerSpec


def regularizer_to_keras(value: Any):
    if value is None:
        return None
    import keras

    if isinstance(value, str):
        return {"l1": keras.regularizers.L1(0.01), "l2": keras.regularizers.L2(0.01),
                "l1_l2": keras.regularizers.L1L2(0.01, 0.01)}[value]
    if value.l1_l2 is not None:
        return keras.regularizers.L1L2(value.l1_l2.l1, value.l1_l2.l2)
    l1, l2 = value.l1 or 0.0, value.l2 or 0.0
    if l1 and l2:
        return keras.regularizers.L1L2(l1, l2)
    if l1:
        return keras.regularizers.L1(l1)
    return keras.regularizers.L2(l2)


def activation_to_keras(name: str | None):
    if name is None:
        return None
    if ACTIVATIONS[name] == "step":
        from custom_layers.activations import step

        return step
    return ACTIVATIONS[name]


# A sanity bound on any one size (units, filters, kernel, vocabulary, ...): a
# typo such as `units: 1e12` is refused at validation, before any TensorFlow.
MAX_SIZE = 100_000_000
PositiveInt = Annotated[int, Field(gt=0, le=MAX_SIZE)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Rate = Annotated[float, Field(ge=0, lt=1)]
# Keras reads padding modes in any case (`SAME`, as TensorFlow writes them).
PaddingMode = Annotated[Literal["valid", "same"], BeforeValidator(_lower)]
CausalPadding = Annotated[Literal["causal"], BeforeValidator(_lower)]


# Sizes per spatial axis, for layers of any number of axes (`dims`): one generic
# form each, so that a layer of a new rank needs no new type here.

def per_axis(dims: int, item: Any = PositiveInt) -> Any:
    """One value for every spatial axis, or one per axis: `3`, or `[3, 5]` when dims is 2."""
    return item | tuple[(item,) * dims]


def axis_widths(dims: int) -> Any:
    """Rows to add (zero padding) or remove (cropping) at the sides of each spatial axis.

    As Keras's ZeroPadding{dims}D takes them: one number for every side, one
    per axis (both its sides), or `[before, after]` per axis. With one axis the
    per-axis form is the pair `[start, end]`, as for ZeroPadding1D.
    """
    if dims == 1:
        return NonNegativeInt | tuple[NonNegativeInt, NonNegativeInt]
    sides = tuple[NonNegativeInt, NonNegativeInt]
    return NonNegativeInt | tuple[(NonNegativeInt,) * dims] | tuple[(sides,) * dims]
