"""The JSON Schema of a spec (`nncompile schema`), checked with the jsonschema package.

It must be a valid Draft 2020-12 schema, accept every example in specs/, and
reject the mistakes an editor should underline, such as a misspelt parameter.
"""

from __future__ import annotations

import json

import pytest
import yaml

jsonschema = pytest.importorskip("jsonschema")

from compiler.spec.json_schema import spec_json_schema  # noqa: E402
from tests.helpers import SPECS_DIR  # noqa: E402

EXAMPLES = sorted(SPECS_DIR.glob("**/*.yaml")) + sorted(SPECS_DIR.glob("**/*.yml"))


@pytest.fixture(scope="module")
def schema():
    """The schema, computed once for the module (it takes seconds); tests only read it."""
    return spec_json_schema()


@pytest.fixture(scope="module")
def validator(schema):
    # Whether the schema itself is valid is test_schema_is_valid_draft_2020_12's check.
    return jsonschema.Draft202012Validator(schema)


def errors(validator, tree) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(tree)]


def test_schema_is_valid_draft_2020_12(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    json.dumps(schema)  # plain JSON, as `nncompile schema` prints it


def test_specs_folder_has_examples():
    assert EXAMPLES, "specs/ holds no example"


@pytest.mark.parametrize("path", [
    pytest.param(p, id=p.name) for p in EXAMPLES
])
def test_example_spec_validates(validator, path):
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert errors(validator, tree) == []


MINIMAL = """
nncompile: 1
name: t
inputs: {x: {shape: [8, 8, 3]}}
layers:
  - conv2d: {filters: 4, kernel: 3, padding: 1, activation: relu}
  - max_pool2d: {pool: 2}
  - flatten
  - dropout: 0.3
  - dense: {units: 2, name: out}
outputs: [out]
"""


def test_good_spec_validates(validator):
    assert errors(validator, yaml.safe_load(MINIMAL)) == []


@pytest.mark.parametrize("bad_layer", [
    "- dense: {unitz: 3}",
    "- dense: {units: 3, activaton: relu}",
    "- conv2d: {filters: 4, kernel: 3, paddin: same}",
    "- dense: {units: -3}",
    "- dense: {units: 3, activation: relux}",
    "- flaten",
])
def test_mistake_in_a_layer_does_not_validate(validator, bad_layer):
    tree = yaml.safe_load(MINIMAL.replace("  - flatten\n", f"  - flatten\n  {bad_layer}\n"))
    assert errors(validator, tree) != [], f"{bad_layer!r} was accepted"


def test_unknown_section_does_not_validate(validator):
    tree = yaml.safe_load(MINIMAL)
    tree["layres"] = tree["layers"]
    assert errors(validator, tree) != []


def test_schema_is_built_once_and_each_caller_gets_its_own_copy():
    from compiler.spec.json_schema import _schema_text

    first = spec_json_schema()
    first["title"] = "changed"
    first["properties"]["layers"]["items"]["anyOf"].clear()
    second = spec_json_schema()
    assert second is not first and second["title"] == "nncompile spec"
    assert second["properties"]["layers"]["items"]["anyOf"]
    assert second == spec_json_schema()
    assert _schema_text.cache_info().misses == 1  # built once in this process


def test_every_layer_type_is_in_the_schema(schema):
    from compiler.layers import LAYER_TYPES

    items = schema["properties"]["layers"]["items"]["anyOf"]
    named = {key for item in items for key in item.get("required", [])}
    assert set(LAYER_TYPES) <= named


def with_inputs_and_layers(inputs, layers, **sections):
    return {"nncompile": 1, "name": "t", "inputs": inputs, "layers": layers, **sections}


def test_input_shorthand_validates(validator):
    assert errors(validator, with_inputs_and_layers({"x": [8, 8, 3]}, ["flatten"])) == []


def test_input_mapping_validates(validator):
    tree = with_inputs_and_layers({"x": {"shape": [8, 8, 3], "dtype": "float32"}}, ["flatten"])
    assert errors(validator, tree) == []
    tree["inputs"]["x"]["shape"] = "eight"
    assert errors(validator, tree) != []


def test_variables_validate(validator):
    tree = with_inputs_and_layers(
        {"x": {"shape": [4]}},
        [{"dense": {"units": "$width * 2", "activation": "$act"}}, {"dropout": "$rate"}],
        vars={"width": 4, "act": "relu", "rate": 0.1})
    assert errors(validator, tree) == []


def test_bare_loss_and_metric_names_validate(validator):
    tree = with_inputs_and_layers({"x": {"shape": [4]}}, [{"dense": 1}],
                                  training={"loss": "mse", "metrics": ["mae"]})
    assert errors(validator, tree) == []


def test_loss_mapping_form_validates(validator):
    tree = with_inputs_and_layers({"x": {"shape": [4]}}, [{"dense": 1}],
                                  training={"loss": {"mse": {}}})
    assert errors(validator, tree) == []
    tree["training"]["loss"] = {"msee": {}}
    assert errors(validator, tree) != []


KERAS_STYLE = """
name: k
inputs: {x: {shape: [16, 16, 3]}}
layers:
  - conv2d: {filters: 4, kernel_size: 3, dilation_rate: 2}
  - max_pooling2d: {pool_size: 2}
  - depthwise_conv2d: {kernel_size: 3}
  - reshape: {target_shape: [-1]}
  - dense: {units: 2}
"""


def test_keras_parameter_names_validate(validator):
    assert errors(validator, yaml.safe_load(KERAS_STYLE)) == []
    # A required parameter may be given under either name, but not left out.
    tree = yaml.safe_load(KERAS_STYLE.replace("kernel_size: 3, dilation_rate", "dilation_rate"))
    assert errors(validator, tree) != []
