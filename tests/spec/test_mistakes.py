"""User mistakes that once ended in a Python traceback (or a hung process) get located errors.

Each test writes a small spec with one mistake and checks the one-line error:
``file:line:col: dotted.path: message``. None of them trains; the few that
build a model stop before Keras allocates anything large.
"""

from __future__ import annotations

import sys
import time

import pytest

from compiler.api import build, load_spec
from compiler.errors import SpecError
from tests.helpers import run_cli

PYTHON_WORDS = ("PosList", "PosDict", "NoneType", "'str'", "'int'", "'float'", "complex",
                "Traceback", "Input should")


def problems(path, **kwargs) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(path, **kwargs)
    out = [str(p) for p in info.value.problems]
    for line in out:
        assert not any(word in line for word in PYTHON_WORDS), line
    return out


def build_problems(path) -> list[str]:
    spec = load_spec(path)
    with pytest.raises(SpecError) as info:
        build(spec, check_expect=False)
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------- 1. conv


def test_dilation_with_strides_is_refused_at_validation(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [32, 32, 3]}
        layers:
          - conv2d: {filters: 4, kernel: 3, strides: 2, dilation: 2}
          - conv1d: {filters: 4, kernel: 3, stride: [2, 1], dilation_rate: [1, 2]}
    """))
    assert out[0] == ("spec.yaml:4:59: layers[0].conv2d.dilation: `dilation` 2 cannot be combined "
                      "with `strides` 2: a dilated convolution moves one step at a time (use "
                      "strides: 1 and a pooling layer after it, or dilation: 1)")
    assert out[1].startswith("spec.yaml:5:68: layers[1].conv1d.dilation_rate: `dilation` [1, 2] "
                             "cannot be combined with `strides` [2, 1]")


def test_dilation_or_strides_alone_are_fine(write_spec):
    spec = load_spec(write_spec("""
        name: t
        inputs: {x: [32, 32, 3]}
        layers:
          - conv2d: {filters: 4, kernel: 3, dilation: 2}
          - conv2d: {filters: 4, kernel: 3, strides: 2}
    """))
    assert [layer.dilation for _, layer in spec.entries] == [2, 1]


# --------------------------------------------------------------------------- 2, 3. expressions


@pytest.mark.parametrize(("value", "words"), [
    ("${$a < 'x'}", "cannot compare a number and text with <"),
    ("${$a if $a < 'x' else 2}", "cannot compare a number and text with <"),
    ("${-$t}", "cannot apply unary - to text"),
    ("${(-8) ** 0.5}", "the result is not a real number"),
    ("${$t + 1}", "cannot add text and a number"),
    ("${$l * 3}", "cannot use a list with *"),
    ("${$n + 1}", "cannot use null with +"),
    ("${$d < 1}", "cannot compare a mapping and a number"),
    ("${1 % 0}", "division by zero"),
    ("${10 // 0.0}", "division by zero"),
    ("${1e308 * 10}", "number too large"),
    ("${floor(1e308 * 10)}", "number too large"),
    ("${sqrt(-1)}", "sqrt(): math domain error"),
    ("${abs('x')}", "abs(): bad operand type for abs(): text"),
    ("${max()}", "max(): max expected at least 1 argument"),
    ("${floor(float('nan'))}", "floor(): cannot convert float NaN to integer"),
    ("${round(5, -1000000000)}", "round(): the number of digits must be a whole number"),
    ("${'%5d' % $a}", "`%` formatting of text is not supported"),
    ("${'%' % 1}", "`%` formatting of text is not supported"),
])
def test_expression_errors_are_located(write_spec, value, words):
    # CPU time, not wall time: bounds the work done, whatever the machine's load.
    start = time.process_time()
    out = problems(write_spec(f"""
        name: t
        vars: {{a: 3, t: hi, l: [1, 2], d: {{k: 1}}, n: null}}
        inputs: {{x: [4]}}
        layers:
          - dense: {{units: "{value}"}}
    """))
    assert time.process_time() - start < 2
    assert len(out) == 1
    assert out[0].startswith("spec.yaml:5:20: layers[0].dense.units: "), out
    assert words in out[0]


def test_percent_formatting_is_refused_before_building_a_huge_string(write_spec):
    start = time.process_time()
    out = problems(write_spec("""
        name: t
        vars: {a: 3}
        inputs: {x: [4]}
        layers:
          - dense: {units: 3, name: "${'%2147483647d' % $a}"}
    """))
    assert time.process_time() - start < 0.5  # the 2 GB string is never made
    assert "layers[0].dense.name: `%` formatting of text is not supported" in out[0]


def test_percent_on_numbers_is_still_the_remainder(write_spec):
    spec = load_spec(write_spec("""
        name: t
        vars: {a: 17}
        inputs: {x: [4]}
        layers:
          - dense: {units: "$a % 5", name: "d${$a % 5}"}
    """))
    assert spec.entries[0][1].units == 2 and spec.entries[0][0].name == "d2"


def test_expression_error_in_a_variable_is_located(write_spec):
    out = problems(write_spec("""
        name: t
        vars: {a: hi, b: "${-$a}"}
        inputs: {x: [4]}
        layers:
          - dense: 2
    """))
    assert out == ["spec.yaml:2:18: vars.b: cannot apply unary - to text in '-$a'"]


# --------------------------------------------------------------------------- 13. bare arithmetic


def test_bare_arithmetic_over_variables_evaluates_as_the_readme_shows(write_spec):
    spec = load_spec(write_spec("""
        name: t
        vars: {a: 5, b: 3, i: 2, half: "min($a, $b) + 1"}
        inputs: {x: [4]}
        layers:
          - dense: {units: "min($a, 3)", name: "conv_$i"}
          - dense: {units: "3 + $a", name: "x-$i"}
          - dense: {units: $half, name: "block_${$i + 1}"}
    """))
    assert [(e.name, layer.units) for e, layer in spec.entries] == [
        ("conv_2", 3), ("x-2", 8), ("block_3", 4)]


# --------------------------------------------------------------------------- 4. parameter budget


def test_huge_sizes_are_refused_at_validation(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - dense: {units: 1e12}
          - conv2d: {filters: 1000000000000, kernel: 3}
    """))
    assert out[0] == ("spec.yaml:4:20: layers[0].dense.units: expected a number ≤ 100,000,000, "
                      "got 1000000000000.0")
    assert "layers[1].conv2d.filters: expected a number ≤ 100,000,000" in out[1]


