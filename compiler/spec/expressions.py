"""Variables and safe arithmetic in spec values: ``$width * 2``, ``"conv_${i}"``.

Expressions are parsed with :mod:`ast` and evaluated by walking the tree over a
closed set of node types: numbers, strings, list literals, variables,
+ - * / // % **, comparisons, ``and``/``or``/``not``, ``a if c else b``, indexing
of lists and text (``$kernels[$index]``, ``shape(in)[-1]``) and a few pure
functions, among them ``len()`` and, inside a block, ``shape(name)``: the static
shape of a block input (or of a layer above the block). Nothing is ever
``eval``-ed, attributes do not exist, and results are bounded:
every intermediate value is checked, text is never repeated or ``%``-formatted,
and arguments that would make Python work for minutes (``round(x, -10**9)``)
are refused before the call.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from typing import Any

MAX_EXPRESSION_CHARS = 256
MAX_TEXT_CHARS = MAX_EXPRESSION_CHARS * 4
MAX_ABS_NUMBER = 1e15
MAX_EXPONENT = 64
MAX_ROUND_DIGITS = 64

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**", ast.USub: "-", ast.UAdd: "+", ast.Eq: "==",
           ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_FUNCTIONS = {
    "min": min, "max": max, "abs": abs, "int": int, "float": float, "round": round,
    "floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt, "str": str, "len": len,
    "shape": None,  # reads the shape oracle a block puts among its variables (SHAPE_ORACLE)
}
# The key under which a block's variables hold the function giving a layer's shape; not a
# word, so no `$name` can reach it.
SHAPE_ORACLE = "\x00shape"
_SHAPE_CALL = re.compile(r"\bshape\(\s*\$?([A-Za-z_][A-Za-z0-9_.\-]*)\s*\)")
# Everything Python can raise while computing with the allowed operations.
_ARITHMETIC_ERRORS = (TypeError, ValueError, ArithmeticError)
# Node types a bare expression (`min($a, 3)`, without `${...}`) may consist of.
_EXPRESSION_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call,
                     ast.Name, ast.Constant, ast.Load, ast.operator, ast.unaryop, ast.cmpop,
                     ast.List, ast.Tuple, ast.BoolOp, ast.boolop, ast.Subscript)

_ALLOWED = ("numbers, 'text', [lists], $variables, $list[i], + - * / // % **, comparisons, "
            "and/or/not, if/else, " + ", ".join(f"{f}()" for f in _FUNCTIONS))

_VAR_TOKEN = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_INTERPOLATION = re.compile(r"\$\{([^{}]*)\}")
_MARK = "_nncompile_var_"


class ExpressionError(ValueError):
    """An expression is malformed or refers to an unknown variable."""


class FailedVariable(ExpressionError):
    """An expression uses a variable whose own value failed to evaluate.

    That failure is reported where the variable is written (under `vars:`, or a
    block parameter at its use), so this one is not reported again.
    """


class _Failed:
    def __repr__(self) -> str:
        return "<failed>"


# The value of a variable whose definition failed (see FailedVariable).
FAILED = _Failed()


def is_expression(value: Any) -> bool:
    """A string value is an expression when it starts with ``$`` or holds ``${...}``."""
    return isinstance(value, str) and ("$" in value)


def comma_split_hint(text: Any, key: bool = False) -> str:
    """A hint for a value or key that a comma in a YAML flow collection cut in two.

    In `{units: min($a, $b)}` YAML ends the value at the comma: `units` gets
    'min($a' and '$b)' becomes a key of its own. Empty when ``text`` does not look
    like either half.
    """
    if not isinstance(text, str):
        return ""
    opened = text.count("(") - text.count(")")
    advice = ("inside {...} or [...] a comma ends a value: put an expression with commas in "
              "quotes, e.g. units: \"min($a, $b)\"")
    if opened < 0 and key:
        return f": the end of an expression cut at a comma? {advice[0].upper()}{advice[1:]}"
    if opened > 0 and not key:
        return f" (cut at a comma? {advice})"
    return ""


def kind_of(value: Any) -> str:
    """What a value is, in the words a spec's author uses."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, complex):
        return "a complex number"
    return "a value"


