"""The spec's `labels:` name the classes: checked against the output units at build and
against the classes the data number, and used as the class names of the data."""

from __future__ import annotations

import pytest

from compiler.api import load_spec
from compiler.errors import DataError, SpecError

WINE = """
    name: wine
    inputs: {x: [13]}
    layers:
      - dense: {units: 3, activation: softmax, name: cls}
    labels: [a, b, c]
    data: {builtin: wine}
"""


def test_labels_must_match_the_output_units_at_build(write_spec):
    from compiler.build.graph import build

    spec = load_spec(write_spec(WINE), ["labels=[a, b]"])
    with pytest.raises(SpecError, match=r"`labels` has 2 names, but output 'cls' gives 3 value"):
        build(spec)
    build(load_spec(write_spec(WINE)))  # three names for three units
    binary = load_spec(write_spec(WINE), ["layers[0].dense.units=1", "labels=[no, yes]"])
    build(binary)  # one sigmoid unit: two classes


def test_spec_labels_name_the_classes_of_the_data(write_spec):
    # Predictions and reports showed scikit-learn's class_0.. although the spec
    # named the classes; the metadata showed the spec's labels.
    from compiler.data.pipeline import load_data

    bundle = load_data(load_spec(write_spec(WINE)))
    assert bundle.class_names == ["a", "b", "c"]
    assert bundle.metadata["class_names"] == ["a", "b", "c"]
    plain = load_data(load_spec(write_spec(WINE), ["labels=null"]))
    assert plain.class_names == ["class_0", "class_1", "class_2"]
    with pytest.raises(DataError, match="in another order than the data numbers them"):
        load_data(load_spec(write_spec(WINE), ["labels=[class_2, class_1, class_0]"]))
