"""Schema of the `training:` section (placeholder until the training module lands)."""

from __future__ import annotations

from pydantic import ConfigDict

from compiler.spec.base import StrictModel


class TrainingSpec(StrictModel):
    model_config = ConfigDict(extra="allow")
