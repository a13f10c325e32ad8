"""Keras's own layer names are accepted and resolve to the spec's short names."""

from __future__ import annotations

import keras
import pytest

from compiler.api import build_model, load_spec
from compiler.errors import SpecError
from compiler.layers import KERAS_NAMES, LAYER_TYPES, canonical_type


@pytest.mark.parametrize(("written", "expected"), [
    ("MaxPooling2D", "max_pool2d"), ("max_pooling2d", "max_pool2d"),
    ("BatchNormalization", "batch_norm"), ("GlobalAveragePooling2D", "global_avg_pool2d"),
    ("SimpleRNN", "simple_rnn"), ("LSTM", "lstm"), ("Conv2DTranspose", "conv2d_transpose"),
    ("LeakyReLU", "leaky_relu"), ("PReLU", "prelu"), ("UpSampling2D", "upsampling2d"),
    ("TimeDistributed", "time_distributed"), ("MinimalGRU", "minimal_gru"),
    ("dense", "dense"), ("Lambda", "Lambda"), ("NoSuchLayer", "NoSuchLayer"),
])
def test_canonical_type(written, expected):
    assert canonical_type(written) == expected


def test_every_keras_name_maps_to_a_layer_type_and_matches_the_keras_class():
    for alias, name in KERAS_NAMES.items():
        assert name in LAYER_TYPES and alias not in LAYER_TYPES
    # The snake_case names are those Keras itself gives these classes' layers.
    for cls in (keras.layers.MaxPooling2D, keras.layers.BatchNormalization,
                keras.layers.GlobalAveragePooling1D, keras.layers.UpSampling2D):
        assert canonical_type(cls.__name__) == canonical_type(
            keras.src.utils.naming.to_snake_case(cls.__name__))


def test_a_spec_in_keras_names_builds_like_the_short_one(write_spec):
    keras_style = write_spec("""
        name: k
        inputs: {frames: [5, 16, 16, 3]}
        layers:
          - TimeDistributed: {layer: {Conv2D: {filters: 4, kernel_size: 3, activation: relu}}}
          - TimeDistributed: {layer: {max_pooling2d: {pool_size: 2}}}
          - time_distributed: {layer: {global_average_pooling2d: {}}}
          - Bidirectional: {layer: {LSTM: {units: 8, return_sequences: true}}}
          - LayerNormalization: {}
          - GRU: {units: 4}
          - Dense: {units: 3, activation: softmax, name: out}
        """, "keras.yaml")
    short = write_spec("""
        name: s
        inputs: {frames: [5, 16, 16, 3]}
        layers:
          - time_distributed: {layer: {conv2d: {filters: 4, kernel: 3, activation: relu}}}
          - time_distributed: {layer: {max_pool2d: {pool: 2}}}
          - time_distributed: {layer: {global_avg_pool2d: {}}}
          - bidirectional: {layer: {lstm: {units: 8, return_sequences: true}}}
          - layer_norm: {}
          - gru: {units: 4}
          - dense: {units: 3, activation: softmax, name: out}
        """, "short.yaml")
    a, b = build_model(load_spec(keras_style)), build_model(load_spec(short))
    # conv 112 + BiLSTM 832 + layer norm 32 + GRU 264 + dense 15
    assert a.count_params() == b.count_params() == 1255
    assert a.output_shape == b.output_shape == (None, 3)
    resolved = load_spec(keras_style).resolved_tree()
    assert [next(iter(e)) for e in resolved["layers"]][:2] == ["time_distributed"] * 2


def test_time_distributed_checks_the_wrapped_layer_on_one_step(write_spec):
    path = write_spec("""
        name: t
        inputs: {x: [7, 4]}
        layers:
          - time_distributed: {layer: {lstm: {units: 5}}}
        """)
    with pytest.raises(SpecError, match=r"spec.yaml:4:\d+: .*lstm expects sequences"):
        build_model(load_spec(path))
    bad = write_spec("""
        name: t
        inputs: {x: [7, 4]}
        layers:
          - time_distributed: {layer: {lstn: {units: 5}}}
        """, "bad.yaml")
    with pytest.raises(SpecError, match=r"unknown layer type 'lstn' \(did you mean 'lstm'\?\)"):
        load_spec(bad)


def test_keras_spellings_of_scalars_relu_and_reshape(write_spec):
    path = write_spec("""
        name: k
        inputs: {x: [16, 16, 3]}
        layers:
          - Rescaling: 0.5
          - Conv2D: {filters: 4, kernel_size: 3, kernel_initializer: uniform}
          - ReLU: {max_value: 6}
          - MaxPooling2D: 2
          - LeakyReLU: 0.2
          - Reshape: {target_shape: [-1]}
        """)
    model = build_model(load_spec(path))
    assert model.output_shape == (None, 196)
    kinds = [type(layer).__name__ for layer in model.layers[1:]]
    assert kinds == ["Rescaling", "Conv2D", "ReLU", "MaxPooling2D", "LeakyReLU", "Reshape"]
    assert model.layers[5].negative_slope == pytest.approx(0.2)


def test_keras_additive_attention_is_not_taken_for_bahdanaus(write_spec):
    path = write_spec("""
        name: k
        inputs: {q: [3, 8], v: [5, 8]}
        layers:
          - AdditiveAttention: {inputs: [q, v]}
        """)
    with pytest.raises(SpecError, match="unknown layer type 'AdditiveAttention'"):
        load_spec(path)


def test_a_block_instance_named_in_outputs_can_be_used_in_expect(write_spec):
    path = write_spec("""
        name: k
        inputs: {x: [4]}
        blocks:
          head:
            layers:
              - dense: 3
              - dense: 2
        layers:
          - head: {name: top}
        outputs: [top]
        expect: {params: 23, output_shapes: {top: [null, 2]}}
        """)
    assert build_model(load_spec(path)).count_params() == 23
