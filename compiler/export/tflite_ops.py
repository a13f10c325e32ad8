"""Which ops a TFLite model uses, and which Keras layers an unsupported op comes from.

The op list is read straight from the flatbuffer (every subgraph, so the
bodies of WHILE loops count too), not from an interpreter: an interpreter
without the Flex delegate refuses to load a model with Flex ops, and its
delegates hide the ops they take over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def list_ops(model_content: bytes) -> list[str]:
    """Names of the distinct ops in a TFLite flatbuffer, sorted.

    Builtin ops use their schema name (``FULLY_CONNECTED``); custom ops, Flex
    ops included, their custom code (``FlexTensorListReserve``).
    """
    from ai_edge_litert import schema_py_generated as schema

    builtin_names = {
        value: name
        for name, value in vars(schema.BuiltinOperator).items()
        if not name.startswith("_") and isinstance(value, int)
    }
    model = schema.Model.GetRootAs(model_content, 0)
    codes = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        # Codes above 127 live in BuiltinCode; older files use the deprecated byte.
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == schema.BuiltinOperator.CUSTOM:
            codes.append(code.CustomCode().decode("utf-8"))
        else:
            codes.append(builtin_names.get(builtin, f"BUILTIN_{builtin}"))
    used = set()
    for s in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(s)
        for o in range(subgraph.OperatorsLength()):
            used.add(codes[subgraph.Operators(o).OpcodeIndex()])
    return sorted(used)


def non_builtin_ops(ops: Iterable[str]) -> list[str]:
    """The Flex and custom ops among `ops` (builtin names are upper case)."""
    return sorted(op for op in ops if not op.isupper() and not op.startswith("BUILTIN_"))


_LIST_PATTERNS = (
    re.compile(r"TF Select ops: ([^\n]+)"),
    re.compile(r"Custom ops: ([^\n]+)"),
    re.compile(r"Flex ops: ([^\n]+)"),
)
_OP_PATTERN = re.compile(r"'tf\.(\w+)' op is neither a custom op nor a flex op")


def unsupported_ops_from_error(message: str) -> list[str]:
    """TensorFlow op names a converter error says have no builtin kernel."""
    found: set[str] = set()
    for pattern in _LIST_PATTERNS:
        for match in pattern.finditer(message):
            found.update(op.strip() for op in match.group(1).split(",") if op.strip())
    found.update(_OP_PATTERN.findall(message))
    if "Lowering tensor list ops is failed" in message:
        found.add("TensorList*")
    return sorted(found)


def layers_using_ops(graph_def, op_names: Iterable[str], layer_names: Iterable[str]) -> dict:
    """Map each TensorFlow op type to the Keras layers whose graph nodes use it.

    Node names are name scopes (``functional_1/my_lstm_1/while/...``); Keras
    may add a ``_N`` suffix to a layer's scope, so both forms are matched.

    Args:
        graph_def: The traced (frozen) ``GraphDef``, including its function library.
        op_names: Op types to look for; ``TensorList*`` matches any TensorList op.
        layer_names: Names of the model's layers (nested ones included).

    Returns:
        ``{op: [layer, ...]}`` for the ops that were found in some layer.
    """
    wanted = set(op_names)
    layers = set(layer_names)
    nodes = [(n.name, n.op) for n in graph_def.node]
    for function in graph_def.library.function:
        # Nodes inside a while body or a nested call are named relative to
        # the function; the function's own name carries the layer's scope.
        nodes.extend((f"{function.signature.name}/{n.name}", n.op) for n in function.node_def)
    found: dict[str, list[str]] = {}
    for name, op in nodes:
        key = op if op in wanted else ("TensorList*" if op.startswith("TensorList") else None)
        if key is None or key not in wanted:
            continue
        layer = layer_in_scope(name, layers)
        if layer and layer not in found.setdefault(key, []):
            found[key].append(layer)
    return found


def layer_in_scope(node_name: str, layers: set[str]) -> str | None:
    """The layer of `layers` whose name scope holds the graph node `node_name`, if any."""
    # Function names are mangled (`__inference_my_lstm_1_while_body_123`), so
    # look at every piece between separators as well as whole scope parts.
    parts = node_name.split("/")
    for part in parts:
        for candidate in (part, re.sub(r"_\d+$", "", part)):
            if candidate in layers:
                return candidate
    for layer in sorted(layers, key=len, reverse=True):
        if re.search(rf"(^|[/_]){re.escape(layer)}(_\d+)?([/_]|$)", node_name):
            return layer
    return None
