"""Blocks with several outputs and reachable inner layers, expression indexing, len() and
shape(), `$index` on repeated layers, Keras 2 spellings and the messages about them."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import yaml

from compiler.api import build_model, load_spec
from compiler.errors import SpecError
from tests.helpers import run_cli


def problems(path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [str(p) for p in info.value.problems]


UNET_STEP = """
nncompile: 1
name: unet_step
inputs: {image: [16, 16, 1]}
blocks:
  down:
    params: {filters: null}
    layers:
      - conv2d: {filters: $filters, kernel: 3, padding: same, activation: relu, name: conv1}
      - conv2d: {filters: $filters, kernel: 3, padding: same, activation: relu, name: conv2}
      - max_pool2d: {pool: 2, name: pool}
layers:
  - down: {filters: 4, name: down_1}
  - down: {filters: 8, name: down_2}
  - upsampling2d: {size: 2, name: up}
  - concatenate: {inputs: [up, down_2.conv2], name: skip}   # a layer inside a block
  - conv2d: {filters: 1, kernel: 1, name: out}
"""


def test_a_layer_inside_a_block_instance_is_reachable_as_instance_dot_name(write_spec):
    spec = load_spec(write_spec(UNET_STEP))
    skip = next(entry for entry, _ in spec.entries if entry.name == "skip")
    assert skip.inputs == ["up", "down_2_conv2"]
    assert spec.shape_report.shape_of("skip") == (None, 8, 8, 16)


def test_block_outputs_by_name_and_a_wrong_one_is_located(write_spec):
    text = """
nncompile: 1
name: two_outputs
inputs: {x: [4]}
blocks:
  split:
    outputs: [big, small]
    layers:
      - dense: {units: 8, name: big}
      - dense: {units: 2, inputs: in, name: small}
layers:
  - split: {name: s}
  - dense: {units: 3, inputs: s.small, name: head}
outputs: [s, head, s.big]
"""
    spec = load_spec(write_spec(text))
    assert spec.outputs == ["s_big", "head", "s_big"]
    assert spec.shape_report.shape_of("head") == (None, 3)
    wrong = problems(write_spec(text.replace("[big, small]", "[big, smal]")))
    assert any("block 'split' lists the output 'smal', which is none of its layers "
               "(did you mean 'small'?)" in p for p in wrong)


def test_star_collects_every_copy_s_output_and_no_match_is_an_unknown_layer(write_spec):
    text = """
nncompile: 1
name: stars
inputs: {x: [4]}
blocks:
  b:
    outputs: [res, side]
    layers:
      - dense: {units: 4, name: res}
      - dense: {units: 2, inputs: in, name: side}
layers:
  - b: {repeat: 3, name: r}
  - add: {inputs: ["r_*.side"], name: sides}
"""
    spec = load_spec(write_spec(text))
    sides = next(entry for entry, _ in spec.entries if entry.name == "sides")
    assert sides.inputs == ["r_1_side", "r_2_side", "r_3_side"]
    assert any("unknown layer 'q_*.side'" in p
               for p in problems(write_spec(text.replace("r_*.side", "q_*.side"))))


def test_expressions_index_lists_measure_them_and_read_a_block_input_s_shape(write_spec):
    spec = load_spec(write_spec("""
nncompile: 1
name: expressions
vars: {kernels: [3, 5, 7]}
inputs: {x: [32, 6]}
blocks:
  widen:
    layers:
      - conv1d: {filters: "${shape(in)[-1] * 2}", kernel: "$kernels[$index % len($kernels)]",
                 padding: same, name: conv}
layers:
  - widen: {repeat: 4, name: w}
  - dense: {units: "${len($kernels) + $kernels[-1]}", name: out}
"""))
    convs = [layer for entry, layer in spec.entries if entry.type == "conv1d"]
    assert [c.kernel for c in convs] == [3, 5, 7, 3]
    assert [c.filters for c in convs] == [12, 24, 48, 96]  # twice the input's channels
    assert spec.entries[-1][1].units == 10


@pytest.mark.parametrize("value, words", [
    ("$kernels[3]", "index 3 is outside the list of 3 item(s)"),
    ("$kernels[1:]", "uses something expressions do not allow"),
    ("${shape(x)[-1]}", "shape() reads the shape of a block's input, so it exists only"),
    ("${len(4)}", "len() takes one list or text"),
])
def test_expression_mistakes_are_located(write_spec, value, words):
    found = problems(write_spec(f"""
