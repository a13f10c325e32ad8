"""Running a trained model on a file of inputs (`nncompile predict`).

Inputs: `.npy` (one array, for a one-input model), `.npz` (one array per
input name) or `.csv` (one example per row, an optional header; each row is
reshaped to the input's shape). Outputs: `.npy` (one-output models), `.npz`
(one array per output name) or `.csv` (one column per output value; a
classifier also gets `predicted` and `confidence`).

Inputs are prepared as in training: a model trained on a CSV reads the
training columns by name from a header row (other columns, such as the
target, are ignored), one-hot encodes categorical columns with the training
categories, and standardised inputs get the training constants. Those come
from the model folder's metadata.json, else from the spec's training data.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compiler.atomic import write_text_atomic, write_with
from compiler.errors import DataError, Location, NNCompileError, UsageError, did_you_mean

INPUT_SUFFIXES = (".npy", ".npz", ".csv")
OUTPUT_SUFFIXES = (".npy", ".npz", ".csv")


@dataclass
class Preprocessing:
    """How training prepared the inputs, as far as it is known.

    Attributes:
        columns: the CSV feature columns, in training order (None: not a CSV).
        categories: {categorical column: its categories, in one-hot order}.
        delimiter: the CSV field separator.
        standardization: {data input name: (mean, std)}.
        inputs: {model input name: data input name}.
        missing: why the preprocessing is unknown although training used
            some (None when it is known or training used none).
        standardized: whether training standardised the inputs.
    """

    columns: list[str] | None = None
    categories: dict[str, list[str]] = field(default_factory=dict)
    delimiter: str = ","
    standardization: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    missing: str | None = None
    standardized: bool = False

    @classmethod
    def from_metadata(cls, meta: dict, delimiter: str = ",") -> Preprocessing:
        """Read the data metadata a DataBundle carries (also metadata.json's `preprocessing`)."""
        categories = {str(k): [str(v) for v in values]
                      for k, values in (meta.get("categories") or {}).items()}
        columns = meta.get("columns")
        # Only a CSV source records its categories; other sources have no columns.
        if columns is None and "categories" in meta and meta.get("feature_names") is not None:
            columns = _columns_from_feature_names(meta["feature_names"], categories)
        standardization = {
            str(name): (np.asarray(c["mean"], "float32"), np.asarray(c["std"], "float32"))
            for name, c in (meta.get("standardization") or {}).items()
        }
        return cls(
            columns=[str(c) for c in columns] if columns is not None else None,
            categories={k: v for k, v in categories.items() if columns and k in columns},
            delimiter=str(meta.get("delimiter") or delimiter),
            standardization=standardization,
            inputs={str(k): str(v) for k, v in (meta.get("inputs") or {}).items()},
            standardized=bool(standardization),
        )

    def width(self) -> int:
        """Number of model features a CSV row becomes (categories one-hot)."""
        return sum(
            len(self.categories[c]) if c in self.categories else 1 for c in self.columns or []
        )


def _columns_from_feature_names(names: list[str], categories: dict[str, list[str]]) -> list[str]:
    """Training columns from ``feature_names`` (``city=rome`` entries are one-hot columns)."""
    columns: list[str] = []
    expanded = {
        f"{column}={value}": column for column, values in categories.items() for value in values
    }
    for name in names:
        column = expanded.get(name, name)
        if column not in columns:
            columns.append(column)
    return columns


def read_csv_rows(path: Path, prep: Preprocessing | None = None) -> np.ndarray:
    """Read a CSV of examples, one per row, as the model's feature matrix.

    With the training columns known (a model trained on a CSV), a header row
    naming them selects them by name, in any order (other columns, such as the
    target, are ignored), and categorical columns are one-hot encoded as in
    training; without such a header the cells are the training columns in
    order (or already encoded numbers). Otherwise the cells are numbers; a
    first row that is not numeric is a header.

    Raises:
        DataError: not UTF-8, no examples, a ragged row, a missing column, a
            cell that is not a number, NaN or infinite, or an unknown category;
            each names the file, row and column.
    """
    from compiler.data.readers.csv_reader import read_utf8

    shown = str(path)
    text = read_utf8(path, shown)
    delimiter = prep.delimiter if prep else ","
    try:
        rows = [(n, row) for n, row in enumerate(
            csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
            if any(cell.strip() for cell in row)]
    except csv.Error as err:
        raise DataError(f"cannot read as CSV: {err}", Location(shown)) from None
    if not rows:
        raise DataError("the file is empty; expected one example per row", Location(shown))
    columns = prep.columns if prep else None
    categories = prep.categories if prep else {}
    header_line, header = rows[0]
    header = [cell.strip() for cell in header]
    named = bool(columns) and any(cell in columns for cell in header)
    unnamed = not named and not _numeric(header) and not (
        columns and categories and _is_raw_row(header, columns, categories)
    )
    body = rows[1:] if named or unnamed else rows
    if not body:
        raise DataError("the file has a header row but no examples", Location(shown, header_line))
    width = len(header) if named or unnamed else len(body[0][1])
    for line, row in body:
        if len(row) != width:
            raise DataError(
                f"row has {len(row)} fields, expected {width} as in the "
                + ("header" if named or unnamed else "first row"),
                Location(shown, line),
            )
    if named:
        missing = [c for c in columns if c not in header]
        if missing:
            raise DataError(
                f"no column '{missing[0]}' in the header{did_you_mean(missing[0], header)}; "
                f"the model was trained on the columns {', '.join(columns)}",
                Location(shown, header_line),
            )
        return _encode_rows(body, [header.index(c) for c in columns], columns, prep, shown)
    if columns and width == len(columns):
        # The training columns in order, without a header naming them.
        return _encode_rows(body, list(range(width)), columns, prep, shown)
    if columns and categories and width != prep.width():
        raise DataError(
            f"rows have {width} fields; expected the {len(columns)} training columns "
            f"({', '.join(columns)}), best with a header row naming them",
            Location(shown, body[0][0]),
        )
    # Numbers only (for example already one-hot encoded), in the model's order.
    names = header if unnamed else [f"column {i + 1}" for i in range(width)]
    return _encode_rows(body, list(range(width)), names, prep, shown, encode=False)


def _is_raw_row(row: list[str], columns: list[str], categories: dict[str, list[str]]) -> bool:
    """Whether ``row`` reads as one example of the training columns (not as a header)."""
    if len(row) != len(columns):
        return False
    for cell, column in zip(row, columns, strict=True):
        if column in categories:
            if cell not in categories[column]:
                return False
        elif not _numeric([cell]):
            return False
    return True


def _encode_rows(
    body: list[tuple[int, list[str]]],
    order: list[int],
    names: list[str],
    prep: Preprocessing | None,
    shown: str,
    encode: bool = True,
) -> np.ndarray:
    """One float32 row per example: numbers as they are, categories one-hot."""
    categories = prep.categories if prep and encode else {}
    blocks = []
    for position, name in zip(order, names, strict=True):
        where_col = position + 1
        path = f"column '{name}'" if not name.startswith("column ") else None
        if name in categories:
            known = categories[name]
            index = {value: i for i, value in enumerate(known)}
            block = np.zeros((len(body), len(known)), dtype=np.float32)
            for i, (line, row) in enumerate(body):
                value = row[position].strip()
                if value not in index:
                    raise DataError(
                        f"category {value!r} does not occur in the training data; "
                        f"known: {', '.join(known)}",
                        Location(shown, line, where_col, path),
                    )
                block[i, index[value]] = 1.0
            blocks.append(block)
            continue
        values = np.empty((len(body), 1), dtype=np.float64)
        for i, (line, row) in enumerate(body):
            cell = row[position].strip()
            try:
                values[i, 0] = float(cell)
            except ValueError:
                if prep is not None and prep.missing:
                    hint = f"; cannot encode categories: {prep.missing}"
                elif prep is not None and prep.columns and not encode:
                    hint = (f"; give a header row naming the training columns "
                            f"({', '.join(prep.columns)})")
                elif prep is not None and prep.columns:
                    hint = "; the model was trained on numbers in this column"
                else:
                    hint = ""
                raise DataError(
                    f"expected a number, got {cell!r}{hint}",
                    Location(shown, line, where_col, path),
                ) from None
            if not math.isfinite(values[i, 0]):
                raise DataError(
                    f"expected a finite number, got {cell!r}",
                    Location(shown, line, where_col, path),
                )
        blocks.append(values.astype(np.float32))
    return np.concatenate(blocks, axis=1)


def _numeric(row: list[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True


def read_inputs(path: Path, model, prep: Preprocessing | None = None) -> dict[str, np.ndarray]:
    """Read `path` into ``{input name: array}`` checked against the model's inputs.

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
            arrays = {names[0]: read_csv_rows(path, prep)}
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


def standardize_inputs(inputs: dict[str, np.ndarray], prep: Preprocessing) -> dict[str, np.ndarray]:
    """Apply the training split's standardisation constants to each input that had them."""
    out = dict(inputs)
    for model_name, array in inputs.items():
        data_name = prep.inputs.get(model_name, model_name)
        only = len(inputs) == 1 and len(prep.standardization) == 1
        if data_name not in prep.standardization and only:
            data_name = next(iter(prep.standardization))
        if data_name not in prep.standardization:
            continue
        mean, std = prep.standardization[data_name]
        if array.dtype.kind != "f" or array.shape[-1:] != mean.shape[-1:]:
            continue
        out[model_name] = ((array - mean) / std).astype(np.float32)
    return out


def write_outputs(
    path: Path, outputs: dict[str, np.ndarray], class_names: list[str] | None
) -> None:
    """Write predictions in the format named by `path`'s suffix.

    Raises:
        UsageError: an unknown suffix, or several outputs for an .npy file.
        NNCompileError: the file cannot be written (a missing folder is created).
    """
    from compiler.data.files import prepare_output, write_failed

    if path.suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"--output must be one of {', '.join(OUTPUT_SUFFIXES)}, got '{path.name}'")
    if path.suffix == ".npy" and len(outputs) != 1:
        raise UsageError(f"the model has {len(outputs)} outputs; write them to an .npz file")
    prepare_output(path)
    try:
        _write_outputs(path, outputs, class_names)
    except OSError as err:
        raise write_failed(path, err) from None


def _write_outputs(
    path: Path, outputs: dict[str, np.ndarray], class_names: list[str] | None
) -> None:
    if path.suffix == ".npy":
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
    write_text_atomic(path, buffer.getvalue())


def predict_file(model_path: str | Path, input_path: str | Path, output_path: str | Path) -> int:
    """Predict every example of `input_path` and write `output_path`.

    Returns:
        The number of examples predicted.
    """
    from compiler.data.files import prepare_output
    from compiler.model_folder import load_model_file

    model_path, output_path = Path(model_path), Path(output_path)
    if output_path.suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"--output must be one of {', '.join(OUTPUT_SUFFIXES)}, got '{output_path.name}'")
    input_path = Path(input_path)
    if input_path.exists() and output_path.exists() and output_path.samefile(input_path):
        raise NNCompileError(
            "--output is the --input file; writing the predictions would replace the examples, "
            "choose another file name",
            Location(str(output_path)),
        )
    prepare_output(output_path, create=False)  # fail before the model is loaded and run
    model = load_model_file(model_path)
    prep = training_preprocessing(model_path)
    if prep.missing and prep.standardized:
        raise DataError(
            f"the model was trained on standardised inputs, but their constants are not in "
            f"the model folder's metadata.json and the training data cannot be read to "
            f"recover them: {prep.missing}",
            Location(str(model_path)),
        )
    inputs = read_inputs(input_path, model, prep)
    inputs = standardize_inputs(inputs, prep)
    predictions = model.predict(inputs if len(inputs) > 1 else next(iter(inputs.values())), verbose=0)
    if not isinstance(predictions, (list, tuple, dict)):
        predictions = [predictions]
    if isinstance(predictions, dict):
        outputs = {k: np.asarray(v) for k, v in predictions.items()}
    else:
        outputs = {n: np.asarray(v) for n, v in zip(model.output_names, predictions, strict=True)}
    write_outputs(output_path, outputs, _class_names(model_path))
    return len(next(iter(outputs.values())))


def training_preprocessing(model_path: Path) -> Preprocessing:
    """How training prepared the inputs of the model at ``model_path``.

    From the model folder's metadata.json (`preprocessing`) when it has it;
    else, when the spec's data needed preparation (a CSV, standardisation),
    by reading the spec's training data again as `evaluate` does. A lone
    .keras file without a spec beside it gets no preparation.
    """
    folder = model_path if model_path.is_dir() else model_path.parent
    meta_path = folder / "metadata.json"
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        known = meta.get("preprocessing") if isinstance(meta, dict) else None
        if isinstance(known, dict) and known:
            return Preprocessing.from_metadata(known)
    if not (folder / "spec.resolved.yaml").is_file():
        return Preprocessing()
    from compiler.run.evaluate import find_model_and_spec

    try:
        _, spec = find_model_and_spec(folder, ".")
    except NNCompileError:
        return Preprocessing()
    data = getattr(spec, "data", None)
    if data is None:
        return Preprocessing()
    csv_source = data.kind == "csv"
    categorical = list(data.source.categorical) if csv_source else []
    if not (csv_source or data.standardize):
        return Preprocessing()
    from compiler.data.pipeline import load_data

    training = getattr(spec, "training", None)
    try:
        bundle = load_data(
            spec,
            batch_size=training.batch_size if training else 32,
            seed=training.seed if training else None,
        )
    except NNCompileError as err:
        if not (categorical or data.standardize):
            return Preprocessing()  # plain numeric columns: the file is read as numbers
        return Preprocessing(missing=str(err.problems[0]), standardized=bool(data.standardize))
    return Preprocessing.from_metadata(
        bundle.metadata, delimiter=data.source.delimiter if csv_source else ","
    )


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
