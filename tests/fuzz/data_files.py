"""Data files for `train`, mutated with Hypothesis: CSV text, .npz arrays, image folders.

Each builder draws one broken (or, by chance, still valid) data file of a
small, known-good base and writes it under a folder, next to which the
test writes a tiny spec that reads it.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

ROWS = 12
CLASSES = ["cat", "dog", "owl"]

# ------------------------------------------------------------------------ CSV

BAD_CELLS = ["", " ", "abc", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "1" * 400,
             "1,5", "1.5.2", "0x1F", "−3", "٣", "true", "None", "\"", "\"unclosed", "a\"b",
             "1e-400", "12 ", " 12", "\t", "#", "1_000", "+-1", "é"]


def _base_rows() -> list[list[str]]:
    rows = [["a", "b", "c", "kind"]]
    for i in range(ROWS):
        rows.append([str(i), f"{i * 0.5:g}", str(i % 4 - 2), CLASSES[i % 3]])
    return rows


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    """The bytes of a mutated CSV file (header a,b,c,kind; target `kind`)."""
    rows = _base_rows()
    # Zero mutations is allowed: a run that trains checks the whole path, too.
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["cell", "cell", "ragged", "drop_row", "header",
                                     "number_labels", "blank_lines", "good_number"]))
        r = draw(st.integers(0, len(rows) - 1)) if rows else 0
        if kind == "cell" and rows and rows[r]:
            c = draw(st.integers(0, len(rows[r]) - 1))
            rows[r][c] = draw(st.sampled_from(BAD_CELLS) | st.text(max_size=8)
                              | st.floats().map(repr) | st.integers().map(str))
        elif kind == "ragged" and rows:
            if draw(st.booleans()) and rows[r]:
                rows[r].pop()
            else:
                rows[r].append(draw(st.sampled_from(["1", "", "x"])))
        elif kind == "drop_row" and rows:
            del rows[r]
        elif kind == "header" and rows:
            rows[0] = draw(st.sampled_from([["a", "b", "c"], ["a", "a", "c", "kind"],
                                            ["a", "b", "c", "Kind"], [], ["", "", "", ""],
                                            ["a", "b", "c", "kind", "kind"]]))
        elif kind == "number_labels":
            for row in rows[1:]:
                if len(row) == 4:
                    row[3] = draw(st.sampled_from(["0", "1", "-1", "2.5", "1e9", "3"]))
        elif kind == "blank_lines":
            rows.insert(r, [])
        elif kind == "good_number" and len(rows) > 1:
            # Valid but unusual numbers: exponents, signs, tiny and large values.
            row = rows[draw(st.integers(1, len(rows) - 1))]
            if row:
                row[0] = draw(st.sampled_from(["1e-400", "-0", "+5", "1E3", ".5", "5.",
                                               "1e38", "-1e-30", "007"]))
    delimiter = draw(st.sampled_from([","] * 7 + [";", "\t", "|"]))
    text = "\n".join(delimiter.join(row) for row in rows) + draw(st.sampled_from(["\n", ""]))
    data = text.encode("utf-8")
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["bom", "latin1", "bad_byte", "crlf", "nul", "truncate",
                                     "utf16"]))
        if kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "latin1":
            data = data.replace(b"cat", "chât".encode("latin-1"))
        elif kind == "bad_byte":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.sampled_from([b"\xff", b"\x80", b"\xc3", b"\xfe\xff"])) \
                + data[at:]
        elif kind == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif kind == "nul":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + b"\x00" + data[at:]
        elif kind == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif kind == "utf16":
            data = data.decode("utf-8", "replace").encode("utf-16")
    return data


# ------------------------------------------------------------------------ NPZ


def _weird_array(draw: st.DrawFn, base: np.ndarray) -> np.ndarray:
    kind = draw(st.sampled_from(["dtype", "shape", "object", "empty", "nan", "inf", "huge",
                                 "scalar", "fractional", "negative", "rows"]))
    if kind == "dtype":
        dtype = draw(st.sampled_from(["U3", "S2", "complex64", "bool", "float16", "int8",
                                      "uint64", "datetime64[s]", "V4", "float64"]))
        try:
            return base.astype(dtype)
        except (TypeError, ValueError):
            return np.zeros(base.shape, dtype=dtype)
    if kind == "shape":
        shape = draw(st.sampled_from([(ROWS, 4), (ROWS,), (ROWS, 3, 1), (ROWS, 1), (3, ROWS),
                                      (ROWS, 0), (1, ROWS, 3), (ROWS, 2, 2)]))
        return np.ones(shape, dtype=base.dtype)
    if kind == "object":
        out = np.empty(base.shape[:1], dtype=object)
        out[:] = [None] * base.shape[0]
        return out
    if kind == "empty":
        return np.zeros((0, *base.shape[1:]), dtype=base.dtype)
    if kind == "scalar":
        return np.array(draw(st.sampled_from([1.0, 0, -1])))
    if kind == "rows":
        return np.resize(base, (draw(st.sampled_from([1, 2, ROWS - 1, ROWS + 5])),
                                *base.shape[1:]))
    out = base.astype(np.float64).copy()
    flat = out.reshape(-1)
    if flat.size:
        at = draw(st.integers(0, flat.size - 1))
        flat[at] = {"nan": np.nan, "inf": np.inf, "huge": 1e300, "fractional": 0.5,
                    "negative": -3}[kind]
    return out.astype(base.dtype) if kind in ("negative",) else out


@st.composite
def npz_bytes(draw: st.DrawFn) -> bytes:
    """The bytes of a mutated .npz archive (arrays `x` (12, 3) and labels `y`)."""
    rng = np.random.default_rng(0)
    arrays = {"x": rng.random((ROWS, 3)).astype(np.float32),
              "y": (np.arange(ROWS) % 3).astype(np.int64)}
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(["x", "y", "x", "y", "missing", "extra"]))
        if key == "missing":
            arrays.pop(draw(st.sampled_from(sorted(arrays))), None) if arrays else None
        elif key == "extra":
            arrays["z"] = np.zeros(3)
        elif key in arrays:
            arrays[key] = _weird_array(draw, arrays[key])
    buffer = io.BytesIO()
    if draw(st.booleans()):
        np.savez_compressed(buffer, **arrays)
    else:
        np.savez(buffer, **arrays)  # object arrays are pickled, as numpy writes them
    data = buffer.getvalue()
    if draw(st.integers(0, 5)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


# ---------------------------------------------------------------------- images


def _png(pixels: np.ndarray) -> bytes:
    """A PNG of uint8 or uint16 pixels (height, width, channels), written without TensorFlow."""
    height, width, channels = pixels.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    depth = 16 if pixels.dtype == np.uint16 else 8
    raw = b"".join(b"\x00" + pixels[y].astype(">u2" if depth == 16 else "u1").tobytes()
                   for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (len(body).to_bytes(4, "big") + kind + body
                + zlib.crc32(kind + body).to_bytes(4, "big"))

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes(
        [depth, color_type, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def _good_png(value: int) -> bytes:
    return _png(np.full((6, 5, 3), value, dtype=np.uint8))


@st.composite
def image_folder_files(draw: st.DrawFn) -> dict[str, bytes]:
    """Relative path -> bytes of a mutated image folder (classes cat/ and dog/, 3 PNGs each)."""
    files = {f"{label}/{i}.png": _good_png(40 * i + (100 if label == "dog" else 0))
             for label in ("cat", "dog") for i in range(3)}
    for _ in range(draw(st.integers(1, 3))):
        if not files:
            break
        name = draw(st.sampled_from(sorted(files)))
        kind = draw(st.sampled_from(["truncate", "mode", "mode", "garbage", "empty", "tiny",
                                     "suffix", "delete", "hidden", "jpeg_header"]))
        if kind == "truncate" and files[name]:
            files[name] = files[name][: draw(st.integers(0, len(files[name]) - 1))]
        elif kind == "mode":
            channels = draw(st.sampled_from([1, 2, 4]))
            dtype = draw(st.sampled_from([np.uint8, np.uint16]))
            files[name] = _png(np.full((7, 3, channels), 9, dtype=dtype))
        elif kind == "garbage":
            files[name] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "empty":
            files[name] = b""
        elif kind == "tiny":
            files[name] = _png(np.zeros((1, 1, 3), dtype=np.uint8))
        elif kind == "suffix":
            files[str(Path(name).with_suffix(draw(st.sampled_from([".txt", ".JPG", ".gif",
                                                                    ""]))))] = files.pop(name)
        elif kind == "delete":
            files.pop(name)
        elif kind == "hidden":
            files[str(Path(name).parent / ".DS_Store")] = b"\x00\x01"
        elif kind == "jpeg_header":
            files[name] = b"\xff\xd8\xff\xe0" + files[name][4:]
    return files
