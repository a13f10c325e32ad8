"""Reading a file of examples for a model's inputs: `.npy`, `.npz` or `.csv`.

The arrays are checked against the model's inputs (names, shapes, finite
numbers); how a CSV's cells become numbers is the encoder's business
(:meth:`compiler.data.encoder.InputEncoder.encode_csv_file`), passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from compiler.errors import DataError, Location, UsageError, did_you_mean

INPUT_SUFFIXES = (".npy", ".npz", ".csv")


def read_model_inputs(
    path: Path, model: Any, read_csv: Callable[[Path], np.ndarray]
) -> dict[str, np.ndarray]:
    """Read ``path`` into ``{input name: array}`` checked against ``model``'s inputs.

    Args:
        path: the file of examples.
        model: the Keras model (its ``inputs`` give names and shapes).
        read_csv: turns a CSV file into a feature matrix (one row per example).

    Raises:
        DataError: the file is missing, unreadable, empty, holds NaN or
            infinite values, or does not fit the model's inputs.
        UsageError: the file's suffix is not one of INPUT_SUFFIXES.
    """
    from compiler.data.readers.arrays import NpzArchive, check_finite, load_npy

    names = [t.name.split(":")[0] for t in model.inputs]
    shapes = {n: tuple(t.shape[1:]) for n, t in zip(names, model.inputs, strict=True)}
    shown = str(path)
    if not path.is_file():
        raise DataError(f"input file '{path}' does not exist")
    if path.suffix not in INPUT_SUFFIXES:
        raise UsageError(f"--input must be one of {', '.join(INPUT_SUFFIXES)}, got '{path.name}'")
    where: dict[str, str] = {}
    if path.suffix == ".npz":
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
    else:
        if len(names) > 1:
            raise DataError(
                f"the model has {len(names)} inputs ({', '.join(names)}); give an .npz with one "
                "array per input name",
                Location(shown),
            )
        if path.suffix == ".npy":
            arrays = {names[0]: load_npy(path, shown)}
        else:
            arrays = {names[0]: read_csv(path)}
        where = {names[0]: shown}
    for name in names:
        array, place = arrays[name], Location(where[name])
        if array.ndim == 0:
            raise DataError("expected one example per leading index, got a scalar", place)
        if array.dtype.kind not in "biuf":
            raise DataError(f"expected numbers, got an array of dtype {array.dtype}", place)
        if len(array) == 0:
            raise DataError("the file holds no examples (0 rows); nothing to predict", place)
        check_finite(array, where[name])
        arrays[name] = _fit_shape(array, shapes[name], name, where[name])
    counts = {name: len(arrays[name]) for name in names}
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{where[n]} has {c}" for n, c in counts.items())
        raise DataError(f"arrays disagree on the number of examples: {listed}", Location(shown))
    return {n: arrays[n] for n in names}


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
