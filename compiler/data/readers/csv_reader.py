"""Reading a CSV file with a header row: numeric and categorical features, targets."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from compiler.data.raw import RawData
from compiler.data.schema import CsvSource
from compiler.errors import DataError, Location, did_you_mean


def read_csv(
    path: Path,
    options: CsvSource,
    shown_name: str,
    *,
    categories: dict[str, list[str]] | None = None,
    task: str | None = None,
) -> RawData:
    """Read ``path`` as the spec's `csv:` options say.

    Args:
        path: the resolved file.
        options: the `csv:` section.
        shown_name: how messages name the file.
        categories: category lists fixed by an earlier file (the training split),
            so every split is encoded alike; None to collect them from this file.
        task: the task if the spec fixes it; None to detect it.

    Returns:
        Input ``options.input`` (float32, one column per numeric feature and per
        category), one target per target column, and the encodings in metadata.

    Raises:
        DataError: empty file, missing column, ragged row, non-numeric or
            non-finite cell; each names the file, row (as counted in the file,
            header = 1) and column.
    """
    text = read_utf8(path, shown_name)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=options.delimiter))
    except csv.Error as err:
        raise DataError(f"cannot read as CSV: {err}", Location(shown_name)) from None
    # Blank lines are skipped but still counted, so row numbers match an editor's.
    numbered = [(n, row) for n, row in enumerate(rows, start=1) if any(c.strip() for c in row)]
    if not numbered:
        raise DataError("the file is empty; expected a header row and examples", Location(shown_name))
    header_line, header = numbered[0]
    header = [name.strip() for name in header]
    body = numbered[1:]
    if not body:
        raise DataError(
            "the file has a header row but no examples", Location(shown_name, header_line)
        )
    targets = [options.target] if isinstance(options.target, str) else list(options.target)
    features = options.features or [name for name in header if name not in targets]
    for name in [*features, *targets, *options.categorical]:
        if name not in header:
            raise DataError(
                f"no column '{name}' in the header{did_you_mean(name, header)}; "
                f"columns are: {', '.join(header)}{_delimiter_hint(header, options.delimiter)}",
                Location(shown_name, header_line),
            )
    _check_used_columns(header, features, targets, shown_name, header_line)
    for name in options.categorical:
        if name not in features:
            raise DataError(
                f"categorical column '{name}' is not among the features", Location(shown_name)
            )
    for line, row in body:
        if len(row) != len(header):
            raise DataError(
                f"row has {len(row)} fields, expected {len(header)} as in the header",
                Location(shown_name, line),
            )
    column = {name: header.index(name) for name in header}

    def cells(name: str) -> list[str]:
        return [row[column[name]].strip() for _, row in body]

    def numbers(name: str) -> np.ndarray:
        values = np.empty(len(body), dtype=np.float64)
        for i, ((line, _), text) in enumerate(zip(body, cells(name), strict=True)):
            try:
                values[i] = float(text)
            except ValueError:
                if not text:  # a missing value, not text: the category hint would mislead
                    raise DataError(
                        "expected a number, got an empty cell (a missing value); fill it in "
                        "or remove the row",
                        Location(shown_name, line, column[name] + 1, f"column '{name}'"),
                    ) from None
                raise DataError(
                    f"expected a number, got {text!r}"
                    + (
                        "; if the column holds categories, add it to `categorical`"
                        if name in features
                        else ""
                    ),
                    Location(shown_name, line, column[name] + 1, f"column '{name}'"),
                ) from None
            if not math.isfinite(values[i]):
                raise DataError(
                    f"expected a finite number, got {text!r}",
                    Location(shown_name, line, column[name] + 1, f"column '{name}'"),
                )
            if abs(values[i]) > FLOAT32_MAX:
                # Models compute in float32: the value would become infinite.
                raise DataError(
                    f"{text!r} is too large for a 32-bit float (largest {FLOAT32_MAX:.4g}); "
                    "rescale the column",
                    Location(shown_name, line, column[name] + 1, f"column '{name}'"),
                )
        return values

    categories = dict(categories or {})
    blocks, keep, feature_names = [], [], []
    for name in features:
        if name in options.categorical:
            values = cells(name)
            known = categories.setdefault(name, sorted(set(values)))
            index = {value: i for i, value in enumerate(known)}
            one_hot = np.zeros((len(body), len(known)), dtype=np.float32)
            for i, ((line, _), value) in enumerate(zip(body, values, strict=True)):
                if value not in index:
                    raise DataError(
                        f"category {value!r} does not occur in the training file; "
                        f"known: {', '.join(known)}",
                        Location(shown_name, line, column[name] + 1, f"column '{name}'"),
                    )
                one_hot[i, index[value]] = 1.0
            blocks.append(one_hot)
            keep.extend([True] * len(known))
            feature_names.extend(f"{name}={value}" for value in known)
        else:
            blocks.append(numbers(name)[:, None].astype(np.float32))
            keep.append(False)
            feature_names.append(name)

    target_arrays, class_names, tasks = {}, None, {}
    where = {
        name: Location(shown_name, None, column[name] + 1, f"column '{name}'") for name in targets
    }
    for name in targets:
        text = cells(name)
        numeric = [_is_number(value) for value in text]
        if not any(numeric) or (task == "classification" and not all(numeric)):
            # Text labels: classes in sorted order, fixed by the training file.
            target_arrays[name], class_names = _text_labels(
                name, text, body, categories, Location(shown_name, col=column[name] + 1)
            )
            tasks[name] = "classification"
            continue
        # A mostly numeric column with one bad cell is a typo, not a class name.
        values = numbers(name)
        if task == "classification":
            fractional = values != np.round(values)
            if fractional.any():
                line = body[int(np.argmax(fractional))][0]
                raise DataError(
                    f"expected an integer class label, got {values[fractional][0]:g}",
                    Location(shown_name, line, column[name] + 1, f"column '{name}'"),
                )
            target_arrays[name] = values.astype(np.int32)
            tasks[name] = "classification"
        else:
            target_arrays[name] = values.astype(np.float32)[:, None]
            tasks[name] = task or "regression"

    # One task for the file, whatever the order of its columns: any class
    # column makes it a classification; each target keeps its own task.
    found = set(tasks.values())
    overall = "classification" if "classification" in found else (task or "regression")
    return RawData(
        inputs={options.input: np.concatenate(blocks, axis=1)},
        targets=target_arrays,
        task=overall,
        class_names=class_names,
        num_classes=len(class_names) if class_names else None,
        metadata={
            "feature_names": feature_names,
            "categories": categories,
            "columns": list(features),
            "categorical": [name for name in features if name in options.categorical],
            "delimiter": options.delimiter,
        },
        origins=[f"{shown_name}:{line}" for line, _ in body],
        no_standardize={options.input: np.array(keep, dtype=bool)},
        target_where=where,
        target_tasks=tasks if len(found) > 1 else {},
    )


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _delimiter_hint(header: list[str], delimiter: str) -> str:
    """A hint to set `delimiter` when the header is one column holding another separator."""
    if len(header) != 1:
        return ""
    for candidate, shown in ((";", ";"), ("\t", "\\t"), ("|", "|"), (",", ",")):
        if candidate != delimiter and candidate in header[0]:
            return (
                f" (the header looks separated by {shown!r}, not {delimiter!r}: "
                f"set `delimiter: {shown!r}` in the `csv:` section)"
            )
    return ""


def _check_used_columns(
    header: list[str], features: list[str], targets: list[str], shown_name: str, header_line: int
) -> None:
    """Refuse columns that cannot be told apart or that leak the target into the inputs.

    A header naming two columns alike (or leaving a used column unnamed) would
    silently read one column twice.
    """
    for number, name in enumerate(header, start=1):
        if not name and ("" in features or "" in targets):
            raise DataError(
                f"column {number} has no name in the header; name it, or list the columns "
                "to use under `features:`",
                Location(shown_name, header_line, number),
            )
    used = {*features, *targets}
    for name in sorted(used):
        columns = [number for number, title in enumerate(header, start=1) if title == name]
        if len(columns) > 1:
            raise DataError(
                f"the header names {len(columns)} columns '{name}' (columns "
                f"{', '.join(map(str, columns))}); give each column its own name",
                Location(shown_name, header_line, columns[1]),
            )


def read_utf8(path: Path, shown_name: str) -> str:
    """The text of ``path`` as UTF-8 (a byte-order mark is dropped).

    Raises:
        DataError: the file is not UTF-8; names the row and column of the
            first byte that is not, and the byte.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(
            f"cannot read the file: {err.strerror or err}", Location(shown_name)
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        start = data.rfind(b"\n", 0, err.start) + 1
        col = len(data[start : err.start].decode("utf-8-sig", errors="replace")) + 1
        raise DataError(
            f"byte 0x{data[err.start]:02x} is not valid UTF-8 text; save the file as UTF-8 "
            "(for example, from latin-1: iconv -f latin1 -t utf-8)",
            Location(shown_name, line, col),
        ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _text_labels(
    name: str,
    text: list[str],
    body: list[tuple[int, list[str]]],
    categories: dict[str, list[str]],
    where: Location,
) -> tuple[np.ndarray, list[str]]:
    """Encode text labels as class indices in sorted order (fixed by the training file)."""
    fresh = name not in categories
    known = categories.setdefault(name, sorted(set(text)))
    if fresh and len(known) == 1:
        raise DataError(
            f"every label is {known[0]!r}: a classifier needs examples of two or more classes",
            Location(where.file, path=f"column '{name}'"),
        )
    index = {value: i for i, value in enumerate(known)}
    labels = np.empty(len(text), dtype=np.int32)
    for i, ((line, _), value) in enumerate(zip(body, text, strict=True)):
        if value not in index:
            raise DataError(
                f"label {value!r} does not occur in the training file; known: {', '.join(known)}",
                Location(where.file, line, where.col, f"column '{name}'"),
            )
        labels[i] = index[value]
    return labels, known