def evaluate_value(text: str, variables: dict[str, Any]) -> Any:
    """Evaluate a spec string that holds variables.

    ``$name``, ``$a * 2`` or ``min($a, 3)`` (the whole string is one expression
    over ``$variables``) gives the expression's value with its type;
    ``"prefix_${i + 1}"`` or ``"conv_$i"`` interpolates into a string; ``$$``
    is a literal dollar sign.
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    stripped = text.strip()
    if stripped.startswith("$") and not stripped.startswith("${") and not stripped.startswith("$$"):
        return evaluate(stripped, variables)
    if stripped.startswith("${") and stripped.endswith("}") and stripped.count("${") == 1:
        return evaluate(stripped[2:-1], variables)
    bare = _is_bare_expression(stripped)
    if bare:
        return evaluate(stripped, variables)
    if bare is None:  # `$a[0]`, `$a.b`: an expression, but of a kind not allowed
        raise ExpressionError(f"'{text}' uses something expressions do not allow "
                              f"(allowed: {_ALLOWED})")

    def substitute(match: re.Match) -> str:
        return _format(evaluate(match.group(1), variables), text)

    out = _INTERPOLATION.sub(substitute, text.replace("$$", "\x00"))
    if "$" in out:
        out = _VAR_TOKEN.sub(lambda m: _format(_lookup(m.group(1), variables), text), out)
    if "$" in out:
        raise ExpressionError(f"cannot read '{text}': write $name, $name * 2 or ${{expression}}")
    if len(out) > MAX_TEXT_CHARS:
        raise ExpressionError(f"text too long in '{text}' (more than {MAX_TEXT_CHARS} characters)")
    return out.replace("\x00", "$")


def _is_bare_expression(text: str) -> bool | None:
    """Whether ``text`` is arithmetic over ``$variables`` written without ``${...}``.

    ``min($a, 3)`` and ``3 + $a`` are (the README promises `min($a, $b)`);
    ``conv_$i``, ``block $i`` and ``x-$i`` are not: a bare word that is not a
    ``$variable`` or a function name makes the string text with variables in it.
    None: an expression over variables that slices one (``$a[1:]``), which
    expressions do not do: an error rather than the text '[1, 2][1:]'.
    """
    if "${" in text or "$$" in text or "$" not in text:
        return False
    source = _VAR_TOKEN.sub(lambda m: _MARK + m.group(1), _quote_shape_names(text))
    if "$" in source:
        return False
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    if isinstance(tree.body, ast.Tuple):
        return False  # "$a, $b" is text, as it always was; a list is written [$a, $b]
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Slice):
            return None  # `$a[1:]`: an expression, but slices are not allowed
        if not isinstance(node, _EXPRESSION_NODES):
            return False  # e.g. "$name.csv": text with a variable in it
        if isinstance(node, ast.Name) and not (
                node.id.startswith(_MARK) or node.id in ("true", "false")
                or (node.id in _FUNCTIONS and id(node) in called)):
            return False
    return True


def _quote_shape_names(text: str) -> str:
    """``shape(in)`` → ``shape('in')``: the argument is a layer's name, not a variable
    (and `in`, the default name of a block's input, is a Python keyword)."""
    return _SHAPE_CALL.sub(lambda m: f"shape('{m.group(1)}')", text)


def _format(value: Any, text: str) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)) and len(repr(value)) > MAX_TEXT_CHARS:
        raise ExpressionError(f"text too long in '{text}' (more than {MAX_TEXT_CHARS} characters)")
    return str(value)


def evaluate(expression: str, variables: dict[str, Any]) -> Any:
    """Evaluate one arithmetic expression; ``$`` before names is optional."""
    source = _VAR_TOKEN.sub(r"\1", _quote_shape_names(expression)).strip()
    if not source:
        raise ExpressionError("empty expression")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError(f"cannot parse the expression '{expression}'") from None
    try:
        return _Evaluator(variables, expression).visit(tree.body)
    except RecursionError:
        raise ExpressionError(f"the expression '{expression}' is nested too deeply") from None


