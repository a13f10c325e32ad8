"""Shared helpers for the data tests: a spec object with the attributes load_data reads.

Until the full spec loader takes `data:` sections end to end in these tests,
specs are built from the real :class:`DataSpec` schema plus the few attributes
``load_data`` reads (``inputs``, ``outputs``, ``base_dir``, ``locate``, ``labels``,
``training``, ``allow_outside``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.data.schema import DataSpec
from compiler.errors import Location


@dataclass
class InputDecl:
    shape: list[int | None]
    dtype: str = "float32"


@dataclass
class LightSpec:
    data: DataSpec | None
    inputs: dict[str, InputDecl]
    outputs: list[str]
    base_dir: Path
    file: str = "spec.yaml"
    lines: dict[tuple, int] = field(default_factory=dict)
    labels: list[str] | None = None
    training: Any = None
    allow_outside: bool = False

    def locate(self, *path) -> Location:
        return Location(self.file, self.lines.get(tuple(path), 1), 1, ".".join(map(str, path)))


def make_spec(
    base_dir: Path,
    data: dict,
    inputs: dict[str, list[int | None]] | None = None,
    outputs: list[str] | None = None,
    dtypes: dict[str, str] | None = None,
) -> LightSpec:
    """A spec reading ``data`` with the given model inputs ({name: shape}) and outputs."""
    dtypes = dtypes or {}
    return LightSpec(
        data=DataSpec.model_validate(data),
        inputs={
            name: InputDecl(shape, dtypes.get(name, "float32"))
            for name, shape in (inputs or {}).items()
        },
        outputs=outputs or ["out"],
        base_dir=base_dir,
    )
