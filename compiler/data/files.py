"""File references of a spec and the rule they follow: they stay under the spec's folder.

Each spec section lists the files it names (:class:`FileReference`);
validation checks every one of them with :func:`outside_problem` before any
file is read, and the readers check a data file again with
:func:`resolve_data_path` when they open it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from compiler.errors import DataError, Location

FileKind = Literal["data", "model"]


@dataclass(frozen=True)
class FileReference:
    """One file named in a spec section.

    Attributes:
        where: the path of the value inside its section, e.g. ``("csv", "path")``
            in `data:`.
        reference: the file as written in the spec.
        kind: ``"data"`` for a data file or folder; ``"model"`` for a trained
            model (`training.init_from.model`), which may also be a model that
            `nncompile train` wrote under ``saved_models/`` of the working folder.
    """

    where: tuple[str | int, ...]
    reference: str
    kind: FileKind = "data"


def outside_problem(reference: FileReference, base_dir: Path) -> str | None:
    """Why ``reference`` may not be used without ``--allow-outside``; None when it may.

    Only where a reference points is checked, not whether the file exists yet:
    a spec can be validated before its data is at hand.

    Args:
        reference: the file reference.
        base_dir: the spec's folder.
    """
    base = Path(base_dir).resolve()
    if reference.kind == "data":
        inside = (base / reference.reference).resolve().is_relative_to(base)
        return None if inside else _data_outside(reference.reference, base)
    # A model is looked up as training looks it up: the working folder first,
    # then the spec's folder; `saved_models/` of the working folder is allowed too.
    ref = Path(reference.reference)
    candidate = ref.resolve() if ref.is_absolute() or ref.exists() else (base / ref).resolve()
    trained = (Path.cwd() / "saved_models").resolve()
    if candidate.is_relative_to(base) or candidate.is_relative_to(trained):
        return None
    return (f"model file '{reference.reference}' is outside the spec's folder {base} and "
            f"{trained}; move it there, or pass --allow-outside if you trust this spec")


def _data_outside(reference: str, base: Path) -> str:
    return (f"data file '{reference}' is outside the spec's folder {base}; move it there, "
            "or pass --allow-outside if you trust this spec")


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
        raise DataError(_data_outside(reference, base), location)
    if not path.exists():
        raise DataError(f"{want} '{reference}' not found{_closest(path)}", location)
    if want == "file" and not path.is_file():
        raise DataError(f"'{reference}' is a folder, expected a file", location)
    if want == "folder" and not path.is_dir():
        raise DataError(f"'{reference}' is a file, expected a folder of images", location)
    return path


def _closest(path: Path) -> str:
    """`` (did you mean 'x'?)`` naming the closest existing file in the same folder."""
    import difflib  # only for a missing file: `validate` imports this module, and starts fast

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


def prepare_output(path: str | Path, flag: str = "--output", *, create: bool = True) -> Path:
    """Make sure ``path`` can be written: create missing parent folders, check the folder.

    Args:
        path: the file a command will write.
        flag: the option that named it, for messages.
        create: create missing folders now; False only checks that they could
            be created (to fail before a long computation without leaving an
            empty folder behind when it fails for another reason).

    Returns:
        ``path`` as a Path.

    Raises:
        NNCompileError: a parent is a file, a folder cannot be created, the
            folder is not writable, or ``path`` itself is a folder.
    """
    import os

    from compiler.errors import NNCompileError

    path = Path(path)
    where = Location(str(path))
    if path.is_dir():
        raise NNCompileError(f"{flag} names a folder; expected a file name", where)
    parent = path.parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise NNCompileError(
            f"cannot create the folder '{parent}' for {flag}: '{existing}' is a file, not a folder",
            where,
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise NNCompileError(
            f"cannot write {flag}: the folder '{existing}' is not writable (permission denied)",
            where,
        )
    if create:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise NNCompileError(
                f"cannot create the folder '{parent}' for {flag}: {err.strerror or err}", where
            ) from None
    return path


def write_failed(path: str | Path, err: OSError, flag: str = "--output"):
    """The error to raise when writing ``path`` failed with ``err`` (exit code 1)."""
    from compiler.errors import NNCompileError

    return NNCompileError(
        f"cannot write {flag}: {err.strerror or err}", Location(str(path))
    )
