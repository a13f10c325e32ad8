"""Box-aware augmentation in TensorFlow ops: a flip, shift or zoom moves the boxes too."""

from __future__ import annotations

from typing import Any


def augment_example(image, boxes, options: Any):
    """One randomly flipped, shifted and scaled copy of an image and its padded boxes.

    Args:
        image: (height, width, channels) float32.
        boxes: (max_boxes, 5) rows ``(class, cx, cy, w, h)``, normalised; class -1 pads.
        options: a :class:`compiler.detection.options.BoxAugmentation`.

    Returns:
        The new image and boxes. A box pushed partly off the image is cut at the
        border; one with less than ``options.min_visible`` of its area left is
        dropped (its row becomes padding).
    """
    import tensorflow as tf

    height = tf.cast(tf.shape(image)[0], tf.float32)
    width = tf.cast(tf.shape(image)[1], tf.float32)
    cls, centre, size = boxes[:, 0], boxes[:, 1:3], boxes[:, 3:5]
    if options.flip:
        flip = tf.random.uniform([]) < 0.5
        image = tf.cond(flip, lambda: tf.reverse(image, axis=[1]), lambda: image)
        centre = tf.stack([tf.where(flip, 1.0 - centre[:, 0], centre[:, 0]), centre[:, 1]], -1)
    scale = tf.random.uniform([], 1.0 - options.scale, 1.0 + options.scale)
    shift = tf.random.uniform([2], -options.translate, options.translate)
    # A point p (normalised) goes to (p - 0.5)·scale + 0.5 + shift. The transform
    # op maps each output pixel back to the input pixel it samples.
    transform = tf.stack([
        1.0 / scale, 0.0, width / 2 * (1 - 1 / scale) - shift[0] * width / scale,
        0.0, 1.0 / scale, height / 2 * (1 - 1 / scale) - shift[1] * height / scale,
        0.0, 0.0,
    ])
    fill = tf.reduce_mean(image)
    image = tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=transform[None],
        output_shape=tf.shape(image)[:2], fill_value=fill,
        interpolation="BILINEAR", fill_mode="CONSTANT")[0]
    low = (centre - size / 2 - 0.5) * scale + 0.5 + shift
    high = (centre + size / 2 - 0.5) * scale + 0.5 + shift
    area = tf.reduce_prod(high - low, axis=-1)
    low, high = tf.clip_by_value(low, 0.0, 1.0), tf.clip_by_value(high, 0.0, 1.0)
    left = tf.reduce_prod(tf.maximum(high - low, 0.0), axis=-1)
    keep = (cls >= 0) & (left >= options.min_visible * tf.maximum(area, 1e-12))
    moved = tf.concat([cls[:, None], (low + high) / 2, high - low], axis=-1)
    padding = tf.concat([-tf.ones_like(cls)[:, None], tf.zeros_like(moved[:, 1:])], axis=-1)
    return image, tf.where(keep[:, None], moved, padding)