def test_embedding_over_the_budget_is_refused_at_validation(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: {shape: [null], dtype: int32}}
        layers:
          - embedding: {input_dim: 100000000, output_dim: 100}
    """))
    assert out == ["spec.yaml:4:5: layers[0].embedding: this embedding has at least "
                   "10,000,000,000 parameters; a model may have at most 2,000,000,000"]


def test_layer_over_the_budget_is_refused_before_keras_allocates_it(write_spec):
    path = write_spec("""
        name: t
        inputs: {x: [1000, 1000]}
        layers:
          - flatten
          - dense: 100000
    """)
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    out = build_problems(path)
    # 400 GB of weights were never allocated (peak memory, not time: the machine is shared).
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 1024 * 1024
    assert out == ["spec.yaml:5:5: layers[1].dense: this dense would have about "
                   "100,000,100,000 parameters; a model may have at most 2,000,000,000"]


def test_model_over_the_budget_names_the_layer_that_crosses_it(write_spec, monkeypatch):
    # 1000, not 2e9: no 8 GB allocation
    monkeypatch.setattr("compiler.build.graph.MAX_MODEL_PARAMS", 1000)
    out = build_problems(write_spec("""
        name: t
        inputs: {x: [20]}
        layers:
          - dense: 30
          - dense: 20
    """))
    assert out == ["spec.yaml:5:5: layers[1].dense: with this dense (620 parameters) the model "
                   "would have about 1,250 parameters; a model may have at most 1,000"]


def test_parameter_estimates_match_keras(write_spec):
    """The budget's estimates are close to what Keras creates (exact where it is cheap)."""
    spec = load_spec(write_spec("""
        name: t
        inputs: {x: [12, 12, 3], s: [7, 5]}
        layers:
          - conv2d: {filters: 8, kernel: 3, groups: 1, inputs: x}
          - depthwise_conv2d: {kernel: 3, depth_multiplier: 2}
          - separable_conv2d: {filters: 4, kernel: 3}
          - conv2d_transpose: {filters: 3, kernel: 2}
          - batch_norm
          - flatten
          - dense: 10
          - maxout: {units: 3, pieces: 4}
          - layer_norm
          - prelu
          - lstm: {units: 6, return_sequences: true, inputs: s}
          - gru: {units: 4, return_sequences: true}
          - simple_rnn: {units: 3, return_sequences: true}
          - bidirectional: {layer: {lstm: 2}}
          - time_distributed: {layer: {dense: 5}, inputs: s, name: td}
          - additive_attention: {units: 4, inputs: [td, td], name: att}
          - multi_head_attention: {num_heads: 2, key_dim: 3, value_dim: 4, inputs: [td, s],
                                   output_shape: 6, name: mha}
          - attention: {inputs: [td, s], use_scale: true, score_mode: concat, name: dot}
          - group_norm: {groups: 5, inputs: td, name: gn}
          - conv1d_transpose: {filters: 2, kernel: 3, strides: 2, inputs: s, name: up}
        outputs: [prelu_1, bidirectional_1, att, mha, dot, gn, up]
    """))
    result = build(spec, check_expect=False)
    shapes = {"x": (None, 12, 12, 3), "s": (None, 7, 5)}
    for entry, layer in spec.entries:
        keras_layer = result.model.get_layer(entry.name)
        actual = keras_layer.count_params()
        estimate = layer.estimate_params([shapes[r] for r in entry.inputs])
        assert actual <= estimate <= actual * 1.2 + 16, (entry.name, estimate, actual)
        out = keras_layer.output
        shapes[entry.name] = tuple((out[0] if isinstance(out, (list, tuple)) else out).shape)


