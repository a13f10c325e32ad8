"""`global_max_pool3d`: the maximum of each feature map of a volume."""

from __future__ import annotations

from compiler.layers.base import register
from compiler.layers.pooling import GlobalMaxPooling


@register("global_max_pool3d", keras=("GlobalMaxPooling3D",))
class GlobalMaxPool3D(GlobalMaxPooling.of(3)):
    """Maximum of each feature map of a volume → one value per channel."""
