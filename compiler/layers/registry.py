"""The closed catalogue of layer types, found in the layer modules' own declarations.

A layer type is declared where it is defined: ``@register("conv3d",
keras=("Convolution3D",))`` on its class, in a module of this package. There
is no table to edit. To keep `nncompile validate` fast and free of
TensorFlow, the catalogue is read from the modules' source without importing
them: each top-level ``@register(...)`` call (literal names only) gives a type
name, its module and its Keras spellings. A module is imported when a spec
first uses one of its types, and :func:`register` refuses a class the scan did
not see, so the source and the running registry cannot disagree.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.layers.params import snake_case

PACKAGE = __name__.rpartition(".")[0]
_FOLDER = Path(__file__).resolve().parent

# `@register(` at the start of a line: a decorator on a top-level class.
_DECORATOR = re.compile(r"^@register\(", re.MULTILINE)
_CLASS_AFTER = re.compile(r"\s*(?:@[^\n]*\n\s*)*class\s+(\w+)")


class CatalogueError(RuntimeError):
    """A layer module declares its types in a form the catalogue cannot read."""


@dataclass(frozen=True)
class Declaration:
    """One ``@register(...)`` as written in a layer module's source."""

    type_name: str
    module: str  # the module's name inside this package, e.g. "conv3d"
    class_name: str
    keras: tuple[str, ...] = ()  # Keras spellings (class names) that mean this type
    not_keras: tuple[str, ...] = ()  # Keras classes whose snake_case is this name, but other layers
    line: int = 0


def _call_text(text: str, start: int, where: str) -> str:
    """``register(...)`` from ``start`` to its closing parenthesis."""
    depth, quote, i = 0, "", start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
        i += 1
    raise CatalogueError(f"{where}: unclosed @register(")


def _names(node: ast.expr, where: str, what: str) -> tuple[str, ...]:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        value = None
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
        raise CatalogueError(f"{where}: `{what}` of @register must be written as literal names")
    return tuple(value)


def read_declarations(path: Path) -> list[Declaration]:
    """The layer types a module's source declares, in the order it declares them."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _DECORATOR.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        where = f"{path.name}:{line}"
        call_text = _call_text(text, match.start() + 1, where)
        try:
            call = ast.parse(call_text, mode="eval").body
        except SyntaxError as err:
            raise CatalogueError(f"{where}: cannot read @register(...): {err.msg}") from None
        assert isinstance(call, ast.Call)
        options = {k.arg: k.value for k in call.keywords}
        unknown = set(options) - {"keras", "not_keras"}
        if len(call.args) != 1 or unknown or None in options:
            raise CatalogueError(f"{where}: write @register(\"type_name\", keras=(...), "
                                 "not_keras=(...)) with literal names")
        (type_name,) = _names(call.args[0], where, "the type name")
        after = _CLASS_AFTER.match(text, match.start() + 1 + len(call_text))
        if after is None:
            raise CatalogueError(f"{where}: @register(...) must decorate a top-level class")
        found.append(Declaration(
            type_name=type_name, module=path.stem, class_name=after.group(1),
            keras=_names(options["keras"], where, "keras") if "keras" in options else (),
            not_keras=(_names(options["not_keras"], where, "not_keras")
                       if "not_keras" in options else ()),
            line=line))
    return found


def discover(folder: Path = _FOLDER) -> dict[str, Declaration]:
    """Every layer type declared by the modules in ``folder``, by type name."""
    declared: dict[str, Declaration] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name in ("__init__.py", Path(__file__).name):
            continue
        for declaration in read_declarations(path):
            other = declared.get(declaration.type_name)
            if other is not None:
                raise CatalogueError(
                    f"layer type '{declaration.type_name}' is declared twice: "
                    f"{other.module}.py:{other.line} and {path.name}:{declaration.line}")
            declared[declaration.type_name] = declaration
    return declared


def keras_names(declared: dict[str, Declaration]) -> dict[str, str]:
    """Keras's snake_case spellings (`max_pooling2d`) → the spec's type (`max_pool2d`)."""
    out: dict[str, str] = {}
    for name, declaration in declared.items():
        for keras_name in declaration.keras:
            alias = snake_case(keras_name)
            if alias == name:
                continue
            if alias in declared or out.get(alias, name) != name:
                raise CatalogueError(
                    f"{declaration.module}.py:{declaration.line}: Keras name '{keras_name}' "
                    f"of '{name}' is already the name of '{out.get(alias, alias)}'")
            out[alias] = name
    return out


DECLARED = discover()
if not DECLARED:  # e.g. an install without the .py files, which the scan reads
    raise CatalogueError(f"no layer type is declared in {_FOLDER}: its modules' source is missing")

LAYER_TYPES: dict[str, str] = {name: d.module for name, d in DECLARED.items()}
"""Every layer type a spec may use → the module (in this package) that defines it."""

KERAS_NAMES: dict[str, str] = keras_names(DECLARED)
"""Keras's names for the types whose spec name is shorter (`batch_normalization` → `batch_norm`)."""

