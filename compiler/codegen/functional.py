"""A functional (or sequential) model's config, read as data: layers and the calls between them.

Keras writes a model as its layers, each with the ``inbound_nodes`` it was
called on: the arguments, with every tensor written as
``{"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node,
index]}}``. This module turns that into :class:`Graph`, the calls in an order
where every tensor is made before it is used, for `nncompile codegen` (which
writes them as Python) and `nncompile import` (which writes them as a spec).
Nested models are opened up: their layers join the outer graph, so a model
applied twice becomes its layers applied twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODEL_CLASSES = ("Functional", "Sequential", "Model")


class GraphError(ValueError):
    """The config does not describe a graph this reader follows; ``path`` says where."""

    def __init__(self, message: str, path: str):
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class TensorRef:
    """One output tensor of one call of a layer."""

    layer: str
    node: int
    index: int


@dataclass
class Layer:
    """A layer as its config has it, and where it is in the file's config."""

    name: str
    obj: dict  # {module, class_name, config, registered_name}
    path: str
    calls: list[Call] = field(default_factory=list)

    @property
    def class_name(self) -> str:
        return str(self.obj.get("class_name"))

    @property
    def config(self) -> dict:
        return self.obj.get("config") or {}


@dataclass
class Call:
    """One call of a layer: its arguments, with tensors as :class:`TensorRef`."""

    layer: Layer
    node: int
    args: list
    kwargs: dict

    def tensors(self) -> list[TensorRef]:
        found: list[TensorRef] = []
        _collect((self.args, self.kwargs), found)
        return found


@dataclass
class Graph:
    """Inputs, layers, calls in an order that makes every tensor before it is used."""

    name: str
    inputs: list[TensorRef]
    outputs: list[TensorRef]
    layers: dict[str, Layer]
    calls: list[Call]
    several_outputs: bool = False

    def producer(self, ref: TensorRef) -> Call | None:
        layer = self.layers.get(ref.layer)
        if layer is None or ref.node >= len(layer.calls):
            return None
        return layer.calls[ref.node]


def _collect(value: Any, found: list[TensorRef]) -> None:
    if isinstance(value, TensorRef):
        found.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found)


