"""Reading a file of examples for a model's inputs: `.npy`, `.npz` or `.csv`.

The arrays are checked against the model's inputs (names, shapes, finite
numbers); how a CSV's cells become numbers is the encoder's business
(:meth:`compiler.data.encoder.InputEncoder.encode_csv_chunks`), passed in.
Read whole (:func:`read_model_inputs`) or in batches of rows
(:func:`model_input_batches`): a `.csv` is then read as it is consumed and a
`.npy` memory-mapped, so memory holds one batch; a `.npz` is loaded whole
(its members are compressed streams, not arrays to map).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from compiler.errors import DataError, Location, UsageError, did_you_mean

INPUT_SUFFIXES = (".npy", ".npz", ".csv")

CsvChunks = Callable[[Path, "int | None"], Iterator[np.ndarray]]
"""Turns a CSV file into feature matrices of at most N rows (None: one matrix)."""


def read_model_inputs(path: Path, model: Any, csv_chunks: CsvChunks) -> dict[str, np.ndarray]:
    """Read ``path`` into ``{input name: array}`` checked against ``model``'s inputs.

    Args:
        path: the file of examples.
        model: the Keras model (its ``inputs`` give names and shapes).
        csv_chunks: turns a CSV file into feature matrices (one row per example).

    Raises:
        DataError: the file is missing, unreadable, empty, holds NaN or
            infinite values, or does not fit the model's inputs.
        UsageError: the file's suffix is not one of INPUT_SUFFIXES.
    """
    [arrays] = model_input_batches(path, model, csv_chunks, None)
    return arrays


def model_input_batches(
    path: Path, model: Any, csv_chunks: CsvChunks, rows: int | None
) -> Iterator[dict[str, np.ndarray]]:
    """:func:`read_model_inputs` ``rows`` examples at a time (None: one batch of all).

    Each batch is checked as a whole file is; a NaN or infinite value is named
    by its place in the file, not in the batch.

    Raises:
        DataError, UsageError: as :func:`read_model_inputs`, when the batch
            holding the problem is read.
    """
    names = [t.name.split(":")[0] for t in model.inputs]
    shapes = {n: tuple(t.shape[1:]) for n, t in zip(names, model.inputs, strict=True)}
    shown = str(path)
    if not path.is_file():
        raise DataError(f"input file '{path}' does not exist")
    if path.suffix not in INPUT_SUFFIXES:
        raise UsageError(f"--input must be one of {', '.join(INPUT_SUFFIXES)}, got '{path.name}'")
    if path.suffix == ".npz":
        arrays = _read_npz(path, names, shapes, shown)
        total = len(next(iter(arrays.values())))
        step = rows or total
        for start in range(0, total, step):
            yield {n: a[start : start + step] for n, a in arrays.items()}
        return
    if len(names) > 1:
        raise DataError(
            f"the model has {len(names)} inputs ({', '.join(names)}); give an .npz with one "
            "array per input name",
            Location(shown),
        )
    name, shape = names[0], shapes[names[0]]
    if path.suffix == ".csv":
        for block in csv_chunks(path, rows):
            _check_array(block, shown)
            _check_finite(block, block, shown)
            yield {name: _fit_shape(block, shape, name, shown)}
        return
    array = _map_npy(path, shown) if rows else _load_npy(path, shown)
    _check_array(array, shown)
    step = rows or len(array)
    for start in range(0, len(array), step):
        part = _rows_of(array, start, step)
        _check_finite(part, array, shown)
        yield {name: _fit_shape(part, shape, name, shown)}


def _read_npz(path: Path, names: list[str], shapes: dict[str, tuple], shown: str
              ) -> dict[str, np.ndarray]:
    from compiler.data.readers.arrays import NpzArchive

    with NpzArchive(path, shown) as archive:
        keys = archive.keys
        if len(names) == 1 and len(keys) == 1:
            wanted = {names[0]: keys[0]}
        else:
            wanted = {name: name for name in names if name in keys}
        for name in names:
            if name not in wanted:
                raise DataError(
                    f"no array '{name}' for input '{name}'{did_you_mean(name, keys)}; "
                    f"the file has {', '.join(keys) or 'none'}",
                    Location(shown),
                )
        arrays = {name: archive.load(key) for name, key in wanted.items()}
    where = {name: f"{shown}[{key}]" for name, key in wanted.items()}
    for name in names:
        array = arrays[name]
        _check_array(array, where[name])
        _check_finite(array, array, where[name])
        arrays[name] = _fit_shape(array, shapes[name], name, where[name])
    counts = {name: len(arrays[name]) for name in names}
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{where[n]} has {c}" for n, c in counts.items())
        raise DataError(f"arrays disagree on the number of examples: {listed}", Location(shown))
    return {n: arrays[n] for n in names}


def _load_npy(path: Path, shown: str) -> np.ndarray:
    from compiler.data.readers.arrays import load_npy

    return load_npy(path, shown)


def _map_npy(path: Path, shown: str) -> np.ndarray:
    """A ``.npy`` file memory-mapped read-only, after :func:`load_npy`'s header checks."""
    from compiler.data.readers.arrays import check_npy_header

    try:
        with open(path, "rb") as handle:
            check_npy_header(handle, path.stat().st_size, shown)
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except DataError:
        raise
    except (ValueError, OSError, EOFError) as err:
        raise DataError(f"cannot read as a NumPy .npy file: {err}", Location(shown)) from None


