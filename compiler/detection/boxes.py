"""Box formats and intersection over union, in NumPy (reference, metrics) and keras.ops (loss).

Boxes are ``(cx, cy, w, h)`` (centre and size, as YOLO label files write them)
or ``(x1, y1, x2, y2)`` corners, in any one unit (normalised or pixels).
"""

from __future__ import annotations

import numpy as np


def corners(boxes: np.ndarray) -> np.ndarray:
    """``(cx, cy, w, h)`` → ``(x1, y1, x2, y2)`` along the last axis."""
    boxes = np.asarray(boxes, dtype=np.float64)
    half = boxes[..., 2:4] / 2
    return np.concatenate([boxes[..., :2] - half, boxes[..., :2] + half], axis=-1)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every corner box in ``a`` (n, 4) with every one in ``b`` (m, 4): (n, m).

    Area of intersection over area of union; boxes that only touch, or have
    no area, have IoU 0.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
