"""The spec language's new pieces, each in an example network compared with plain Keras.

WaveNet (blocks with two outputs, `wave_*.skip`, `$index` dilations), the
transformer text classifier (position_embedding, `shape(in)[-1]`), the VAE
(sampling, sub-models) and an option-A ResNet shortcut (channel_padding): each
spec is built once, and the same network written in Keras must have the same
parameter count and weight shapes, and give the same outputs once it has the
spec model's weights.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers, ops

from compiler.api import build_model, load_spec
from compiler.build.submodel import build_submodel
from tests.helpers import load_text

SPECS = Path(__file__).resolve().parents[2] / "specs"


def same_network(ours, theirs, x) -> None:
    """Same weights (count, shapes, order); after copying ours, the same outputs."""
    assert ours.count_params() == theirs.count_params()
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(np.asarray(ours(x, training=False)),
                               np.asarray(theirs(x, training=False)), rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def wavenet():
    spec = load_spec(SPECS / "wavenet.yaml")
    return spec, build_model(spec)


def keras_wavenet(channels=16, skip_channels=32, blocks=6, classes=64):
    audio = keras.Input((64, 1))
    x = layers.Conv1D(channels, 2, padding="causal")(audio)
    skips = []
    for i in range(blocks):
        f = layers.Conv1D(channels, 2, padding="causal", dilation_rate=2 ** i,
                          activation="tanh")(x)
        g = layers.Conv1D(channels, 2, padding="causal", dilation_rate=2 ** i,
                          activation="sigmoid")(x)
        gated = layers.Multiply()([f, g])
        skips.append(layers.Conv1D(skip_channels, 1)(gated))
        x = layers.Add()([x, layers.Conv1D(channels, 1)(gated)])
    s = layers.Activation("relu")(layers.Add()(skips))
    s = layers.Conv1D(skip_channels, 1, activation="relu")(s)
    return keras.Model(audio, layers.Conv1D(classes, 1, activation="softmax")(s))


def test_wavenet_is_the_keras_network(wavenet):
    spec, model = wavenet
    x = np.random.default_rng(0).uniform(-1, 1, (2, 64, 1)).astype("float32")
    same_network(model, keras_wavenet(), x)
    dilations = [layer.dilation for entry, layer in spec.entries
                 if entry.name.endswith("_filter")]
    assert dilations == [1, 2, 4, 8, 16, 32]  # 2 ** $index, one per copy
    skips = next(entry for entry, _ in spec.entries if entry.name == "skips")
    assert skips.inputs == [f"wave_{i}_skip" for i in range(1, 7)]  # wave_*.skip
    assert spec.instances["wave_3"].outputs == {"res": "wave_3_res", "skip": "wave_3_skip"}


def test_wavenet_is_causal(wavenet):
    _, model = wavenet
    x = np.random.default_rng(1).uniform(-1, 1, (1, 64, 1)).astype("float32")
    later = x.copy()
    later[:, 40:] = 0.0  # only the future of step 39 changes
    a, b = np.asarray(model(x)), np.asarray(model(later))
    np.testing.assert_allclose(a[:, :40], b[:, :40], rtol=1e-6)
    assert not np.allclose(a[:, 40:], b[:, 40:])


class TokenAndPositionEmbedding(layers.Layer):
    """keras-io's layer: token embeddings plus the embeddings of range(maxlen)."""

    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(vocab_size, embed_dim)
        self.pos_emb = layers.Embedding(maxlen, embed_dim)

    def call(self, x):
        positions = ops.arange(0, ops.shape(x)[-1], 1)
        return self.token_emb(x) + self.pos_emb(positions)


def keras_transformer_classifier(vocab=2000, maxlen=64, dim=32, heads=2, ff=32):
    tokens = keras.Input((maxlen,), dtype="int32")
    x = TokenAndPositionEmbedding(maxlen, vocab, dim)(tokens)
    attention = layers.MultiHeadAttention(num_heads=heads, key_dim=dim)(x, x)
    out1 = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(0.1)(attention))
    ffn = layers.Dense(dim)(layers.Dense(ff, activation="relu")(out1))
    x = layers.LayerNormalization(epsilon=1e-6)(out1 + layers.Dropout(0.1)(ffn))
    x = layers.Dropout(0.1)(layers.GlobalAveragePooling1D()(x))
    x = layers.Dropout(0.1)(layers.Dense(20, activation="relu")(x))
    return keras.Model(tokens, layers.Dense(2, activation="softmax")(x))


def test_transformer_classifier_is_the_keras_io_network_with_one_input():
    spec = load_spec(SPECS / "transformer_classifier.yaml")
    model = build_model(spec)
    assert list(spec.inputs) == ["tokens"] and len(model.inputs) == 1
    attention = next(layer for entry, layer in spec.entries if entry.name == "encoder_attention")
    assert attention.key_dim == 32  # ${shape(in)[-1]}: the width of the block's input
    x = np.random.default_rng(0).integers(0, 2000, (3, 64)).astype("int32")
    same_network(model, keras_transformer_classifier(), x)


class KerasIoSampling(layers.Layer):
    """keras-io's sampling layer, giving μ outside training (`inference: mean`)."""

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        if not training:
            return z_mean
        eps = keras.random.normal(ops.shape(z_mean))
        return z_mean + ops.exp(0.5 * z_log_var) * eps


