"""The closed registry of layer types: each type's schema and builder side by side.

``LAYER_TYPES`` names every layer type a spec may use and the module that
defines it; modules are imported on first use so that `nncompile validate`
only pays for the layer families a spec uses. Nothing here imports
TensorFlow: builders import Keras when they are called.
"""

from __future__ import annotations

import importlib

from compiler.layers.base import REGISTRY, LayerSpec
from compiler.layers.params import snake_case

LAYER_TYPES: dict[str, str] = {
    # core.py
    "activation": "core",
    "batch_norm": "core",
    "cast": "core",
    "dense": "core",
    "dropout": "core",
    "elu": "core",
    "group_norm": "core",
    "embedding": "core",
    "flatten": "core",
    "gaussian_dropout": "core",
    "gaussian_noise": "core",
    "identity": "core",
    "layer_norm": "core",
    "leaky_relu": "core",
    "masking": "core",
    "maxout": "core",
    "normalization": "core",
    "permute": "core",
    "prelu": "core",
    "relu": "core",
    "repeat_vector": "core",
    "rescaling": "core",
    "reshape": "core",
    "softmax": "core",
    "spatial_dropout1d": "core",
    "spatial_dropout2d": "core",
    # merge.py
    "add": "merge",
    "average": "merge",
    "concatenate": "merge",
    "distance": "merge",
    "dot": "merge",
    "maximum": "merge",
    "minimum": "merge",
    "multiply": "merge",
    "subtract": "merge",
    # recurrent.py
    "additive_attention": "recurrent",
    "bidirectional": "recurrent",
    "gru": "recurrent",
    "lstm": "recurrent",
    "minimal_gru": "recurrent",
    "simple_rnn": "recurrent",
    "time_distributed": "recurrent",
    # seq2seq.py
    "attention_decoder": "seq2seq",
    # structure.py
    "apply": "structure",
    # attention.py
    "attention": "attention",
    "multi_head_attention": "attention",
    # conv.py
    "avg_pool1d": "conv",
    "avg_pool2d": "conv",
    "conv1d": "conv",
    "conv2d": "conv",
    "conv1d_transpose": "conv",
    "conv2d_transpose": "conv",
    "cropping1d": "conv",
    "cropping2d": "conv",
    "depthwise_conv2d": "conv",
    "global_avg_pool1d": "conv",
    "global_avg_pool2d": "conv",
    "global_max_pool1d": "conv",
    "global_max_pool2d": "conv",
    "max_pool1d": "conv",
    "max_pool2d": "conv",
    "separable_conv1d": "conv",
    "separable_conv2d": "conv",
    "upsampling1d": "conv",
    "upsampling2d": "conv",
    "zero_padding1d": "conv",
    "zero_padding2d": "conv",
    # augment.py
    "random_brightness": "augment",
    "random_contrast": "augment",
    "random_crop": "augment",
    "random_flip": "augment",
    "random_rotation": "augment",
    "random_shear": "augment",
    "random_translation": "augment",
    "random_zoom": "augment",
}


# Keras's own names (its snake_case layer names, and class names such as
# `MaxPooling2D`, turned to snake case) for the types above whose spec name is
# shorter: a Keras user can write either. Specs are resolved to the short name.
KERAS_NAMES: dict[str, str] = {
    "average_pooling1d": "avg_pool1d",
    "average_pooling2d": "avg_pool2d",
    "batch_normalization": "batch_norm",
    "convolution1d": "conv1d",
    "convolution2d": "conv2d",
    "convolution1d_transpose": "conv1d_transpose",
    "convolution2d_transpose": "conv2d_transpose",
    "separable_convolution1d": "separable_conv1d",
    "separable_convolution2d": "separable_conv2d",
    "group_normalization": "group_norm",
    "global_average_pooling1d": "global_avg_pool1d",
    "global_average_pooling2d": "global_avg_pool2d",
    "global_max_pooling1d": "global_max_pool1d",
    "global_max_pooling2d": "global_max_pool2d",
    "layer_normalization": "layer_norm",
    "leaky_re_lu": "leaky_relu",
    "max_pooling1d": "max_pool1d",
    "max_pooling2d": "max_pool2d",
    "p_re_lu": "prelu",
    "re_lu": "relu",
    "up_sampling1d": "upsampling1d",
    "up_sampling2d": "upsampling2d",
}


# Keras classes whose snake_case name is an nncompile type with other weights:
# Keras's AdditiveAttention has none of Bahdanau's W_s, W_h, v (`additive_attention`).
NOT_KERAS_NAMES = {"AdditiveAttention"}


def canonical_type(name: str) -> str:
    """The spec's layer type for `name`, which may be a Keras name; unknown names unchanged."""
    if name in LAYER_TYPES or not isinstance(name, str) or name in NOT_KERAS_NAMES:
        return name
    snake = snake_case(name) if name.isidentifier() else name
    snake = KERAS_NAMES.get(snake, snake)
    return snake if snake in LAYER_TYPES else name


def layer_class(name: str) -> type[LayerSpec]:
    """The spec class of layer type ``name`` (which must be in ``LAYER_TYPES``)."""
    if name not in REGISTRY:
        importlib.import_module(f"compiler.layers.{LAYER_TYPES[name]}")
    return REGISTRY[name]


def all_layer_classes() -> dict[str, type[LayerSpec]]:
    """Every layer type, imported (for the JSON Schema and the docs)."""
    for module in sorted(set(LAYER_TYPES.values())):
        importlib.import_module(f"compiler.layers.{module}")
    return {name: REGISTRY[name] for name in LAYER_TYPES}
