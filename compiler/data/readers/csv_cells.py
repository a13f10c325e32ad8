"""The text of a CSV file as numbered rows, and its cells as numbers.

Shared by the training reader (:mod:`compiler.data.readers.csv_reader`) and
the encoder that prepares rows to predict (:mod:`compiler.data.encoder`), so a
cell reads as the same number, or fails with the same message, in both.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Iterable, Iterator
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
    # The mark is dropped by hand: "utf-8-sig" counts error offsets without it.
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        start = data.rfind(b"\n", 0, err.start) + 1
        col = len(data[start : err.start].decode("utf-8", errors="replace")) + 1
        raise _not_utf8(data[err.start], Location(shown_name, line, col)) from None


def _not_utf8(byte: int, where: Location) -> DataError:
    return DataError(
        f"byte 0x{byte:02x} is not valid UTF-8 text; save the file as UTF-8 "
        "(for example, from latin-1: iconv -f latin1 -t utf-8)",
        where,
    )


# Where io.StringIO(newline="") ends a line inside a piece that ends in "\n":
# after a "\r" not followed by "\n" (old Mac line ends).
_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def utf8_lines(path: Path, shown_name: str) -> Iterator[str]:
    """The lines of ``path`` as UTF-8 text, read one at a time (a byte-order mark is dropped).

    The streaming form of :func:`read_utf8`: lines keep their ends and split
    where ``io.StringIO(text, newline="")`` splits them, so ``csv.reader``
    sees the same records, and the errors are the same.

    Raises:
        DataError: the file cannot be read, or a byte is not UTF-8 (named by
            row and column, as :func:`read_utf8` names it).
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below, also on errors
    except OSError as err:
        raise DataError(
            f"cannot read the file: {err.strerror or err}", Location(shown_name)
        ) from None
    with handle:
        line = 0
        while True:
            try:
                data = handle.readline()
            except OSError as err:
                raise DataError(
                    f"cannot read the file: {err.strerror or err}", Location(shown_name)
                ) from None
            if not data:
                return
            line += 1
            if line == 1 and data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as err:
                col = len(data[: err.start].decode("utf-8", errors="replace")) + 1
                raise _not_utf8(data[err.start], Location(shown_name, line, col)) from None
            if "\r" not in text:
                yield text
                continue
            # An empty piece would read as one more (blank) record and shift row numbers.
            yield from (piece for piece in _LONE_CR.split(text) if piece)


def iter_numbered_rows(
    lines: Iterable[str], delimiter: str, shown_name: str
) -> Iterator[tuple[int, list[str]]]:
    """The non-blank CSV rows of ``lines``, each with its line number, one at a time.

    Blank lines are skipped but still counted, so row numbers match an editor's.

    Raises:
        DataError: the text is not valid CSV (an unclosed quote, say).
    """
    reader = csv.reader(lines, delimiter=delimiter)
    number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise DataError(f"cannot read as CSV: {err}", Location(shown_name)) from None
        number += 1
        if any(c.strip() for c in row):
            yield number, row


def numbered_rows(text: str, delimiter: str, shown_name: str) -> Rows:
    """The non-blank rows of CSV ``text``, each with its line number.

    Blank lines are skipped but still counted, so row numbers match an editor's.

    Raises:
        DataError: the text is not valid CSV (an unclosed quote, say).
    """
    rows = iter_numbered_rows(io.StringIO(text, newline=""), delimiter, shown_name)
    return list(rows)


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