def _history(value: Any) -> Any:
    """Serialised arguments → the same structure with :class:`TensorRef` for tensors."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            layer, node, index = value["config"]["keras_history"]
            return TensorRef(str(layer), int(node), int(index))
        return {k: _history(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if (len(value) == 3 and isinstance(value[0], str) and isinstance(value[1], int)
                and isinstance(value[2], int)):
            return TensorRef(value[0], value[1], value[2])
        return [_history(v) for v in value]
    return value


def _refs(value: Any) -> list[TensorRef]:
    """``input_layers`` / ``output_layers``: one ``[name, node, index]`` or a list of them."""
    if isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str):
        return [TensorRef(value[0], int(value[1]), int(value[2]))]
    return [TensorRef(str(v[0]), int(v[1]), int(v[2])) for v in value or []]


def read_model(obj: dict, path: str = "") -> Graph:
    """The :class:`Graph` of a serialised Functional or Sequential model."""
    graph = _Reader().read(obj, path)
    graph.calls = _ordered(graph)
    return graph


class _Reader:
    def __init__(self) -> None:
        self.layers: dict[str, Layer] = {}
        # A nested model's output tensor, per call of the model → the inner tensor.
        self.aliases: dict[TensorRef, Any] = {}

    def read(self, obj: dict, path: str) -> Graph:
        config = obj.get("config") or {}
        prefix = f"{path}.config" if path else "config"
        if obj.get("class_name") == "Sequential":
            return self.read_sequential(config, prefix)
        raw_layers = config.get("layers")
        if not isinstance(raw_layers, list):
            raise GraphError("the model config has no list of layers", prefix)
        for index, item in enumerate(raw_layers):
            self.add_layer(item, f"{prefix}.layers[{index}]")
        graph = Graph(str(config.get("name", "model")), _refs(config.get("input_layers")),
                      _refs(config.get("output_layers")), self.layers, [])
        out = config.get("output_layers")
        graph.several_outputs = not (isinstance(out, (list, tuple)) and len(out) == 3
                                     and isinstance(out[0], str))
        return graph

    def read_sequential(self, config: dict, prefix: str) -> Graph:
        raw_layers = config.get("layers") or []
        previous: TensorRef | None = None
        inputs: list[TensorRef] = []
        for index, item in enumerate(raw_layers):
            where = f"{prefix}.layers[{index}]"
            name = str((item.get("config") or {}).get("name") or item.get("name"))
            if item.get("class_name") == "InputLayer":
                self.layers[name] = Layer(name, item, where)
                previous = TensorRef(name, 0, 0)
                inputs.append(previous)
                continue
            if previous is None:
                shape = (config.get("build_input_shape")
                         or (item.get("build_config") or {}).get("input_shape"))
                if not shape:
                    raise GraphError("a sequential model without an input shape cannot be read",
                                     where)
                input_name = f"{config.get('name', 'sequential')}_input"
                self.layers[input_name] = Layer(input_name, {
                    "module": "keras.layers", "class_name": "InputLayer",
                    "config": {"batch_shape": list(shape), "dtype": "float32",
                               "name": input_name}}, where)
                previous = TensorRef(input_name, 0, 0)
                inputs.append(previous)
            layer = Layer(name, item, where)
            self.layers[name] = layer
            layer.calls.append(Call(layer, 0, [previous], {}))
            previous = TensorRef(name, 0, 0)
        if previous is None:
            raise GraphError("the sequential model has no layers", prefix)
        return Graph(str(config.get("name", "sequential")), inputs, [previous], self.layers, [])

    def add_layer(self, item: dict, where: str) -> None:
        if not isinstance(item, dict):
            raise GraphError("a layer entry is not a mapping", where)
        name = str(item.get("name") or (item.get("config") or {}).get("name"))
        if name in self.layers:
            raise GraphError(f"two layers are named '{name}'", where)
        nodes = item.get("inbound_nodes") or []
        if item.get("class_name") in MODEL_CLASSES:
            self.add_model(name, item, nodes, where)
            return
        layer = Layer(name, item, where)
        self.layers[name] = layer
        for node_index, node in enumerate(nodes):
            args, kwargs = self.node_arguments(node, f"{where}.inbound_nodes[{node_index}]")
            layer.calls.append(Call(layer, node_index, args, kwargs))

    def node_arguments(self, node: Any, where: str) -> tuple[list, dict]:
        if isinstance(node, dict) and "args" in node:
            args, kwargs = node.get("args") or [], node.get("kwargs") or {}
        elif isinstance(node, list):  # the older form: [[name, node, index, kwargs], ...]
            refs = [TensorRef(str(n[0]), int(n[1]), int(n[2])) for n in node]
            args, kwargs = ([refs[0]] if len(refs) == 1 else [refs]), {}
        else:
            raise GraphError("an inbound node is neither arguments nor a list of tensors", where)
        return self.resolve(_history(args)), self.resolve(_history(kwargs))

    def resolve(self, value: Any) -> Any:
        """Replace a nested model's outputs by the inner tensors they stand for."""
        if isinstance(value, TensorRef):
            return self.resolve(self.aliases[value]) if value in self.aliases else value
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def add_model(self, name: str, item: dict, nodes: list, where: str) -> None:
        """A nested model: its layers join this graph; each call of it is a call of them."""
        inner = _Reader()
        inner_graph = inner.read(item, where)
        first = {ref.layer for ref in inner_graph.inputs}
        for node_index, node in enumerate(nodes):
            args, kwargs = self.node_arguments(node, f"{where}.inbound_nodes[{node_index}]")
            given: list[TensorRef] = []
            _collect(args, given)
            if len(given) != len(inner_graph.inputs):
                raise GraphError(f"the nested model '{name}' is called with {len(given)} "
                                 f"tensors but has {len(inner_graph.inputs)} inputs", where)
            mapping: dict[TensorRef, Any] = dict(zip(inner_graph.inputs, given, strict=True))
            for layer_name, layer in inner.layers.items():
                if layer_name in first:
                    continue
                target = self.layers.get(layer_name)
                if target is None:
                    target = Layer(layer_name, layer.obj, layer.path)
                    self.layers[layer_name] = target
                elif node_index == 0:
                    raise GraphError(f"two layers are named '{layer_name}'", layer.path)
                for call in layer.calls:
                    new_index = len(target.calls)
                    args2 = _substitute(call.args, mapping)
                    kwargs2 = _substitute(call.kwargs, mapping)
                    target.calls.append(Call(target, new_index, args2, kwargs2))
                    for i in range(64):  # outputs of the inner call → the outer call's
                        mapping[TensorRef(layer_name, call.node, i)] = TensorRef(
                            layer_name, new_index, i)
            for out_index, out in enumerate(inner_graph.outputs):
                self.aliases[TensorRef(name, node_index, out_index)] = mapping.get(out, out)


def _substitute(value: Any, mapping: dict) -> Any:
    if isinstance(value, TensorRef):
        return mapping.get(value, value)
    if isinstance(value, list):
        return [_substitute(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, mapping) for k, v in value.items()}
    return value


def _ordered(graph: Graph) -> list[Call]:
    """Every call after the calls that make its tensors (Kahn's order, stable by config)."""
    pending = [call for layer in graph.layers.values() for call in layer.calls]
    made = {(ref.layer, ref.node) for ref in graph.inputs}
    made |= {(name, 0) for name, layer in graph.layers.items() if layer.class_name == "InputLayer"}
    ordered: list[Call] = []
    while pending:
        progress = False
        rest = []
        for call in pending:
            if all((ref.layer, ref.node) in made for ref in call.tensors()):
                ordered.append(call)
                made.add((call.layer.name, call.node))
                progress = True
            else:
                rest.append(call)
        if not progress:
            missing = rest[0]
            raise GraphError(f"layer '{missing.layer.name}' takes a tensor that no layer makes",
                             missing.layer.path)
        pending = rest
    return ordered
