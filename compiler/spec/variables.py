"""Variables: ``vars:`` evaluated (they may use each other), then every ``$expression``.

Expressions are parsed by :mod:`compiler.spec.expressions`, never ``eval``-ed.
A value keeps the position it was written at, so a later type error still
points at its line.
"""

from __future__ import annotations

import re
from typing import Any

from compiler.errors import SpecError
from compiler.spec.expressions import (
    FAILED,
    ExpressionError,
    FailedVariable,
    evaluate_value,
    is_expression,
)
from compiler.spec.loader import PosDict
from compiler.spec.located import Problems, format_path, locate

# Sections whose strings are left alone here: block bodies are substituted when a
# block is used (with its parameters), `vars` are resolved on their own, and a
# `description` is free text, where "$5" or "$index" is just text.
_DEFERRED_SECTIONS = ("blocks", "vars", "description")


def _repeated_layer(item: Any, blocks: Any) -> dict | None:
    """The parameters of a plain layer entry with `repeat:` (not a block use), or None."""
    if not (isinstance(item, dict) and len(item) == 1):
        return None
    (kind, params), = item.items()
    if not isinstance(params, PosDict) or "repeat" not in params:
        return None
    if isinstance(blocks, dict) and kind in blocks:
        return None
    return params


def resolve_variables(tree: PosDict, problems: Problems) -> dict[str, Any]:
    """Evaluate ``vars:`` (which may refer to each other) and return them."""
    raw = tree.get("vars") or {}
    if not isinstance(raw, dict):
        problems.add("`vars` must be a mapping of names to values",
                      tree.value_marks.get("vars"), "vars")
        return {}
    resolved: dict[str, Any] = {}
    visiting: list[str] = []
    # A variable whose value fails is reported once, where it is written; it
    # becomes FAILED, and what uses it (other variables, layers) stays quiet.
    failures: dict[str, ExpressionError] = {}

    def value_of(name: str) -> Any:
        if name in resolved:
            return resolved[name]
        if name in visiting:
            raise ExpressionError("variables refer to each other in a cycle: "
                                  + " → ".join(visiting + [name]))
        visiting.append(name)
        try:
            value = substitute(raw[name], _LazyVars(raw, value_of), ("vars", name), tree, None)
        except FailedVariable:
            value = FAILED
        except ExpressionError as err:
            failures[name] = err
            value = FAILED
        finally:
            visiting.pop()
        resolved[name] = value
        return value

    for name in raw:
        if not isinstance(name, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            problems.add(f"variable name '{name}' must be a word (letters, digits, _)",
                         locate(tree, ("vars", name), key=True), f"vars.{name}")
            continue
        try:
            value_of(name)
        except SpecError as err:
            problems.items.extend(err.problems)
    for name, err in failures.items():
        problems.add(str(err), locate(tree, ("vars", name)), f"vars.{name}")
    return resolved


class _LazyVars(dict):
    """Variable lookup that resolves other variables on first use."""

    def __init__(self, raw: dict, value_of):
        super().__init__()
        self._raw = raw
        self._value_of = value_of

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __getitem__(self, name: str) -> Any:
        return self._value_of(name)

    def __iter__(self):
        return iter(self._raw)

    def keys(self):
        return self._raw.keys()


def substitute(node: Any, variables: dict, path: tuple, root: Any,
               problems: Problems | None) -> Any:
    """Replace every ``$expression`` string below ``node``, keeping positions.

    With ``problems`` given, errors are collected; otherwise they are raised.
    """
    if isinstance(node, dict):
        for key in list(node.keys()):
            if not path and key in _DEFERRED_SECTIONS:
                continue
            node[key] = substitute(node[key], variables, path + (key,), root, problems)
        return node
    if isinstance(node, list):
        blocks = root.get("blocks") if isinstance(root, dict) else None
        for i, item in enumerate(node):
            params = _repeated_layer(item, blocks) if path[-1:] == ("layers",) else None
            if params is not None:
                # `- dense: {units: $index * 8, repeat: 3}`: each copy is substituted
                # when it is made, with its own $index and $number (see blocks.py);
                # only the count is needed now.
                params["repeat"] = substitute(params["repeat"], variables,
                                              path + (i, next(iter(item)), "repeat"), root,
                                              problems)
                params.deferred = True  # read by Expander.repeat_layer
                continue
            node[i] = substitute(item, variables, path + (i,), root, problems)
        return node
    if is_expression(node):
        try:
            return evaluate_value(node, variables)
        except ExpressionError as err:
            if problems is None:
                raise
            if not isinstance(err, FailedVariable):  # reported where the variable is
                problems.add(str(err), locate(root, path), format_path(path))
    return node
