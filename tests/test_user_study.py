"""Findings of a user study: specs a Keras user wrote from the README, and what they met."""

from __future__ import annotations

import pytest

from compiler.api import load_spec
from compiler.errors import DataError, SpecError


def problems_of(path, overrides=()) -> str:
    with pytest.raises(SpecError) as err:
        load_spec(path, list(overrides))
    return str(err.value)


def test_a_single_output_may_be_written_without_brackets(write_spec):
    # The JSON schema allows `outputs: y`; the validator refused it ("expected a list").
    spec = load_spec(write_spec("""
        name: one_output
        inputs: {x: [4]}
        layers:
          - dense: {units: 8, name: h}
          - dense: {units: 1, name: y}
        outputs: h
    """))
    assert spec.outputs == ["h"]
    assert spec.resolved_tree()["outputs"] == ["h"]


def test_index_outside_a_block_says_where_it_exists(write_spec):
    text = problems_of(write_spec("""
        name: idx
        inputs: {x: [4]}
        layers:
          - dense: {units: "8 * ($index + 1)", repeat: 3, name: d}
    """))
    assert "unknown variable '$index'" in text
    assert "exist only inside a block's layers" in text


def test_brackets_in_a_flow_list_get_a_quoting_hint(write_spec):
    text = problems_of(write_spec("""
        name: states
        inputs: {x: [5, 3]}
        layers:
          - lstm: {units: 4, return_state: true, name: enc}
          - lstm: {units: 4, inputs: [x, enc[1], enc[2]]}
    """))
    assert "invalid YAML" in text and 'quote a value that holds brackets' in text


def test_a_layer_without_input_in_a_spec_of_several_inputs_names_them(write_spec):
    text = problems_of(write_spec("""
        name: two
        inputs: {a: [4], b: [3]}
        layers:
          - dense: 4
    """))
    assert "the spec has 2 inputs (a, b), so the first layer takes none by default" in text


def test_npy_files_outside_the_spec_folder_are_refused_by_validate(write_spec):
    # `train` refused them; `validate` said ok.
    path = write_spec("""
        name: npy_outside
        inputs: {x: [3]}
        layers: [{dense: 1}]
        data: {npy: {inputs: ../x.npy, targets: {y: /tmp/y.npy}}}
    """)
    text = problems_of(path)
    assert "data.npy.inputs: data file '../x.npy' is outside the spec's folder" in text
    assert "data.npy.targets.y: data file '/tmp/y.npy' is outside" in text
    assert load_spec(path, allow_outside=True).data.npy is not None


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


def test_a_description_is_free_text_even_with_dollars(write_spec):
    # "$number" or "costs $5" in a description was read as a variable and refused.
    spec = load_spec(write_spec("""
        name: prose
        description: Blocks with $number and $instance in names; costs $5 per run.
        inputs: {x: [4]}
        layers: [{dense: 1}]
    """))
    assert spec.description == "Blocks with $number and $instance in names; costs $5 per run."


def test_a_failed_block_parameter_is_reported_once_not_per_copy(write_spec):
    # Each copy of the block also said "expected an integer, got '$base * 2 ** $index'".
    text = problems_of(write_spec("""
        name: cascade
        vars: {base: 8}
        blocks:
          stage:
            params: {filters: null}
            layers:
              - conv2d: {filters: $filters, kernel: 3, padding: same, name: conv}
              - conv2d: {filters: "$filters * 2", kernel: 3, padding: same, name: wide}
        inputs: {image: [8, 8, 3]}
        layers:
          - stage: {filters: $base * 2 ** $index, repeat: 2, name: stage}
          - flatten: {inputs: stage_2}
          - dense: {units: $nope, name: out}
    """))
    assert "unknown variable '$index'" in text
    assert "unknown variable '$nope'" in text  # an independent mistake is still reported
    assert "expected an integer" not in text and "stage_2" not in text
    assert len(text.splitlines()) == 2  # the two mistakes, nothing else


def test_a_failed_variable_is_reported_once_not_at_every_use(write_spec):
    # Every use of `$a` said "unknown variable '$a' (known: none are defined)".
    text = problems_of(write_spec("""
        name: cascade_vars
        vars: {c: $a + 1, a: $b}
        inputs: {x: [4]}
        layers:
          - dense: {units: $a}
          - dense: {units: $c * 2}
    """))
    assert text.count("unknown variable") == 1 and "vars.a: unknown variable '$b'" in text
