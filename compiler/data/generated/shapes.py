"""`shapes`: circles, squares and triangles on a noisy canvas, for object detection."""

from __future__ import annotations

import functools

import numpy as np

from compiler.data.raw import RawData
from compiler.data.schema import GenerateSource

SHAPE_NAMES = ["circle", "square", "triangle"]
# Saturated colours, far from the grey background and from each other.
PALETTE = np.array([
    [0.90, 0.15, 0.15], [0.15, 0.75, 0.20], [0.20, 0.35, 0.95], [0.95, 0.80, 0.10],
    [0.85, 0.20, 0.85], [0.10, 0.80, 0.85], [0.95, 0.55, 0.10], [0.98, 0.98, 0.98],
], dtype=np.float32)
MAX_OBJECTS = 4
MAX_OVERLAP = 0.1  # largest IoU between two shapes of one image


@functools.cache
def _mask(kind: int, side: int) -> np.ndarray:
    """The pixels of one shape filling a side×side box."""
    centre = (np.arange(side) + 0.5) / side  # pixel centres in 0..1
    y, x = np.meshgrid(centre, centre, indexing="ij")
    if kind == 0:  # circle
        return (x - 0.5) ** 2 + (y - 0.5) ** 2 <= 0.25
    if kind == 1:  # square
        return np.ones((side, side), dtype=bool)
    # triangle: apex at the top centre, base along the bottom edge
    return np.abs(x - 0.5) <= y / 2


def _iou(a: tuple, b: tuple) -> float:
    ax, ay, aside = a
    bx, by, bside = b
    w = max(0, min(ax + aside, bx + bside) - max(ax, bx))
    h = max(0, min(ay + aside, by + bside) - max(ay, by))
    inter = w * h
    return inter / (aside * aside + bside * bside - inter)


def shapes(options: GenerateSource) -> RawData:
    """Images of 1–4 shapes each, with their boxes.

    Each shape is a circle, a square or an upright triangle of one of the
    palette's colours, with a side from 1/7 to 2/5 of the canvas, placed so
    that no two shapes of an image overlap by more than IoU 0.1. The canvas
    is a random grey with Gaussian pixel noise.

    Produces input ``image`` (size, size, 3) in [0, 1] and target ``boxes``
    (4, 5): one row ``(class, cx, cy, w, h)`` per shape, normalised to the
    canvas as in YOLO label files, then rows of class -1. Classes: circle,
    square, triangle.
    """
    size = options.size or 96
    if size < 32:
        raise ValueError(f"the shapes task needs `size` of at least 32 pixels, got {size}")
    rng = np.random.default_rng(options.seed)
    count = options.samples
    background = rng.uniform(0.25, 0.6, size=(count, 1, 1, 1)).astype(np.float32)
    images = rng.standard_normal((count, size, size, 3), dtype=np.float32)
    images *= 0.06
    images += background
    boxes = np.full((count, MAX_OBJECTS, 5), -1.0, dtype=np.float32)
    boxes[..., 1:] = 0.0
    smallest, largest = max(6, size // 7), int(size * 0.4)
    for i in range(count):
        image = images[i]
        placed: list[tuple] = []
        for _ in range(int(rng.integers(1, MAX_OBJECTS + 1))):
            for _attempt in range(20):
                side = int(rng.integers(smallest, largest + 1))
                x, y = (int(v) for v in rng.integers(0, size - side + 1, size=2))
                if all(_iou((x, y, side), other) <= MAX_OVERLAP for other in placed):
                    break
            else:
                continue  # no room left on this canvas
            kind = int(rng.integers(len(SHAPE_NAMES)))
            colour = PALETTE[rng.integers(len(PALETTE))]
            mask = _mask(kind, side)
            patch = image[y:y + side, x:x + side]
            patch[mask] = colour + 0.03 * rng.standard_normal((int(mask.sum()), 3),
                                                               dtype=np.float32)
            boxes[i, len(placed)] = (kind, (x + side / 2) / size, (y + side / 2) / size,
                                     side / size, side / size)
            placed.append((x, y, side))
    np.clip(images, 0.0, 1.0, out=images)
    return RawData(
        inputs={"image": images},
        targets={"boxes": boxes},
        task="detection",
        class_names=list(SHAPE_NAMES),
        num_classes=len(SHAPE_NAMES),
        metadata={"image_size": [size, size], "color": "rgb", "scale": "pixels / 255"},
    )
