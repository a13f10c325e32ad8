"""`upsampling3d`: repeat the slices, rows and columns of a volume."""

from __future__ import annotations

from compiler.layers.base import register
from compiler.layers.resizing import UpSampling


@register("upsampling3d", keras=("UpSampling3D",))
class UpSampling3D(UpSampling.of(3)):
    """Repeat each slice, row and column `size` times (nearest neighbour)."""