# --------------------------------------------------------------------------- 5. names


@pytest.mark.parametrize("name", ["a/b", "", "../x", "..", ".hidden", "a b", " x", "é"])
def test_bad_layer_names_are_refused(write_spec, name):
    out = problems(write_spec(f"""
        name: t
        inputs: {{x: [4]}}
        layers:
          - dense: {{units: 3, name: "{name}"}}
    """))
    assert len(out) == 1 and out[0].startswith("spec.yaml:4:29: layers[0].dense.name: "), out
    assert ("cannot be empty" if not name else "may only use letters, digits, _ - and .") in out[0]


def test_bad_block_instance_and_repeated_names_are_refused(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [4]}
        blocks:
          b: {layers: [{dense: 2}]}
        layers:
          - b: {name: "x/y"}
          - dense: {units: 2, repeat: 2, name: ""}
    """))
    assert len(out) == 2
    assert out[0].startswith("spec.yaml:6:15: layers[0].b: layer name 'x/y' may only use")
    assert out[1].startswith("spec.yaml:7:40: layers[1].dense.name: a layer name cannot be empty")


def test_usual_layer_names_stay_valid(write_spec):
    spec = load_spec(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - dense: {units: 2, name: 1x1}
          - dense: {units: 2, name: conv1.bn-2}
          - dense: {units: 2, name: _private}
    """))
    assert [e.name for e, _ in spec.entries] == ["1x1", "conv1.bn-2", "_private"]


# --------------------------------------------------------------------------- 6. output indices


