"""Resolving: variables, extends, --set overrides, blocks, graphs and shared layers."""

from __future__ import annotations

import pytest

from compiler.api import load_spec
from compiler.errors import SpecError, UsageError


def names_and_inputs(spec):
    return [(e.type, e.name, e.inputs) for e, _ in spec.entries]


def test_chain_gets_explicit_names_and_inputs(write_spec):
    spec = load_spec(write_spec("""
        name: chain
        inputs: {x: [4]}
        layers:
          - dense: 8
          - dropout: 0.5
          - dense: {units: 1, name: y}
    """))
    assert names_and_inputs(spec) == [
        ("dense", "dense_1", ["x"]), ("dropout", "dropout_1", ["dense_1"]),
        ("dense", "y", ["dropout_1"])]
    assert spec.outputs == ["y"]


def test_variables_with_arithmetic_and_interpolation(write_spec):
    spec = load_spec(write_spec("""
        name: vars
        vars: {width: 16, double: $width * 2, tag: "w${width // 4}"}
        inputs: {x: [4]}
        layers:
          - dense: {units: $double + 1, name: "$tag"}
          - dropout: {rate: $width / 64}
    """))
    (dense_entry, dense), (_, dropout) = spec.entries
    assert dense.units == 33 and dense_entry.name == "w4"
    assert dropout.rate == 0.25


def test_variable_cycle_is_an_error(write_spec):
    with pytest.raises(SpecError, match="cycle"):
        load_spec(write_spec("""
            name: cyc
            vars: {a: $b, b: $a}
            inputs: {x: [4]}
            layers: [{dense: 1}]
        """))


def test_extends_deep_merges_and_child_wins(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "name: base\nvars: {w: 8}\ninputs: {x: [4]}\nlayers:\n  - dense: $w\n"
        "training: {loss: mse, epochs: 3, batch_size: 16}\n")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nname: child\nvars: {w: 32}\n"
                                         "training: {epochs: 7}\n")
    spec = load_spec(tmp_path / "child.yaml")
    assert spec.name == "child"
    assert spec.entries[0][1].units == 32
    tree = spec.resolved_tree()
    assert tree["training"]["epochs"] == 7 and tree["training"]["batch_size"] == 16


