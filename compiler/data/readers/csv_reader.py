"""Reading a CSV file with a header row: numeric and categorical features, targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compiler.data.encoder import InputEncoder
from compiler.data.raw import RawData
from compiler.data.readers.csv_cells import (  # noqa: F401 - read_utf8: also imported from here
    is_number,
    numbered_rows,
    parse_numbers,
    read_utf8,
)
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
        categories: category lists fixed by an earlier file (the training
            file's, when this is a validation or test file), so every split is
            encoded alike; None to collect them from this file.
        task: the task if the spec fixes it; None to detect it.

    Returns:
        Input ``options.input`` (float32, one column per numeric feature and per
        category), one target per target column, and the encodings in metadata.

    Raises:
        DataError: empty file, missing column, ragged row, non-numeric or
            non-finite cell; each names the file, row (as counted in the file,
            header = 1) and column.
    """
    numbered = numbered_rows(read_utf8(path, shown_name), options.delimiter, shown_name)
    if not numbered:
        raise DataError("the file is empty; expected a header row and examples",
                        Location(shown_name))
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
        return parse_numbers(body, column[name], shown_name, f"column '{name}'")

    # The features are encoded as predict encodes them: the encoder is fitted
    # on the training file (its categories) and then encodes this file's rows.
    encoder = InputEncoder.fit_csv(
        features, options.categorical, options.delimiter, cells, categories
    )
    features_array = encoder.encode_table(
        body,
        [column[name] for name in features],
        shown_name,
        known_from="the training file",
        hint="; if the column holds categories, add it to `categorical`",
    )
    categories = {**(categories or {}), **encoder.categories}

    target_arrays, class_names, tasks = {}, None, {}
    where = {
        name: Location(shown_name, None, column[name] + 1, f"column '{name}'") for name in targets
    }
    for name in targets:
        text = cells(name)
        numeric = [is_number(value) for value in text]
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
    encoder.target_categories = {k: v for k, v in categories.items() if k not in features}
    return RawData(
        inputs={options.input: features_array},
        targets=target_arrays,
        task=overall,
        class_names=class_names,
        num_classes=len(class_names) if class_names else None,
        metadata=encoder.to_metadata(),
        origins=[f"{shown_name}:{line}" for line, _ in body],
        no_standardize={options.input: encoder.one_hot_mask()},
        target_where=where,
        target_tasks=tasks if len(found) > 1 else {},
    )


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
