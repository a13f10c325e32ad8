"""The pydantic base every spec section is written with."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


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
    for node, after in zip(body, body[1:]):
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