def test_unreadable_output_index_is_located(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [4, 2]}
        layers:
          - lstm: {units: 3, return_state: true, name: a}
        outputs: ["a[x]", "a[-1]", 3]
    """))
    assert out[0] == "spec.yaml:5:28: outputs[2]: expected text, got 3"
    assert out[1].startswith("spec.yaml:5:11: outputs[0]: cannot read the output 'a[x]': write "
                             "a layer name, or name[i] (i = 0, 1, ...)")
    assert out[2].startswith("spec.yaml:5:19: outputs[1]: cannot read the output 'a[-1]'")


def test_output_index_past_the_end_is_located(write_spec):
    out = build_problems(write_spec("""
        name: t
        inputs: {x: [4, 2]}
        layers:
          - lstm: {units: 3, return_state: true, name: a}
          - dense: {units: 2, inputs: "a[0]", name: d}
        outputs: ["a[5]", "d[1]"]
    """))
    assert out == ["spec.yaml:6:11: outputs[0]: 'a' has 3 output(s), so 'a[5]' does not exist "
                   "(outputs are numbered from 0; set return_state/return_attention_scores for "
                   "more)"]


def test_index_on_a_single_output_layer(write_spec):
    out = build_problems(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - dense: {units: 3, name: a}
          - dense: {units: 2, inputs: "a[0]", name: b}
        outputs: [b, "a[1]"]
    """))
    assert out[0].startswith("spec.yaml:6:14: outputs[1]: 'a' has 1 output(s), so 'a[1]' does not")


# --------------------------------------------------------------------------- 7. deep graphs


def test_a_thousand_layer_chain_validates_quickly(write_spec):
    path = write_spec("name: deep\ninputs: {x: [4]}\nlayers:\n" + "  - dense: 2\n" * 1000)
    start = time.process_time()
    spec = load_spec(path)
    assert time.process_time() - start < 3
    assert len(spec.entries) == 1000 and spec.outputs == ["dense_1000"]


def test_deep_graphs_raise_the_recursion_limit_only_upwards():
    from compiler.build.graph import allow_deep_graph

    before = sys.getrecursionlimit()
    try:
        allow_deep_graph(10)
        assert sys.getrecursionlimit() == before
        allow_deep_graph(5000)
        assert sys.getrecursionlimit() >= 5000 + 1000
    finally:
        sys.setrecursionlimit(before)


@pytest.mark.slow
@pytest.mark.long  # building and saving 1000 Keras layers takes 10-20 s: the depth is the point
def test_a_thousand_layer_chain_builds(write_spec, tmp_path):
    path = write_spec("name: deep\ninputs: {x: [4]}\nlayers:\n" + "  - dense: 2\n" * 1000)
    result = run_cli("build", path, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "Total params:         6,004" in result.output


# --------------------------------------------------------------------------- 10. empty layers


def test_empty_layer_list_is_an_error(write_spec):
    out = problems(write_spec("name: t\ninputs: {x: [4]}\nlayers: []\n"))
    assert out == ["spec.yaml:3:9: layers: `layers` is empty: a model needs at least one layer "
                   "(`- identity` passes an input through unchanged)"]


# --------------------------------------------------------------------------- 12. user words


def test_messages_use_the_words_of_the_spec(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: {shape: [], dtype: null}}
        layers:
          - dense: {units: [1, null]}
          - dropout: {rate: {a: false}}
    """))
    assert out == [
        "spec.yaml:4:20: layers[0].dense.units: expected an integer, got [1, null]",
        "spec.yaml:5:21: layers[1].dropout.rate: expected a number, got {a: false}",
        "spec.yaml:2:21: inputs.x.shape: expected a list of at least 1 item, got []",
        "spec.yaml:2:32: inputs.x.dtype: expected one of 'float32', 'float16', 'float64', "
        "'int32', 'int64' or 'bool', got null",
    ]


@pytest.mark.parametrize("inputs", ["3", "1.5", "true", "hello"])
def test_inputs_that_are_not_a_mapping(write_spec, inputs):
    out = problems(write_spec(f"name: t\ninputs: {inputs}\nlayers:\n  - dense: 2\n"))
    assert any(line.startswith("spec.yaml:2:9: inputs: expected a mapping, got ") for line in out)


def test_a_spec_that_is_a_list_says_so(write_spec):
    assert problems(write_spec("- a\n- b\n")) == [
        "spec.yaml:1:1: a spec must be a mapping of sections (name:, inputs:, layers:, ...), "
        "got a list"]


# --------------------------------------------------------------------------- 9. init_from


def test_init_from_outside_the_spec_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "specs"
    folder.mkdir()
    base = ("name: t\ninputs: {x: [4]}\nlayers:\n  - dense: 2\n"
            "training:\n  loss: mse\n  init_from: {model: MODEL}\n")
    for model in ("../other/model.keras", "/etc/passwd"):
        path = folder / "spec.yaml"
        path.write_text(base.replace("MODEL", model))
        out = problems(path)
        assert out == [f"specs/spec.yaml:7:22: training.init_from.model: model file '{model}' is "
                       f"outside the spec's folder {folder} and {tmp_path / 'saved_models'}; "
                       "move it there, or pass --allow-outside if you trust this spec"]
        assert load_spec(path, allow_outside=True).training.init_from.model == model
    inside = folder / "ok.yaml"
    inside.write_text(base.replace("MODEL", "saved_models/other/model.keras"))
    assert load_spec(inside).training.init_from.model == "saved_models/other/model.keras"
    # A model `train` wrote under the working folder's saved_models/ is fine too.
    (tmp_path / "saved_models" / "base").mkdir(parents=True)
    (tmp_path / "saved_models" / "base" / "model.keras").write_bytes(b"")
    inside.write_text(base.replace("MODEL", "saved_models/base/model.keras"))
    assert load_spec(inside).training.init_from.model == "saved_models/base/model.keras"


def test_init_from_outside_through_the_cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    path = tmp_path / "specs" / "spec.yaml"
    path.write_text("name: t\ninputs: {x: [4]}\nlayers:\n  - dense: 2\n"
                    "training:\n  loss: mse\n  init_from: {model: ../model.keras}\n")
    result = run_cli("validate", "specs/spec.yaml")
    assert result.exit_code == 1 and "is outside the spec's folder" in result.output
    assert run_cli("validate", "specs/spec.yaml", "--allow-outside").exit_code == 0


# --------------------------------------------------------------------------- build-time checks


def test_normalization_statistics_must_match_the_features(write_spec):
    out = build_problems(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - normalization: {mean: [1, 2], variance: [1, 2]}
    """))
    assert out == ["spec.yaml:4:5: layers[0].normalization: normalization: `mean` has 2 values "
                   "but axis -1 of the input from 'x' has 4 features"]


