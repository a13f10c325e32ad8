"""The JSON Schema of a search space, and where a spec's schema accepts one: wherever a value goes.

`nncompile tune` samples any value written as ``{choice: [...]}``, ``{uniform: [a, b]}``,
``{log_uniform: [a, b]}`` or ``{int: [a, b]}`` (see compiler.spec.spaces), so an
editor that checks a spec against `nncompile schema` must accept one in place
of any property's value or list item, except in the sections that are not
searched (`tune:`, `nncompile:`, `name:`). The layer list and `blocks:` are
searched inside (a layer, a parameter), not replaced whole.
"""

from __future__ import annotations

from typing import Any

from compiler.spec.spaces import MAX_OPTIONS

DEFINITION = "SearchSpace"
_REF = {"$ref": f"#/$defs/{DEFINITION}"}
# Definitions used only by the `tune:` section, whose values are never sampled.
_TUNE_DEFINITIONS = ("TuneSpec", "Objective", "Constraints", "CoarseToFine")
_NOT_SEARCHED = ("tune", "nncompile", "name", "$schema", "extends")
# The layer list and the blocks are searched inside (an item, a parameter), not as a whole.
_WHOLE = ("layers", "blocks")


def _range(minimum: dict[str, Any] | None = None, kind: str = "number") -> dict[str, Any]:
    bound = {"type": kind, **(minimum or {})}
    return {"type": "array", "prefixItems": [bound, bound], "minItems": 2, "maxItems": 2,
            "description": "[low, high]"}


def _one(kind: str, values: dict[str, Any], description: str,
         extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": {kind: values, **(extra or {})},
            "required": [kind], "additionalProperties": False, "description": description}


def space_schema() -> dict[str, Any]:
    """One search space: ``{choice: [...]}``, ``{uniform: [a, b]}``, log_uniform or int."""
    return {
        "description": "A search space `nncompile tune` samples (build and train need a value)",
        "oneOf": [
            _one("choice", {"type": "array", "minItems": 1, "maxItems": MAX_OPTIONS},
                 "One of the options (an option may hold search spaces of its own)"),
            _one("uniform", _range(), "A number in [low, high]"),
            _one("log_uniform", _range({"exclusiveMinimum": 0}),
                 "A number in [low, high], evenly spread over decades (low > 0)"),
            _one("int", _range(kind="integer"), "A whole number in [low, high]",
                 {"step": {"type": "integer", "minimum": 1},
                  "log": {"type": "boolean"}}),
        ],
    }


def allow_spaces(root: dict[str, Any]) -> dict[str, Any]:
    """``root`` (a spec's JSON Schema) with a search space accepted in place of any value.

    Every property value, additional or pattern property, and list item becomes
    ``anyOf: [what it was, SearchSpace]``; the definitions are changed in place
    once each, so a shared definition is not wrapped twice.
    """
    defs = root.setdefault("$defs", {})
    for name, definition in list(defs.items()):
        if name not in _TUNE_DEFINITIONS:
            defs[name] = _inside(definition)
    properties = root.get("properties", {})
    for key, value in list(properties.items()):
        if key in _WHOLE:
            properties[key] = _inside(value)
        elif key not in _NOT_SEARCHED:
            properties[key] = _wrap(_inside(value))
    for key in ("if", "then", "else"):
        if isinstance(root.get(key), dict):
            root[key] = _inside(root[key])
    defs[DEFINITION] = space_schema()
    return root


def _wrap(schema: Any) -> Any:
    if not isinstance(schema, dict) or schema == _REF:
        return schema
    if "anyOf" in schema and set(schema) <= {"anyOf", "description", "default", "title"}:
        # Already a list of alternatives: one more keeps the shape readers rely on.
        return {**schema, "anyOf": [*schema["anyOf"], _REF]}
    wrapped: dict[str, Any] = {"anyOf": [schema, _REF]}
    if "description" in schema:
        wrapped["description"] = schema["description"]
    return wrapped


def _inside(schema: Any) -> Any:
    """The schema with every value below it wrapped (the schema itself is not)."""
    if isinstance(schema, list):
        return [_inside(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in ("properties", "patternProperties"):
        if isinstance(out.get(key), dict):
            out[key] = {k: _wrap(_inside(v)) for k, v in out[key].items()}
    for key in ("additionalProperties", "items"):
        if isinstance(out.get(key), dict):
            out[key] = _wrap(_inside(out[key]))
    if isinstance(out.get("prefixItems"), list):
        out["prefixItems"] = [_wrap(_inside(s)) for s in out["prefixItems"]]
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(out.get(key), list):
            out[key] = [_inside(s) for s in out[key]]
    for key in ("if", "then", "else"):  # `not` and propertyNames are left as they are
        if isinstance(out.get(key), dict):
            out[key] = _inside(out[key])
    return out
