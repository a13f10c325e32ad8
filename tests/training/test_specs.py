"""The small training specs the tests share (tests/helpers.py) are valid specs."""

from __future__ import annotations

from tests.helpers import DIGITS, IRIS, write_training_spec


def test_the_specs_validate(tmp_path):
    from compiler.api import load_spec

    for template, name in ((IRIS, "iris_mlp"), (DIGITS, "digits_mlp")):
        spec = load_spec(write_training_spec(tmp_path, template, name=name, epochs=2))
        assert spec.training.epochs == 2 and spec.name == name
