"""The layer types' shape rules and weight counts, without TensorFlow, against Keras.

Every case of the catalogue test (one spec per layer type) is validated, which
runs the shape rules, and built: each layer's output shape and weight count must
be Keras's. A layer type whose rule says "unknown" fails here until it has one.
"""

from __future__ import annotations

import pytest

from compiler.api import build_model
from compiler.layers import LAYER_TYPES
from compiler.spec.shapes import reaching
from tests.helpers import entry_weight_count, load_text, spec_text
from tests.layers.test_catalogue import CASES, case_marks


def _shape(tensor) -> tuple:
    return tuple(None if d is None else int(d) for d in tensor.shape)


def check_against_keras(tmp_path, name: str, inputs: dict, layers: str,
                        outputs: list[str] | None = None) -> None:
    spec = load_text(tmp_path, spec_text(name, inputs, layers, outputs))
    report = spec.shape_report
    model = build_model(spec)
    assert [report.shape_of(ref) for ref in spec.outputs] == [_shape(t) for t in model.outputs]
    names = {layer.name for layer in model.layers}
    entry_names = [entry.name for entry, _ in spec.entries]
    for entry, _ in spec.entries:
        if entry.name in names:
            assert report.params[entry.name] == entry_weight_count(model, entry.name,
                                                                   entry_names), entry.name
    assert report.total_params(reaching(spec.outputs, spec.entries, spec.instances)) \
        == model.count_params()


@pytest.mark.parametrize("type_name", [
    pytest.param(name, marks=case_marks(name, building=True)) for name in sorted(LAYER_TYPES)
])
def test_shape_rule_and_weight_count_are_keras_s(tmp_path, type_name):
    case = CASES[type_name]
    check_against_keras(tmp_path, f"t_{type_name}", case.inputs, case.layers, case.outputs)


# Options that change a shape or a weight count, beyond the catalogue's one case per type.
VARIANTS = {
    "gru_reset_before": ({"x": [5, 3]}, "- gru: {units: 4, reset_after: false}"),
    "lstm_no_bias_states": ({"x": [5, 3]},
                            "- lstm: {units: 4, use_bias: false, return_state: true,\n"
                            "         return_sequences: true, name: l}", ["l", "l[1]", "l[2]"]),
    "simple_rnn_no_bias": ({"x": [5, 3]}, "- simple_rnn: {units: 2, use_bias: false}"),
    "bidirectional_states": ({"x": [5, 3]},
                             "- bidirectional: {layer: {lstm: {units: 3, return_state: true}},\n"
                             "                  merge_mode: sum, name: b}",
                             ["b", "b[1]", "b[4]"]),
    "bidirectional_unmerged": ({"x": [5, 3]},
                               "- bidirectional: {layer: {gru: {units: 3}}, merge_mode: null,\n"
                               "                  name: b}", ["b[0]", "b[1]"]),
    "batch_norm_no_scale": ({"x": [4, 6]}, "- batch_norm: {center: false, scale: false}"),
    "conv1d_causal_dilated": ({"x": [9, 2]},
                              "- conv1d: {filters: 3, kernel: 2, padding: causal, dilation: 4}"),
    "conv2d_same_stride": ({"x": [7, 9, 2]},
                           "- conv2d: {filters: 3, kernel: 3, strides: 2, padding: same,\n"
                           "           use_bias: false}"),
    "conv2d_groups_widths": ({"x": [6, 6, 4]},
                             "- conv2d: {filters: 6, kernel: [3, 1], groups: 2,\n"
                             "           padding: [[1, 2], [0, 1]]}"),
    "conv2d_transpose_same": ({"x": [3, 5, 2]},
                              "- conv2d_transpose: {filters: 2, kernel: 3, strides: 2, "
                              "padding: same}"),
    "conv2d_transpose_output_padding": ({"x": [3, 3, 2]},
                                        "- conv2d_transpose: {filters: 2, kernel: 3, strides: 2,"
                                        " output_padding: 1}"),
    "max_pool2d_same": ({"x": [7, 5, 1]}, "- max_pool2d: {pool: 3, strides: 2, padding: same}"),
    "global_pool_keepdims": ({"x": [4, 4, 3]}, "- global_avg_pool2d: {keepdims: true}"),
    "dot_sequences": ({"a": [3, 4], "b": [5, 4]}, "- dot: {inputs: [a, b], axes: [2, 2]}"),
    "multiply_broadcast": ({"a": [3], "b": [2, 2, 3]}, "- multiply: {inputs: [b, a]}"),
    "reshape_inferred": ({"x": [6, 4]}, "- reshape: [-1, 2]"),
    "flatten_then_dense": ({"x": [3, 4, 2]}, "- flatten\n- dense: 5"),
    "normalization_adapted": ({"x": [3, 2]}, "- normalization: {axis: -1}"),
    "normalization_all": ({"x": [3, 2]}, "- normalization: {axis: null}"),
    "time_distributed_conv": ({"x": [4, 6, 6, 1]},
                              "- time_distributed: {layer: {conv2d: {filters: 2, kernel: 3}}}"),
    "mha_cross": ({"q": [3, 4], "v": [5, 6]},
                  "- multi_head_attention: {num_heads: 2, key_dim: 3, value_dim: 2,\n"
                  "                         output_shape: 7, inputs: [q, v]}"),
    "attention_concat": ({"q": [3, 4], "v": [5, 4]},
                         "- attention: {score_mode: concat, use_scale: true, inputs: [q, v]}"),
    "additive_attention_sequence": ({"q": [3, 4], "v": [5, 6]},
                                    "- additive_attention: {units: 3, use_bias: false,\n"
                                    "                       inputs: [q, v]}"),
    "depthwise_multiplier": ({"x": [5, 5, 3]},
                             "- depthwise_conv2d: {kernel: 3, depth_multiplier: 3, strides: 2}"),
    "conv_lstm_states": ({"x": [3, 6, 6, 2]},
                         "- conv_lstm2d: {filters: 4, kernel: 3, return_state: true,\n"
                         "                return_sequences: true, name: c}", ["c", "c[2]"]),
    "shared_block": ({"a": [4], "b": [4]},
                     "- dense: {units: 3, inputs: a, name: d}\n"
                     "- apply: {layer: d, inputs: b, name: again}\n"
                     "- add: {inputs: [d, again]}"),
}


@pytest.mark.long
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_option_variants_are_keras_s(tmp_path, name):
    inputs, layers, *outputs = VARIANTS[name]
    check_against_keras(tmp_path, name, inputs, layers, outputs[0] if outputs else None)
