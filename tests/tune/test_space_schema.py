"""`nncompile schema` accepts a search space wherever a value goes, and checks `tune:`."""

from __future__ import annotations

import json

import pytest
import yaml

from compiler.spec.json_schema import spec_json_schema
from tests.helpers import SPECS_DIR, run_cli
from tests.tune.test_spaces import SPEC

jsonschema = pytest.importorskip("jsonschema")


@pytest.fixture(scope="module")
def validator():
    # Whether the schema is valid Draft 2020-12 is tests/spec/test_json_schema.py's check.
    return jsonschema.Draft202012Validator(spec_json_schema())


def _errors(validator, tree) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(tree)]


def test_the_digits_tune_example_and_every_kind_of_space_validate(validator):
    tree = yaml.safe_load((SPECS_DIR / "tune" / "digits_tune.yaml").read_text())
    assert _errors(validator, tree) == []
    # vars, layer parameters, repeat, a whole optimiser choice with nested spaces.
    assert _errors(validator, yaml.safe_load(SPEC)) == []
    tree["layers"][1]["dense"]["units"] = {"int": [16, 64], "step": 16}
    tree["training"]["batch_size"] = {"int": [8, 256], "log": True}
    tree["data"]["split"]["validation"] = {"uniform": [0.1, 0.3]}
    tree["layers"].insert(0, {"choice": [{"flatten": {}}, {"reshape": {"shape": [64]}}]})
    assert _errors(validator, tree) == []


@pytest.mark.parametrize("space", [
    {"uniform": [0.1, 0.2, 0.3]},          # [low, high] only
    {"log_uniform": [0.0, 1e-2]},          # no 0 on a log scale
    {"int": [1.5, 4]},                     # whole numbers
    {"int": [1, 4], "step": 0},
    {"choice": []},
    {"uniform": [0.1, 0.5], "log": True},  # `log` is an int space's
])
def test_a_malformed_space_is_flagged(validator, space):
    tree = yaml.safe_load((SPECS_DIR / "tune" / "digits_tune.yaml").read_text())
    tree["layers"][2]["dropout"]["rate"] = space
    assert any(e.startswith("layers") for e in _errors(validator, tree))


def test_the_tune_section_is_checked_and_never_sampled(validator):
    tree = yaml.safe_load((SPECS_DIR / "tune" / "digits_tune.yaml").read_text())
    for key, value in (("sampler", "tpee"), ("trials", {"int": [5, 10]}),
                       ("constraints", {"max_latency": 1.0})):
        broken = {**tree, "tune": {**tree["tune"], key: value}}
        assert any(e.startswith("tune") for e in _errors(validator, broken)), key
    assert _errors(validator, {**tree, "name": {"choice": ["a", "b"]}})


def test_nncompile_schema_prints_the_space_definition():
    result = run_cli("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert set(schema["$defs"]["SearchSpace"]["oneOf"][0]["properties"]) == {"choice"}