def test_true_and_false_are_not_numbers(write_spec):
    out = problems(write_spec(
        "name: t\ninputs: {x: [4]}\nlayers:\n  - dense: {units: true, use_bias: false}\n"
        "  - dropout: {rate: false}\n"))
    assert out == ["spec.yaml:4:20: layers[0].dense.units: expected a whole number, got true",
                   "spec.yaml:5:21: layers[1].dropout.rate: expected a number, got false"]


# ------------------------------------------------------------ Python habits, Keras layers


def test_python_tuples_and_none_get_a_yaml_hint(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [8, 8, 1]}
        layers:
          - conv2d:
              filters: 2
              kernel: (3, 3)
              strides: None
          - max_pool2d: {pool: (2, 2)}
          - dense: {units: 3, input_shape: [64]}
    """))
    assert out == [
        "spec.yaml:6:15: layers[0].conv2d.kernel: expected an integer or a list, got '(3, 3)' "
        "(YAML has no tuples: write [3, 3])",
        "spec.yaml:7:16: layers[0].conv2d.strides: expected an integer or a list, got 'None' "
        "(YAML writes no value as null or ~)",
        "spec.yaml:8:24: layers[1].max_pool2d.pool: expected an integer or a list, got '(2' "
        "(YAML has no tuples: write a list in brackets, e.g. [3, 3])",
        "spec.yaml:8:28: layers[1].max_pool2d.2): unknown key '2)': the end of a Python tuple? "
        "YAML has no tuples; write a list in brackets, e.g. [3, 3]",
        "spec.yaml:9:23: layers[2].dense.input_shape: unknown key 'input_shape': shapes are "
        "given once, under `inputs:`, e.g. inputs: {x: {shape: [28, 28, 1]}}; layers take "
        "theirs from their inputs",
    ]


def test_an_unmerged_bidirectional_layer_must_be_indexed(write_spec):
    path = write_spec("""
        name: t
        inputs: {x: [6, 4]}
        layers:
          - bidirectional: {layer: {gru: 3}, merge_mode: null, name: bi}
          - dense: 2
    """)
    assert build_problems(path) == [
        "spec.yaml:5:5: layers[1].dense.inputs: 'bi' has merge_mode: null, so its forward and "
        "backward outputs stay apart: write bi[0] (forward) and bi[1] (backward), or set "
        "merge_mode (concat, sum, mul, ave)"]
    path = write_spec("""
        name: t
        inputs: {x: [6, 4]}
        layers:
          - bidirectional: {layer: {gru: 3}, merge_mode: null, name: bi}
          - concatenate: {inputs: ["bi[0]", "bi[1]"]}
    """)
    assert build(load_spec(path), check_expect=False).model.output_shape == (None, 6)


def test_mistakes_with_the_keras_layers(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [6, 4]}
        layers:
          - conv1d_transpose: {filters: 2, kernel: 3, strides: 2, output_padding: 2}
          - multi_head_attention: {num_heads: 0, key_dim: 4}
    """))
    assert out == [
        "spec.yaml:4:75: layers[0].conv1d_transpose.output_padding: `output_padding` 2 must be "
        "smaller than `strides` 2",
        "spec.yaml:5:39: layers[1].multi_head_attention.num_heads: expected a number > 0, got 0"]
    for layer, message in [
        ("- group_norm: {groups: 3, inputs: x}",
         "spec.yaml:4:5: layers[0].group_norm: group_norm: 4 channels of 'x' "
         "do not split into 3 groups; use a divisor of 4"),
        ("- attention: {inputs: [x, y]}",
         "spec.yaml:4:5: layers[0].attention: attention: the query 'x' has 4 features and the "
         "key 'y' 5; dot-product attention needs the same number (add a dense layer to one of "
         "them, or use multi_head_attention)"),
        ("- multi_head_attention: {num_heads: 2, key_dim: 2, inputs: [x, y, x]}",
         "spec.yaml:4:5: layers[0].multi_head_attention: multi_head_attention: the value 'y' "
         "(3, 5) and the key 'x' (6, 4) must have as many steps"),
        ("- cropping1d: {cropping: [3, 3], inputs: x}",
         "spec.yaml:4:5: layers[0].cropping1d: cropping1d: cropping 3 + 3 "
                                 "leaves nothing of 6 along axis 1 of shape (6, 4) from 'x'"),
    ]:
        path = write_spec(f"name: t\ninputs: {{x: [6, 4], y: [3, 5]}}\nlayers:\n  {layer}\n")
        assert build_problems(path) == [message]


