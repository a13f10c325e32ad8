"""The pydantic base every spec section is written with."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A spec object: unknown keys are errors, values are checked on assignment.

    ``use_attribute_docstrings`` turns the one-line docstring under each field
    into its description in the JSON Schema (what editors show on hover).
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        use_attribute_docstrings=True,
        populate_by_name=True,
        protected_namespaces=(),
        defer_build=True,  # build validators on first use: keeps `validate` start-up fast
    )
