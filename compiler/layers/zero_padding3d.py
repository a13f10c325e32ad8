"""`zero_padding3d`: zeros around a volume (depth, height, width)."""

from __future__ import annotations

from compiler.layers.base import register
from compiler.layers.resizing import ZeroPadding


@register("zero_padding3d")
class ZeroPadding3D(ZeroPadding.of(3)):
    """Add zeros around a volume: one width, one per axis, or [before, after] per axis."""
