"""Running a trained model on a file of inputs (`nncompile predict`).

Inputs: `.npy` (one array, for a one-input model), `.npz` (one array per
input name) or `.csv` (one example per row, numbers only, an optional header;
each row is reshaped to the input's shape). Outputs: `.npy` (one-output
models), `.npz` (one array per output name) or `.csv` (one column per output
value; a classifier also gets `predicted` and `confidence`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from compiler.errors import DataError, Location, UsageError, did_you_mean
from compiler.training.atomic import write_text, write_with

INPUT_SUFFIXES = (".npy", ".npz", ".csv")
OUTPUT_SUFFIXES = (".npy", ".npz", ".csv")


def read_csv_rows(path: Path) -> np.ndarray:
    """Read a numeric CSV, skipping a header row if the first row is not numeric."""
    text = path.read_text(encoding="utf-8")
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    first_line = 1
    if rows and not _numeric(rows[0]):
        rows, first_line = rows[1:], 2
    values = []
    for number, row in enumerate(rows, start=first_line):
        try:
            values.append([float(cell) for cell in row])
        except ValueError as err:
            raise DataError(f"row is not numeric: {err}", Location(str(path), number)) from err
    if not values or len({len(r) for r in values}) != 1:
        raise DataError("expected rows of equal length with at least one row", Location(str(path)))
    return np.asarray(values, dtype="float32")


def _numeric(row: list[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True


def read_inputs(path: Path, model) -> dict[str, np.ndarray]:
    """Read `path` into ``{input name: array}`` checked against the model's inputs."""
    names = [t.name.split(":")[0] for t in model.inputs]
    shapes = {n: tuple(t.shape[1:]) for n, t in zip(names, model.inputs, strict=True)}
    if not path.is_file():
        raise DataError(f"input file '{path}' does not exist")
    if path.suffix not in INPUT_SUFFIXES:
        raise UsageError(f"--input must be one of {', '.join(INPUT_SUFFIXES)}, got '{path.name}'")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                arrays = {k: archive[k] for k in archive.files}
            if len(names) == 1 and len(arrays) == 1:
                arrays = {names[0]: next(iter(arrays.values()))}
        elif path.suffix == ".npy":
            arrays = {names[0]: np.load(path, allow_pickle=False)}
        else:
            arrays = {names[0]: read_csv_rows(path)}
    except (ValueError, OSError, EOFError) as err:
        raise DataError(f"cannot read '{path}': {err}", Location(str(path))) from err
    if path.suffix != ".npz" and len(names) > 1:
        raise DataError(
            f"the model has {len(names)} inputs ({', '.join(names)}); give an .npz with one "
            "array per input name",
            Location(str(path)),
        )
    for name in names:
        if name not in arrays:
            raise DataError(
                f"no array '{name}' for input '{name}'{did_you_mean(name, arrays)}; "
                f"the file has {', '.join(arrays) or 'none'}",
                Location(str(path)),
            )
        arrays[name] = _fit_shape(arrays[name], shapes[name], name, path)
    return {n: arrays[n] for n in names}


def _fit_shape(array: np.ndarray, shape: tuple, name: str, path: Path) -> np.ndarray:
    if tuple(array.shape[1:]) == shape or None in shape:
        return array
    size = int(np.prod(shape))
    if array.ndim >= 1 and int(np.prod(array.shape[1:])) == size:
        # A CSV row (or a flattened array) holds one example's values in order.
        return array.reshape((array.shape[0], *shape))
    raise DataError(
        f"input '{name}' expects examples of shape {shape}, the file has {tuple(array.shape[1:])}",
        Location(str(path)),
    )


def write_outputs(path: Path, outputs: dict[str, np.ndarray], class_names: list[str] | None) -> None:
    """Write predictions in the format named by `path`'s suffix."""
    if path.suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"--output must be one of {', '.join(OUTPUT_SUFFIXES)}, got '{path.name}'")
    if path.suffix == ".npy":
        if len(outputs) != 1:
            raise UsageError(f"the model has {len(outputs)} outputs; write them to an .npz file")
        write_with(path, lambda tmp: np.save(tmp, next(iter(outputs.values()))))
        return
    if path.suffix == ".npz":
        def save(tmp: Path) -> None:
            with open(tmp, "wb") as handle:
                np.savez(handle, **outputs)

        write_with(path, save)
        return
    columns, blocks = [], []
    for name, values in outputs.items():
        flat = values.reshape(len(values), -1)
        columns += [f"{name}_{i}" for i in range(flat.shape[1])]
        blocks.append(flat)
    table = np.concatenate(blocks, axis=1)
    only = next(iter(outputs.values()))
    add_class = class_names is not None and len(outputs) == 1 and only.ndim == 2
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns + (["predicted", "confidence"] if add_class else []))
    for i, row in enumerate(table):
        extra = []
        if add_class:
            from compiler.training.reports import predicted_classes

            cls, conf = predicted_classes(only[i : i + 1])
            label = class_names[int(cls[0])] if int(cls[0]) < len(class_names) else str(cls[0])
            extra = [label, f"{float(conf[0]):.6g}"]
        writer.writerow([f"{v:.7g}" for v in row] + extra)
    write_text(path, buffer.getvalue())


def predict_file(model_path: str | Path, input_path: str | Path, output_path: str | Path) -> int:
    """Predict every example of `input_path` and write `output_path`.

    Returns:
        The number of examples predicted.
    """
    from compiler.training.prepare import load_keras_model

    model_path, output_path = Path(model_path), Path(output_path)
    if output_path.suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"--output must be one of {', '.join(OUTPUT_SUFFIXES)}, got '{output_path.name}'")
    model = load_keras_model(model_path)
    inputs = read_inputs(Path(input_path), model)
    predictions = model.predict(inputs if len(inputs) > 1 else next(iter(inputs.values())), verbose=0)
    if not isinstance(predictions, (list, tuple, dict)):
        predictions = [predictions]
    if isinstance(predictions, dict):
        outputs = {k: np.asarray(v) for k, v in predictions.items()}
    else:
        outputs = {n: np.asarray(v) for n, v in zip(model.output_names, predictions, strict=True)}
    write_outputs(output_path, outputs, _class_names(model_path))
    return len(next(iter(outputs.values())))


def _class_names(model_path: Path) -> list[str] | None:
    # A classifier's metrics.json records the class names, if the data had them.
    folder = model_path if model_path.is_dir() else model_path.parent
    try:
        info = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if info.get("task") not in ("classification", "binary"):
        return None
    names = info.get("class_names")
    if names:
        return [str(n) for n in names]
    # An empty list means "name the classes by their index".
    return ["0", "1"] if info.get("task") == "binary" else []
