"""The closed registry of layer types: each type's schema and builder side by side.

A layer type is one class in a module of this package, registered there with
``@register("name", keras=(...))``; :mod:`compiler.layers.registry` finds the
declarations without importing the modules, and a module is imported on first
use, so `nncompile validate` only pays for the layer families a spec uses.
Nothing here imports TensorFlow: builders import Keras when they are called.
"""

from __future__ import annotations

from compiler.layers.registry import (
    KERAS_NAMES,
    LAYER_TYPES,
    NOT_KERAS_NAMES,
    all_layer_classes,
    canonical_type,
    layer_class,
)

__all__ = ["KERAS_NAMES", "LAYER_TYPES", "NOT_KERAS_NAMES", "all_layer_classes",
           "canonical_type", "layer_class"]
