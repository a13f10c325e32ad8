"""Every layer type in the catalogue, built from a spec and run on a small batch.

Each case is a tiny spec written as YAML, loaded with ``load_spec``, built into a
real Keras model and called on random data. The expected output shapes are
computed here from the layer's definition (e.g. (n + 2p − k)/s + 1 for a
convolution), and some cases compare the numbers with a NumPy re-implementation.
A layer type added to ``LAYER_TYPES`` without a case here fails
``test_layer_type`` until one is written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from compiler.api import build_model
from compiler.layers import LAYER_TYPES, all_layer_classes, layer_class
from compiler.layers.base import REGISTRY, LayerSpec
from tests.helpers import load_text, module_exists, spec_text
from tests.layers.cases_3d import CASES as CASES_3D
from tests.layers.cases_spec_language import CASES as CASES_SPEC_LANGUAGE

REPO_ROOT = Path(__file__).resolve().parents[2]
BATCH = 2


# --------------------------------------------------------------------------- #
# NumPy references
# --------------------------------------------------------------------------- #

def conv_size(n: int, k: int, s: int = 1, p: int = 0) -> int:
    """Output length of a valid convolution/pooling window: (n + 2p − k) // s + 1."""
    return (n + 2 * p - k) // s + 1


def np_conv2d(x, kernel, bias, stride=1):
    """Valid 2-D convolution (cross-correlation, as Keras computes it)."""
    kh, kw = kernel.shape[:2]
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("bhwcij,ijcf->bhwf", win, kernel) + bias


def np_conv1d(x, kernel, bias, stride=1):
    k = kernel.shape[0]
    win = sliding_window_view(x, k, axis=1)[:, ::stride]
    return np.einsum("btci,icf->btf", win, kernel) + bias


def np_pool2d(x, pool, stride, reduce):
    win = sliding_window_view(x, (pool, pool), axis=(1, 2))[:, ::stride, ::stride]
    return reduce(win, axis=(-2, -1))


def np_pool1d(x, pool, stride, reduce):
    win = sliding_window_view(x, pool, axis=1)[:, ::stride]
    return reduce(win, axis=-1)


def weights(model, name):
    return [np.asarray(w) for w in model.get_layer(name).get_weights()]


def close(actual, expected, tol=1e-5):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=tol, atol=tol)


# --------------------------------------------------------------------------- #
# The cases
# --------------------------------------------------------------------------- #

Check = Callable[[Any, dict, list], None]


@dataclass
class Case:
    """A spec around one layer type and what its output must be.

    inputs: input name -> shape, or (shape, dtype).
    layers: the YAML list under `layers:`.
    expected: output shape(s) without the batch dimension, one per output.
    check: further checks on (model, inputs, outputs as NumPy arrays).
    needs: a module the layer type imports when built (a custom layer).
    """

    inputs: dict
    layers: str
    expected: list[tuple]
    outputs: list[str] | None = None
    check: Check | None = None
    needs: str | None = None
    int_high: int = 10
    extra: dict = field(default_factory=dict)
    bug: str | None = None
    bug_in_build: bool = False


def same_as_input(model, x, y):
    close(y[0], x["x"])


# numeric checks --------------------------------------------------------------

def check_activation(model, x, y):
    close(y[0], np.maximum(x["x"], 0))


def check_batch_norm(model, x, y):
    # fresh moving statistics: mean 0, variance 1, γ = 1, β = 0; epsilon 0.01
    close(y[0], x["x"] / np.sqrt(1 + 0.01))


def check_cast(model, x, y):
    assert model.outputs[0].dtype == "int32"
    close(y[0], x["x"].astype("int32"))


def check_dense(model, x, y):
    kernel, bias = weights(model, "out")
    close(y[0], x["x"] @ kernel + bias)


def check_detection_head(model, x, y):
    # 1×1 convolutions: sigmoid on the 2·5 box values, softmax over the 3 classes
    boxes_kernel, boxes_bias = weights(model, "out_boxes")
    classes_kernel, classes_bias = weights(model, "out_classes")
    logits = x["x"] @ classes_kernel[0, 0] + classes_bias
    softmax = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    close(y[0], np.concatenate([1 / (1 + np.exp(-(x["x"] @ boxes_kernel[0, 0] + boxes_bias))),
                                softmax], axis=-1))


def check_elu(model, x, y):
    v = x["x"]
    close(y[0], np.where(v > 0, v, 0.5 * (np.exp(v) - 1)))


