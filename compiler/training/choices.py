"""Single-key choices such as ``{adam: {learning_rate: 1e-3}}`` as pydantic models.

A spec names an optimiser, schedule, loss or callback by writing its name as
the only key of a mapping (or as a bare string when every parameter has a
default). :func:`single_key_choice` turns a table of ``name -> parameter
model`` into one model with an optional field per name, of which exactly one
is set. Validation errors therefore carry the same path as the YAML
(``optimizer.sgd.momentum``), and unknown names get a did-you-mean.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, create_model, model_validator

from compiler.errors import did_you_mean
from compiler.spec.base import StrictModel


class NoParams(StrictModel):
    """A choice without parameters."""


class Choice(StrictModel):
    """Base of the generated choice models; see :func:`single_key_choice`."""

    # Editors should offer exactly one key.
    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    @property
    def name(self) -> str:
        """The chosen name, e.g. ``adam``."""
        return next(k for k in type(self).model_fields if getattr(self, k) is not None)

    @property
    def params(self) -> StrictModel:
        """The parameters of the chosen name."""
        return getattr(self, self.name)

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        names = tuple(cls.model_fields)
        family = cls.__dict__.get("_family_name", "choice")
        # A bare name is shorthand for the choice with all defaults.
        if isinstance(value, str):
            value = {value: {}}
        if isinstance(value, dict) and len(value) == 1:
            name, params = next(iter(value.items()))
            if name not in names:
                raise ValueError(
                    f"unknown {family} '{name}'{did_you_mean(str(name), names)}; "
                    f"expected one of: {', '.join(names)}"
                )
            return {name: {} if params is None else params}
        if isinstance(value, dict):
            raise ValueError(
                f"{family} must be a mapping with exactly one key (its name), got keys "
                f"{sorted(map(str, value))}"
            )
        return value


def single_key_choice(
    family: str, choices: dict[str, type[StrictModel]], class_name: str | None = None
) -> type[Choice]:
    """Return a model accepting ``name`` or ``{name: {params}}`` for the given names.

    Args:
        family: What the choice is ("optimizer", "schedule"...), used in messages.
        choices: Each accepted name and the model of its parameters.
        class_name: Name of the generated model (default ``<Family>Choice``).

    Returns:
        A :class:`Choice` subclass; ``.name`` and ``.params`` give the choice.
    """
    model = create_model(
        class_name or f"{family.title().replace('_', '')}Choice",
        __base__=Choice,
        __doc__=f"One {family}: its name as the only key, its parameters as the value.",
        **{name: (params | None, None) for name, params in choices.items()},
    )
    model._family_name = family
    return model
