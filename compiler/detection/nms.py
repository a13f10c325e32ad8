"""Per-class non-max suppression in TensorFlow ops that TFLite runs as builtin kernels.

``tf.image.combined_non_max_suppression`` has no builtin TFLite kernel (it
needs Flex ops, tensorflow/tensorflow#56133), so each class is suppressed
separately inside one ``NonMaxSuppressionV4`` call (TFLite's builtin
``NON_MAX_SUPPRESSION_V4``): every box is shifted by an offset that grows
with its class, far enough that boxes of two classes never overlap, and a
box then only suppresses boxes of its own class.
"""

from __future__ import annotations


def class_aware_nms(boxes, scores, classes, *, iou_threshold: float, score_threshold: float,
                    max_detections: int, extent: float = 1.0):
    """Greedy non-max suppression within each class, for one image.

    Going down the boxes by score, a box is kept unless a kept box of the same
    class overlaps it by IoU above ``iou_threshold``; boxes scoring at or below
    ``score_threshold`` are dropped, and at most ``max_detections`` are kept.

    Args:
        boxes: (n, 4) corners ``(x1, y1, x2, y2)``.
        scores: (n,) float32.
        classes: (n,) int32.
        extent: an upper bound on every coordinate (the image size for pixels).

    Returns:
        ``(boxes, scores, classes, count)``: the kept boxes, best first, padded
        with zeros to ``max_detections`` rows, and how many were kept (int32).
    """
    import tensorflow as tf

    boxes = tf.convert_to_tensor(boxes, tf.float32)
    scores = tf.convert_to_tensor(scores, tf.float32)
    classes = tf.convert_to_tensor(classes, tf.int32)
    # Equal scores (two cells of a flat background give the same numbers) would
    # leave the order to the kernel, and TensorFlow's and TFLite's differ; a
    # relative nudge of 2⁻²¹ per position makes the earlier candidate rank first.
    # The scores returned are the unchanged ones.
    position = tf.cast(tf.range(tf.shape(scores)[0]), tf.float32)
    ranking = scores * (1.0 - position * 2.0 ** -21)
    offset = tf.cast(classes, tf.float32)[:, None] * (2.0 * extent + 1.0)
    # NMS takes (y1, x1, y2, x2).
    shifted = tf.gather(boxes, [1, 0, 3, 2], axis=1) + offset
    selected, count = tf.raw_ops.NonMaxSuppressionV4(
        boxes=shifted, scores=ranking, max_output_size=max_detections,
        iou_threshold=iou_threshold, score_threshold=score_threshold,
        pad_to_max_output_size=True)
    valid = tf.range(max_detections) < count
    zeros = tf.zeros_like(valid, tf.float32)
    kept_boxes = tf.where(valid[:, None], tf.gather(boxes, selected), 0.0)
    kept_scores = tf.where(valid, tf.gather(scores, selected), zeros)
    kept_classes = tf.where(valid, tf.gather(classes, selected), tf.zeros_like(selected))
    return kept_boxes, kept_scores, kept_classes, count
