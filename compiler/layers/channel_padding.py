"""`channel_padding`: zero channels added to the last axis (ResNet's option-A shortcut).

    - max_pool2d: {pool: 1, strides: 2, inputs: in}     # x[:, ::2, ::2, :]
    - channel_padding: {channels: 32}                    # 16 → 32: 8 zero channels each side
"""

from __future__ import annotations

from pydantic import model_validator

from compiler.layers.base import LayerSpec, ShapeProblem, register
from compiler.layers.params import NonNegativeInt, PositiveInt


@register("channel_padding")
class ChannelPadding(LayerSpec):
    """Zeros as extra channels: `padding: 4` or `[before, after]`, or `channels:` to reach."""

    shorthand = "padding"
    padding: NonNegativeInt | tuple[NonNegativeInt, NonNegativeInt] | None = None
    """Zero channels on each side of the last axis, or [before, after]."""
    channels: PositiveInt | None = None
    """Channels of the output instead: the zeros are split evenly, the odd one after."""

    @model_validator(mode="after")
    def _one_of(self):
        if (self.padding is None) == (self.channels is None):
            raise ValueError("give `padding` (zeros per side, or [before, after]) or "
                             "`channels` (the output's channels), not both")
        return self

    @classmethod
    def params_from_keras(cls, params: dict) -> dict:
        """Spec parameters from the Keras layer's changed arguments (`nncompile import`)."""
        if "before" not in params and "after" not in params:
            return params
        rest = {k: v for k, v in params.items() if k not in ("before", "after")}
        return {**rest, "padding": [params.get("before", 0), params.get("after", 0)]}

    def sides(self, channels: int | None) -> tuple[int, int] | None:
        """(before, after) for an input of this many channels; None when not known."""
        if self.padding is not None:
            return (self.padding, self.padding) if isinstance(self.padding, int) \
                else tuple(self.padding)
        if channels is None:
            return None
        extra = self.channels - channels
        return extra // 2, extra - extra // 2

    def check_shapes(self, shapes, sources):
        channels = shapes[0][-1]
        if self.channels is not None and channels is not None and channels > self.channels:
            return (f"channel_padding: '{sources[0]}' has {channels} channels already, more "
                    f"than channels {self.channels}")
        if self.channels is not None and channels is None:
            return (f"channel_padding with `channels:` needs the channels of '{sources[0]}' "
                    "(give `padding:` instead)")
        return None

    def infer_output_shape(self, shapes):
        channels = shapes[0][-1]
        if len(shapes[0]) < 2:
            raise ShapeProblem("channel_padding needs an input with a channel axis")
        before, after = self.sides(channels)
        return (*shapes[0][:-1], None if channels is None else channels + before + after)

    def count_params(self, shapes):
        return 0

    def build(self):
        sides = self.sides(None)
        if sides is None:
            return []  # `channels:` needs the input's channels: the layer is made in `call`
        from custom_layers.channel_padding import ChannelPadding as Layer

        return Layer(*sides, **self.common())

    def call(self, layers, tensors):
        if not layers:  # made now, and added to `layers` so the builder records it
            from custom_layers.channel_padding import ChannelPadding as Layer

            layers.append(Layer(*self.sides(tensors[0].shape[-1]), **self.common()))
        return layers[0](tensors[0])
