"""Every class of spec error: located as file:line:col: dotted.path, all at once."""

from __future__ import annotations

import pytest

from compiler.api import build_model, load_spec
from compiler.errors import SpecError


def problems(path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [str(p) for p in info.value.problems]


def test_wrong_type_is_located_at_the_value(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - dense: {units: 64a}
    """))
    assert out == ["spec.yaml:4:20: layers[0].dense.units: expected an integer, got '64a'"]


def test_all_problems_are_reported_at_once(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - dense: {units: -3}
          - desne: {units: 4}
          - dropout: {rate: 1.5}
          - conv2d: {filters: 3}
          - dense: {units: 3, activaton: relu}
          - dense: {units: 2, activation: rleu}
        outputz: [x]
    """))
    text = "\n".join(out)
    assert "spec.yaml:4:20: layers[0].dense.units: expected a number > 0, got -3" in text
    assert "spec.yaml:5:5: layers[1]: unknown layer type 'desne' (did you mean 'dense'?)" in text
    assert "spec.yaml:6:21: layers[2].dropout.rate: expected a number < 1.0, got 1.5" in text
    assert "spec.yaml:7:13: layers[3].conv2d.kernel: missing required key 'kernel'" in text
    assert ("spec.yaml:8:23: layers[4].dense.activaton: unknown key 'activaton' "
            "(did you mean 'activation'?)") in text
    assert ("layers[5].dense.activation: expected one of" in text
            and "(did you mean 'relu'?)" in text)
    assert "spec.yaml:10:1: outputz: unknown section 'outputz' (did you mean 'outputs'?)" in text
    assert len(out) == 7


def test_unknown_input_reference(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - dense: {units: 3, name: c2}
          - dense: {units: 3, inputs: c3}
    """))
    assert out == ["spec.yaml:5:31: layers[1].dense.inputs: unknown layer 'c3' (did you mean "
                   "'c2'?); a layer can take inputs from the spec's `inputs:` and layers above it"]


def test_duplicate_layer_names(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - dense: {units: 3, name: a}
          - dense: {units: 3, name: a}
    """))
    assert out == ["spec.yaml:5:29: layers[1].dense: the name 'a' is used twice; layer names "
                   "must be unique"]


def test_unknown_variable_is_located(write_spec):
    out = problems(write_spec("""
        name: t
        vars: {width: 3}
        inputs: {x: [4]}
        layers:
          - dense: {units: $widht * 2}
    """))
    assert out == ["spec.yaml:5:20: layers[0].dense.units: unknown variable '$widht' "
                   "(did you mean 'width'?) (known: $width)"]


def test_wrong_number_of_inputs(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - add: {units: 3}
    """))
    assert any("unknown key 'units'" in p for p in out)
    out = problems(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - add: {}
    """, "b.yaml"))
    assert out == ["b.yaml:4:5: layers[0].add: add takes at least 2 input(s), got 1 (x)"]


def test_missing_sections_and_bad_name(write_spec):
    out = problems(write_spec("layers: [{dense: 1}]\n"))
    text = "\n".join(out)
    assert "the spec needs `inputs:`" in text
    assert "name: missing required key 'name'" in text


