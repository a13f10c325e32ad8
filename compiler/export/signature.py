"""The named inputs and outputs of a model, and how to call it by name.

Every exporter and every check speaks in terms of the spec's names: inputs
are a ``{name: array}`` mapping, outputs come back as ``{name: array}``. This
module is the one place that maps those names onto a Keras model's
positional inputs and outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compiler.errors import ExportError


@dataclass(frozen=True)
class TensorInfo:
    """Name, shape (``None`` for the batch and any free dimension) and dtype of one tensor."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True)
class ModelSignature:
    """The inputs and outputs of a model, in the model's own positional order."""

    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    token_limit: int = field(default=2)
    """Exclusive upper bound for random integer inputs (an embedding's vocabulary)."""

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]


def model_signature(
    model, input_names: list[str] | None = None, output_names: list[str] | None = None
) -> ModelSignature:
    """Describe `model`'s inputs and outputs under the given (spec) names.

    Args:
        model: A built Keras model with known inputs and outputs.
        input_names: Names for the inputs; by default the Keras input names.
            When given as a permutation of the Keras names, the model's order
            is kept (the names travel with their tensors).
        output_names: Names for the outputs, in the model's output order; by
            default Keras' ``model.output_names``.

    Raises:
        ExportError: The names do not fit the model.
    """
    keras_inputs = list(model.inputs)
    keras_in_names = [t.name for t in keras_inputs]
    if input_names is None or sorted(input_names) == sorted(keras_in_names):
        names_in = keras_in_names
    elif len(input_names) == len(keras_inputs):
        names_in = list(input_names)
    else:
        raise ExportError(
            f"the model has {len(keras_inputs)} input(s) {keras_in_names}, "
            f"but {len(input_names)} input name(s) were given: {list(input_names)}"
        )
    keras_outputs = list(model.outputs)
    names_out = list(output_names) if output_names is not None else list(model.output_names)
    if len(names_out) != len(keras_outputs):
        raise ExportError(
            f"the model has {len(keras_outputs)} output(s), "
            f"but {len(names_out)} output name(s) were given: {names_out}"
        )
    repeated = sorted({n for n in names_out if names_out.count(n) > 1})
    if repeated:
        raise ExportError(
            f"two outputs of the model would both be called {repeated[0]!r} in the exported "
            f"signature (output names {names_out}); give the outputs distinct names"
        )
    inputs = [
        TensorInfo(n, (None, *tuple(t.shape[1:])), str(t.dtype))
        for n, t in zip(names_in, keras_inputs, strict=True)
    ]
    outputs = [
        TensorInfo(n, (None, *tuple(t.shape[1:])), str(t.dtype))
        for n, t in zip(names_out, keras_outputs, strict=True)
    ]
    vocab = [
        int(layer.input_dim) for layer in all_layers(model) if hasattr(layer, "input_dim")
    ]
    return ModelSignature(inputs, outputs, token_limit=max(2, min(vocab)) if vocab else 2)


def all_layers(model) -> list:
    """Every layer of ``model``: nested models, wrapped layers and recurrent cells too."""
    found, stack = [], list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        found.append(layer)
        stack.extend(getattr(layer, "layers", []) or [])
        stack.extend(c for c in getattr(layer, "cells", None) or [] if c not in found)
        for attr in ("forward_layer", "backward_layer", "layer", "cell"):
            inner = getattr(layer, attr, None)
            if inner is not None and hasattr(inner, "name") and inner not in found:
                stack.append(inner)
    return found


def random_inputs(sig: ModelSignature, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random inputs of the signature's shapes; free dimensions get size 8.

    Floats are drawn from N(0, 1); integers from ``[0, token_limit)`` so they
    stay valid indices of the model's embeddings.
    """
    rng = np.random.default_rng(seed)
    arrays = {}
    for info in sig.inputs:
        shape = (batch, *(8 if d is None else d for d in info.shape[1:]))
        if np.issubdtype(np.dtype(info.dtype), np.integer):
            arrays[info.name] = rng.integers(0, sig.token_limit, shape).astype(info.dtype)
        elif info.dtype == "bool":
            arrays[info.name] = rng.random(shape) > 0.5
        else:
            arrays[info.name] = rng.standard_normal(shape).astype(info.dtype)
    return arrays


def call_keras(model, sig: ModelSignature, inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """Run `model` in inference mode on named inputs; return named NumPy outputs."""
    ordered = [inputs[name] for name in sig.input_names]
    result = model(ordered if len(ordered) > 1 else ordered[0], training=False)
    return name_outputs(model, sig, result)


def name_outputs(model, sig: ModelSignature, result) -> dict[str, Any]:
    """Map what a Keras model call returned (tensor, list or dict) onto the output names."""
    if isinstance(result, dict):
        values = [result[k] for k in model.output_names]
    elif isinstance(result, (list, tuple)):
        values = list(result)
    else:
        values = [result]
    return {
        name: np.asarray(v) if not hasattr(v, "dtype") or isinstance(v, np.ndarray) else v
        for name, v in zip(sig.output_names, values, strict=True)
    }


def max_relative_diff(reference: dict[str, np.ndarray], other: dict[str, np.ndarray]) -> float:
    """Largest |other - reference| over all outputs, divided by max(1, peak |reference|)."""
    return _max_diff(reference, other, relative=True)


def max_abs_diff(reference: dict[str, np.ndarray], other: dict[str, np.ndarray]) -> float:
    """Largest absolute difference over all outputs."""
    return _max_diff(reference, other, relative=False)


def _max_diff(reference: dict[str, np.ndarray], other: dict[str, np.ndarray],
              relative: bool) -> float:
    worst = 0.0
    for name, ref in reference.items():
        ref = np.asarray(ref, dtype=np.float64)
        if not ref.size:
            continue
        got = np.asarray(other[name], dtype=np.float64).reshape(ref.shape)
        scale = max(1.0, float(np.max(np.abs(ref)))) if relative else 1.0
        worst = max(worst, float(np.max(np.abs(got - ref))) / scale)
    return worst
