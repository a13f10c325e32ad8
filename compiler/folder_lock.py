"""One writer at a time in a model folder: a lock file naming who holds it.

``train``, ``build`` and ``export`` write several files into
``saved_models/<name>/``; two of them at once would leave a model.keras from
one run beside the metrics of the other. The writer takes ``.nncompile.lock``
in the folder: the file records its pid, verb and start time (for the message
the second writer gets), and holds an exclusive ``flock``, which the kernel
drops when the process ends however it ends. So a lock whose process was
killed is stale by construction and is taken over, and a pid reused by an
unrelated process cannot keep a folder locked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from compiler.errors import Location, NNCompileError

LOCK_NAME = ".nncompile.lock"
# Folders whose lock this process holds, with how many blocks hold it: taking the
# lock again in the same process nests instead of refusing itself (flock locks are
# per open file, so a second open and flock would block on our own lock).
_HELD: dict[str, int] = {}
# A child process that works for the lock's holder (the TensorFlow export after a JAX
# run) is given the folder here, and writes under its parent's lock.
PARENT_HOLDS_ENV = "NNCOMPILE_PARENT_HOLDS_LOCK"


class FolderInUse(NNCompileError):
    """Another live process holds the folder's lock."""


@contextlib.contextmanager
def folder_lock(folder: Path, verb: str) -> Iterator[None]:
    """Hold ``folder``'s write lock for the block; refuse at once when another process has it.

    Raises:
        FolderInUse: naming the other process's pid, verb and start time.
    """
    folder.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(folder)
    if key not in _HELD and _held_by_parent(folder, key):
        _HELD[key] = 1  # the parent's lock covers this child; the parent releases it
    if key in _HELD:  # this process holds it already (the CLI around train_spec)
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    path = folder / LOCK_NAME
    fd = _acquire(path, folder)
    _HELD[key] = 1
    try:
        record = {"pid": os.getpid(), "verb": verb,
                  "since": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        yield
    finally:
        # Unlink while still holding the lock: a waiter that opened the old file
        # sees it is gone (see _acquire) instead of locking a file nobody can find.
        del _HELD[key]
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def check_unlocked(folder: Path) -> None:
    """Refuse now, before a long step, a folder another process is writing (holds nothing).

    Raises:
        FolderInUse: as :func:`folder_lock` would.
    """
    if os.path.realpath(folder) in _HELD:
        return  # this process is the writer
    path = folder / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return  # no lock file (or none we could take anyway: folder_lock will say)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _in_use(fd, folder) from None
    finally:
        os.close(fd)  # closing drops a lock we took


def _in_use(fd: int, folder: Path) -> FolderInUse:
    return FolderInUse(
        f"the model folder is in use by another nncompile process ({_holder(fd)}); wait for "
        "it to finish, or write elsewhere with --out", Location(str(folder)))


def _acquire(path: Path, folder: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            error = _in_use(fd, folder)
            os.close(fd)
            raise error from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd  # a leftover of a killed process has no flock: it is taken over here
        os.close(fd)  # the holder released and removed it between our open and flock


def _holder(fd: int) -> str:
    """Who holds the lock, from its file: 'pid 123, `train` since ...'."""
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        record = {}
    if not isinstance(record, dict) or "pid" not in record:
        return "just starting"
    return f"pid {record.get('pid')}, `{record.get('verb')}` since {record.get('since')}"


def child_environment(folder: Path) -> dict[str, str]:
    """Environment entries that let a child process write `folder` under this process's lock."""
    return {PARENT_HOLDS_ENV: os.path.realpath(folder)}


def _held_by_parent(folder: Path, key: str) -> bool:
    """Whether the parent process holds `folder`'s lock and handed it down to this child."""
    if os.environ.get(PARENT_HOLDS_ENV) != key:
        return False
    try:
        record = json.loads((folder / LOCK_NAME).read_text() or "{}")
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("pid") == os.getppid()
