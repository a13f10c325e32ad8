"""Reading a CSV of examples to predict: which cells are the training columns.

A model trained on a CSV gets its columns by header name, in any order, or in
training order without a header, or as numbers already encoded; the encoder
(:class:`compiler.data.encoder.InputEncoder`) then encodes them as training did.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from compiler.data.readers.csv_cells import (
    Rows,
    is_number,
    iter_numbered_rows,
    parse_numbers,
    utf8_lines,
)
from compiler.errors import DataError, Location, did_you_mean

if TYPE_CHECKING:
    from compiler.data.encoder import InputEncoder


def read_prediction_csv(path: Path, encoder: InputEncoder) -> np.ndarray:
    """Read a CSV of examples to predict, one per row, as the model's feature matrix.

    With the training columns known (a model trained on a CSV), a header row
    naming them selects them by name, in any order (other columns, such as the
    target, are ignored), and categorical columns are one-hot encoded as in
    training; without such a header the cells are the training columns in
    order (or already encoded numbers). Otherwise the cells are numbers; a
    first row that is not numeric is a header. Standardisation is not applied
    here (:meth:`InputEncoder.standardize` does it).

    Raises:
        DataError: not UTF-8, no examples, a ragged row, a missing column, a
            cell that is not a number, NaN or infinite, or an unknown
            category; each names the file, row and column.
    """
    [matrix] = prediction_csv_chunks(path, encoder, None)
    return matrix


def prediction_csv_chunks(
    path: Path, encoder: InputEncoder, rows: int | None
) -> Iterator[np.ndarray]:
    """:func:`read_prediction_csv` ``rows`` examples at a time (None: all in one matrix).

    The file is read as it is consumed, so memory holds one chunk, not the
    file. The header decides once how every chunk is encoded; each chunk is
    checked and encoded by the same code as a whole file, so a cell's error
    names its row in the file. (With several mistakes in different chunks,
    the one in the earliest chunk is reported.)

    Raises:
        DataError: as :func:`read_prediction_csv`, when the chunk holding the
            problem is read.
    """
    shown = str(path)
    numbered = iter_numbered_rows(utf8_lines(path, shown), encoder.delimiter, shown)
    first = next(numbered, None)
    if first is None:
        raise DataError("the file is empty; expected one example per row", Location(shown))
    columns, categories = encoder.columns, encoder.categories
    header_line, header = first[0], [cell.strip() for cell in first[1]]
    named = bool(columns) and any(cell in columns for cell in header)
    unnamed = not named and not _numeric(header) and not (
        columns and categories and _is_raw_row(header, encoder)
    )
    if named or unnamed:
        first = next(numbered, None)
        if first is None:
            raise DataError(
                "the file has a header row but no examples", Location(shown, header_line)
            )
    width = len(header)
    body = itertools.chain([first], numbered)
    encode: Callable[[Rows], np.ndarray] | None = None
    while chunk := list(itertools.islice(body, rows)):
        for line, row in chunk:
            if len(row) != width:
                raise DataError(
                    f"row has {len(row)} fields, expected {width} as in the "
                    + ("header" if named or unnamed else "first row"),
                    Location(shown, line),
                )
        if encode is None:
            encode = _encoding(encoder, header, header_line, first[0], named, unnamed, shown)
        yield encode(chunk)


def _encoding(
    encoder: InputEncoder,
    header: list[str],
    header_line: int,
    first_line: int,
    named: bool,
    unnamed: bool,
    shown: str,
) -> Callable[[Rows], np.ndarray]:
    """How the header (or the first row) says the rows are encoded.

    Raises:
        DataError: a training column missing from the header, or rows too
            wide or narrow for the training columns.
    """
    columns, categories, width = encoder.columns, encoder.categories, len(header)
    if named:
        missing = [c for c in columns if c not in header]
        if missing:
            raise DataError(
                f"no column '{missing[0]}' in the header{did_you_mean(missing[0], header)}; "
                f"the model was trained on the columns {', '.join(columns)}",
                Location(shown, header_line),
            )
        positions = [header.index(c) for c in columns]
        hint = _number_hint(encoder, True)
        return lambda body: encoder.encode_table(body, positions, shown, hint=hint)
    if columns and width == len(columns):
        # The training columns in order, without a header naming them.
        hint = _number_hint(encoder, True)
        return lambda body: encoder.encode_table(body, list(range(width)), shown, hint=hint)
    if columns and categories and width != encoder.width():
        raise DataError(
            f"rows have {width} fields; expected the {len(columns)} training columns "
            f"({', '.join(columns)}), best with a header row naming them",
            Location(shown, first_line),
        )
    # Numbers only (for example already one-hot encoded), in the model's order.
    hint = _number_hint(encoder, False)

    def numbers(body: Rows) -> np.ndarray:
        blocks = [
            parse_numbers(body, i, shown, f"column '{header[i]}'" if unnamed else None, hint)
            for i in range(width)
        ]
        return np.stack(blocks, axis=1).astype(np.float32)

    return numbers


def _number_hint(encoder: InputEncoder, encoded: bool) -> str:
    """What to suggest for a cell that is not a number (``encoded``: a training column)."""
    if encoder.missing:
        return f"; cannot encode categories: {encoder.missing}"
    if encoder.columns and not encoded:
        return f"; give a header row naming the training columns ({', '.join(encoder.columns)})"
    if encoder.columns:
        return "; the model was trained on numbers in this column"
    return ""


def _is_raw_row(row: list[str], encoder: InputEncoder) -> bool:
    """Whether ``row`` reads as one example of the training columns (not as a header)."""
    columns = encoder.columns or []
    if len(row) != len(columns):
        return False
    for cell, column in zip(row, columns, strict=True):
        if column in encoder.categories:
            if cell not in encoder.categories[column]:
                return False
        elif not is_number(cell):
            return False
    return True


def _numeric(row: list[str]) -> bool:
    return all(is_number(cell) for cell in row)
