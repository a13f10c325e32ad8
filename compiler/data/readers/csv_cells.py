"""The text of a CSV file as numbered rows, and its cells as numbers.

Shared by the training reader (:mod:`compiler.data.readers.csv_reader`) and
the encoder that prepares rows to predict (:mod:`compiler.data.encoder`), so a
cell reads as the same number, or fails with the same message, in both.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from compiler.errors import DataError, Location

FLOAT32_MAX = float(np.finfo(np.float32).max)

Rows = list[tuple[int, list[str]]]
"""Non-blank rows with their line numbers as an editor counts them (first = 1)."""


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


def numbered_rows(text: str, delimiter: str, shown_name: str) -> Rows:
    """The non-blank rows of CSV ``text``, each with its line number.

    Blank lines are skipped but still counted, so row numbers match an editor's.

    Raises:
        DataError: the text is not valid CSV (an unclosed quote, say).
    """
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        raise DataError(f"cannot read as CSV: {err}", Location(shown_name)) from None
    return [(n, row) for n, row in enumerate(rows, start=1) if any(c.strip() for c in row)]


def parse_numbers(
    body: Rows, position: int, shown_name: str, path: str | None, hint: str = ""
) -> np.ndarray:
    """The cells at ``position`` of every row as float64 numbers.

    Args:
        body: the example rows.
        position: the column's index in each row.
        shown_name: how messages name the file.
        path: how messages name the column (``column 'area'``), or None.
        hint: appended to the message about a cell that is not a number.

    Raises:
        DataError: an empty cell, a cell that is not a number, NaN or
            infinite, or too large for float32 (models compute in float32, so
            it would become infinite); each names the row and column.
    """
    values = np.empty(len(body), dtype=np.float64)
    for i, (line, row) in enumerate(body):
        text = row[position].strip()
        where = Location(shown_name, line, position + 1, path)
        try:
            values[i] = float(text)
        except ValueError:
            if not text:  # a missing value, not text: a hint about categories would mislead
                raise DataError(
                    "expected a number, got an empty cell (a missing value); fill it in "
                    "or remove the row",
                    where,
                ) from None
            raise DataError(f"expected a number, got {text!r}{hint}", where) from None
        if not math.isfinite(values[i]):
            raise DataError(f"expected a finite number, got {text!r}", where)
        if abs(values[i]) > FLOAT32_MAX:
            raise DataError(
                f"{text!r} is too large for a 32-bit float (largest {FLOAT32_MAX:.4g}); "
                "rescale the column",
                where,
            )
    return values


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a number (``float`` accepts it)."""
    try:
        float(text)
    except ValueError:
        return False
    return True