def test_extends_cycle_is_an_error(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(SpecError, match="cycle"):
        load_spec(tmp_path / "a.yaml")


def test_set_overrides(write_spec):
    path = write_spec("""
        name: ov
        vars: {w: 8}
        inputs: {x: [4]}
        layers:
          - dense: {units: $w}
          - dense: {units: 2, activation: relu}
    """)
    spec = load_spec(path, ["vars.w=64", "layers[1].dense.activation=tanh", "name=renamed"])
    assert spec.entries[0][1].units == 64
    assert spec.entries[1][1].activation == "tanh"
    assert spec.name == "renamed"
    with pytest.raises(UsageError, match="expected KEY=VALUE"):
        load_spec(path, ["vars.w"])
    with pytest.raises(UsageError, match="does not exist"):
        load_spec(path, ["layers[9].dense.units=3"])


def test_blocks_expand_with_params_repeat_and_prefixed_names(write_spec):
    spec = load_spec(write_spec("""
        name: blocks
        inputs: {x: [8, 8, 3]}
        blocks:
          conv_bn:
            params: {filters: null, stride: 1}
            layers:
              - conv2d: {filters: $filters, kernel: 3, strides: $stride, padding: same, name: conv}
              - batch_norm: {name: bn}
        layers:
          - conv_bn: {filters: 4, name: stem}
          - conv_bn: {filters: 8, repeat: 2, name: stage}
          - flatten
    """))
    assert [e.name for e, _ in spec.entries] == [
        "stem_conv", "stem_bn", "stage_1_conv", "stage_1_bn", "stage_2_conv", "stage_2_bn",
        "flatten_1"]
    assert spec.entries[2][0].inputs == ["stem_bn"]
    assert spec.entries[4][0].inputs == ["stage_1_bn"]
    assert spec.entries[4][1].filters == 8
    assert set(spec.instances) == {"stem", "stage_1", "stage_2"}


def test_residual_block_with_skip_connection(write_spec):
    spec = load_spec(write_spec("""
        name: res
        inputs: {x: [16]}
        blocks:
          residual:
            params: {units: 16}
            layers:
              - dense: {units: $units, activation: relu, name: f}
              - dense: {units: $units, name: g}
              - add: {inputs: [in, g], name: sum}
        layers:
          - residual: {repeat: 3}
          - dense: {units: 1, name: out}
    """))
    adds = [e for e, _ in spec.entries if e.type == "add"]
    assert adds[0].inputs == ["x", "residual_1_g"]
    assert adds[1].inputs == ["residual_1_sum", "residual_2_g"]
    assert spec.entries[-1][0].inputs == ["residual_3_sum"]


def test_missing_and_unknown_block_params(write_spec):
    with pytest.raises(SpecError) as info:
        load_spec(write_spec("""
            name: bp
            inputs: {x: [4]}
            blocks:
              b: {params: {units: null}, layers: [{dense: $units}]}
            layers:
              - b: {unitz: 3}
        """))
    text = str(info.value)
    assert "block 'b' has no parameter 'unitz' (did you mean 'units'?)" in text
    assert "spec.yaml:6:9" in text
    assert "block 'b' needs the parameter(s) units" in text


def test_named_graph_with_several_inputs_outputs_and_shared_layer(write_spec):
    spec = load_spec(write_spec("""
        name: graph
        inputs: {a: [4], b: [4]}
        layers:
          - dense: {units: 3, name: shared, inputs: a}
          - apply: {layer: shared, inputs: b, name: shared_b}
          - concatenate: {inputs: [shared, shared_b], name: joined}
          - dense: {units: 1, name: score}
          - dense: {units: 2, inputs: joined, name: aux}
        outputs: [score, aux]
    """))
    assert spec.outputs == ["score", "aux"]
    apply_entry, apply_spec = spec.entries[1]
    assert apply_spec.layer == "shared" and apply_entry.inputs == ["b"]


def test_nested_blocks_and_shared_block_instance(write_spec):
    spec = load_spec(write_spec("""
        name: siam
        inputs: {left: [6], right: [6]}
        blocks:
          layer_pair:
            layers: [{dense: {units: 5, name: d1}}, {dense: {units: 3, name: d2}}]
          tower:
            layers: [{layer_pair: {name: inner}}, {dropout: {rate: 0.1, name: drop}}]
        layers:
          - tower: {name: twin, inputs: left}
          - apply: {layer: twin, inputs: right, name: twin_right}
          - distance: {inputs: [twin, twin_right], name: dist}
    """))
    assert spec.instances["twin"].entries == ["twin_inner_d1", "twin_inner_d2", "twin_drop"]
    assert spec.entries[-1][0].inputs == ["twin_drop", "twin_right"]


def test_repeat_on_a_plain_layer(write_spec):
    spec = load_spec(write_spec("""
        name: rep
        inputs: {x: [8, 8, 3]}
        layers:
          - conv2d: {filters: 4, kernel: 3, padding: same, repeat: 3, name: block1_conv}
          - dense: {units: 2, repeat: 2}
    """))
    assert names_and_inputs(spec) == [
        ("conv2d", "block1_conv_1", ["x"]), ("conv2d", "block1_conv_2", ["block1_conv_1"]),
        ("conv2d", "block1_conv_3", ["block1_conv_2"]), ("dense", "dense_1", ["block1_conv_3"]),
        ("dense", "dense_2", ["dense_1"])]


def test_extends_replaces_a_choice_of_optimizer_schedule_loss_and_data_source(tmp_path):
    # A child naming another optimizer (or schedule, loss, data source) replaces the
    # base's; merging them key by key would give two and be refused.
    (tmp_path / "base.yaml").write_text(
        "name: base\ninputs: {x: [4]}\nlayers:\n  - dense: {units: 3, activation: softmax}\n"
        "data: {builtin: iris, split: {validation: 0.2}}\n"
        "training:\n  loss: {huber: {delta: 2.0}}\n"
        "  optimizer: {sgd: {learning_rate: 0.1, momentum: 0.9}}\n"
        "  schedule: {warmup: {epochs: 1, then: {step_decay: {factor: 0.5, every: 2}}}}\n")
    (tmp_path / "x.npz").write_bytes(b"")
    (tmp_path / "child.yaml").write_text(
        "extends: base.yaml\nname: child\n"
        "data: {npz: {path: x.npz, inputs: x, targets: y}}\n"
        "training:\n  loss: sparse_categorical_crossentropy\n"
        "  optimizer: {adam: {learning_rate: 0.01}}\n"
        "  schedule: {warmup: {then: {cosine: {min_lr: 0.001}}}}\n")
    tree = load_spec(tmp_path / "child.yaml").resolved_tree()
    assert tree["training"]["optimizer"] == {"adam": {"learning_rate": 0.01}}
    assert tree["training"]["loss"] == "sparse_categorical_crossentropy"
    assert tree["training"]["schedule"] == {"warmup": {"epochs": 1,
                                                       "then": {"cosine": {"min_lr": 0.001}}}}
    assert "builtin" not in tree["data"] and tree["data"]["npz"]["path"] == "x.npz"
    assert tree["data"]["split"] == {"validation": 0.2}  # the rest of `data:` still merges


def test_extends_still_merges_a_choice_of_the_same_name_and_loss_per_output(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "name: base\ninputs: {x: [4]}\nlayers:\n  - dense: {units: 1, name: a}\n"
        "  - dense: {units: 1, inputs: x, name: b}\noutputs: [a, b]\n"
        "training:\n  loss: {a: mse, b: mae}\n"
        "  optimizer: {sgd: {learning_rate: 0.1, momentum: 0.9}}\n")
    (tmp_path / "child.yaml").write_text(
        "extends: base.yaml\nname: child\n"
        "training: {loss: {b: huber}, optimizer: {sgd: {learning_rate: 0.5}}}\n")
    tree = load_spec(tmp_path / "child.yaml").resolved_tree()
    assert tree["training"]["optimizer"] == {"sgd": {"learning_rate": 0.5, "momentum": 0.9}}
    assert tree["training"]["loss"] == {"a": "mse", "b": "huber"}


def test_a_child_that_renames_the_input_is_told_the_spec_has_two(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "name: base\ninputs: {image: [4]}\nlayers:\n  - dense: 3\n")
    (tmp_path / "child.yaml").write_text(
        "extends: base.yaml\nname: child\ninputs: {x: [4]}\n")
    with pytest.raises(SpecError) as err:
        load_spec(tmp_path / "child.yaml")
    assert ("the spec has 2 inputs (image, x), so the first layer takes none by default"
            in str(err.value))


def test_a_bad_set_value_is_located_at_the_set_not_at_the_replaced_line(write_spec):
    # It was shown at spec.yaml's line of the value that --set replaced.
    path = write_spec("""
        name: ov
        inputs: {x: [4]}
        layers:
          - dense: {units: 8}
        training: {loss: mse, optimizer: {sgd: {learning_rate: 0.1}}}
    """)
    with pytest.raises(SpecError) as err:
        load_spec(path, ["training.optimizer.sgd.learning_rate=abc", "layers[0].dense.units=x"])
    text = str(err.value)
    assert ("--set training.optimizer.sgd.learning_rate:1:38: "
            "training.optimizer.sgd.learning_rate: expected a number, got 'abc'") in text
    assert "--set layers[0].dense.units:1:23: layers[0].dense.units: expected an integer" in text
    assert "spec.yaml" not in text



# ----------------------------------------------- outputs, default inputs, variables


def problems_text(path, overrides=()) -> str:
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


def test_a_layer_without_input_in_a_spec_of_several_inputs_names_them(write_spec):
    text = problems_text(write_spec("""
        name: two
        inputs: {a: [4], b: [3]}
        layers:
          - dense: 4
    """))
    assert "the spec has 2 inputs (a, b), so the first layer takes none by default" in text


def test_index_outside_a_block_says_where_it_exists(write_spec):
    text = problems_text(write_spec("""
        name: idx
        inputs: {x: [4]}
        layers:
          - dense: {units: "8 * ($index + 1)", name: d}
    """))
    assert "unknown variable '$index'" in text
    assert "exist only inside a block's layers" in text


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
    text = problems_text(write_spec("""
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
    text = problems_text(write_spec("""
        name: cascade_vars
        vars: {c: $a + 1, a: $b}
        inputs: {x: [4]}
        layers:
          - dense: {units: $a}
          - dense: {units: $c * 2}
    """))
    assert text.count("unknown variable") == 1 and "vars.a: unknown variable '$b'" in text