# ------------------------------------------------------------ porting keras.applications


COMMA = ("inside {...} or [...] a comma ends a value: put an expression with commas in quotes, "
         'e.g. units: "min($a, $b)"')


def test_an_expression_cut_at_a_comma_in_a_flow_mapping_says_so(write_spec):
    out = problems(write_spec("""
        name: t
        vars: {a: 3, b: 4}
        inputs: {x: [8]}
        blocks:
          blk:
            params: {units: 2}
            layers:
              - dense: $units
        layers:
          - dense: {units: min($a, $b)}
          - blk: {units: max($a, $b)}
          - dense: {units: "min($a, $b)"}
    """))
    assert out == [
        "spec.yaml:11:26: layers[1].blk: block 'blk' has no parameter '$b)': the end of an "
        f"expression cut at a comma? I{COMMA[1:]}",
        f"spec.yaml:10:20: layers[0].dense.units: expected an integer, got 'min(3' (cut at a "
        f"comma? {COMMA})",
        "spec.yaml:10:28: layers[0].dense.$b): unknown key '$b)': the end of an expression cut "
        f"at a comma? I{COMMA[1:]}",
        "spec.yaml:8:9: blocks.blk.layers[0].dense.units (in 'blk_1', layers[1].blk): expected "
        f"an integer, got 'max(3' (cut at a comma? {COMMA})",
    ]


