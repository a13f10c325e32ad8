"""`global_avg_pool3d`: the average of each feature map of a volume."""

from __future__ import annotations

from compiler.layers.base import register
from compiler.layers.pooling import GlobalAveragePooling


@register("global_avg_pool3d", keras=("GlobalAveragePooling3D",))
class GlobalAvgPool3D(GlobalAveragePooling.of(3)):
    """Average of each feature map of a volume → one value per channel."""
