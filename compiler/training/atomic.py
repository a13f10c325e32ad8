"""Atomic writes of training outputs: JSON, text, plots, Keras models.

Thin helpers over :mod:`compiler.atomic` (a temporary file beside the target,
then one rename), so a crash or SIGKILL at any moment leaves either the old
file or the new one at the final path, never a half-written one.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable

from compiler.atomic import atomic_file, write_text_atomic


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` atomically."""
    write_text_atomic(path, text)


def write_json(path: str | os.PathLike, data: object) -> None:
    """Write `data` as indented JSON to `path` atomically."""
    text = json.dumps(_finite(data), indent=2, sort_keys=True, default=_jsonable, allow_nan=False)
    write_text(path, text + "\n")


def write_with(path: str | os.PathLike, writer: Callable) -> None:
    """Call `writer(tmp_path)` and move the result onto `path` atomically."""
    with atomic_file(path) as tmp:
        writer(tmp)


def save_model(model, path: str | os.PathLike) -> None:
    """Save a Keras model to a `.keras` file atomically."""
    write_with(path, lambda tmp: model.save(tmp))


def _finite(value: object) -> object:
    """NaN and infinities as null: JSON has no such numbers (`NaN` breaks strict readers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _finite(value.tolist())
    return value


def _jsonable(value: object) -> object:
    # NumPy scalars and arrays appear in metrics; JSON wants plain numbers.
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
