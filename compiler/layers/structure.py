"""Graph structure entries that are not Keras layers of their own."""

from __future__ import annotations

from compiler.layers.base import LayerSpec, register


@register("apply")
class Apply(LayerSpec):
    """Apply an existing layer or block instance again, sharing its weights (siamese towers).

    Example: `- apply: {layer: tower, inputs: right, name: tower_right}`
    """

    max_inputs = None
    layer: str
    """Name of the layer or block instance whose weights are shared."""

    def build(self):  # the builder reuses the named layer's objects
        return []
