"""Variables and safe arithmetic in spec values: ``$width * 2``, ``"conv_${i}"``.

Expressions are parsed with :mod:`ast` and evaluated by walking the tree over a
closed set of node types: numbers, strings, variables, + - * / // % **,
comparisons, ``a if c else b`` and a few pure functions. Nothing is ever
``eval``-ed, attributes and subscripts do not exist, and results are bounded.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from typing import Any

MAX_EXPRESSION_CHARS = 256
MAX_ABS_NUMBER = 1e15

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_FUNCTIONS = {
    "min": min, "max": max, "abs": abs, "int": int, "float": float, "round": round,
    "floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt, "str": str,
}

_VAR_TOKEN = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_INTERPOLATION = re.compile(r"\$\{([^{}]*)\}")


class ExpressionError(ValueError):
    """An expression is malformed or refers to an unknown variable."""


def is_expression(value: Any) -> bool:
    """A string value is an expression when it starts with ``$`` or holds ``${...}``."""
    return isinstance(value, str) and ("$" in value)


def evaluate_value(text: str, variables: dict[str, Any]) -> Any:
    """Evaluate a spec string that holds variables.

    ``$name`` or ``$a * 2`` (the whole string is one expression) gives the
    expression's value with its type; ``"prefix_${i + 1}"`` interpolates into a
    string; ``$$`` is a literal dollar sign.
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    stripped = text.strip()
    if stripped.startswith("$") and not stripped.startswith("${") and not stripped.startswith("$$"):
        return evaluate(stripped, variables)
    if stripped.startswith("${") and stripped.endswith("}") and stripped.count("${") == 1:
        return evaluate(stripped[2:-1], variables)

    def substitute(match: re.Match) -> str:
        return _format(evaluate(match.group(1), variables))

    out = _INTERPOLATION.sub(substitute, text.replace("$$", "\x00"))
    if "$" in out:
        out = _VAR_TOKEN.sub(lambda m: _format(_lookup(m.group(1), variables)), out)
    if "$" in out:
        raise ExpressionError(f"cannot read '{text}': write $name, $name * 2 or ${{expression}}")
    return out.replace("\x00", "$")


def _format(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def evaluate(expression: str, variables: dict[str, Any]) -> Any:
    """Evaluate one arithmetic expression; ``$`` before names is optional."""
    source = _VAR_TOKEN.sub(r"\1", expression).strip()
    if not source:
        raise ExpressionError("empty expression")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise ExpressionError(f"cannot parse the expression '{expression}'") from None
    return _Evaluator(variables, expression).visit(tree.body)


def _lookup(name: str, variables: dict[str, Any]) -> Any:
    if name not in variables:
        from compiler.errors import did_you_mean

        known = ", ".join(f"${k}" for k in sorted(variables)) or "none are defined"
        raise ExpressionError(
            f"unknown variable '${name}'{did_you_mean(name, variables)} (known: {known})")
    return variables[name]


class _Evaluator:
    def __init__(self, variables: dict[str, Any], expression: str):
        self.variables = variables
        self.expression = expression

    def visit(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
            return self.check(node.value)
        if isinstance(node, ast.Name):
            if node.id in ("true", "false"):
                return node.id == "true"
            return self.check(_lookup(node.id, self.variables))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self.visit(node.left), self.visit(node.right)
            if isinstance(node.op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > 64:
                raise ExpressionError(f"exponent too large in '{self.expression}'")
            if isinstance(node.op, ast.Mult) and (isinstance(left, str) or isinstance(right, str)):
                raise ExpressionError(f"cannot multiply text in '{self.expression}'")
            try:
                return self.check(_BINARY[type(node.op)](left, right))
            except ZeroDivisionError:
                raise ExpressionError(f"division by zero in '{self.expression}'") from None
            except OverflowError:
                raise ExpressionError(f"number too large in '{self.expression}'") from None
            except TypeError:
                raise ExpressionError(
                    f"cannot combine {type(left).__name__} and {type(right).__name__} "
                    f"in '{self.expression}'") from None
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return self.check(_UNARY[type(node.op)](self.visit(node.operand)))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            return _COMPARE[type(node.ops[0])](self.visit(node.left), self.visit(node.comparators[0]))
        if isinstance(node, ast.IfExp):
            return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in _FUNCTIONS and not node.keywords):
            args = [self.visit(a) for a in node.args]
            try:
                return self.check(_FUNCTIONS[node.func.id](*args))
            except (TypeError, ValueError) as err:
                raise ExpressionError(f"{node.func.id}(): {err} in '{self.expression}'") from None
        allowed = "numbers, 'text', $variables, + - * / // % **, comparisons, if/else, " + ", ".join(
            f"{f}()" for f in _FUNCTIONS)
        raise ExpressionError(f"'{self.expression}' uses something expressions do not allow "
                              f"(allowed: {allowed})")

    def check(self, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if abs(value) > MAX_ABS_NUMBER:
                raise ExpressionError(f"number too large in '{self.expression}'")
        if isinstance(value, str) and len(value) > MAX_EXPRESSION_CHARS * 4:
            raise ExpressionError(f"text too long in '{self.expression}'")
        return value
