"""The closed registry of layer types: each type's schema and builder side by side.

``LAYER_TYPES`` names every layer type a spec may use and the module that
defines it; modules are imported on first use so that `nncompile validate`
only pays for the layer families a spec uses. Nothing here imports
TensorFlow: builders import Keras when they are called.
"""

from __future__ import annotations

import importlib

from compiler.layers.base import REGISTRY, LayerSpec

LAYER_TYPES: dict[str, str] = {
    # core.py
    "activation": "core",
    "batch_norm": "core",
    "cast": "core",
    "dense": "core",
    "dropout": "core",
    "elu": "core",
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
    # conv.py
    "avg_pool1d": "conv",
    "avg_pool2d": "conv",
    "conv1d": "conv",
    "conv2d": "conv",
    "conv2d_transpose": "conv",
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
