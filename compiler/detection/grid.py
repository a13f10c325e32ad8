"""Ground-truth boxes → the S×S grid target the YOLO v1 loss reads.

The raw targets of a detection source are padded box lists: one row
``(class, cx, cy, w, h)`` per object, coordinates normalised to [0, 1] as in
YOLO label files, rows of class -1 after the last object. The grid target has
``5 + C`` values per cell::

    x, y      centre of the box relative to the cell (0..1)
    w, h      size of the box relative to the image (0..1)
    object    1 where the centre of an object falls into this cell, else 0
    p_1..p_C  the object's class, one-hot

A cell is responsible for the object whose centre falls into it. YOLO v1 has
one set of class probabilities per cell, so a cell holds one object: when
two centres share a cell, the first listed is kept.
"""

from __future__ import annotations

import numpy as np

TARGET_VALUES = 5  # x, y, w, h, object; the class one-hot follows (as custom_layers.yolo_loss)


def encode_grid(boxes, grid: int, classes: int):
    """Encode padded box lists (n, max_boxes, 5) as grid targets (n, grid, grid, 5 + classes).

    Written in TensorFlow ops, so the data pipeline runs it after augmenting
    each example; it also takes NumPy arrays (returns a tf.Tensor).
    """
    import tensorflow as tf

    boxes = tf.convert_to_tensor(boxes, tf.float32)
    count, slots = tf.shape(boxes)[0], tf.shape(boxes)[1]
    cls, centre, size = boxes[..., 0], boxes[..., 1:3], boxes[..., 3:5]
    valid = cls >= 0
    scaled = centre * grid
    # A centre on the far border (1.0) belongs to the last cell.
    cell = tf.clip_by_value(tf.cast(tf.floor(scaled), tf.int32), 0, grid - 1)
    offset = scaled - tf.cast(cell, tf.float32)
    cell_id = cell[..., 1] * grid + cell[..., 0]  # row-major: row = y, column = x
    # The first listed object of a cell wins: drop any valid box whose cell an
    # earlier valid box already took.
    same = tf.equal(cell_id[:, :, None], cell_id[:, None, :]) & valid[:, None, :]
    # earlier[i, j]: box j comes before box i
    earlier = tf.linalg.band_part(tf.ones([slots, slots]), -1, 0) > 0
    earlier = earlier & ~tf.cast(tf.eye(slots), tf.bool)
    taken = tf.reduce_any(same & earlier[None], axis=-1)
    keep = valid & ~taken
    one_hot = tf.one_hot(tf.cast(tf.maximum(cls, 0), tf.int32), classes)
    values = tf.concat([offset, size, tf.ones_like(cls)[..., None], one_hot], axis=-1)
    image = tf.broadcast_to(tf.range(count)[:, None], tf.shape(cell_id))
    index = tf.stack([image, cell[..., 1], cell[..., 0]], axis=-1)
    kept_index = tf.boolean_mask(index, keep)
    kept_values = tf.boolean_mask(values, keep)
    target = tf.scatter_nd(kept_index, kept_values,
                           tf.stack([count, grid, grid, TARGET_VALUES + classes]))
    return tf.ensure_shape(target, [None, grid, grid, TARGET_VALUES + classes])


def encode_grid_numpy(boxes: np.ndarray, grid: int, classes: int, chunk: int = 1024) -> np.ndarray:
    """:func:`encode_grid` over a whole split, a chunk at a time, as a float32 array."""
    boxes = np.asarray(boxes, dtype=np.float32)
    parts = [np.asarray(encode_grid(boxes[i:i + chunk], grid, classes))
             for i in range(0, len(boxes), chunk)]
    if not parts:
        return np.zeros((0, grid, grid, TARGET_VALUES + classes), np.float32)
    return np.concatenate(parts).astype(np.float32)
