"""`predict` reads, encodes, predicts and writes large inputs in chunks of rows.

The chunk size is made small here (a module constant), so files of a few
hundred rows span several chunks; each result must equal the one of a single
chunk holding the whole file, byte for byte, and a mistake in a late chunk is
still reported by its row in the file, leaving no output and no temporary file.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import compiler.run.predict as predict_module
from compiler.data.readers.csv_cells import (
    iter_numbered_rows,
    numbered_rows,
    read_utf8,
    utf8_lines,
)
from compiler.errors import DataError
from tests.helpers import assert_user_error, cities_spec, run_cli

SPEC = cities_spec("cities", width=5)

CITIES = ["paris", "rome", "oslo"]
ROWS = 300  # with CHUNK: four full chunks and a partial one
CHUNK = 64  # a multiple of predict's batch size, so the model sees the same batches


def _rows(count, seed):
    rng = np.random.default_rng(seed)
    return [
        {"a": f"{rng.normal():.4f}", "city": CITIES[int(rng.integers(3))],
         "b": f"{rng.uniform(0, 50):.3f}", "kind": str(i % 3)}
        for i in range(count)
    ]


def _write(path, rows, columns, header=True):
    lines = [",".join(columns)] if header else []
    lines += [",".join(row[c] for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("streaming")
    _write(folder / "train.csv", _rows(40, 0), ["a", "city", "b", "kind"])
    (folder / "cities.yaml").write_text(SPEC)
    result = run_cli("train", folder / "cities.yaml", "--out", folder / "out", "--quiet")
    assert result.exit_code == 0, result.output
    return folder / "out" / "cities"


def _predict(model, inputs, output, chunk, monkeypatch):
    monkeypatch.setattr(predict_module, "CHUNK_ROWS", chunk)
    return run_cli("predict", model, "--input", inputs, "--output", output)


def _both(model, inputs, output_suffix, tmp_path, monkeypatch):
    """The output bytes of predicting in chunks of CHUNK rows and in one chunk."""
    got = {}
    for name, chunk in (("chunked", CHUNK), ("whole", 10**9)):
        out = tmp_path / f"{name}{output_suffix}"
        result = _predict(model, inputs, out, chunk, monkeypatch)
        assert result.exit_code == 0, result.output
        assert f"predicted {ROWS} example(s)" in result.output
        got[name] = out.read_bytes()
    return got["chunked"], got["whole"]


@pytest.mark.parametrize("header", [["b", "kind", "city", "a"], None])
@pytest.mark.parametrize("suffix", [".csv", ".npy", ".npz"])
def test_a_csv_in_chunks_predicts_as_in_one(model_dir, tmp_path, monkeypatch, header, suffix):
    from compiler.model_folder import ModelFolder, load_model_file

    rows = _rows(ROWS, 1)
    # By name in another order (the target ignored), or the training columns without a header.
    _write(tmp_path / "x.csv", rows, header or ["a", "city", "b"], header=header is not None)
    chunked, whole = _both(model_dir, tmp_path / "x.csv", suffix, tmp_path, monkeypatch)
    assert chunked == whole
    if suffix == ".npy":
        # ...and both are what the model gives for the encoder's arrays of the whole file.
        model = load_model_file(model_dir)
        inputs = ModelFolder(model_dir).encoder(False).encode_file(tmp_path / "x.csv", model)
        expected = model.predict(inputs["features"], verbose=0)
        np.testing.assert_array_equal(np.load(tmp_path / "chunked.npy"), expected)
        assert len({tuple(r) for r in inputs["features"][:, 1:4].tolist()}) == 3  # one-hot city
    if suffix == ".csv":
        lines = chunked.decode().splitlines()
        assert lines[0] == "kind_0,kind_1,kind_2,predicted,confidence"
        assert len(lines) == ROWS + 1


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_a_npy_in_slices_predicts_as_in_one(model_dir, tmp_path, monkeypatch, suffix):
    x = np.random.default_rng(2).normal(size=(ROWS, 5)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    chunked, whole = _both(model_dir, tmp_path / "x.npy", suffix, tmp_path, monkeypatch)
    assert chunked == whole


def _no_output(folder, name):
    """Neither the output nor a temporary file beside it (`.NAME.tmp-...`)."""
    return not [p.name for p in folder.iterdir() if p.name == name or p.name.startswith(f".{name}")]


@pytest.mark.parametrize(("line", "cells", "expected"), [
    (251, "0.5,berlin,3,0", "x.csv:251:2: column 'city': category 'berlin' does not occur in "
                            "the training data; known: oslo, paris, rome"),
    (280, "abc,rome,3,0", "x.csv:280:1: column 'a': expected a number, got 'abc'; the model "
                          "was trained on numbers in this column"),
    (299, "0.5,rome,3", "x.csv:299: row has 3 fields, expected 4 as in the header"),
])
def test_a_bad_row_in_a_late_chunk_is_located_and_writes_nothing(
        model_dir, tmp_path, monkeypatch, line, cells, expected):
    _write(tmp_path / "x.csv", _rows(ROWS, 3), ["a", "city", "b", "kind"])
    text = (tmp_path / "x.csv").read_text().splitlines()
    text[line - 1] = cells
    (tmp_path / "x.csv").write_text("\n".join(text) + "\n")
    for suffix in (".csv", ".npy", ".npz"):
        # Into a folder that does not exist yet: it is not left behind either.
        out = tmp_path / "new" / f"p{suffix}"
        output = assert_user_error(_predict(model_dir, tmp_path / "x.csv", out, CHUNK, monkeypatch))
        assert expected in output
        assert not (tmp_path / "new").exists()
        # Beside an earlier output: it is kept as it was, and no temporary file is left.
        kept = tmp_path / f"p{suffix}"
        kept.write_bytes(b"earlier")
        assert_user_error(_predict(model_dir, tmp_path / "x.csv", kept, CHUNK, monkeypatch))
        assert kept.read_bytes() == b"earlier"
        kept.unlink()
        assert _no_output(tmp_path, kept.name)


def test_a_nan_in_a_late_slice_of_a_npy_is_named_by_its_place_in_the_file(
        model_dir, tmp_path, monkeypatch):
    x = np.zeros((ROWS, 5), np.float32)
    x[290, 3] = np.nan
    np.save(tmp_path / "x.npy", x)
    messages = []
    for chunk in (CHUNK, 10**9):
        output = assert_user_error(
            _predict(model_dir, tmp_path / "x.npy", tmp_path / "p.csv", chunk, monkeypatch))
        messages.append(output)
        assert _no_output(tmp_path, "p.csv")
    assert messages[0] == messages[1]
    assert "x.npy: example 290 at [3] is nan; expected a finite number" in messages[0]


# ------------------------------------------------------------------ reading lines

@pytest.mark.parametrize("data", [
    b"a,b\n1,2\n\n3,4\n",
    b"\xef\xbb\xbfa,b\r\n1,2\r\n\r\n3,4",
    b"a,b\r1,2\r\r3,4\r",
    b'a,b\n"1\r\n2",3\n\n"x\ry",4\n5,6',
    b"a;b\n1;2\n",
])
def test_streamed_lines_give_the_records_of_the_whole_text(tmp_path, data):
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    whole = numbered_rows(read_utf8(path, "x.csv"), ",", "x.csv")
    assert list(iter_numbered_rows(utf8_lines(path, "x.csv"), ",", "x.csv")) == whole
    assert whole == numbered_rows(data.decode("utf-8-sig"), ",", "x.csv")
    assert list(iter_numbered_rows(io.StringIO(data.decode("utf-8-sig"), newline=""), ",",
                                   "x.csv")) == whole


@pytest.mark.parametrize("data", [b"a,b\n1,2\n3,\xe94\n", b"\xef\xbb\xbfa,\xff\n", b"ab\r\xe9\n"])
def test_streamed_lines_name_a_byte_that_is_not_utf8_as_the_whole_text_does(tmp_path, data):
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    with pytest.raises(DataError) as whole:
        read_utf8(path, "x.csv")
    with pytest.raises(DataError) as streamed:
        list(utf8_lines(path, "x.csv"))
    assert str(streamed.value) == str(whole.value)
    if data.startswith(b"\xef\xbb\xbf"):  # the column is counted after the byte-order mark
        assert str(whole.value).startswith("x.csv:1:3: byte 0xff is not valid UTF-8")
