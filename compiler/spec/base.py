"""The pydantic base every spec section is written with."""

from __future__ import annotations

import functools
import typing

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class StrictModel(BaseModel):
    """A spec object: unknown keys are errors, values are checked on assignment.

    The one-line docstring under each field is its description in the JSON
    Schema (what editors show on hover). `nncompile schema` reads them with
    :func:`attach_field_docstrings`; pydantic's ``use_attribute_docstrings``
    would parse every class's source at import, which `validate` would pay for.
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        populate_by_name=True,
        protected_namespaces=(),
        defer_build=True,  # build validators on first use: keeps `validate` start-up fast
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value, info: ValidationInfo):
        # Pydantic takes true/false as 1/0 for a number; in a spec `units: true`
        # is a mistake, so a bool is only accepted where the field takes one.
        if isinstance(value, bool) and info.field_name is not None:
            field = cls.model_fields.get(info.field_name)
            if field is not None and not _admits_bool(field.annotation):
                raise ValueError(f"expected {_expected(field.annotation)}, "
                                 f"got {str(value).lower()}")
        return value


def _admits_bool(annotation) -> bool:
    """Whether a field's type takes true/false: bool, Any, or a union/Literal with one."""
    if annotation is bool or annotation is typing.Any:
        return True
    if annotation is type(None):  # the None of `int | None` admits null, not true/false
        return False
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return any(isinstance(a, bool) for a in args)
    if origin is typing.Annotated:
        return _admits_bool(args[0])
    if args and origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_admits_bool(a) for a in args)
    # int, float, str, containers and models: a bool there is a mistake.
    return origin is None and annotation not in (int, float, str) and not (
        isinstance(annotation, type) and issubclass(annotation, (int, float, str, BaseModel)))


def _expected(annotation) -> str:
    base = typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated \
        else annotation
    if base is int:
        return "a whole number"
    if base is float:
        return "a number"
    if base is str:
        return "text"
    origin = typing.get_origin(base) or base
    if origin is dict:
        return "a mapping"
    if origin in (list, tuple):
        return "a list"
    return "a value of another kind"


@functools.cache
def _field_docstrings(cls: type) -> dict[str, str]:
    """``{field: docstring}`` for the string literals right after a class's annotated fields."""
    import ast
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs = {}
    for node, after in zip(body, body[1:], strict=False):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def attach_field_docstrings() -> None:
    """Give every field of every loaded StrictModel its docstring as description."""
    classes, pending = [], [StrictModel]
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    changed = []
    for cls in classes:
        docs: dict[str, str] = {}
        for klass in reversed(cls.__mro__):  # a subclass's docstring wins
            if isinstance(klass, type) and issubclass(klass, StrictModel):
                docs.update(_field_docstrings(klass))
        for name, field in cls.model_fields.items():
            if field.description is None and name in docs:
                field.description = docs[name]
                changed.append(cls)
    # Every model of the project (root models too) embeds the schemas of the
    # models it refers to: rebuild them all, twice, so no stale copy is left.
    if changed:
        from pydantic import BaseModel

        ours, pending = [], [BaseModel]
        while pending:
            cls = pending.pop()
            pending.extend(cls.__subclasses__())
            if cls.__module__.startswith("compiler."):
                ours.append(cls)
        for _ in range(2):
            for cls in dict.fromkeys(ours):
                cls.model_rebuild(force=True)
