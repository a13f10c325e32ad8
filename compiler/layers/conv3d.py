"""`conv3d`: convolution over volumes (depth, height, width, channels), e.g. CT scans or video."""

from __future__ import annotations

from compiler.layers.base import register
from compiler.layers.convolution import Convolution


@register("conv3d", keras=("Convolution3D",))
class Conv3D(Convolution.of(3)):
    """3-D convolution over volumes (depth, height, width, channels)."""
