"""`conv3d_transpose`: transposed convolution over volumes (learned upsampling)."""

from __future__ import annotations

from compiler.layers.base import register
from compiler.layers.convolution import ConvTranspose


@register("conv3d_transpose", keras=("Convolution3DTranspose",))
class Conv3DTranspose(ConvTranspose.of(3)):
    """Transposed 3-D convolution (learned upsampling of a volume)."""