def check_embedding(model, x, y):
    (table,) = weights(model, "emb")
    close(y[0], table[x["x"]])


def check_flatten(model, x, y):
    close(y[0], x["x"].reshape(BATCH, -1))


def check_layer_norm(model, x, y):
    v = x["x"]
    mean, var = v.mean(-1, keepdims=True), v.var(-1, keepdims=True)
    close(y[0], (v - mean) / np.sqrt(var + 1e-3), tol=1e-4)


def check_leaky_relu(model, x, y):
    v = x["x"]
    close(y[0], np.where(v > 0, v, 0.2 * v))


def check_relu(model, x, y):
    close(y[0], np.clip(x["x"], 0, 0.5))


def check_masking(model, x, y):
    v = x["x"]
    assert np.all(y[0][:, 1] == 0)  # the step set to the mask value stays zero
    close(y[0][:, 0], v[:, 0])


def check_maxout(model, x, y):
    """Each unit is the maximum of its `pieces` affine functions of the input.

    The kernel's columns are grouped by unit: unit u, piece p is column u·pieces + p.
    """
    kernel, bias = weights(model, "mo")
    units, pieces = 3, 4
    assert kernel.shape == (5, units * pieces)
    z = (x["x"] @ kernel + bias).reshape(BATCH, units, pieces)
    close(y[0], z.max(-1))
    assert not np.allclose(y[0], z.mean(-1))


def check_normalization(model, x, y):
    close(y[0], (x["x"] - np.array([1.0, -2.0])) / np.sqrt(np.array([4.0, 0.25])))


def check_permute(model, x, y):
    close(y[0], np.transpose(x["x"], (0, 2, 1)))


def check_prelu(model, x, y):
    v = x["x"]
    close(y[0], np.maximum(v, 0))  # the slope starts at zero
    layer = model.get_layer("pr")
    (alpha,) = layer.get_weights()
    layer.set_weights([np.full_like(alpha, 0.25)])
    close(np.asarray(model(v)), np.where(v > 0, v, 0.25 * v))


def check_repeat(model, x, y):
    close(y[0], np.repeat(x["x"][:, None, :], 3, axis=1))


def check_rescaling(model, x, y):
    close(y[0], x["x"] * 0.5 + 1.0)


def check_reshape(model, x, y):
    close(y[0], x["x"].reshape(BATCH, 3, 4))


def check_softmax(model, x, y):
    e = np.exp(x["x"] - x["x"].max(-1, keepdims=True))
    close(y[0], e / e.sum(-1, keepdims=True))


def merge_check(fn):
    def check(model, x, y):
        close(y[0], fn(x["a"], x["b"]))

    return check


def check_distance(model, x, y):
    close(y[0], np.linalg.norm(x["a"] - x["b"], axis=-1, keepdims=True), tol=1e-4)


def check_dot(model, x, y):
    close(y[0], np.sum(x["a"] * x["b"], axis=-1, keepdims=True))


def check_decoder(model, x, y):
    probs, alpha = y
    close(probs.sum(-1), np.ones((BATCH, 4)))
    close(alpha.sum(-1), np.ones((BATCH, 4)))


def check_attention(model, x, y):
    context, alpha = y
    assert np.all(alpha >= 0)
    close(alpha.sum(-1), np.ones(BATCH))
    close(context, np.einsum("bt,btd->bd", alpha, x["values"]))


def check_lstm_state(model, x, y):
    output, h, c = y
    close(output, h)  # the output of an LSTM is its final hidden state
    assert not np.allclose(h, c)


def check_apply(model, x, y):
    kernel, bias = weights(model, "shared")
    close(y[0], x["a"] @ kernel + bias)
    close(y[1], x["b"] @ kernel + bias)
    assert model.count_params() == 4 * 3 + 3  # one set of weights, used twice


def check_conv2d_int_padding(model, x, y):
    kernel, bias = weights(model, "conv")
    padded = np.pad(x["x"], ((0, 0), (1, 1), (1, 1), (0, 0)))
    close(y[0], np_conv2d(padded, kernel, bias), tol=1e-4)


def check_conv1d(model, x, y):
    kernel, bias = weights(model, "conv")
    close(y[0], np_conv1d(x["x"], kernel, bias, stride=2), tol=1e-4)


def check_avg_pool1d(model, x, y):
    close(y[0], np_pool1d(x["x"], 2, 2, np.mean))


def check_avg_pool2d(model, x, y):
    close(y[0], np_pool2d(x["x"], 3, 2, np.mean))


