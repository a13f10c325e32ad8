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
            name = keras_choice_name(name, names)
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


# Keras's names (and class names) for the same choices: `mean_squared_error`,
# `MeanSquaredError`, `acc`, `Adam`, `RMSprop` are read as mse, mse, accuracy, adam, rmsprop.
KERAS_CHOICE_NAMES = {
    "mean_squared_error": "mse", "mean_absolute_error": "mae", "huber_loss": "huber",
    "root_mean_squared_error": "rmse", "acc": "accuracy", "binary_accuracy": "accuracy",
    "categorical_accuracy": "accuracy", "sparse_categorical_accuracy": "accuracy",
    "top_k_categorical_accuracy": "top_k", "sparse_top_k_categorical_accuracy": "top_k",
    "f1_score": "f1", "early_stopping": "early_stopping", "model_checkpoint": "checkpoint",
    "reduce_lr_on_plateau": "reduce_on_plateau", "csv_logger": "csv_logger",
    "tensor_board": "tensorboard",
    "ctc_loss": "ctc",
}


def keras_choice_name(name: Any, names: tuple[str, ...]) -> Any:
    """`name` as one of `names` when it is Keras's spelling of one; otherwise unchanged."""
    if not isinstance(name, str) or name in names or not name.isidentifier():
        return name
    from compiler.layers.params import snake_case

    for candidate in (name.lower(), snake_case(name)):
        candidate = KERAS_CHOICE_NAMES.get(candidate, candidate)
        if candidate in names:
            return candidate
    return name


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