def test_arithmetic_on_numbers_and_unknown_operations_are_explained(write_spec):
    out = problems(write_spec("""
        name: t
        vars: {pads: [1, 2]}
        inputs: {x: [8, 8, 3]}
        layers:
          - rescaling: {scale: 1/255}
          - flatten
          - dense: {units: 64 * 2}
          - dense: {units: "$pads[0:1]"}
    """))
    assert out == [
        "spec.yaml:8:20: layers[3].dense.units: '$pads[0:1]' uses something expressions do not "
        "allow (allowed: numbers, 'text', [lists], $variables, $list[i], + - * / // % **, "
        "comparisons, and/or/not, if/else, min(), max(), abs(), int(), float(), round(), "
        "floor(), ceil(), sqrt(), str(), len(), shape())",
        "spec.yaml:5:24: layers[0].rescaling.scale: expected a number or a list, got '1/255' "
        '(arithmetic is an expression: write "${1/255}", or the number itself)',
        "spec.yaml:7:20: layers[2].dense.units: expected an integer, got '64 * 2' "
        '(arithmetic is an expression: write "${64 * 2}", or the number itself)',
    ]
    spec = load_spec(write_spec("""
        name: t
        inputs: {x: [8, 8, 3]}
        layers:
          - rescaling: {scale: "${1 / 255}"}
    """))
    assert spec.entries[0][1].scale == pytest.approx(1 / 255)


def test_repeat_counts_from_zero_and_a_spec_must_keep_a_layer(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [8]}
        layers:
          - dense: {units: 2, repeat: -1}
    """))
    assert out == ["spec.yaml:4:31: layers[0].dense.repeat: `repeat` must be a whole number "
                   "from 0 to 256 (0 leaves the layer out), got -1"]
    out = problems(write_spec("""
        name: t
        vars: {n: 1}
        inputs: {x: [8]}
        layers:
          - dense: {units: 2, repeat: $n - 1}
    """))
    assert out == ["spec.yaml:5:3: layers: the layers expand to no layer at all (is every "
                   "`repeat:` 0?); a model needs at least one"]


@pytest.mark.parametrize(("layer", "message"), [
    ("- dropout: {rate: 0.1, noise_shape: [null, 1, 1], inputs: x}",
     "dropout: noise_shape [null, 1, 1] has 3 axes but the input from 'x' has 4, "
     "(None, 8, 8, 3) (the batch axis counts: write null for it, e.g. [null, 1, 1, 1])"),
    ("- dropout: {rate: 0.1, noise_shape: [null, 8, 1, 2], inputs: x}",
     "dropout: noise_shape [null, 8, 1, 2] does not fit the input (None, 8, 8, 3) from 'x': "
     "axis 3 must be null, 1 or 3"),
    ("- rescaling: {scale: [1, 2], inputs: x}",
     "rescaling: `scale` has 2 values but the input from 'x' has 3 channels (its last axis)"),
    # Keras broadcasts a lower rank from the right: (None, 8) does not fit (None, 8, 8, 3) ...
    ("- multiply: {inputs: [x, v]}",
     "multiply needs equal shapes, got (None, 8, 8, 3) from 'x' and (None, 8) from 'v'"),
    # ... and the siamese distance wants equal ranks.
    ("- distance: {inputs: [w, x]}",
     "distance needs equal shapes, got (None, 3) from 'w' and (None, 8, 8, 3) from 'x'"),
])
def test_shape_mistakes_with_the_layers_of_keras_applications(write_spec, layer, message):
    path = write_spec(f"name: t\ninputs: {{x: [8, 8, 3], v: [8], w: [3]}}\nlayers:\n  {layer}\n")
    assert build_problems(path) == [f"spec.yaml:4:5: layers[0].{layer[2:].split(':')[0]}: "
                                    f"{message}"]


def test_dilated_depthwise_convolution_cannot_stride(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [8, 8, 3]}
        layers:
          - depthwise_conv2d: {kernel: 3, strides: 2, dilation_rate: 2}
    """))
    assert out == [
        "spec.yaml:4:62: layers[0].depthwise_conv2d.dilation_rate: `dilation` 2 cannot be "
        "combined with `strides` 2: a dilated convolution moves one step at a time (use "
        "strides: 1 and a pooling layer after it, or dilation: 1)"]
