"""Reading a CSV of examples to predict: which cells are the training columns.

A model trained on a CSV gets its columns by header name, in any order, or in
training order without a header, or as numbers already encoded; the encoder
(:class:`compiler.data.encoder.InputEncoder`) then encodes them as training did.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from compiler.data.readers.csv_cells import is_number, numbered_rows, parse_numbers, read_utf8
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
    shown = str(path)
    rows = numbered_rows(read_utf8(path, shown), encoder.delimiter, shown)
    if not rows:
        raise DataError("the file is empty; expected one example per row", Location(shown))
    columns, categories = encoder.columns, encoder.categories
    header_line, header = rows[0]
    header = [cell.strip() for cell in header]
    named = bool(columns) and any(cell in columns for cell in header)
    unnamed = not named and not _numeric(header) and not (
        columns and categories and _is_raw_row(header, encoder)
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
        return encoder.encode_table(
            body, [header.index(c) for c in columns], shown, hint=_number_hint(encoder, True)
        )
    if columns and width == len(columns):
        # The training columns in order, without a header naming them.
        return encoder.encode_table(
            body, list(range(width)), shown, hint=_number_hint(encoder, True)
        )
    if columns and categories and width != encoder.width():
        raise DataError(
            f"rows have {width} fields; expected the {len(columns)} training columns "
            f"({', '.join(columns)}), best with a header row naming them",
            Location(shown, body[0][0]),
        )
    # Numbers only (for example already one-hot encoded), in the model's order.
    hint = _number_hint(encoder, False)
    blocks = [
        parse_numbers(body, i, shown, f"column '{header[i]}'" if unnamed else None, hint)
        for i in range(width)
    ]
    return np.stack(blocks, axis=1).astype(np.float32)


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
