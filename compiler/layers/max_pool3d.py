"""`max_pool3d`: maximum over windows of a volume (depth, height, width, channels)."""

from __future__ import annotations

from compiler.layers.base import register
from compiler.layers.pooling import MaxPooling


@register("max_pool3d", keras=("MaxPooling3D",))
class MaxPool3D(MaxPooling.of(3)):
    """Maximum over each window of a volume."""
