"""Pydantic's validation errors → located problems, in the words of the spec's author.

Pydantic reports paths through its own union members and model names;
:func:`pydantic_problems` maps each error back onto the user's data and its
source position, merges the alternatives of a union into one "expected a or
b" message, and adds hints for habits carried over from Python (tuples,
``None``, arithmetic written as text, Keras's shape keywords).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError

from compiler.errors import Problem, did_you_mean
from compiler.spec.expressions import comma_split_hint
from compiler.spec.located import format_path, locate, show_value


def pydantic_problems(err: ValidationError, source: Any, prefix: tuple, data: Any,
                      cls: type[BaseModel] | None = None, context: str = "",
                      mark=None, at: tuple = ()) -> list[Problem]:
    """Turn pydantic errors into located problems, merging union alternatives.

    `data` is what was validated (by `cls`); it sits at path `at` in `source`,
    and `prefix` is put before each error's path when it is shown.
    """
    grouped: dict[tuple, list[dict]] = {}
    for error in err.errors(include_url=False):
        path = _real_path(error, data)
        grouped.setdefault(path, []).append(error)
    problems = []
    for path, errors in grouped.items():
        display = format_path(prefix + path)
        if context:
            display = f"{display} ({context})"
        key_error = any(e["type"] == "extra_forbidden" for e in errors)
        where = locate(source, at + path, key=key_error) if isinstance(source, dict) else None
        where = where or mark
        message = _message(errors, path, data, cls)
        loc = where.location(display) if where else None
        problems.append(Problem(message, loc) if loc else Problem(f"{display}: {message}"))
    return problems


def _real_path(error: dict, data: Any) -> tuple:
    """The error's location in the user's data, without pydantic's union-member tags."""
    path: list = []
    node = data
    loc = list(error["loc"])
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, (list, tuple)) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif last and error["type"] == "missing":
            path.append(part)
    return tuple(path)


def _bound(value: Any) -> str:
    """A limit as people read it: 100,000,000 rather than 100000000."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    return str(value)


def _describe(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    table = {
        "int_parsing": "an integer", "int_type": "an integer", "int_from_float": "an integer",
        "float_parsing": "a number", "float_type": "a number",
        "bool_parsing": "true or false", "bool_type": "true or false",
        "string_type": "text", "dict_type": "a mapping", "list_type": "a list",
        "tuple_type": "a list", "model_type": "a mapping", "model_attributes_type": "a mapping",
        "none_required": "null",
    }
    if kind in table:
        return table[kind]
    if kind == "greater_than":
        return f"a number > {_bound(ctx.get('gt'))}"
    if kind == "greater_than_equal":
        return f"a number ≥ {_bound(ctx.get('ge'))}"
    if kind == "less_than":
        return f"a number < {_bound(ctx.get('lt'))}"
    if kind == "less_than_equal":
        return f"a number ≤ {_bound(ctx.get('le'))}"
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return f"a list of at least {least} item{'s' if least != 1 else ''}"
    if kind == "too_long":
        most = ctx.get("max_length")
        return f"a list of at most {most} item{'s' if most != 1 else ''}"
    if kind == "string_pattern_mismatch":
        return "a name of letters, digits, _ . - starting with a letter"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"][0].lower() + error["msg"][1:]


def _message(errors: list[dict], path: tuple, data: Any, cls) -> str:
    first = errors[0]
    if first["type"] == "missing":
        return f"missing required key '{path[-1]}'" if path else "missing required value"
    if first["type"] == "extra_forbidden":
        # The key pydantic names; the user's path may stop short of it when a
        # shorthand (`tflitee` for `{tflitee: {}}`) was expanded.
        key = first["loc"][-1] if first["loc"] else (path[-1] if path else "?")
        inside = path[:-1] if path and path[-1] == key else path
        known = _known_fields(cls, inside) if cls else []
        if key in _KERAS_SHAPE_KEYS and "shape" not in known:
            return (f"unknown key '{key}': shapes are given once, under `inputs:`, e.g. "
                    "inputs: {x: {shape: [28, 28, 1]}}; layers take theirs from their inputs")
        if re.fullmatch(r"[\w.\s-]*\)", str(key)):
            return (f"unknown key '{key}': the end of a Python tuple? YAML has no tuples; "
                    "write a list in brackets, e.g. [3, 3]")
        if comma_split_hint(key, key=True):
            return f"unknown key '{key}'{comma_split_hint(key, key=True)}"
        hint = did_you_mean(str(key), known) if known else ""
        tail = f" (accepted: {', '.join(known)})" if known and not hint else ""
        return f"unknown key '{key}'{hint}{tail}"
    value = first.get("input")
    if first["type"] == "value_error":
        return str((first.get("ctx") or {}).get("error", first["msg"]))
    wanted = []
    for error in errors:
        text = _describe(error)
        if text not in wanted:
            wanted.append(text)
    hint = _value_hint(value)
    if first["type"] == "literal_error" and isinstance(value, str) and not hint:
        options = re.findall(r"'([^']*)'", str((first.get("ctx") or {}).get("expected", "")))
        hint = did_you_mean(value, options)
    return f"expected {' or '.join(wanted)}, got {show_value(value)}{hint}"


_KERAS_SHAPE_KEYS = {"input_shape", "input_dim", "batch_input_shape", "batch_shape"}
_TUPLE = re.compile(r"^\(\s*([^()]*?)\s*,?\s*\)$")
# `scale: 1/255`, `units: 64 * 2`: arithmetic on numbers, read by YAML as text.
_ARITHMETIC = re.compile(r"^[\d\s.eE+\-*/%()]+$")
_OPERATOR = re.compile(r"[\d.)]\s*(\*\*|//|[-+*/%])\s*[\d.(]")


def _value_hint(value: Any) -> str:
    """What a Python habit in a YAML value was meant to say."""
    if not isinstance(value, str):
        return ""
    match = _TUPLE.match(value.strip())
    if match and match.group(1):
        items = [part.strip() for part in match.group(1).split(",") if part.strip()]
        return f" (YAML has no tuples: write [{', '.join(items)}])"
    if value.lstrip().startswith("("):
        return " (YAML has no tuples: write a list in brackets, e.g. [3, 3])"
    if comma_split_hint(value):
        return comma_split_hint(value)
    if value.strip() in ("None", "none", "NONE", "nil", "Nil"):
        return " (YAML writes no value as null or ~)"
    if _ARITHMETIC.match(value) and _OPERATOR.search(value):
        return (f" (arithmetic is an expression: write \"${{{value.strip()}}}\", or the "
                "number itself)")
    return ""


def _known_fields(cls, path: tuple) -> list[str]:
    for part in path:  # down to the model that holds the unknown key
        cls = _inner_model(cls, part)
    if cls is None or "root" in cls.model_fields:
        return []
    names = list(cls.model_fields)
    return [n for n in names if n not in ("name", "inputs")] + [
        n for n in ("name", "inputs") if n in names
    ]


def _inner_model(cls, part) -> type[BaseModel] | None:
    """The model class found under field (or list index) `part` of `cls`, if any."""
    if cls is None:
        return None
    if isinstance(part, int) and "root" not in cls.model_fields:
        return cls  # a list field's item model was found with the field
    key = "root" if isinstance(part, int) else part
    field = cls.model_fields.get(key)
    return _first_model(field.annotation) if field is not None else None


def _first_model(annotation) -> type[BaseModel] | None:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None