def test_error_inside_a_block_points_at_the_block_line_and_its_use(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [4]}
        blocks:
          b:
            layers:
              - dense: {units: 0}
        layers:
          - b: {name: first}
    """))
    assert out == ["spec.yaml:6:24: blocks.b.layers[0].dense.units (in 'first', layers[0].b): "
                   "expected a number > 0, got 0"]


def test_shape_mismatch_names_both_layers_at_the_merge_line(write_spec):
    spec = load_spec(write_spec("""
        name: t
        inputs: {x: [8]}
        layers:
          - dense: {units: 64, name: c2}
          - dense: {units: 32, inputs: x, name: skip}
          - add: {inputs: [c2, skip], name: merge}
    """))
    with pytest.raises(SpecError) as info:
        build_model(spec)
    assert str(info.value) == (
        "spec.yaml:6:5: layers[2].add: add needs equal shapes, got (None, 64) from 'c2' "
        "and (None, 32) from 'skip'")


def test_rank_mismatch_suggests_a_fix(write_spec):
    spec = load_spec(write_spec("""
        name: t
        inputs: {x: [8, 8]}
        layers:
          - conv2d: {filters: 3, kernel: 3}
    """))
    with pytest.raises(SpecError, match=r"spec.yaml:4:5: layers\[0\].conv2d: conv2d expects 3-D "
                       r"examples \(height, width, channels\), got shape \(None, 8, 8\) from 'x'; "
                       r"add `- reshape"):
        build_model(spec)


def test_kernel_larger_than_input(write_spec):
    spec = load_spec(write_spec("""
        name: t
        inputs: {x: [4, 4, 1]}
        layers:
          - conv2d: {filters: 3, kernel: 5}
    """))
    with pytest.raises(SpecError, match="window 5 is larger than the input"):
        build_model(spec)


def test_expect_mismatch_is_located(write_spec):
    spec = load_spec(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - dense: {units: 3, name: y}
        expect: {params: 16, output_shapes: {y: [null, 4]}}
    """))
    with pytest.raises(SpecError) as info:
        build_model(spec)
    text = str(info.value)
    assert ("spec.yaml:5:18: expect.params: the model has 15 parameters; the spec expects 16 "
            "(difference -1)") in text
    assert ("expect.output_shapes.y: output 'y' has shape [None, 3], "
            "the spec expects [None, 4]") in text


def test_unsupported_version(write_spec):
    out = problems(write_spec("nncompile: 7\nname: t\n"))
    assert out == ["spec.yaml:1:12: nncompile: this nncompile reads spec format version 1; "
                   "the spec says 7"]


def test_yaml_syntax_error_is_located(write_spec):
    out = problems(write_spec("name: t\n  x: 1\n"))
    assert out == ["spec.yaml:2:4: invalid YAML: mapping values are not allowed in this context"]


def test_section_errors_are_located_with_suggestions(write_spec):
    out = problems(write_spec("""
        name: t
        inputs: {x: [4]}
        layers:
          - dense: {units: 2}
        data: {builtin: iris, splt: auto}
        training: {loss: msee, optimizer: {adam: {learning_rat: 0.1}},
                   callbacks: [{early_stopping: {patienc: 2}}]}
        export: [tflitee, {tflite: {quantise: int8}}]
    """))
    text = "\n".join(out)
    assert "spec.yaml:5:23: data.splt: unknown key 'splt' (did you mean 'split'?)" in text
    assert "training.loss: unknown loss 'msee' (did you mean 'mse'?)" in text
    assert "training.optimizer.adam.learning_rat: unknown key 'learning_rat' (did you mean " \
           "'learning_rate'?)" in text
    assert "training.callbacks[0].early_stopping.patienc: unknown key 'patienc' (did you mean " \
           "'patience'?)" in text
    assert "spec.yaml:8:10: export[0]: unknown key 'tflitee' (did you mean 'tflite'?)" in text
    assert "export[1].tflite.quantise: unknown key 'quantise' (did you mean 'quantize'?)" in text
    assert len(out) == 6


def test_validate_imports_section_schemas_only_for_sections_present(tmp_path):
    import subprocess
    import sys

    bare = tmp_path / "bare.yaml"
    bare.write_text("name: t\ninputs: {x: [4]}\nlayers:\n  - dense: {units: 2}\n")
    full = tmp_path / "full.yaml"
    full.write_text(bare.read_text() + "training: {loss: mse}\n")
    # One fresh interpreter loads the bare spec first, then the one with `training:`.
    code = ("import sys; from compiler.api import load_spec\n"
            "for path in sys.argv[1:]:\n"
            "    spec = load_spec(path)\n"
            "    print(sorted(m for m in ('compiler.training.schema', 'compiler.data.schema', "
            "'compiler.export.schema') if m in sys.modules), type(spec.training).__name__)")
    seen = subprocess.run([sys.executable, "-c", code, str(bare), str(full)],
                          capture_output=True, text=True, check=True).stdout.strip().splitlines()
    assert seen == ["[] NoneType", "['compiler.training.schema'] TrainingSpec"]


def test_brackets_in_a_flow_list_get_a_quoting_hint(write_spec):
    text = "\n".join(problems(write_spec("""
        name: states
        inputs: {x: [5, 3]}
        layers:
          - lstm: {units: 4, return_state: true, name: enc}
          - lstm: {units: 4, inputs: [x, enc[1], enc[2]]}
    """)))
    assert "invalid YAML" in text and 'quote a value that holds brackets' in text