NOT_KERAS_NAMES: frozenset[str] = frozenset(n for d in DECLARED.values() for n in d.not_keras)
"""Keras classes whose snake_case is an nncompile type with other weights (`AdditiveAttention`)."""

REGISTRY: dict[str, Any] = {}
"""The layer types whose module has been imported: type name → class."""


def register(name: str, *, keras: tuple[str, ...] = (), not_keras: tuple[str, ...] = ()):
    """Class decorator: make ``cls`` the layer type ``name`` in specs.

    Args:
        name: The spec's name of the type (snake_case).
        keras: Keras's spellings for the same layer whose snake_case is not
            ``name`` (class names, e.g. ``"MaxPooling2D"`` for ``max_pool2d``);
            Keras's own class name needs no entry when it is ``name`` in snake case.
        not_keras: Keras classes whose snake_case is ``name`` but which are
            other layers, so that a Keras user's spelling is not taken for this one.

    Write the call with literal names at the top level of a module in this
    package: the catalogue reads it from the source (see the module docstring).
    """

    spellings = tuple((keras,) if isinstance(keras, str) else keras)
    others = tuple((not_keras,) if isinstance(not_keras, str) else not_keras)

    def decorate(cls: type) -> type:
        module = cls.__module__
        if module.startswith(PACKAGE + "."):
            seen = DECLARED.get(name)
            if seen is None or (PACKAGE + "." + seen.module, seen.class_name, seen.keras,
                                seen.not_keras) != (module, cls.__name__, spellings, others):
                raise CatalogueError(
                    f"layer type '{name}' ({module}.{cls.__name__}) is not declared where the "
                    "catalogue reads it: decorate the top-level class with "
                    f"@register({name!r}, ...) written with literal names")
        if name in REGISTRY:
            raise RuntimeError(f"layer type '{name}' registered twice")
        cls.type_name = name
        REGISTRY[name] = cls
        return cls

    return decorate


def canonical_type(name: Any) -> Any:
    """The spec's layer type for `name`, which may be a Keras name; unknown names unchanged."""
    if not isinstance(name, str) or name in LAYER_TYPES or name in NOT_KERAS_NAMES:
        return name
    snake = snake_case(name) if name.isidentifier() else name
    snake = KERAS_NAMES.get(snake, snake)
    return snake if snake in LAYER_TYPES else name


def layer_class(name: str) -> Any:
    """The spec class of layer type ``name`` (which must be in ``LAYER_TYPES``)."""
    if name not in REGISTRY:
        importlib.import_module(f"{PACKAGE}.{LAYER_TYPES[name]}")
    return REGISTRY[name]


def all_layer_classes() -> dict[str, Any]:
    """Every layer type, imported (for the JSON Schema and the docs)."""
    for module in sorted(set(LAYER_TYPES.values())):
        importlib.import_module(f"{PACKAGE}.{module}")
    return {name: REGISTRY[name] for name in LAYER_TYPES}
