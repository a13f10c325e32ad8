"""`avg_pool3d`: average over windows of a volume (depth, height, width, channels)."""

from __future__ import annotations

from compiler.layers.base import register
from compiler.layers.pooling import AveragePooling


@register("avg_pool3d", keras=("AveragePooling3D",))
class AvgPool3D(AveragePooling.of(3)):
    """Average over each window of a volume."""
