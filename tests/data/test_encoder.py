"""The input encoder: fitted on the training data, serialised as metadata.json's preprocessing."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from compiler.data.encoder import InputEncoder
from compiler.data.pipeline import load_data
from compiler.errors import DataError
from tests.helpers import make_spec

# Ten rows; with the split below, the held-out rows have other statistics.
HOUSES = """city,area,price,rooms
paris,50,300,2
lyon,80,250,3
paris,120,700,4
nice,65,280,2
lyon,90,310,3
nice,150,900,5
paris,70,420,2
lyon,100,380,4
nice,300,1200,8
paris,20,150,1
"""


def _houses(tmp_path, text=HOUSES, split=None, **extra):
    (tmp_path / "houses.csv").write_text(text)
    data = {"csv": {"path": "houses.csv", "target": "price", "categorical": ["city"]},
            "split": split or {"validation": 0.2, "test": 0.2}, "standardize": True, "seed": 4,
            **extra}
    return make_spec(tmp_path, data, {"x": [5]}, ["price"])


def _rows(path):
    """{line number: {column: cell}} of a CSV, as an editor numbers its lines."""
    with open(path, newline="") as handle:
        return {line: row for line, row in enumerate(csv.DictReader(handle), start=2)}


def _lines(origins):
    return [int(origin.rpartition(":")[2]) for origin in origins]


def test_round_trip_through_metadata_keeps_every_key(tmp_path):
    bundle = load_data(_houses(tmp_path))
    meta = json.loads(json.dumps(bundle.metadata))  # as metadata.json holds it
    encoder = InputEncoder.from_metadata(meta)
    assert encoder.to_metadata() == meta
    again = InputEncoder.from_metadata(encoder.to_metadata())
    assert again.columns == ["city", "area", "rooms"] and again.delimiter == ","
    assert again.categories == {"city": ["lyon", "nice", "paris"]}
    assert again.inputs == {"x": "features"} and again.standardized and again.missing is None
    for name, (mean, std) in encoder.standardization.items():
        np.testing.assert_array_equal(again.standardization[name][0], mean)
        np.testing.assert_array_equal(again.standardization[name][1], std)
    assert again.feature_names() == meta["feature_names"] == [
        "city=lyon", "city=nice", "city=paris", "area", "rooms"]


def test_round_trip_of_other_sources_keeps_their_facts(tmp_path):
    # A built-in data set's feature names and a text source's vocabulary are not CSV columns.
    iris = load_data(make_spec(tmp_path, {"builtin": "iris", "standardize": True}, {"x": [4]},
                               ["label"]))
    meta = json.loads(json.dumps(iris.metadata))
    encoder = InputEncoder.from_metadata(meta)
    assert encoder.columns is None and encoder.standardized
    assert encoder.to_metadata() == meta and "feature_names" in meta
    (tmp_path / "t.txt").write_text("hello world, hello there\n" * 5)
    text = load_data(make_spec(
        tmp_path, {"text": {"path": "t.txt", "mode": "next_char", "max_length": 4},
                   "split": "none"}, {"chars": [4]}, ["next_char"],
        dtypes={"chars": "int32"}))
    meta = json.loads(json.dumps(text.metadata))
    assert "vocabulary" in meta and InputEncoder.from_metadata(meta).to_metadata() == meta


def test_metadata_written_before_columns_were_recorded_is_read(tmp_path):
    meta = json.loads(json.dumps(load_data(_houses(tmp_path)).metadata))
    del meta["columns"]
    encoder = InputEncoder.from_metadata(meta)
    assert encoder.columns == ["city", "area", "rooms"]
    assert encoder.categories == {"city": ["lyon", "nice", "paris"]}


def test_categories_are_fixed_by_the_training_file(tmp_path):
    # The validation file lists the cities in another order and lacks one: the
    # one-hot order is the training file's, sorted.
    (tmp_path / "t.csv").write_text("area,city,price\n1,rome,3\n2,oslo,4\n3,bonn,5\n4,rome,6\n")
    (tmp_path / "v.csv").write_text("area,city,price\n5,rome,7\n6,bonn,8\n")
    data = {"csv": {"target": "price", "categorical": ["city"]}, "train": "t.csv",
            "validation": "v.csv"}
    bundle = load_data(make_spec(tmp_path, data, {"x": [4]}, ["price"]))
    assert bundle.metadata["categories"] == {"city": ["bonn", "oslo", "rome"]}
    np.testing.assert_array_equal(bundle.arrays["validation"][0],
                                  [[5, 0, 0, 1], [6, 1, 0, 0]])
    # A city the training file lacks is refused in a validation file, and by predict.
    (tmp_path / "v.csv").write_text("area,city,price\n5,rome,7\n6,kiel,8\n")
    with pytest.raises(DataError) as caught:
        load_data(make_spec(tmp_path, data, {"x": [4]}, ["price"]))
    assert str(caught.value) == ("v.csv:3:2: column 'city': category 'kiel' does not occur in "
                                 "the training file; known: bonn, oslo, rome")
    encoder = InputEncoder.from_metadata(bundle.metadata)
    (tmp_path / "p.csv").write_text("city,area\nkiel,1\n")
    with pytest.raises(DataError) as caught:
        encoder.encode_csv_file(tmp_path / "p.csv")
    assert str(caught.value) == (f"{tmp_path / 'p.csv'}:2:1: column 'city': category 'kiel' "
                                 "does not occur in the training data; known: bonn, oslo, rome")


def test_standardisation_constants_come_from_the_training_split_only(tmp_path):
    spec = _houses(tmp_path)
    bundle = load_data(spec)
    rows = _rows(tmp_path / "houses.csv")
    train = [rows[line] for line in _lines(bundle.origins["train"])]
    assert 0 < len(train) < len(rows)
    constants = bundle.metadata["standardization"]["features"]
    numeric = np.array([[float(r["area"]), float(r["rooms"])] for r in train], np.float64)
    # One-hot columns are left alone (mean 0, std 1); numbers get the training rows' statistics.
    np.testing.assert_array_equal(constants["mean"][:3], [0, 0, 0])
    np.testing.assert_array_equal(constants["std"][:3], [1, 1, 1])
    np.testing.assert_allclose(constants["mean"][3:], numeric.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(constants["std"][3:], numeric.std(axis=0), rtol=1e-6)
    everything = np.array([[float(r["area"]), float(r["rooms"])] for r in rows.values()])
    assert not np.allclose(constants["mean"][3:], everything.mean(axis=0))
    # Held-out rows are standardised with the training constants, not their own.
    held = [rows[line] for line in _lines(bundle.origins["test"])]
    area = (np.float32(held[0]["area"]) - np.float32(constants["mean"][3])) / np.float32(
        constants["std"][3])
    assert bundle.arrays["test"][0][0, 3] == area


def test_predict_encodes_rows_as_the_pipeline_does(tmp_path):
    bundle = load_data(_houses(tmp_path, split="none"))
    encoder = InputEncoder.from_metadata(json.loads(json.dumps(bundle.metadata)))
    # Columns by name in another order (the target ignored), or the training columns in order.
    (tmp_path / "named.csv").write_text(
        "rooms,price,area,city\n" + "".join(
            f"{r['rooms']},{r['price']},{r['area']},{r['city']}\n"
            for r in _rows(tmp_path / "houses.csv").values()))
    (tmp_path / "plain.csv").write_text("".join(
        f"{r['city']},{r['area']},{r['rooms']}\n" for r in _rows(tmp_path / "houses.csv").values()))
    for name in ("named.csv", "plain.csv"):
        encoded = encoder.standardize({"x": encoder.encode_csv_file(tmp_path / name)})["x"]
        np.testing.assert_array_equal(encoded, bundle.arrays["train"][0])


def test_standardize_maps_model_names_and_takes_integer_numbers():
    encoder = InputEncoder(
        standardization={"features": (np.float32([1, 2]), np.float32([2, 4]))},
        inputs={"x": "features"}, standardized=True)
    out = encoder.standardize({"x": np.array([[3, 10]]), "ids": np.array([[7, 7]])})
    assert out["x"].dtype == np.float32
    np.testing.assert_array_equal(out["x"], [[1, 2]])
    np.testing.assert_array_equal(out["ids"], [[7, 7]])  # no constants: as it was


def test_an_unknown_encoding_of_standardised_inputs_is_refused(tmp_path):
    encoder = InputEncoder.unknown("houses.csv: no such file", standardized=True)
    with pytest.raises(DataError) as caught:
        encoder.encode_file(tmp_path / "x.csv", model=None, where="saved_models/houses")
    message = str(caught.value)
    assert message.startswith("saved_models/houses: the model was trained on standardised inputs")
    assert message.endswith("recover them: houses.csv: no such file")
