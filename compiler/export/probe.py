"""A layer whose output varies, for checking an export whose outputs do not.

An untrained or saturated network often gives the same outputs for every
input (an untrained MobileNetV2 says 0.001 for each of its 1000 classes), so
agreeing with Keras on them proves nothing about the converted graph. The
probe is the deepest layer whose output does differ between the check
inputs: a model from the same inputs to that layer is exported the same way
and compared instead, which checks everything up to that layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from compiler.export.signature import ModelSignature, constant_outputs

# Layers tried from the output back; beyond this the search costs more than it shows.
MAX_PROBES = 64
PROBE_OUTPUT = "probe"


@dataclass
class Probe:
    """A model ending at a layer whose output varies over the check inputs."""

    model: Any
    layer: str


def varying_probe(model, sig: ModelSignature, inputs: dict[str, np.ndarray]) -> Probe | None:
    """The deepest layer of `model` whose float output varies over `inputs`, as a model.

    Args:
        model: The Keras model whose outputs were constant.
        sig: Its signature (input names in the model's order).
        inputs: Named check inputs, two samples or more.

    Returns:
        The probe, or None when no layer's output varies (or none can be probed:
        a layer with several outputs, a model without a functional graph).
    """
    import keras

    # A one-input model is called with a tensor, not a list of one (Keras warns otherwise).
    feed = [inputs[name] for name in sig.input_names]
    sources = model.inputs if len(model.inputs) > 1 else model.inputs[0]
    feed = feed if len(feed) > 1 else feed[0]
    for layer in list(reversed(model.layers))[:MAX_PROBES]:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            output = layer.output
        except (AttributeError, ValueError):  # shared or never-called layers
            continue
        if isinstance(output, (list, tuple, dict)):
            continue
        if not str(output.dtype).startswith(("float", "bfloat")):
            continue
        probe = keras.Model(sources, output, name=f"{model.name}_probe")
        value = np.asarray(probe(feed, training=False))
        if not constant_outputs({PROBE_OUTPUT: value}):
            return Probe(model=probe, layer=layer.name)
    return None
