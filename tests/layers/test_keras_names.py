"""Keras's own layer names are accepted and resolve to the spec's short names."""

from __future__ import annotations

import keras
import numpy as np
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
    ("Convolution2D", "conv2d"), ("Conv1DTranspose", "conv1d_transpose"),
    ("Convolution2DTranspose", "conv2d_transpose"), ("Cropping1D", "cropping1d"),
    ("SeparableConvolution2D", "separable_conv2d"), ("GroupNormalization", "group_norm"),
    ("MultiHeadAttention", "multi_head_attention"), ("Attention", "attention"),
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


def test_a_transformer_encoder_block_matches_the_same_block_in_keras(write_spec):
    path = write_spec("""
        name: encoder
        inputs: {tokens: [12, 16]}
        layers:
          - MultiHeadAttention: {num_heads: 4, key_dim: 8, dropout: 0.1, name: att}
          - Add: {inputs: [tokens, att]}
          - LayerNormalization: {epsilon: 1.0e-6, name: norm1}
          - Dense: {units: 32, activation: relu}
          - Dense: {units: 16, name: ffn}
          - Add: {inputs: [norm1, ffn]}
          - LayerNormalization: {epsilon: 1.0e-6}
          - GlobalAveragePooling1D: {}
          - Dense: {units: 3, activation: softmax}
        """)
    model = build_model(load_spec(path))
    tokens = keras.Input((12, 16))
    att = keras.layers.MultiHeadAttention(4, 8, dropout=0.1)(tokens, tokens)
    norm1 = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([tokens, att]))
    ffn = keras.layers.Dense(16)(keras.layers.Dense(32, activation="relu")(norm1))
    x = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([norm1, ffn]))
    x = keras.layers.GlobalAveragePooling1D()(x)
    reference = keras.Model(tokens, keras.layers.Dense(3, activation="softmax")(x))
    # attention 3·4·8·(16 + 1) + 16·(32 + 1) = 2,160; norms 2·32; dense 544 + 528 + 51
    assert model.count_params() == reference.count_params() == 3_347
    assert model.output_shape == reference.output_shape
    # Same weights in, same numbers out.
    reference.set_weights(model.get_weights())
    sample = np.random.default_rng(0).normal(size=(2, 12, 16)).astype("float32")
    np.testing.assert_allclose(model(sample), reference(sample), rtol=1e-5, atol=1e-6)


def test_keras_initializer_class_names_and_padding_case(write_spec):
    path = write_spec("""
        name: k
        inputs: {x: [8, 8, 1]}
        layers:
          - Conv2D: {filters: 2, kernel_size: 3, padding: SAME, kernel_initializer: GlorotUniform}
          - MaxPooling2D: {pool_size: 2, padding: Valid}
          - Conv2DTranspose: {filters: 2, kernel_size: 3, strides: 2, output_padding: 1,
                              kernel_initializer: {RandomNormal: {stddev: 0.02}}}
          - Flatten: {}
          - Dense: {units: 3, kernel_initializer: HeNormal}
        """)
    model = build_model(load_spec(path))
    conv, pool, up, _, dense = model.layers[1:]
    assert conv.padding == "same" and pool.padding == "valid"
    assert type(conv.kernel_initializer).__name__ == "GlorotUniform"
    assert type(up.kernel_initializer).__name__ == "RandomNormal"
    assert up.kernel_initializer.stddev == pytest.approx(0.02)
    assert type(dense.kernel_initializer).__name__ == "HeNormal"
    # (4 − 1)·2 + 3 + output_padding 1
    assert up.output.shape == (None, 10, 10, 2)


def test_keras_spellings_a_port_of_keras_applications_uses(write_spec):
    """EfficientNet, MobileNet and Xception as Keras's sources write them."""
    path = write_spec("""
        name: k
        inputs: {x: [16, 16, 3]}
        layers:
          - Rescaling: {scale: [0.5, 0.25, 2.0], offset: [0, 1, 2]}
          - Conv2D: {filters: 8, kernel_size: 3, padding: same, name: c,
                     kernel_initializer: {class_name: VarianceScaling,
                        config: {scale: 2.0, mode: fan_out, distribution: truncated_normal}}}
          - ReLU: 6
          - DepthwiseConv2D: {kernel_size: 3, padding: same, dilation_rate: 2,
                              depthwise_initializer: {class_name: Zeros, config: {}},
                              depthwise_regularizer: {l2: 1.0e-4}}
          - SeparableConv2D: {filters: 8, kernel_size: 3, padding: same, dilation_rate: 2}
          - Activation: hard_swish
          - GlobalAveragePooling2D: {name: squeeze}
          - Dense: {units: 8, activation: sigmoid, name: gate}
          - Multiply: {inputs: [c, gate], name: excite}   # (None, 16, 16, 8) × (None, 8)
          - Dropout: {rate: 0.2, noise_shape: [null, 1, 1, 1], name: drop}
        """)
    model = build_model(load_spec(path))
    layer = model.get_layer
    assert model.output_shape == (None, 16, 16, 8)
    assert layer("rescaling_1").scale == [0.5, 0.25, 2.0]
    init = layer("c").kernel_initializer
    assert type(init).__name__ == "VarianceScaling"
    assert (init.scale, init.mode, init.distribution) == (2.0, "fan_out", "truncated_normal")
    assert layer("relu_1").max_value == 6
    depthwise = layer("depthwise_conv2d_1")
    assert depthwise.dilation_rate == (2, 2)
    assert type(depthwise.depthwise_initializer).__name__ == "Zeros"
    assert depthwise.depthwise_regularizer.l2 == pytest.approx(1e-4)
    assert layer("separable_conv2d_1").dilation_rate == (2, 2)
    assert layer("activation_1").activation is keras.activations.hard_silu
    assert layer("drop").noise_shape == (None, 1, 1, 1)
    # The gate of lower rank scales each channel, as Keras's Multiply broadcasts it.
    x = np.random.default_rng(0).random((2, 16, 16, 3)).astype("float32")
    c, gate, excite = keras.Model(model.input, [layer("c").output, layer("gate").output,
                                                layer("excite").output])(x)
    np.testing.assert_allclose(excite, np.asarray(c) * np.asarray(gate)[:, None, None, :],
                               rtol=1e-6)


def test_dropout_noise_shape_drops_whole_examples(write_spec):
    path = write_spec("""
        name: k
        inputs: {x: [4, 4, 2]}
        layers:
          - Dropout: {rate: 0.5, noise_shape: [null, 1, 1, 1], seed: 3}
        """)
    model = build_model(load_spec(path))
    y = np.asarray(model(np.ones((64, 4, 4, 2), "float32"), training=True)).reshape(64, -1)
    kept = y[:, 0] > 0
    assert np.all(y == y[:, :1]) and 0 < kept.sum() < 64   # all of an example, or none
    np.testing.assert_allclose(y[kept], 2.0)


def test_time_distributed_takes_a_bare_layer_name(tmp_path):
    from compiler.api import build_model, load_spec

    spec = tmp_path / "td.yaml"
    spec.write_text("name: td\ninputs: {x: [4, 3, 2]}\nlayers:\n"
                    "  - time_distributed: {layer: flatten}\n")
    assert build_model(load_spec(str(spec))).output_shape == (None, 4, 6)
