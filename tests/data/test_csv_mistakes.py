"""CSV files a user gets wrong, through `nncompile train`: exit 1, the row and column named."""

from __future__ import annotations

import pytest

from tests.helpers import assert_user_error, run_cli, write_classes_csv, write_csv_spec


def test_a_number_too_large_for_float32_names_row_and_column(csv_folder):
    write_classes_csv(csv_folder / "c.csv", extra="1e300,0.5,1")
    output = assert_user_error(run_cli("train", write_csv_spec(csv_folder), "--out", "out"))
    assert "c.csv:6:1: column 'a': '1e300' is too large for a 32-bit float" in output
    assert not (csv_folder / "out" / "kinds" / "model.keras").exists()


@pytest.mark.parametrize(("header", "expected"), [
    ("a,a,kind", "c.csv:1:2: the header names 2 columns 'a' (columns 1, 2)"),
    ("a,,kind", "c.csv:1:2: column 2 has no name in the header"),
    ("a;b;kind", "(the header looks separated by ';', not ',': set `delimiter: ';'`"),
])
def test_csv_headers_that_cannot_be_read_as_meant(csv_folder, header, expected):
    write_classes_csv(csv_folder / "c.csv")
    text = (csv_folder / "c.csv").read_text().split("\n", 1)[1]
    if ";" in header:
        text = text.replace(",", ";")
    (csv_folder / "c.csv").write_text(header + "\n" + text)
    output = assert_user_error(run_cli("train", write_csv_spec(csv_folder), "--out", "out"))
    assert expected in output


@pytest.mark.parametrize(("features", "expected"), [
    ("[a, kind]", "data.csv.features[1]: column 'kind' is both a target and a feature"),
    ("[a, b, a]", "data.csv.features[2]: column 'a' is listed twice in `features`"),
])
def test_csv_features_that_leak_or_repeat(csv_folder, features, expected):
    output = assert_user_error(run_cli("train", write_csv_spec(csv_folder), "--out", "out",
                                       "--set", f"data.csv.features={features}"))
    assert expected in output


def test_a_split_that_leaves_no_training_examples(csv_folder):
    output = assert_user_error(run_cli("train", write_csv_spec(csv_folder), "--out", "out",
                                       "--set", "data.split={validation: 0.5, test: 0.49}"))
    assert "data.split: the split leaves no training examples: the data hold 30 example(s), " \
           "15 for validation, 15 for test" in output