# Variables a block defines for each copy it makes.
BLOCK_VARIABLES = ("index", "number", "instance")


def _lookup(name: str, variables: dict[str, Any]) -> Any:
    if name not in variables:
        from compiler.errors import did_you_mean

        known = ", ".join(f"${k}" for k in sorted(variables)) or "none are defined"
        hint = ""
        if name in BLOCK_VARIABLES:
            # `{units: $index * 8, repeat: 3}` on a plain layer or a block use.
            hint = ("; $index, $number and $instance exist only inside a block's layers, "
                    "for the copy being made: compute the value there from them ($index and "
                    "$number also in a layer with `repeat:`, for each of its copies)")
        raise ExpressionError(
            f"unknown variable '${name}'{did_you_mean(name, variables)} (known: {known}){hint}")
    value = variables[name]
    if value is FAILED:
        raise FailedVariable(f"the variable '${name}' has no value: its definition failed")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float))  # true/false count as 1/0, as in YAML arithmetic


class _Evaluator:
    def __init__(self, variables: dict[str, Any], expression: str):
        self.variables = variables
        self.expression = expression

    def fail(self, message: str) -> ExpressionError:
        return ExpressionError(f"{message} in '{self.expression}'")

    def visit(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
            return self.check(node.value)
        if isinstance(node, ast.Name):
            if node.id in ("true", "false"):
                return node.id == "true"
            return self.check(_lookup(node.id, self.variables))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self.binary(node.op, self.visit(node.left), self.visit(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            operand = self.visit(node.operand)
            if not _is_number(operand):
                raise self.fail(f"cannot apply unary {_SYMBOL[type(node.op)]} to "
                                f"{kind_of(operand)}")
            return self.check(_UNARY[type(node.op)](operand))
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            # `$a == 1`, and chains as in Python: `0 < $a <= 3`
            left = self.visit(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=False):
                right = self.visit(comparator)
                if not self.compare(op, left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.BoolOp):
            # `and` / `or` as in Python (the deciding value; later operands unevaluated)
            value = None
            for operand in node.values:
                value = self.visit(operand)
                if bool(value) == isinstance(node.op, ast.Or):
                    return value
            return value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not self.visit(node.operand)
        if isinstance(node, ast.IfExp):
            return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)
        if isinstance(node, (ast.List, ast.Tuple)):
            # `[$k // 2, $k // 2] if $s == 2 else 0`: a list value (a padding, a shape).
            # Its size is bounded by the expression's length; lists never take part in
            # arithmetic (see `binary`), so nothing here can grow.
            return [self.visit(item) for item in node.elts]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in _FUNCTIONS and not node.keywords):
            return self.call(node.func.id, [self.visit(a) for a in node.args])
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            return self.index(self.visit(node.value), self.visit(node.slice))
        raise ExpressionError(f"'{self.expression}' uses something expressions do not allow "
                              f"(allowed: {_ALLOWED})")

    def binary(self, op: ast.operator, left: Any, right: Any) -> Any:
        symbol = _SYMBOL[type(op)]
        for value in (left, right):
            if not (_is_number(value) or isinstance(value, str)):
                raise self.fail(f"cannot use {kind_of(value)} with {symbol}")
        if isinstance(left, str) or isinstance(right, str):
            if isinstance(op, ast.Add) and isinstance(left, str) and isinstance(right, str):
                return self.check(left + right)
            if isinstance(op, ast.Mult):
                raise self.fail("cannot multiply text")
            if isinstance(op, ast.Mod) and isinstance(left, str):
                raise self.fail("`%` formatting of text is not supported; build text with "
                                "\"name_${...}\" interpolation or str()")
            if isinstance(op, ast.Add):
                raise self.fail(f"cannot add {kind_of(left)} and {kind_of(right)} "
                                "(turn the number into text with str())")
            raise self.fail(f"cannot use text with {symbol}")
        if isinstance(op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise self.fail("exponent too large")
        try:
            return self.check(_BINARY[type(op)](left, right))
        except ExpressionError:
            raise
        except ZeroDivisionError:
            raise self.fail("division by zero") from None
        except OverflowError:
            raise self.fail("number too large") from None
        except _ARITHMETIC_ERRORS:
            raise self.fail(f"cannot combine {kind_of(left)} and {kind_of(right)} "
                            f"with {symbol}") from None

    def compare(self, op: ast.cmpop, left: Any, right: Any) -> bool:
        if not isinstance(op, (ast.Eq, ast.NotEq)) and not (
                (_is_number(left) and _is_number(right))
                or (isinstance(left, str) and isinstance(right, str))):
            raise self.fail(f"cannot compare {kind_of(left)} and {kind_of(right)} "
                            f"with {_SYMBOL[type(op)]}")
        try:
            return bool(_COMPARE[type(op)](left, right))
        except _ARITHMETIC_ERRORS:
            raise self.fail(f"cannot compare {kind_of(left)} and {kind_of(right)} "
                            f"with {_SYMBOL[type(op)]}") from None

    def index(self, value: Any, position: Any) -> Any:
        """`$kernels[$index]`, `shape(in)[-1]`: one item of a list or text."""
        if not isinstance(value, (list, tuple, str)):
            raise self.fail(f"cannot index {kind_of(value)}: only lists and text have items")
        if not isinstance(position, int) or isinstance(position, bool):
            raise self.fail(f"a list index is a whole number, got {kind_of(position)}")
        if not -len(value) <= position < len(value):
            raise self.fail(f"index {position} is outside the list of {len(value)} item(s) "
                            f"(from 0 to {len(value) - 1}, or -1 for the last)")
        return self.check(value[position])

    def shape(self, args: list[Any]) -> Any:
        oracle = self.variables.get(SHAPE_ORACLE) if isinstance(self.variables, dict) else None
        if len(args) != 1 or not isinstance(args[0], str):
            raise self.fail("shape() takes the name of one layer or block input, e.g. "
                            "shape(in)[-1]")
        if oracle is None:
            raise self.fail("shape() reads the shape of a block's input, so it exists only "
                            "inside a block's layers")
        try:
            return oracle(args[0])
        except ExpressionError as err:
            raise self.fail(str(err)) from None

    def call(self, name: str, args: list[Any]) -> Any:
        if name == "shape":
            return self.shape(args)
        if name == "len" and (len(args) != 1 or not isinstance(args[0], (list, tuple, str))):
            raise self.fail("len() takes one list or text")
        if name == "round" and len(args) == 2 and (
                not isinstance(args[1], int) or abs(args[1]) > MAX_ROUND_DIGITS):
            raise self.fail(f"round(): the number of digits must be a whole number from "
                            f"-{MAX_ROUND_DIGITS} to {MAX_ROUND_DIGITS}")
        try:
            return self.check(_FUNCTIONS[name](*args))
        except ExpressionError:
            raise
        except _ARITHMETIC_ERRORS as err:
            raise self.fail(f"{name}(): {_plain_error(err)}") from None

    def check(self, value: Any) -> Any:
        if isinstance(value, complex):
            raise self.fail("the result is not a real number (a negative number to a "
                            "fractional power?)")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if abs(value) > MAX_ABS_NUMBER:
                raise self.fail("number too large")
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            raise self.fail("text too long")
        return value


def _plain_error(err: Exception) -> str:
    """Python's message for a failed call, without Python's type names."""
    text = str(err)
    replacements = {"'str'": "text", "'int'": "a number", "'float'": "a number",
                    "'list'": "a list", "'dict'": "a mapping", "'NoneType'": "null",
                    "'bool'": "true/false", "PosList": "list", "PosDict": "mapping"}
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text