def _rows_of(array: np.ndarray, start: int, count: int) -> np.ndarray:
    """Rows ``start`` to ``start + count`` of ``array``.

    From a memory-mapped file they are read through a mapping of those rows
    only, copied and unmapped: pages read through one mapping of the whole
    file would stay counted in the process's memory until the end.
    (A Fortran-order file is sliced from the whole mapping.)
    """
    part = array[start : start + count]
    row_bytes = array.itemsize * int(np.prod(array.shape[1:]))
    if not isinstance(array, np.memmap) or not array.flags.c_contiguous or not row_bytes:
        return np.asarray(part)
    window = np.memmap(array.filename, dtype=array.dtype, mode="r",
                       offset=array.offset + start * row_bytes, shape=part.shape)
    copy = np.array(window)
    del window  # unmaps
    return copy


def _check_array(array: np.ndarray, shown: str) -> None:
    """What the header tells: one example per leading index, numbers, at least one example."""
    place = Location(shown)
    if array.ndim == 0:
        raise DataError("expected one example per leading index, got a scalar", place)
    if array.dtype.kind not in "biuf":
        raise DataError(f"expected numbers, got an array of dtype {array.dtype}", place)
    if len(array) == 0:
        raise DataError("the file holds no examples (0 rows); nothing to predict", place)


def _check_finite(part: np.ndarray, whole: np.ndarray, shown: str) -> None:
    """Refuse a NaN or infinity in ``part``, named by its place in ``whole`` (the file's array)."""
    from compiler.data.readers.arrays import check_finite

    if part.dtype.kind == "f" and not np.isfinite(part).all():
        check_finite(whole, shown)  # reads the whole array once, on this error path only


def _fit_shape(array: np.ndarray, shape: tuple, name: str, shown: str) -> np.ndarray:
    fits = len(array.shape[1:]) == len(shape) and all(
        s is None or s == g for s, g in zip(shape, array.shape[1:], strict=True)
    )
    if fits:
        return array
    if None not in shape:
        size = int(np.prod(shape))
        if array.ndim >= 1 and int(np.prod(array.shape[1:])) == size:
            # A CSV row (or a flattened array) holds one example's values in order.
            return array.reshape((array.shape[0], *shape))
    raise DataError(
        f"input '{name}' expects examples of shape {shape}, the file has {tuple(array.shape[1:])}",
        Location(shown),
    )