def keras_vae():
    image = keras.Input((8, 8, 1))
    h = layers.Dense(64, activation="relu")(layers.Flatten()(image))
    z_mean, z_log_var = layers.Dense(2)(h), layers.Dense(2)(h)
    z = KerasIoSampling()([z_mean, z_log_var])
    d = layers.Dense(64, activation="sigmoid")(layers.Dense(64, activation="relu")(z))
    return keras.Model(image, layers.Reshape((8, 8, 1))(d))


@pytest.fixture(scope="module")
def vae():
    spec = load_spec(SPECS / "vae_digits.yaml")
    return spec, build_model(spec)


def test_vae_is_the_keras_network_and_decodes_its_mean_at_inference(vae):
    _, model = vae
    x = np.random.default_rng(0).uniform(0, 1, (4, 8, 8, 1)).astype("float32")
    same_network(model, keras_vae(), x)


def test_sampling_draws_around_the_mean_while_training_and_adds_the_kl_term(vae):
    _, model = vae
    layer = model.get_layer("z")
    mean = np.full((4000, 2), [1.0, -2.0], "float32")
    log_var = np.full((4000, 2), [0.0, np.log(0.25)], "float32")
    z = np.asarray(layer([mean, log_var], training=True))
    np.testing.assert_allclose(z.mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(z.std(0), [1.0, 0.5], atol=0.05)
    np.testing.assert_allclose(np.asarray(layer([mean, log_var], training=False)), mean)
    x = np.random.default_rng(0).uniform(0, 1, (8, 8, 8, 1)).astype("float32")
    model(x, training=True)
    encoded = keras.Model(model.input, [model.get_layer("z_mean").output,
                                        model.get_layer("z_log_var").output])
    mu, lv = (np.asarray(t) for t in encoded(x))
    kl = np.mean(np.sum(-0.5 * (1 + lv - mu ** 2 - np.exp(lv)), axis=-1)) / 64
    np.testing.assert_allclose(float(np.asarray(model.losses[-1])), kl, rtol=1e-4)


def test_the_decoder_sub_model_is_the_part_of_the_graph_after_z(vae):
    spec, model = vae
    decoder, sub = build_submodel(spec, "decoder", model)
    assert [t.name for t in decoder.inputs] == ["z"] and decoder.input_shape == (None, 2)
    assert decoder.count_params() == 2 * 64 + 64 + 64 * 64 + 64  # the two decoder layers
    z = np.random.default_rng(0).normal(size=(5, 2)).astype("float32")
    by_hand = model.get_layer("reconstruction")(model.get_layer("pixels")(
        model.get_layer("decoded")(z)))
    np.testing.assert_allclose(np.asarray(decoder(z)), np.asarray(by_hand), rtol=1e-6)
    assert sub.name == "vae_digits_decoder" and sub.outputs == ["reconstruction"]
    encoder, _ = build_submodel(spec, "encoder", model)
    assert [tuple(t.shape) for t in encoder.outputs] == [(None, 2), (None, 2)]


OPTION_A = """
nncompile: 1
name: option_a
inputs: {image: [8, 8, 16]}
blocks:
  basic:
    params: {filters: null, stride: 1}
    layers:
      - conv2d: {filters: $filters, kernel: 3, strides: $stride, padding: same,
                 use_bias: false, name: conv1}
      - batch_norm: {name: bn1}
      - activation: {activation: relu, name: relu1}
      - conv2d: {filters: $filters, kernel: 3, padding: same, use_bias: false, name: conv2}
      - batch_norm: {name: bn2}
      - max_pool2d: {pool: 1, strides: $stride, inputs: in, name: subsample,
                     repeat: "1 if $stride > 1 else 0"}
      - channel_padding: {channels: $filters, name: shortcut,
                          repeat: "1 if $stride > 1 else 0"}
      - add: {inputs: [bn2, shortcut]}
      - activation: relu
layers:
  - basic: {filters: 16, name: same_size}
  - basic: {filters: 32, stride: 2, name: halved}
"""


def keras_basic(x, filters, stride):
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.Activation("relu")(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same",
                                                  use_bias=False)(y))
    shortcut = x
    if stride > 1:  # option A as Keras code writes it: x[:, ::2, ::2] with zero channels
        extra = filters - x.shape[-1]
        shortcut = layers.Lambda(lambda t: ops.pad(
            t[:, ::2, ::2, :], [[0, 0], [0, 0], [0, 0], [extra // 2, extra - extra // 2]]))(x)
    return layers.Activation("relu")(layers.Add()([y, shortcut]))


def test_option_a_shortcut_is_keras_s_strided_slice_with_zero_channels(tmp_path):
    model = build_model(load_text(tmp_path, OPTION_A))
    image = keras.Input((8, 8, 16))
    reference = keras.Model(image, keras_basic(keras_basic(image, 16, 1), 32, 2))
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype("float32")
    same_network(model, reference, x)
    assert model.get_layer("halved_shortcut").count_params() == 0


def keras_resnet20():
    image = keras.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(image)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        for block in range(3):
            x = keras_basic(x, filters, stride if block == 0 else 1)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(image, layers.Dense(10, activation="softmax")(x))


@pytest.mark.long
def test_resnet20_option_a_is_the_keras_network():
    model = build_model(load_spec(SPECS / "resnet20_option_a.yaml"))
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    same_network(model, keras_resnet20(), x)
