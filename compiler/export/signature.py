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


def random_inputs(
    sig: ModelSignature, batch: int, seed: int = 0, length: int = 8
) -> dict[str, np.ndarray]:
    """Random inputs of the signature's shapes; free dimensions get size `length`.

    Floats are drawn from N(0, 1); integers from ``[0, token_limit)`` so they
    stay valid indices of the model's embeddings.
    """
    rng = np.random.default_rng(seed)
    arrays = {}
    for info in sig.inputs:
        shape = (batch, *(length if d is None else d for d in info.shape[1:]))
        if np.issubdtype(np.dtype(info.dtype), np.integer):
            arrays[info.name] = rng.integers(0, sig.token_limit, shape).astype(info.dtype)
        elif info.dtype == "bool":
            arrays[info.name] = rng.random(shape) > 0.5
        else:
            arrays[info.name] = rng.standard_normal(shape).astype(info.dtype)
    return arrays


# Free lengths tried in turn until the model runs: a convolution with kernel 9
# needs at least 9 steps, a stack of strided layers or pools far more.
FREE_LENGTHS = (8, 16, 32, 64, 128, 256, 512, 1024)


def sample_inputs(model, sig: ModelSignature, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random inputs the model accepts: free dimensions get the shortest length that runs.

    Raises:
        ExportError: No length up to ``FREE_LENGTHS[-1]`` gives the model's
            declared output shapes; the message names the layer that failed.
    """
    return random_inputs(sig, batch, seed, length=accepted_length(model, sig))


def accepted_length(model, sig: ModelSignature) -> int:
    """The shortest of ``FREE_LENGTHS`` for the free input dimensions that the model runs on.

    A length runs when the Keras call succeeds and every output is finite,
    non-empty and of its declared shape (a convolution longer than its input
    gives an empty sequence, which a global pool turns into -inf, not an error).
    """
    if not any(d is None for info in sig.inputs for d in info.shape[1:]):
        return FREE_LENGTHS[0]
    failure = ""
    for length in FREE_LENGTHS:
        try:
            outputs = call_keras(model, sig, random_inputs(sig, 1, seed=0, length=length))
        except Exception as err:  # noqa: BLE001 - any failure means: try a longer input
            failure = str(err)
            continue
        problem = _output_problem(sig, outputs)
        if problem is None:
            return length
        failure = problem
    layer = failing_layer(failure, [layer.name for layer in all_layers(model)])
    where = f" (layer '{layer}' fails)" if layer else ""
    free = [info.name for info in sig.inputs if None in info.shape[1:]]
    raise ExportError(
        f"the model does not run on any length up to {FREE_LENGTHS[-1]} for the free "
        f"dimension(s) of input(s) {free}{where}, so the export cannot be checked; give the "
        "input a fixed length in the spec, or check that kernels, strides and pool sizes fit"
    )


def _output_problem(sig: ModelSignature, outputs: dict[str, Any]) -> str | None:
    for info in sig.outputs:
        value = np.asarray(outputs[info.name])
        declared = info.shape[1:]
        if value.ndim != len(declared) + 1 or any(
            d is not None and d != got for d, got in zip(declared, value.shape[1:], strict=True)
        ):
            return f"output '{info.name}' has shape {value.shape}, expected {info.shape}"
        if not value.size:
            return f"output '{info.name}' is empty"
        if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
            return f"output '{info.name}' is not finite"
    return None


def failing_layer(message: str, layer_names: list[str]) -> str | None:
    """The layer a Keras or TensorFlow error message names, if it names one of ours."""
    import re

    for pattern in (r"of layer '([^']+)'", r"layer \"([^\"]+)\"", r"layer '([^']+)'"):
        for match in re.finditer(pattern, message):
            if match.group(1) in layer_names:
                return match.group(1)
    return None


def constant_outputs(outputs: dict[str, Any]) -> list[str]:
    """The float outputs that are the same for every sample (rows along the batch axis).

    An untrained network often gives one value whatever its input (a zero
    kernel, saturated units); a comparison of such outputs shows nothing.
    """
    constant = []
    for name, value in outputs.items():
        value = np.asarray(value)
        if value.ndim < 1 or len(value) < 2 or not np.issubdtype(value.dtype, np.floating):
            continue
        values = value.astype(np.float64)
        scale = max(1e-6, float(np.max(np.abs(values))))
        if float(np.max(np.abs(values - values[:1]))) <= 1e-6 * scale:
            constant.append(name)
    return constant


def named_inputs(data, sig: ModelSignature, what: str) -> dict[str, np.ndarray] | None:
    """`data` (a ``{name: array}`` mapping, or one array for one input) as named arrays."""
    if data is None:
        return None
    if not isinstance(data, dict):
        if len(sig.inputs) != 1:
            raise ExportError(f"`{what}` must map each of the inputs {sig.input_names} to an array")
        data = {sig.input_names[0]: data}
    missing = [n for n in sig.input_names if n not in data]
    if missing:
        raise ExportError(f"`{what}` lacks the input(s) {missing}")
    return {n: np.asarray(data[n]) for n in sig.input_names}


def checked_call(model, sig: ModelSignature, inputs: dict[str, Any], what: str) -> dict:
    """`call_keras`, with a failure turned into an ExportError naming the layer.

    Args:
        what: Where the inputs come from, for the message (e.g. "the test split").
    """
    try:
        return call_keras(model, sig, inputs)
    except Exception as err:  # noqa: BLE001 - a TensorFlow or Keras error of any class
        layer = failing_layer(str(err), [layer.name for layer in all_layers(model)])
        where = f"layer '{layer}'" if layer else "the model"
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise ExportError(
            f"{where} fails on {what}, so the export cannot be checked ({first}); check that "
            "the data fit the spec's inputs"
        ) from err


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
