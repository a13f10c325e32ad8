"""Resolving file references of a spec: they stay under the spec's folder."""

from __future__ import annotations

import difflib
from pathlib import Path

from compiler.errors import DataError, Location


def resolve_data_path(
    reference: str,
    base_dir: Path,
    location: Location,
    *,
    allow_outside: bool = False,
    want: str = "file",
) -> Path:
    """Turn a file reference from a spec into an existing path under ``base_dir``.

    Args:
        reference: the path as written in the spec.
        base_dir: the spec's folder; relative references resolve against it.
        location: where the reference is written, for error messages.
        allow_outside: accept paths that leave ``base_dir`` (a command-line flag).
        want: ``"file"`` or ``"folder"``.

    Returns:
        The resolved absolute path.

    Raises:
        DataError: the path leaves ``base_dir``, does not exist, or is of the
            wrong kind; a missing path suggests the closest existing name.
    """
    base = Path(base_dir).resolve()
    path = (base / reference).resolve()
    if not allow_outside and not path.is_relative_to(base):
        raise DataError(
            f"data file '{reference}' is outside the spec's folder {base}; move it there, "
            "or pass --allow-outside if you trust this spec",
            location,
        )
    if not path.exists():
        raise DataError(f"{want} '{reference}' not found{_closest(path)}", location)
    if want == "file" and not path.is_file():
        raise DataError(f"'{reference}' is a folder, expected a file", location)
    if want == "folder" and not path.is_dir():
        raise DataError(f"'{reference}' is a file, expected a folder of images", location)
    return path


def _closest(path: Path) -> str:
    """`` (did you mean 'x'?)`` naming the closest existing file in the same folder."""
    folder = path.parent
    if not folder.is_dir():
        return f" (folder '{folder}' does not exist)"
    names = [child.name for child in folder.iterdir()]
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def shown(path: Path, base_dir: Path) -> str:
    """How a data file is named in messages: relative to the spec's folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path(base_dir).resolve()))
    except ValueError:
        return str(path)
