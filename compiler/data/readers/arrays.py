"""Reading NumPy arrays from a ``.npz`` archive or from ``.npy`` files."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from compiler.data.raw import RawData, detect_task
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
            did-you-mean), or arrays disagree on the number of examples.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise DataError(f"cannot read as a NumPy .npz archive: {err}", Location(shown_name)) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError("expected a .npz archive of named arrays, got a single array", Location(shown_name))
    with archive:
        keys = list(archive.keys())

        def load(key: str) -> np.ndarray:
            if key not in keys:
                raise DataError(
                    f"no array '{key}' in the archive{did_you_mean(key, keys)}; "
                    f"arrays are: {', '.join(keys)}",
                    Location(shown_name),
                )
            return archive[key]

        return _assemble(named(inputs), named(targets), load, lambda key: f"{shown_name}[{key}]")


def read_npy(
    inputs: dict[str, Path], targets: dict[str, Path], shown: Callable[[Path], str]
) -> RawData:
    """Read one ``.npy`` file per input and target."""
    def load(path: Path) -> np.ndarray:
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise DataError(f"cannot read as a NumPy .npy file: {err}", Location(shown(path))) from None

    return _assemble(inputs, targets, load, shown)


def _assemble(inputs: dict, targets: dict, load: Callable, shown: Callable) -> RawData:
    arrays: dict[str, dict[str, np.ndarray]] = {"inputs": {}, "targets": {}}
    where: dict[str, str] = {}
    for group, names in (("inputs", inputs), ("targets", targets)):
        for name, key in names.items():
            array = load(key)
            where[name] = shown(key)
            if array.ndim == 0:
                raise DataError("expected one example per leading index, got a scalar", Location(where[name]))
            if array.dtype.kind not in "biuf":
                raise DataError(
                    f"expected numbers, got an array of dtype {array.dtype}", Location(where[name])
                )
            check_finite(array, where[name])
            if array.dtype == np.float64:
                array = array.astype(np.float32)
            arrays[group][name] = array
    counts = {name: a.shape[0] for group in arrays.values() for name, a in group.items()}
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{where[name]} has {count}" for name, count in counts.items())
        raise DataError(f"arrays disagree on the number of examples: {listed}", Location(where[name]))
    target_values = list(arrays["targets"].values())
    task = detect_task(target_values[0]) if len(target_values) == 1 else "regression"
    if task == "classification":
        arrays["targets"] = {k: v.astype(np.int32) for k, v in arrays["targets"].items()}
    return RawData(inputs=arrays["inputs"], targets=arrays["targets"], task=task)


def check_finite(array: np.ndarray, shown_name: str) -> None:
    """Raise a DataError naming the first NaN or infinite value of ``array``."""
    if array.dtype.kind != "f":
        return
    bad = ~np.isfinite(array)
    if bad.any():
        index = np.unravel_index(int(np.argmax(bad)), array.shape)
        position = ", ".join(str(int(i)) for i in index[1:])
        raise DataError(
            f"example {int(index[0])}"
            + (f" at [{position}]" if position else "")
            + f" is {array[index]}; expected a finite number (count of bad values: {int(bad.sum())})",
            Location(shown_name),
        )
