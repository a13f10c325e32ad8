"""Schema of the `tune:` section: what a search optimises, what it must satisfy, how it samples.

    tune:
      objective: {metric: val_accuracy, direction: maximize}
      constraints: {max_params: 20000, max_tflite_latency_ms: 1.5}
      trials: 30
      sampler: tpe
      pruner: median

Several objectives at once (a Pareto front) are a list under `objectives:`.
Imports no TensorFlow and no Optuna, so `nncompile validate` stays fast.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from compiler.spec.base import StrictModel

SAMPLERS = ("tpe", "random", "nsga2", "grid")
PRUNERS = ("median", "hyperband", "none")
MEASURES = ("params", "tflite_latency_ms", "epoch_seconds")
"""Objectives measured on the trial's model rather than read from its evaluation."""
MAX_TRIALS = 100_000
_METRIC = re.compile(r"^(val_|test_)?[A-Za-z][A-Za-z0-9_]{0,99}$")


class Objective(StrictModel):
    """One value a search optimises."""

    metric: str = "val_loss"
    """`val_<metric>` (validation split), `test_<metric>`, `<metric>` (training split) of the
    trained model's evaluation, or a measure: params, tflite_latency_ms, epoch_seconds."""
    direction: Literal["minimize", "maximize"] | None = None
    """minimize or maximize; default: maximize for accuracy-like metrics, else minimize."""

    @field_validator("metric")
    @classmethod
    def _metric_name(cls, value: str) -> str:
        if not _METRIC.match(value):
            raise ValueError(f"expected a metric name such as val_accuracy or val_loss, got "
                             f"'{value}'")
        return value

    @property
    def goal(self) -> str:
        """The direction, filled in when the spec leaves it out."""
        if self.direction is not None:
            return self.direction
        bare = re.sub(r"^(val_|test_)", "", self.metric)
        higher = ("accuracy", "auc", "precision", "recall", "f1", "top_k", "r2", "iou", "map")
        return "maximize" if any(word in bare for word in higher) else "minimize"

    @property
    def is_measure(self) -> bool:
        return self.metric in MEASURES


class Constraints(StrictModel):
    """Satisfying bounds every trial is measured against; a trial over one is infeasible."""

    max_params: Annotated[int, Field(gt=0)] | None = None
    """At most this many parameters (a model over it is not trained)."""
    max_tflite_latency_ms: Annotated[float, Field(gt=0)] | None = None
    """At most this median batch-1 latency of the trial's TFLite model in the LiteRT
    interpreter, in milliseconds."""
    max_epoch_seconds: Annotated[float, Field(gt=0)] | None = None
    """At most this median time per epoch (the first epoch, which compiles, left out)."""

    def bounds(self) -> dict[str, float]:
        """``{measure: bound}`` of the constraints that are set."""
        names = {"max_params": "params", "max_tflite_latency_ms": "tflite_latency_ms",
                 "max_epoch_seconds": "epoch_seconds"}
        return {names[k]: float(v) for k, v in self.model_dump().items() if v is not None}


class CoarseToFine(StrictModel):
    """A second round in ranges narrowed around the best trials of the first."""

    top: Annotated[int, Field(ge=1, le=1000)] = 5
    """How many of the best first-round trials the new ranges span."""
    trials: Annotated[int, Field(ge=1, le=MAX_TRIALS)] | None = None
    """Trials of the second round; default: as many as the first."""
    margin: Annotated[float, Field(ge=0, le=10)] = 0.25
    """Widen each narrowed range by this share of its width (on a log scale for log spaces)."""


class TuneSpec(StrictModel):
    """How `nncompile tune` searches the spec's spaces (command-line flags override these)."""

    objective: Objective | None = None
    """The one value to optimise; default: minimise val_loss."""
    objectives: Annotated[list[Objective], Field(min_length=2, max_length=8)] | None = None
    """Several values at once (accuracy and latency): the result is a Pareto front."""
    constraints: Constraints = Field(default_factory=Constraints)
    """Bounds a trial must satisfy to count: max_params, max_tflite_latency_ms,
    max_epoch_seconds."""
    trials: Annotated[int, Field(ge=1, le=MAX_TRIALS)] = 20
    """Number of trials (completed or pruned) the study ends with."""
    sampler: Literal[SAMPLERS] = "tpe"  # type: ignore[valid-type]
    """tpe (default), random, nsga2 (several objectives) or grid."""
    pruner: Literal[PRUNERS] = "median"  # type: ignore[valid-type]
    """Stop unpromising trials after an epoch: median, hyperband or none (one objective only)."""
    grid_points: Annotated[int, Field(ge=1, le=100)] = 5
    """Values a grid search tries in each uniform or log_uniform range."""
    seed: int | None = None
    """Seed of the sampler (trial k uses seed + k): the same seed samples the same trials."""
    coarse_to_fine: CoarseToFine | None = None
    """Run a second round in ranges narrowed around the best trials."""

    @model_validator(mode="after")
    def _one_kind_of_objective(self) -> TuneSpec:
        if self.objective is not None and self.objectives is not None:
            raise ValueError("give `objective` (one) or `objectives` (several), not both")
        return self

    def goals(self) -> list[Objective]:
        """The objectives, one or several."""
        if self.objectives is not None:
            return list(self.objectives)
        return [self.objective or Objective()]

    def file_references(self) -> list:
        """The section names no files."""
        return []
