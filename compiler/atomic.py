"""Atomic writes: a file or folder appears at its final path complete, or not at all.

Everything is first written next to the target (same folder, so the same
filesystem and `os.replace` is a rename), then moved into place:

* a file is replaced in one `os.replace`, which POSIX makes atomic;
* a folder cannot be swapped in one step, so the old one is first renamed to
  a backup name, the new one renamed to the final name, then the backup is
  deleted. If the process dies between the two renames, the next write (or
  :func:`recover`) puts the backup back.

Leftovers of a crashed run (``.NAME.tmp-PID-*`` and ``.NAME.old-PID-*``) are
cleaned up by the next write to the same target, unless the process that
made them is still alive.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

_TMP = "tmp"
_OLD = "old"


# Why a write fails for a reason outside the program: a full disk or quota, a
# read-only or forbidden folder, a file too large for the filesystem, or a
# file where a folder belongs (or the other way round).
IN_THE_WAY_ERRNOS = frozenset((errno.EEXIST, errno.EISDIR, errno.ENOTDIR))
WRITE_ERRNOS = frozenset(
    code
    for code in (
        errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, getattr(errno, "EDQUOT", None),
        errno.EFBIG, *IN_THE_WAY_ERRNOS,
    )
    if code is not None
)


class WriteFailed(OSError):
    """An output could not be written (full disk, read-only folder): names the final path.

    Raised in place of the OSError of a temporary file, whose name would mean
    nothing to the user; the earlier file or folder at the final path is intact.
    """


def _raise_write_failed(err: OSError, final: Path) -> None:
    """Re-raise `err` as a WriteFailed naming `final` when the environment caused it."""
    if isinstance(err, WriteFailed) or err.errno not in WRITE_ERRNOS:
        raise err
    raise WriteFailed(err.errno, os.strerror(err.errno), str(final)) from err


def _sibling(final: Path, kind: str) -> Path:
    return final.parent / f".{final.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _pid_of(leftover: Path) -> int | None:
    try:
        return int(leftover.name.rsplit("-", 2)[-2])
    except (IndexError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def recover(final: Path) -> None:
    """Clean up what a crashed write to `final` left behind.

    A backup is restored when the final path is missing (the crash came
    between the two renames); otherwise backups and temporary copies of dead
    processes are deleted. Writes by live processes are left alone.
    """
    final = Path(final)
    if not final.parent.is_dir():
        return
    leftovers = sorted(final.parent.glob(f".{final.name}.*-*-*"))
    for leftover in leftovers:
        if _alive(_pid_of(leftover)):
            continue
        kind = leftover.name[len(final.name) + 2 :].split("-", 1)[0]
        if kind == _OLD and not final.exists():
            os.replace(leftover, final)
        elif kind in (_TMP, _OLD):
            _remove(leftover)


def _fsync_tree(root: Path) -> None:
    # Data must be on disk before the rename publishes it; otherwise a power
    # cut could leave a complete-looking name over empty files.
    paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
    for path in paths:
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_folder(final: Path | str) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it replaces `final`.

    If the block raises (or the process dies), `final` keeps its previous
    contents and the temporary folder is removed (now, or by the next write).

    Example:
        >>> with atomic_folder("out/saved_model") as tmp:
        ...     write_everything_into(tmp)
    """
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        recover(final)
        tmp = _sibling(final, _TMP)
        tmp.mkdir()
    except OSError as err:
        _raise_write_failed(err, final)
    try:
        yield tmp
        _fsync_tree(tmp)
        backup = None
        if final.exists() or final.is_symlink():
            backup = _sibling(final, _OLD)
            os.replace(final, backup)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    except OSError as err:
        _remove(tmp)
        _raise_write_failed(err, final)
    except BaseException:
        _remove(tmp)
        raise
    if backup is not None:
        _remove(backup)


@contextlib.contextmanager
def atomic_file(final: Path | str) -> Iterator[Path]:
    """Yield a temporary file path; on success it replaces `final` in one rename.

    The caller writes the file at the yielded path (it does not exist yet).
    """
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        recover(final)
    except OSError as err:
        _raise_write_failed(err, final)
    # Keep the suffix: some writers (keras.saving) insist on `.keras`.
    tmp = _sibling(final, _TMP)
    tmp = tmp.with_name(tmp.name + final.suffix)
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(f"nothing was written to {tmp}")
        _fsync_tree(tmp)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    except OSError as err:
        _remove(tmp)
        _raise_write_failed(err, final)
    except BaseException:
        _remove(tmp)
        raise


def write_bytes_atomic(final: Path | str, data: bytes) -> None:
    """Write `data` to `final` atomically."""
    with atomic_file(final) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(final: Path | str, text: str) -> None:
    """Write `text` (UTF-8) to `final` atomically."""
    write_bytes_atomic(final, text.encode("utf-8"))


def write_json(path: str | os.PathLike, data: object) -> None:
    """Write `data` as indented JSON to `path` atomically."""
    text = json.dumps(_finite(data), indent=2, sort_keys=True, default=_jsonable, allow_nan=False)
    write_text_atomic(path, text + "\n")


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
