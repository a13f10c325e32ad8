"""Schema of the `export:` section (placeholder until the export module lands)."""

from __future__ import annotations

from typing import Literal

ExportFormat = Literal["saved_model", "tflite", "keras"]
