"""A model's graph → flat spec entries: inputs, one entry per layer, `apply` for a layer reused."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from compiler.codegen.functional import Call, Graph, TensorRef
from compiler.errors import Location, ModelFileError
from compiler.importer.layer_types import LayerImporter, NotExpressible
from compiler.layers import layer_class
from compiler.spec.blocks import name_problem

_OPS = "keras.src.ops."


@dataclass
class FlatEntry:
    """One layer entry of the imported spec."""

    type: str
    params: dict
    name: str
    inputs: list[str]
    layer: str | None = None  # the Keras layer it makes (None for `apply`)


@dataclass
class FlatSpec:
    """The imported model as a spec without blocks."""

    name: str
    inputs: dict[str, dict]
    entries: list[FlatEntry]
    outputs: list[str]
    keras_layers: list[str] = field(default_factory=list)  # layers with weights, in order


def _ref_name(ref: TensorRef, graph: Graph) -> str:
    several = any(r.layer == ref.layer and r.node == ref.node and r.index > 0
                  for call in graph.calls for r in call.tensors()) or ref.index > 0
    base = ref.layer if ref.node == 0 else f"{ref.layer}_call{ref.node}"
    return f"{base}[{ref.index}]" if several else base


def flat_spec(graph: Graph, where: Location, prefix: str) -> FlatSpec:
    """The entries of ``graph``; a layer no layer type makes is refused, naming it and its path.

    Raises:
        ModelFileError: at the layer's path in the config.
    """
    importer = LayerImporter()
    inputs: dict[str, dict] = {}
    entries: list[FlatEntry] = []
    for ref in graph.inputs:
        layer = graph.layers[ref.layer]
        inputs[ref.layer] = _input_spec(layer.config, layer.path, where, prefix)
    for call in graph.calls:
        layer = call.layer
        if layer.class_name == "InputLayer":
            continue
        if str(layer.obj.get("module", "")).startswith(_OPS):
            if _only_masks(call, graph):
                continue  # the mask of an embedding: Keras makes it again from mask_zero
            raise _refuse(where, prefix, layer.path,
                          f"the tensor operation `{layer.class_name}` ('{layer.name}'), which "
                          "is not a layer: a spec is made of layers")
        problem = name_problem(layer.name)
        if problem:
            raise _refuse(where, prefix, layer.path, f"the layer name '{layer.name}': {problem}")
        args = _arguments(call, graph, where, prefix)
        if call.node > 0:
            entries.append(FlatEntry("apply", {"layer": layer.name},
                                     f"{layer.name}_call{call.node}", args))
            continue
        try:
            type_name, params = importer.entry(layer.obj, layer.path)
        except NotExpressible as err:
            raise _refuse(where, prefix, layer.path, f"layer '{layer.name}' ({layer.class_name}): "
                          f"{err}") from None
        called = _call_parameters(call)
        if called and not set(called) <= set(layer_class(type_name).model_fields):
            raise _refuse(where, prefix, layer.path,
                          f"layer '{layer.name}' is called with `{next(iter(called))}=`, which "
                          f"`{type_name}` cannot say")
        entries.append(FlatEntry(type_name, {**params, **called}, layer.name, args, layer.name))
    outputs = [_ref_name(ref, graph) for ref in graph.outputs]
    return FlatSpec(_spec_name(graph.name), inputs, entries, outputs)


def _spec_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "_", name) or "imported"
    return cleaned if not name_problem(cleaned) else "imported"


def _only_masks(call: Call, graph: Graph) -> bool:
    """Whether every use of this operation's output is a `mask=` argument."""
    target = (call.layer.name, call.node)
    for other in graph.calls:
        for key, value in other.kwargs.items():
            if key == "mask":
                continue
            if any((r.layer, r.node) == target for r in _walk(value)):
                return False
        if any((r.layer, r.node) == target for r in _walk(other.args)):
            return False
    return all((r.layer, r.node) != target for r in graph.outputs)


def _walk(value: Any) -> list[TensorRef]:
    if isinstance(value, TensorRef):
        return [value]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in _walk(v)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _walk(v)]
    return []


# Call arguments that a layer type takes as parameters (it passes them to the call).
CALL_PARAMETERS = ("return_attention_scores", "use_causal_mask")


def _call_parameters(call: Call) -> dict[str, Any]:
    """The call's keyword arguments that are spec parameters, when set (not their default)."""
    return {key: value for key, value in call.kwargs.items()
            if key in CALL_PARAMETERS and value not in (False, None)}


def _arguments(call: Call, graph: Graph, where: Location, prefix: str) -> list[str]:
    """The call's tensors as `inputs:`; keyword arguments other than Keras's own are refused."""
    for key, value in call.kwargs.items():
        if key == "mask" or (key == "training" and value in (False, None)):
            continue
        if value is None or key in CALL_PARAMETERS and isinstance(value, bool):
            continue
        raise _refuse(where, prefix, call.layer.path,
                      f"layer '{call.layer.name}' is called with `{key}=`, which a spec's "
                      "`inputs:` cannot say")
    refs = _walk(call.args)
    if not refs:
        raise _refuse(where, prefix, call.layer.path,
                      f"layer '{call.layer.name}' is called without a tensor")
    return [_ref_name(ref, graph) for ref in refs]


def _input_spec(config: dict, path: str, where: Location, prefix: str) -> dict:
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    if not isinstance(shape, list) or len(shape) < 2:
        raise _refuse(where, prefix, path, "an input without a shape (give the model an "
                      "input shape)")
    out: dict[str, Any] = {"shape": list(shape[1:])}
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    if isinstance(dtype, str) and dtype != "float32":
        out["dtype"] = dtype
    return out


def _refuse(where: Location, prefix: str, path: str, what: str) -> ModelFileError:
    return ModelFileError(f"{prefix} {what}",
                          Location(file=where.file, path=path or None))