nncompile: 1
name: bad
vars: {{kernels: [3, 5, 7]}}
inputs: {{x: [4]}}
layers:
  - dense: {{units: "{value}"}}
"""))
    assert any("spec.yaml:6:20:" in p and words in p for p in found), found


def test_index_and_number_on_a_repeated_plain_layer(write_spec):
    spec = load_spec(write_spec("""
nncompile: 1
name: repeated
inputs: {x: [4]}
layers:
  - dense: {units: "8 * ($index + 1)", name: d, repeat: 3}
  - dropout: {rate: "0.1 * $number", repeat: 2}
"""))
    assert [layer.units for _, layer in spec.entries[:3]] == [8, 16, 24]
    assert [round(layer.rate, 6) for _, layer in spec.entries[3:]] == [0.1, 0.2]


def test_a_mistake_in_a_block_is_reported_once_naming_the_instances(write_spec):
    found = problems(write_spec("""
nncompile: 1
name: once
blocks:
  b:
    layers:
      - dense: {units: 4, activaton: relu}
inputs: {x: [3]}
layers:
  - b: {repeat: 4, name: s}
"""))
    assert found == ["spec.yaml:6:27: blocks.b.layers[0].dense.activaton (in block instances "
                     "'s_1', 's_2', 's_3', 's_4', layers[0].b): unknown key 'activaton' "
                     "(did you mean 'activation'?)"]


def test_an_identity_bias_initializer_is_blamed_on_the_initializer(write_spec):
    found = problems(write_spec("""
nncompile: 1
name: bias
inputs: {x: [3]}
layers:
  - dense: {units: 3, bias_initializer: identity}
"""))
    assert len(found) == 1 and "layers[0].dense.bias_initializer: `identity` makes a matrix" \
        in found[0]


def test_keras_2_alpha_of_leaky_relu_is_read_and_the_resolved_spec_says_what_it_became(
        write_spec, tmp_path):
    path = write_spec("""
nncompile: 1
name: keras2
inputs: {x: [5]}
layers:
  - LeakyReLU: {alpha: 0.2, name: leaky}
""")
    result = run_cli("build", path, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    resolved = yaml.safe_load((tmp_path / "out" / "keras2" / "spec.resolved.yaml").read_text())
    assert resolved["layers"][0] == {"leaky_relu": {"negative_slope": 0.2, "name": "leaky",
                                                    "inputs": ["x"]}}
    model = build_model(load_spec(path))
    x = np.linspace(-2, 2, 10, dtype="float32").reshape(2, 5)
    np.testing.assert_allclose(np.asarray(model(x)),
                               np.asarray(keras.layers.LeakyReLU(negative_slope=0.2)(x)))


def test_constant_initializers_from_a_list_and_a_list_that_does_not_fit(write_spec):
    path = write_spec("""
nncompile: 1
name: constants
inputs: {x: [2]}
layers:
  - dense: {units: 3, name: d, kernel_initializer: {constant: {value: [[1, 2, 3], [4, 5, 6]]}},
            bias_initializer: {constant: {value: [0.5, 0.0, -0.5]}}}
""")
    model = build_model(load_spec(path))
    reference = keras.layers.Dense(3, kernel_initializer=keras.initializers.Constant(
        [[1, 2, 3], [4, 5, 6]]), bias_initializer=keras.initializers.Constant([0.5, 0, -0.5]))
    x = np.array([[1.0, -1.0]], "float32")
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(reference(x)))
    np.testing.assert_allclose(np.asarray(model(x)), [[-2.5, -3.0, -3.5]])
    wrong = write_spec(path.read_text().replace("[0.5, 0.0, -0.5]", "[0.5, 0.0]"),
                       name="wrong.yaml")
    result = run_cli("validate", wrong)
    assert result.exit_code == 1
    assert ("wrong.yaml:5:5: layers[0].dense: `bias_initializer` {constant: ...} has a list "
            "of shape [2], which does not broadcast to the weight's shape [3]") in result.output
