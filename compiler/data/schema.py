"""Schema of the `data:` section (placeholder until the data module lands)."""

from __future__ import annotations

from pydantic import ConfigDict

from compiler.spec.base import StrictModel


class DataSpec(StrictModel):
    model_config = ConfigDict(extra="allow")