def check_max_pool1d(model, x, y):
    close(y[0], np_pool1d(x["x"], 3, 3, np.max))


def check_max_pool2d(model, x, y):
    close(y[0], np_pool2d(x["x"], 2, 2, np.max))


def check_global(reduce, axes):
    def check(model, x, y):
        close(y[0], reduce(x["x"], axis=axes))

    return check


def check_cropping(model, x, y):
    close(y[0], x["x"][:, 1:5, 2:5])


def check_cropping1d(model, x, y):
    close(y[0], x["x"][:, 1:-2])


def check_conv1d_transpose(model, x, y):
    # Each input step t adds x_t · W (kernel 3) to output steps 2t, 2t+1, 2t+2.
    kernel, bias = weights(model, "up")  # (kernel, filters, channels)
    v = x["x"]
    out = np.zeros((BATCH, (v.shape[1] - 1) * 2 + 3, kernel.shape[1]))
    for t in range(v.shape[1]):
        out[:, 2 * t:2 * t + 3] += np.einsum("bc,kfc->bkf", v[:, t], kernel)
    close(y[0], out + bias)


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def check_dot_attention(model, x, y):
    # Luong: α = softmax(q kᵀ), context = α v (value is the key here).
    alpha = softmax(np.einsum("bqf,bkf->bqk", x["query"], x["values"]))
    close(y[1], alpha)
    close(y[0], np.einsum("bqk,bkf->bqf", alpha, x["values"]))


def check_multi_head_attention(model, x, y):
    q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b = weights(model, "mha")
    v = x["x"]
    q = np.einsum("btf,fhd->bthd", v, q_w) + q_b
    k = np.einsum("btf,fhd->bthd", v, k_w) + k_b
    val = np.einsum("btf,fhd->bthd", v, v_w) + v_b
    alpha = softmax(np.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(q_w.shape[-1]))
    close(y[1], alpha)
    context = np.einsum("bhqk,bkhd->bqhd", alpha, val)
    close(y[0], np.einsum("bqhd,hdf->bqf", context, o_w) + o_b)


def check_group_norm(model, x, y):
    v = x["x"].reshape(BATCH, 5, 2, 2)  # 4 channels in 2 groups
    mean = v.mean(axis=(1, 3), keepdims=True)
    var = v.var(axis=(1, 3), keepdims=True)
    close(y[0], ((v - mean) / np.sqrt(var + 1e-3)).reshape(BATCH, 5, 4), tol=1e-4)


def check_upsampling1d(model, x, y):
    close(y[0], np.repeat(x["x"], 3, axis=1))


def check_upsampling2d(model, x, y):
    close(y[0], np.repeat(np.repeat(x["x"], 2, axis=1), 2, axis=2))


def check_zero_padding1d(model, x, y):
    close(y[0], np.pad(x["x"], ((0, 0), (2, 2), (0, 0))))


def check_zero_padding2d(model, x, y):
    close(y[0], np.pad(x["x"], ((0, 0), (1, 2), (0, 1), (0, 0))))


def check_random_crop(model, x, y):
    # at inference a random crop is the centre crop
    close(y[0], x["x"][:, 2:6, 1:7])


IMAGE = [8, 8, 3]
SEQ = [5, 3]

