"""Reading NumPy arrays from a ``.npz`` archive or from ``.npy`` files."""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from compiler.data.raw import RawData, detect_task, labels_as_int32
from compiler.errors import DataError, Location, did_you_mean


def named(spec: str | dict[str, str]) -> dict[str, str]:
    """``x`` → ``{x: x}``; a mapping {data name: key or file} stays as it is."""
    return {spec: spec} if isinstance(spec, str) else dict(spec)


def read_npz(
    path: Path, inputs: str | dict[str, str], targets: str | dict[str, str], shown_name: str
) -> RawData:
    """Read the named arrays of a ``.npz`` archive.

    Raises:
        DataError: the file is not a NumPy archive, a key is missing (with a
            did-you-mean), an array holds Python objects or claims more data
            than the file has, or arrays disagree on the number of examples.
    """
    with NpzArchive(path, shown_name) as archive:

        def load(key: str) -> np.ndarray:
            if key not in archive.keys:
                held = (f"arrays are: {', '.join(archive.keys)}" if archive.keys
                        else "the archive holds no arrays")
                raise DataError(
                    f"no array '{key}' in the archive{did_you_mean(key, archive.keys)}; {held}",
                    Location(shown_name),
                )
            return archive.load(key)

        return _assemble(named(inputs), named(targets), load, lambda key: f"{shown_name}[{key}]")


def read_npy(
    inputs: dict[str, Path], targets: dict[str, Path], shown: Callable[[Path], str]
) -> RawData:
    """Read one ``.npy`` file per input and target."""
    return _assemble(inputs, targets, lambda path: load_npy(path, shown(path)), shown)


# ----------------------------------------------------------------- safe loading

NPY_MAGIC = b"\x93NUMPY"


class NpzArchive:
    """A ``.npz`` archive whose arrays are checked before they are loaded.

    Loading never unpickles (no ``allow_pickle``), and an array whose header
    claims more data than the archive holds is refused before any memory is
    allocated for it.

    Example:
        >>> with NpzArchive(path, "d.npz") as archive:  # doctest: +SKIP
        ...     x = archive.load(archive.keys[0])
    """

    def __init__(self, path: Path, shown_name: str):
        self.shown_name = shown_name
        try:
            with open(path, "rb") as handle:
                start = handle.read(len(NPY_MAGIC))
        except OSError as err:
            raise DataError(
                f"cannot read the file: {err.strerror or err}", Location(shown_name)
            ) from None
        if start == NPY_MAGIC:
            raise DataError(
                "expected a .npz archive of named arrays, got a single array (.npy)",
                Location(shown_name),
            )
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as err:
            raise DataError(
                f"cannot read as a NumPy .npz archive: {err}", Location(shown_name)
            ) from None
        self._members = {
            (name[: -len(".npy")] if name.endswith(".npy") else name): name
            for name in self._zip.namelist()
        }
        self.keys = list(self._members)

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def load(self, key: str) -> np.ndarray:
        """The array ``key``, checked (numbers only, size within the archive's)."""
        where = f"{self.shown_name}[{key}]"
        info = self._zip.getinfo(self._members[key])
        try:
            with self._zip.open(info) as handle:
                check_npy_header(handle, info.file_size, where)
            with self._zip.open(info) as handle:
                return np.lib.format.read_array(handle, allow_pickle=False)
        except DataError:
            raise
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
            raise DataError(f"cannot read the array: {err}", Location(where)) from None


def load_npy(path: Path, shown_name: str) -> np.ndarray:
    """Load a ``.npy`` file after checking its header; never unpickles.

    Raises:
        DataError: not a .npy file, an object array, or a header that claims
            more data than the file holds.
    """
    try:
        with open(path, "rb") as handle:
            check_npy_header(handle, path.stat().st_size, shown_name)
            handle.seek(0)
            return np.lib.format.read_array(handle, allow_pickle=False)
    except DataError:
        raise
    except (ValueError, OSError, EOFError) as err:
        raise DataError(f"cannot read as a NumPy .npy file: {err}", Location(shown_name)) from None


