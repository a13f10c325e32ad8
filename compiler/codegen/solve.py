"""A value that differs between block instances, written as an expression of the block's parameters.

A block is written once as a Python function, so a constructor argument that
takes another value in each instance must be computed from the arguments the
instance received: ``filters * 4`` when every instance's value is four times
its ``filters``. The expression is found from the instances' values alone, so
it holds for every instance the spec has.
"""

from __future__ import annotations

from typing import Any

_NUMBER = (int, float)


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def solve(values: list[Any], arguments: list[dict[str, Any]], literal) -> str | None:
    """Python source giving ``values[i]`` from ``arguments[i]`` for every i, or None.

    Args:
        values: one value per instance.
        arguments: each instance's block parameters.
        literal: writes a constant value as Python source.
    """
    if all(_same(v, values[0]) for v in values):
        return literal(values[0])
    names = [p for p in arguments[0] if all(p in a for a in arguments)]
    for name in names:
        if all(_same(a[name], v) for a, v in zip(arguments, values, strict=True)):
            return name
    if all(_is_number(v) for v in values):
        for name in names:
            given = [a[name] for a in arguments]
            if not all(_is_number(g) for g in given):
                continue
            found = _affine(name, given, values)
            if found:
                return found
    if all(isinstance(v, (list, tuple)) for v in values) and len({len(v) for v in values}) == 1:
        parts = [solve([v[i] for v in values], arguments, literal) for i in range(len(values[0]))]
        if all(parts):
            bracket = "({})" if isinstance(values[0], tuple) else "[{}]"
            inner = ", ".join(parts) + ("," if len(parts) == 1 and bracket == "({})" else "")
            return bracket.format(inner)
    return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _affine(name: str, given: list, values: list) -> str | None:
    """``name * k``, ``name // k``, ``name + d`` or ``name - d``, when one fits every instance."""
    first, value = given[0], values[0]
    if first and isinstance(value, int) and isinstance(first, int):
        if value % first == 0:
            k = value // first
            if all(isinstance(g, int) and g * k == v for g, v in zip(given, values, strict=True)):
                return f"{name} * {k}"
        if value and first % value == 0:
            k = first // value
            if all(isinstance(g, int) and g // k == v for g, v in zip(given, values, strict=True)):
                return f"{name} // {k}"
    d = value - first
    if all(v - g == d for g, v in zip(given, values, strict=True)) and isinstance(d, int):
        return f"{name} + {d}" if d > 0 else f"{name} - {-d}"
    return None