CASES: dict[str, Case] = {
    # core ----------------------------------------------------------------------
    "activation": Case({"x": [5]}, "- activation: relu", [(5,)], check=check_activation),
    "batch_norm": Case({"x": [4]}, "- batch_norm: {epsilon: 0.01}", [(4,)],
                       check=check_batch_norm),
    "cast": Case({"x": [3]}, "- cast: int32", [(3,)], check=check_cast,
                 needs="custom_layers.cast"),
    "dense": Case({"x": [5]}, "- dense: {units: 3, name: out}", [(3,)], check=check_dense),
    "detection_head": Case({"x": [6, 6, 4]},
                           "- detection_head: {grid: 6, boxes: 2, classes: 3, name: out}",
                           [(6, 6, 13)], check=check_detection_head),
    "dropout": Case({"x": [6]}, "- dropout: 0.5", [(6,)], check=same_as_input),
    "elu": Case({"x": [6]}, "- elu: {alpha: 0.5}", [(6,)], check=check_elu),
    "group_norm": Case({"x": [5, 4]}, "- group_norm: 2", [(5, 4)], check=check_group_norm),
    "embedding": Case({"x": ([6], "int32")},
                      "- embedding: {input_dim: 10, output_dim: 4, name: emb}", [(6, 4)],
                      check=check_embedding),
    "flatten": Case({"x": [2, 3, 4]}, "- flatten", [(24,)], check=check_flatten),
    "gaussian_dropout": Case({"x": [6]}, "- gaussian_dropout: 0.3", [(6,)],
                             check=same_as_input),
    "gaussian_noise": Case({"x": [6]}, "- gaussian_noise: 0.1", [(6,)], check=same_as_input),
    "identity": Case({"x": [2, 3]}, "- identity: {name: here}", [(2, 3)], check=same_as_input),
    "layer_norm": Case({"x": [6]}, "- layer_norm", [(6,)], check=check_layer_norm),
    "leaky_relu": Case({"x": [6]}, "- leaky_relu: {negative_slope: 0.2}", [(6,)],
                       check=check_leaky_relu),
    "relu": Case({"x": [6]}, "- relu: {max_value: 0.5}", [(6,)], check=check_relu),
    "masking": Case({"x": [4, 3]}, "- masking: {mask_value: 0.0}", [(4, 3)],
                    check=check_masking, extra={"zero_step": 1}),
    "maxout": Case({"x": [5]}, "- maxout: {units: 3, pieces: 4, name: mo}", [(3,)],
                   check=check_maxout, needs="custom_layers.maxout"),
    "normalization": Case({"x": [2]},
                          "- normalization: {mean: [1.0, -2.0], variance: [4.0, 0.25]}",
                          [(2,)], check=check_normalization),
    "permute": Case({"x": [2, 3]}, "- permute: [2, 1]", [(3, 2)], check=check_permute),
    "prelu": Case({"x": [6]}, "- prelu: {name: pr}", [(6,)], check=check_prelu),
    "repeat_vector": Case({"x": [4]}, "- repeat_vector: 3", [(3, 4)], check=check_repeat),
    "rescaling": Case({"x": [4]}, "- rescaling: {scale: 0.5, offset: 1.0}", [(4,)],
                      check=check_rescaling),
    "reshape": Case({"x": [12]}, "- reshape: [3, -1]", [(3, 4)], check=check_reshape),
    "softmax": Case({"x": [5]}, "- softmax", [(5,)], check=check_softmax),
    "spatial_dropout1d": Case({"x": SEQ}, "- spatial_dropout1d: 0.5", [tuple(SEQ)],
                              check=same_as_input),
    "spatial_dropout2d": Case({"x": [4, 4, 3]}, "- spatial_dropout2d: 0.5", [(4, 4, 3)],
                              check=same_as_input),
    # merge ---------------------------------------------------------------------
    "add": Case({"a": [4], "b": [4]}, "- add: {inputs: [a, b]}", [(4,)],
                check=merge_check(np.add)),
    "average": Case({"a": [4], "b": [4]}, "- average: {inputs: [a, b]}", [(4,)],
                    check=merge_check(lambda a, b: (a + b) / 2)),
    "concatenate": Case({"a": [3], "b": [5]}, "- concatenate: {inputs: [a, b]}", [(3 + 5,)],
                        check=merge_check(lambda a, b: np.concatenate([a, b], -1))),
    "distance": Case({"a": [4], "b": [4]}, "- distance: {inputs: [a, b]}", [(1,)],
                     check=check_distance),
    "dot": Case({"a": [4], "b": [4]}, "- dot: {inputs: [a, b], axes: 1}", [(1,)],
                check=check_dot),
    "maximum": Case({"a": [4], "b": [4]}, "- maximum: {inputs: [a, b]}", [(4,)],
                    check=merge_check(np.maximum)),
    "minimum": Case({"a": [4], "b": [4]}, "- minimum: {inputs: [a, b]}", [(4,)],
                    check=merge_check(np.minimum)),
    "multiply": Case({"a": [4], "b": [4]}, "- multiply: {inputs: [a, b]}", [(4,)],
                     check=merge_check(np.multiply)),
    "subtract": Case({"a": [4], "b": [4]}, "- subtract: {inputs: [a, b]}", [(4,)],
                     check=merge_check(np.subtract)),
    # recurrent -----------------------------------------------------------------
    "attention_decoder": Case(
        {"states": [5, 6], "tokens": ([4], "int32")},
        "- attention_decoder: {inputs: [states, tokens], vocab_size: 7, units: 8, name: dec,\n"
        "                      max_length: 4}",
        [(4, 7), (4, 5)], outputs=["dec", "dec[1]"], check=check_decoder, int_high=7),
    "additive_attention": Case(
        {"query": [6], "values": [5, 6]},
        "- additive_attention: {units: 8, inputs: [query, values], name: att,\n"
        "                       return_attention_scores: true}",
        [(6,), (5,)], outputs=["att", "att[1]"], check=check_attention),
    "bidirectional": Case({"x": SEQ}, "- bidirectional: {layer: {gru: {units: 4}}}",
                          [(2 * 4,)]),
    "gru": Case({"x": SEQ}, "- gru: 4", [(4,)]),
    "lstm": Case({"x": SEQ}, "- lstm: {units: 4, return_state: true, name: enc}",
                 [(4,), (4,), (4,)], outputs=["enc", "enc[1]", "enc[2]"],
                 check=check_lstm_state),
    "minimal_gru": Case({"x": SEQ}, "- minimal_gru: {units: 4, return_sequences: true}",
                        [(5, 4)]),
    "simple_rnn": Case({"x": SEQ}, "- simple_rnn: {units: 3, return_sequences: true}",
                       [(5, 3)]),
    "time_distributed": Case({"x": [5, 2]}, "- time_distributed: {layer: {dense: {units: 3}}}",
                             [(5, 3)]),
    # attention -----------------------------------------------------------------
    "attention": Case({"query": [3, 4], "values": [5, 4]},
                      "- attention: {inputs: [query, values], name: att,\n"
                      "              return_attention_scores: true}",
                      [(3, 4), (3, 5)], outputs=["att", "att[1]"], check=check_dot_attention),
    "multi_head_attention": Case(
        {"x": [5, 4]},
        "- multi_head_attention: {num_heads: 2, key_dim: 3, name: mha,\n"
        "                         return_attention_scores: true}",
        [(5, 4), (2, 5, 5)], outputs=["mha", "mha[1]"], check=check_multi_head_attention),
    # structure -----------------------------------------------------------------
    "apply": Case({"a": [4], "b": [4]},
                  "- dense: {units: 3, name: shared, inputs: a}\n"
                  "- apply: {layer: shared, inputs: b, name: again}",
                  [(3,), (3,)], outputs=["shared", "again"], check=check_apply),
    # conv ----------------------------------------------------------------------
    "avg_pool1d": Case({"x": [8, 2]}, "- avg_pool1d: {pool: 2}", [(8 // 2, 2)],
                       check=check_avg_pool1d),
    "avg_pool2d": Case({"x": [7, 7, 2]}, "- avg_pool2d: {pool: 3, strides: 2}",
                       [(conv_size(7, 3, 2), conv_size(7, 3, 2), 2)], check=check_avg_pool2d),
    "conv1d": Case({"x": [10, 2]},
                   "- conv1d: {filters: 3, kernel: 3, stride: 2, name: conv}",
                   [(conv_size(10, 3, 2), 3)], check=check_conv1d),
    "conv2d": Case({"x": IMAGE},
                   "- conv2d: {filters: 4, kernel: 3, padding: 1, activation: relu, name: conv}",
                   [(conv_size(8, 3, 1, 1), conv_size(8, 3, 1, 1), 4)]),
    "conv2d_transpose": Case({"x": [4, 4, 2]},
                             "- conv2d_transpose: {filters: 3, kernel: 3, strides: 2}",
                             [((4 - 1) * 2 + 3, (4 - 1) * 2 + 3, 3)]),
    "conv1d_transpose": Case({"x": [4, 2]},
                             "- conv1d_transpose: {filters: 3, kernel: 3, strides: 2, name: up}",
                             [((4 - 1) * 2 + 3, 3)], check=check_conv1d_transpose),
    "cropping1d": Case({"x": [6, 2]}, "- cropping1d: [1, 2]", [(6 - 3, 2)],
                       check=check_cropping1d),
    "cropping2d": Case({"x": [6, 6, 1]}, "- cropping2d: {cropping: [[1, 1], [2, 1]]}",
                       [(6 - 2, 6 - 3, 1)], check=check_cropping),
    "depthwise_conv2d": Case({"x": [6, 6, 2]},
                             "- depthwise_conv2d: {kernel: 3, depth_multiplier: 2, padding: 1}",
                             [(conv_size(6, 3, 1, 1), conv_size(6, 3, 1, 1), 2 * 2)]),
    "global_avg_pool1d": Case({"x": [6, 3]}, "- global_avg_pool1d", [(3,)],
                              check=check_global(np.mean, 1)),
    "global_avg_pool2d": Case({"x": [5, 5, 3]}, "- global_avg_pool2d", [(3,)],
                              check=check_global(np.mean, (1, 2))),
    "global_max_pool1d": Case({"x": [6, 3]}, "- global_max_pool1d", [(3,)],
                              check=check_global(np.max, 1)),
    "global_max_pool2d": Case({"x": [5, 5, 3]}, "- global_max_pool2d", [(3,)],
                              check=check_global(np.max, (1, 2))),
    "max_pool1d": Case({"x": [9, 2]}, "- max_pool1d: {pool_size: 3}", [(9 // 3, 2)],
                       check=check_max_pool1d),
    "max_pool2d": Case({"x": [5, 5, 1]}, "- max_pool2d: {pool: 2}",
                       [(conv_size(5, 2, 2), conv_size(5, 2, 2), 1)], check=check_max_pool2d),
    "separable_conv1d": Case({"x": [10, 3]}, "- separable_conv1d: {filters: 4, kernel: 3}",
                             [(conv_size(10, 3), 4)]),
    "separable_conv2d": Case({"x": [7, 7, 3]},
                             "- separable_conv2d: {filters: 5, kernel: 3, strides: 2}",
                             [(conv_size(7, 3, 2), conv_size(7, 3, 2), 5)]),
    "upsampling1d": Case({"x": [4, 2]}, "- upsampling1d: 3", [(12, 2)],
                         check=check_upsampling1d),
    "upsampling2d": Case({"x": [3, 3, 1]}, "- upsampling2d: {size: 2}", [(6, 6, 1)],
                         check=check_upsampling2d),
    "zero_padding1d": Case({"x": [5, 2]}, "- zero_padding1d: 2", [(5 + 4, 2)],
                           check=check_zero_padding1d),
    "zero_padding2d": Case({"x": [4, 4, 1]}, "- zero_padding2d: {padding: [[1, 2], [0, 1]]}",
                           [(4 + 3, 4 + 1, 1)], check=check_zero_padding2d),
    # augment: identity at inference, except the crop ----------------------------
    "random_brightness": Case({"x": IMAGE}, "- random_brightness: 0.2", [tuple(IMAGE)],
                              check=same_as_input),
    "random_contrast": Case({"x": IMAGE}, "- random_contrast: 0.2", [tuple(IMAGE)],
                            check=same_as_input),
    "random_crop": Case({"x": IMAGE}, "- random_crop: {height: 4, width: 6}", [(4, 6, 3)],
                        check=check_random_crop),
    "random_flip": Case({"x": IMAGE}, "- random_flip: horizontal", [tuple(IMAGE)],
                        check=same_as_input),
    "random_rotation": Case({"x": IMAGE}, "- random_rotation: 0.1", [tuple(IMAGE)],
                            check=same_as_input),
    "random_shear": Case({"x": IMAGE}, "- random_shear: {x_factor: 0.2}", [tuple(IMAGE)],
                         check=same_as_input),
    "random_translation": Case({"x": IMAGE},
                               "- random_translation: {height_factor: 0.1, width_factor: 0.1}",
                               [tuple(IMAGE)], check=same_as_input),
    "random_zoom": Case({"x": IMAGE}, "- random_zoom: 0.2", [tuple(IMAGE)],
                        check=same_as_input),
}
CASES.update({name: Case(**fields) for name, fields in CASES_3D.items()})
CASES.update({name: Case(**fields) for name, fields in CASES_SPEC_LANGUAGE.items()})


def random_inputs(case: Case, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for name, value in case.inputs.items():
        shape, dtype = value if isinstance(value, tuple) else (value, "float32")
        if dtype.startswith("int"):
            out[name] = rng.integers(1, case.int_high, size=(BATCH, *shape)).astype(dtype)
        else:
            out[name] = rng.normal(size=(BATCH, *shape)).astype(dtype)
    if "zero_step" in case.extra:
        out["x"][:, case.extra["zero_step"]] = 0.0
    return out


def case_marks(name: str, building: bool = False):
    """xfail marks for a case whose custom layer is not written yet, or with a known bug."""
    case = CASES.get(name)
    if case is None:
        return []
    if case.bug and (case.bug_in_build or not building):
        return [pytest.mark.xfail(reason=case.bug, strict=True)]
    if case.needs and not module_exists(case.needs):
        return [pytest.mark.xfail(reason=f"{case.needs} does not exist yet", strict=False)]
    return []


def build_case(tmp_path: Path, type_name: str, case: Case):
    text = spec_text(f"t_{type_name}", case.inputs, case.layers, case.outputs)
    spec = load_text(tmp_path, text)
    used = {entry.type for entry, _ in spec.entries}
    assert type_name in used, f"the case for '{type_name}' uses only {sorted(used)}"
    return spec, build_model(spec)


def run(model, x: dict) -> list[np.ndarray]:
    y = model(x if len(x) > 1 else next(iter(x.values())), training=False)
    return [np.asarray(keras.ops.convert_to_numpy(t)) for t in
            (y if isinstance(y, (list, tuple)) else [y])]


@pytest.mark.parametrize("type_name", [
    pytest.param(name, marks=case_marks(name)) for name in sorted(LAYER_TYPES)
])
def test_layer_type(tmp_path, type_name):
    assert type_name in CASES, f"layer type '{type_name}' has no case in the catalogue test"
    case = CASES[type_name]
    spec, model = build_case(tmp_path, type_name, case)
    x = random_inputs(case)
    y = run(model, x)
    assert [tuple(o.shape) for o in y] == [(BATCH, *e) for e in case.expected]
    assert [tuple(t.shape) for t in model.outputs] == [(None, *e) for e in case.expected]
    for out in y:
        if np.issubdtype(out.dtype, np.floating):
            assert np.all(np.isfinite(out)), f"{type_name} gave non-finite values"
    if case.check is not None:
        case.check(model, x, y)


def test_every_case_is_a_layer_type():
    assert sorted(set(CASES) - set(LAYER_TYPES)) == []


# --------------------------------------------------------------------------- #
# Options shared by many layer types
# --------------------------------------------------------------------------- #

def test_conv2d_integer_padding_is_zero_padding_then_valid(tmp_path):
    case = Case({"x": [5, 5, 2]}, "- conv2d: {filters: 3, kernel: 3, padding: 1, name: conv}",
                [(5, 5, 3)], check=check_conv2d_int_padding)
    _, model = build_case(tmp_path, "conv2d", case)
    x = random_inputs(case)
    y = run(model, x)
    assert y[0].shape == (BATCH, conv_size(5, 3, 1, 1), conv_size(5, 3, 1, 1), 3)
    case.check(model, x, y)


@pytest.mark.parametrize("layer, shape, expected", [
    ("- conv2d: {filters: 2, kernel: 3, stride: 2, padding: 2}", [9, 9, 1],
     (conv_size(9, 3, 2, 2), conv_size(9, 3, 2, 2), 2)),
    ("- conv2d: {filters: 2, kernel: [3, 5], padding: same}", [6, 7, 1], (6, 7, 2)),
    ("- conv1d: {filters: 2, kernel: 5, padding: 1}", [8, 2], (conv_size(8, 5, 1, 1), 2)),
    ("- conv1d: {filters: 2, kernel: 3, padding: causal}", [8, 2], (8, 2)),
    ("- separable_conv2d: {filters: 2, kernel: 3, padding: 1}", [5, 5, 2], (5, 5, 2)),
])
def test_conv_output_sizes(tmp_path, layer, shape, expected):
    case = Case({"x": shape}, layer, [expected])
    type_name = layer[2:].split(":")[0]
    _, model = build_case(tmp_path, type_name, case)
    assert run(model, random_inputs(case))[0].shape == (BATCH, *expected)


@pytest.mark.parametrize("layer, expected", [
    ("- bidirectional: {layer: {lstm: {units: 3, return_sequences: true}}}", (5, 6)),
    ("- bidirectional: {layer: {simple_rnn: 3}, merge_mode: sum}", (3,)),
    ("- bidirectional: {layer: {minimal_gru: {units: 2}}}", (4,)),
])
def test_bidirectional_output_sizes(tmp_path, layer, expected):
    case = Case({"x": SEQ}, layer, [expected])
    _, model = build_case(tmp_path, "bidirectional", case)
    assert run(model, random_inputs(case))[0].shape == (BATCH, *expected)


def test_trainable_false_freezes_weights(tmp_path):
    case = Case({"x": [4, 4, 1]},
                "- conv2d: {filters: 2, kernel: 3, padding: 1, trainable: false, name: frozen}\n"
                "- flatten\n"
                "- dense: {units: 2, name: head}", [(2,)])
    _, model = build_case(tmp_path, "conv2d", case)
    assert model.get_layer("frozen").trainable is False
    frozen = {id(w) for w in model.get_layer("frozen").weights}
    assert len(frozen) == 2
    assert not frozen & {id(w) for w in model.trainable_weights}
    assert frozen <= {id(w) for w in model.non_trainable_weights}
    assert len(model.trainable_weights) == 2  # the head's kernel and bias


@pytest.mark.parametrize("init, expected_std", [
    ("he_normal", np.sqrt(2 / 400)),
    ("xavier", np.sqrt(2 / (400 + 200))),
    ("glorot_uniform", np.sqrt(2 / (400 + 200))),
    ("{random_normal: {stddev: 0.01}}", 0.01),
])
def test_kernel_initializers(tmp_path, init, expected_std):
    case = Case({"x": [400]},
                f"- dense: {{units: 200, kernel_initializer: {init}, "
                "bias_initializer: {constant: {value: 0.5}}, name: out}", [(200,)])
    _, model = build_case(tmp_path, "dense", case)
    kernel, bias = weights(model, "out")
    assert abs(kernel.mean()) < 0.1 * expected_std
    assert kernel.std() == pytest.approx(expected_std, rel=0.1)
    close(bias, np.full(200, 0.5))


@pytest.mark.parametrize("layer, name, penalty", [
    ("- dense: {units: 3, kernel_regularizer: {l2: 0.01}, name: r}", "r",
     lambda k: 0.01 * np.sum(k ** 2)),
    ("- conv1d: {filters: 2, kernel: 3, kernel_regularizer: {l1: 0.001}, name: r}", "r",
     lambda k: 0.001 * np.sum(np.abs(k))),
])
def test_kernel_regularizers(tmp_path, layer, name, penalty):
    shape = [5] if layer.startswith("- dense") else [6, 2]
    case = Case({"x": shape}, layer, [()])
    _, model = build_case(tmp_path, layer[2:].split(":")[0], case)
    losses = [float(keras.ops.convert_to_numpy(v)) for v in model.losses]
    assert len(losses) == 1, losses
    kernel = weights(model, name)[0]
    assert losses[0] == pytest.approx(float(penalty(kernel)), rel=1e-5)


@pytest.mark.xfail(not module_exists("custom_layers.activations"),
                   reason="custom_layers.activations does not exist yet", strict=False)
def test_step_activation_gives_zero_or_one(tmp_path):
    case = Case({"x": [3]}, "- dense: {units: 4, activation: step, name: tlu}", [(4,)])
    _, model = build_case(tmp_path, "dense", case)
    x = random_inputs(case, seed=3)
    y = run(model, x)[0]
    kernel, bias = weights(model, "tlu")
    z = x["x"] @ kernel + bias
    assert set(np.unique(y)) <= {0.0, 1.0}
    close(y, (z >= 0).astype("float32"))
    assert 0 < y.sum() < y.size  # both values occur on this batch


# --------------------------------------------------------------------------- #
# The registry
# --------------------------------------------------------------------------- #

def test_registry_matches_layer_types():
    classes = all_layer_classes()
    assert set(classes) == set(LAYER_TYPES)
    for name, cls in classes.items():
        assert REGISTRY[name] is cls
        assert cls.type_name == name
        assert issubclass(cls, LayerSpec)
        assert cls.__module__ == f"compiler.layers.{LAYER_TYPES[name]}"
        assert layer_class(name) is cls
    assert set(REGISTRY) == set(LAYER_TYPES), "a registered class is missing from LAYER_TYPES"


def test_shorthands_name_a_field():
    for name, cls in all_layer_classes().items():
        if cls.shorthand is not None:
            assert cls.shorthand in cls.model_fields, f"{name}.shorthand is not a field"


@pytest.mark.parametrize("type_name", [
    pytest.param(name, marks=case_marks(name, building=True)) for name in sorted(LAYER_TYPES)
])
def test_build_returns_keras_layers(tmp_path, type_name):
    assert type_name in CASES, f"layer type '{type_name}' has no case in the catalogue test"
    case = CASES[type_name]
    spec = load_text(tmp_path, spec_text("t", case.inputs, case.layers, case.outputs))
    (layer_spec,) = [s for entry, s in spec.entries if entry.type == type_name]
    built = layer_spec.build()
    if type_name == "apply":
        assert built == []  # the builder reuses the named layer instead
        return
    layers = built if isinstance(built, list) else [built]
    assert layers and all(isinstance(layer, keras.layers.Layer) for layer in layers), built


def test_layer_lookup_does_not_import_tensorflow():
    code = ("import sys, compiler.layers\n"
            "from compiler.layers import layer_class, all_layer_classes\n"
            "assert layer_class('dense').type_name == 'dense'\n"
            "assert len(all_layer_classes()) > 50\n"
            "heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
            "assert not heavy, heavy\n")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