def check_npy_header(handle, size: int, shown_name: str) -> tuple[tuple[int, ...], np.dtype]:
    """Read the header of a .npy stream and check it against the stream's ``size``.

    Returns:
        The shape and dtype the header declares.

    Raises:
        DataError: not a .npy stream, an unsupported version, an object or
            other non-numeric dtype, or more data than ``size`` bytes (or this
            machine's memory) can hold.
    """
    where = Location(shown_name)
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise DataError(
                f"unsupported .npy format version {version[0]}.{version[1]}; "
                "save it with numpy.save and a numeric dtype",
                where,
            )
    except DataError:
        raise
    except (ValueError, OSError, EOFError, SyntaxError) as err:
        raise DataError(f"cannot read as a NumPy array: {err}", where) from None
    if dtype.hasobject:
        raise DataError(
            "the array holds Python objects (dtype=object), which are never unpickled; "
            "save it with a numeric dtype, for example np.asarray(x, dtype='float32')",
            where,
        )
    count = math.prod(int(n) for n in shape)
    needed = count * dtype.itemsize
    available = size - handle.tell()
    if needed > available:
        raise DataError(
            f"the header declares shape {tuple(shape)} of {dtype} ({_bytes(needed)}), but the "
            f"file holds only {_bytes(max(available, 0))} of data: it is truncated or damaged",
            where,
        )
    memory = _physical_memory()
    if memory and needed > memory:
        raise DataError(
            f"the array of shape {tuple(shape)} needs {_bytes(needed)}, more than this "
            f"machine's memory ({_bytes(memory)})",
            where,
        )
    return tuple(shape), dtype


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _bytes(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} bytes"


class ArrayOrigins:
    """Where each example of an array file is: its index in the file, kept as numbers."""

    def __init__(self, indices: np.ndarray):
        self.indices = np.asarray(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> str:
        return f"index {int(self.indices[i])}"

    def take(self, index: np.ndarray) -> ArrayOrigins:
        return ArrayOrigins(self.indices[index])


def _assemble(inputs: dict, targets: dict, load: Callable, shown: Callable) -> RawData:
    arrays: dict[str, dict[str, np.ndarray]] = {"inputs": {}, "targets": {}}
    where: dict[str, str] = {}
    for group, names in (("inputs", inputs), ("targets", targets)):
        for name, key in names.items():
            array = load(key)
            where[name] = shown(key)
            if array.ndim == 0:
                raise DataError("expected one example per leading index, got a scalar",
                                Location(where[name]))
            if array.dtype.kind not in "biuf":
                raise DataError(
                    f"expected numbers, got an array of dtype {array.dtype}", Location(where[name])
                )
            check_finite(array, where[name])
            if array.dtype == np.float64:
                array = _to_float32(array, where[name])
            arrays[group][name] = array
    counts = {name: a.shape[0] for group in arrays.values() for name, a in group.items()}
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{where[name]} has {count}" for name, count in counts.items())
        raise DataError(f"arrays disagree on the number of examples: {listed}",
                        Location(where[name]))
    target_values = list(arrays["targets"].values())
    task = detect_task(target_values[0]) if len(target_values) == 1 else "regression"
    if task == "classification":
        arrays["targets"] = {
            k: labels_as_int32(v, Location(where[k])) for k, v in arrays["targets"].items()
        }
    count = next(iter(counts.values()), 0)
    return RawData(
        inputs=arrays["inputs"],
        targets=arrays["targets"],
        task=task,
        origins=ArrayOrigins(np.arange(count)),
        target_where={name: Location(where[name]) for name in arrays["targets"]},
    )


def _first_bad(bad: np.ndarray) -> tuple[tuple, str]:
    """Index of the first True of ``bad``, and where it is in words: `example 3 at [1, 2]`."""
    index = np.unravel_index(int(np.argmax(bad)), bad.shape)
    position = ", ".join(str(int(i)) for i in index[1:])
    return index, f"example {int(index[0])}" + (f" at [{position}]" if position else "")


def _to_float32(array: np.ndarray, shown_name: str) -> np.ndarray:
    """``array`` as float32; a DataError names the first value too large for it."""
    with np.errstate(over="ignore"):
        cast = array.astype(np.float32)
    bad = ~np.isfinite(cast)
    if bad.any():
        index, where = _first_bad(bad)
        raise DataError(
            f"{where} is {array[index]:g}, too large for a 32-bit float (largest "
            f"{float(np.finfo(np.float32).max):.4g}; count of such values: {int(bad.sum())}); "
            "rescale the array",
            Location(shown_name),
        )
    return cast


def check_finite(array: np.ndarray, shown_name: str) -> None:
    """Raise a DataError naming the first NaN or infinite value of ``array``."""
    if array.dtype.kind != "f":
        return
    bad = ~np.isfinite(array)
    if bad.any():
        index, where = _first_bad(bad)
        raise DataError(
            f"{where} is {array[index]}; expected a finite number "
            f"(count of bad values: {int(bad.sum())})",
            Location(shown_name),
        )
