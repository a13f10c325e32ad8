"""Atomic file writing: a temporary file in the same folder, then ``os.replace``.

A crash (or SIGKILL) at any moment leaves either the old file or the new one
at the final path, never a half-written one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success move it onto `path`.

    Args:
        path: The final path.
        suffix: Suffix of the temporary name (some writers, such as Keras,
            insist on an extension); default: that of `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=suffix if suffix is not None else "".join(path.suffixes),
        dir=path.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _fsync(tmp_path)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike, data: object) -> None:
    """Write `data` as indented JSON to `path` atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=_jsonable) + "\n")


def write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Call `writer(tmp_path)` and move the result onto `path` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)


def save_model(model, path: str | os.PathLike) -> None:
    """Save a Keras model to a `.keras` file atomically."""
    write_with(path, lambda tmp: model.save(tmp))


def _jsonable(value: object) -> object:
    # NumPy scalars and arrays appear in metrics; JSON wants plain numbers.
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
