"""Running a trained model on a file of inputs (`nncompile predict`).

Inputs: `.npy` (one array, for a one-input model), `.npz` (one array per
input name) or `.csv` (one example per row, an optional header; each row is
reshaped to the input's shape). Outputs: `.npy` (one-output models), `.npz`
(one array per output name) or `.csv` (one column per output value; a
classifier also gets `predicted` and `confidence`).

Inputs are encoded as in training, by the same encoder
(:class:`compiler.data.encoder.InputEncoder`): a model trained on a CSV reads
the training columns by name from a header row (other columns, such as the
target, are ignored), one-hot encodes categorical columns with the training
categories, and standardised inputs get the training constants. The encoder
comes from the model folder's metadata.json, else from the spec's training data.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from compiler.atomic import atomic_file
from compiler.errors import Location, NNCompileError, UsageError

OUTPUT_SUFFIXES = (".npy", ".npz", ".csv")

CHUNK_ROWS = 4096
"""Examples read, encoded, predicted and written at a time, so memory holds a
chunk, not the file. A multiple of ``model.predict``'s batch size (32): the
model sees the batches one call on the whole file would give it."""


def write_outputs(
    path: Path, outputs: dict[str, np.ndarray], class_names: list[str] | None
) -> None:
    """Write predictions in the format named by `path`'s suffix.

    Raises:
        UsageError: an unknown suffix, or several outputs for an .npy file.
        NNCompileError: the file cannot be written (a missing folder is created).
    """
    write_output_batches(path, [outputs], class_names)


def write_output_batches(
    path: Path, batches: Iterable[dict[str, np.ndarray]], class_names: list[str] | None
) -> int:
    """Write predictions arriving in batches of rows, in the format of `path`'s suffix.

    The first batch is taken before anything is created; the rows then go to
    a temporary file beside `path`, renamed onto it after the last batch. If
    a batch fails (a bad row late in the input), the temporary file and any
    folder created for it are removed, and an earlier file at `path` is kept.
    `.csv` and `.npy` are written batch by batch; `.npz` (one compressed
    archive) is assembled in memory at the end.

    Returns:
        The number of rows written.

    Raises:
        UsageError: an unknown suffix, or several outputs for an .npy file.
        NNCompileError: the file cannot be written (a missing folder is created).
    """
    from compiler.data.files import prepare_output, write_failed

    path = Path(path)
    if path.suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"--output must be one of {', '.join(OUTPUT_SUFFIXES)}, got '{path.name}'")
    batches = iter(batches)
    first = next(batches)
    if path.suffix == ".npy" and len(first) != 1:
        raise UsageError(f"the model has {len(first)} outputs; write them to an .npz file")
    created = [folder for folder in path.parents if not folder.exists()]
    prepare_output(path)
    writer = {".npy": _write_npy, ".npz": _write_npz, ".csv": _write_csv}[path.suffix]
    try:
        with atomic_file(path) as tmp:
            return writer(tmp, itertools.chain([first], batches), class_names)
    except OSError as err:
        _remove_folders(created)
        raise write_failed(path, err) from None
    except BaseException:
        _remove_folders(created)
        raise


def _remove_folders(created: list[Path]) -> None:
    """Remove the folders made for an output that was not written (innermost first, if empty)."""
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            return


def _write_npy(tmp: Path, batches: Iterator[dict[str, np.ndarray]], _: object) -> int:
    """Append each batch to a .npy file whose header gets the row count at the end.

    The count of a streamed CSV is known only then. NumPy leaves room in the
    header for the leading dimension to grow (to 21 digits), so the final
    header has the length of the first and is written over it in place; the
    file is the one `np.save` writes for the whole array.
    """
    first = next(iter(next(batches).values()))
    dtype, rest = first.dtype, first.shape[1:]
    count = 0
    with open(tmp, "wb") as handle:
        start = _npy_header((0, *rest), dtype)
        handle.write(start)
        for values in itertools.chain([first], (next(iter(b.values())) for b in batches)):
            handle.write(np.ascontiguousarray(values, dtype=dtype).tobytes())
            count += len(values)
        header = _npy_header((count, *rest), dtype)
        if len(header) != len(start):  # pragma: no cover - NumPy's header keeps room for it
            raise RuntimeError(f"the .npy header for {count} rows does not fit in place")
        handle.seek(0)
        handle.write(header)
    return count


def _npy_header(shape: tuple[int, ...], dtype: np.dtype) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer,
        {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape},
    )
    return buffer.getvalue()


def _write_npz(tmp: Path, batches: Iterator[dict[str, np.ndarray]], _: object) -> int:
    parts: dict[str, list[np.ndarray]] = {}
    for outputs in batches:
        for name, values in outputs.items():
            parts.setdefault(name, []).append(values)
    arrays = {name: np.concatenate(values) for name, values in parts.items()}
    with open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
    return len(next(iter(arrays.values())))


def _write_csv(
    tmp: Path, batches: Iterator[dict[str, np.ndarray]], class_names: list[str] | None
) -> int:
    """One column per output value; one output of class scores adds `predicted`, `confidence`."""
    from compiler.training.reports import predicted_classes

    count = 0
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for outputs in batches:
            flats = [values.reshape(len(values), -1) for values in outputs.values()]
            only = next(iter(outputs.values()))
            add_class = class_names is not None and len(outputs) == 1 and only.ndim == 2
            if count == 0:
                columns = [
                    f"{name}_{i}" for name, flat in zip(outputs, flats, strict=True)
                    for i in range(flat.shape[1])
                ]
                writer.writerow(columns + (["predicted", "confidence"] if add_class else []))
            table = np.concatenate(flats, axis=1)
            if add_class:
                classes, confidences = predicted_classes(only)
            for i, row in enumerate(table):
                extra = []
                if add_class:
                    cls = int(classes[i])
                    label = class_names[cls] if cls < len(class_names) else str(classes[i])
                    extra = [label, f"{float(confidences[i]):.6g}"]
                writer.writerow([f"{v:.7g}" for v in row] + extra)
            count += len(table)
    return count


def predict_file(model_path: str | Path, input_path: str | Path, output_path: str | Path, *,
                 allow_outside: bool = False) -> int:
    """Predict every example of `input_path` and write `output_path`.

    ``model_path`` is a model folder or a `.keras` file; the inputs are
    encoded with the encoder of the folder it lies in (``allow_outside``: let
    the folder's spec read its training data from outside its folder, when
    they must be read again). The input is read, encoded, predicted and
    written :data:`CHUNK_ROWS` examples at a time (:func:`write_output_batches`).

    Returns:
        The number of examples predicted.
    """
    from compiler.data.files import prepare_output
    from compiler.model_folder import ModelFolder, load_model_file

    model_path, output_path = Path(model_path), Path(output_path)
    if output_path.suffix not in OUTPUT_SUFFIXES:
        raise UsageError(
            f"--output must be one of {', '.join(OUTPUT_SUFFIXES)}, got '{output_path.name}'")
    input_path = Path(input_path)
    if input_path.exists() and output_path.exists() and output_path.samefile(input_path):
        raise NNCompileError(
            "--output is the --input file; writing the predictions would replace the examples, "
            "choose another file name",
            Location(str(output_path)),
        )
    prepare_output(output_path, create=False)  # fail before the model is loaded and run
    folder = ModelFolder(model_path if model_path.is_dir() else model_path.parent)
    model = load_model_file(model_path)
    encoder = folder.encoder(allow_outside)
    batches = encoder.encode_batches(input_path, model, CHUNK_ROWS, where=model_path)
    predictions = (_predict(model, inputs) for inputs in batches)
    return write_output_batches(output_path, predictions, folder.class_names())


def _predict(model: Any, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{output name: predictions} of one batch of encoded inputs."""
    given = inputs if len(inputs) > 1 else next(iter(inputs.values()))
    predictions = model.predict(given, verbose=0)
    if not isinstance(predictions, (list, tuple, dict)):
        predictions = [predictions]
    if isinstance(predictions, dict):
        return {k: np.asarray(v) for k, v in predictions.items()}
    return {n: np.asarray(v) for n, v in zip(model.output_names, predictions, strict=True)}
