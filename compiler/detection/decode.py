"""From the head's S×S×(B·5+C) grid to boxes in pixels, scores and classes, inside the graph.

The export wraps a trained detector in :class:`DecodeDetections`, so the
SavedModel and the TFLite file take an image and return detections; the
model folder's `model.keras` keeps the raw grid, which training needs.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

OUTPUT_NAMES = ["boxes", "scores", "classes", "num_detections"]


class DecodeDetections(keras.layers.Layer):
    """Decode a YOLO v1 grid and apply per-class non-max suppression.

    At test time the class-specific score of box j of a cell for class c is
    P(c | object) · confidence_j (Redmon et al. 2016, eq. 2); a (box, class)
    pair scoring above ``score_threshold`` is a candidate, and non-max
    suppression within each class keeps at most ``max_detections``.

    Args:
        grid, boxes, classes: S, B and C of the head.
        image_size: (height, width) of the input in pixels.
        score_threshold, iou_threshold, max_detections: of the suppression.

    Call arguments:
        inputs: (batch, S, S, B·5 + C) head outputs.

    Returns:
        ``boxes`` (batch, max_detections, 4) float32 corners ``(x1, y1, x2, y2)``
        in pixels, ``scores`` (batch, max_detections) float32, ``classes``
        (batch, max_detections) int32 and ``num_detections`` (batch,) int32; rows
        past ``num_detections`` are zeros.
    """

    def __init__(self, grid: int, boxes: int, classes: int, image_size: tuple[int, int],
                 score_threshold: float = 0.25, iou_threshold: float = 0.5,
                 max_detections: int = 20, **kwargs: Any):
        super().__init__(**kwargs)
        self.grid, self.boxes, self.classes = int(grid), int(boxes), int(classes)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        self.max_detections = int(max_detections)

    def candidates(self, grid_values):
        """Every (box, class) pair of a batch: corners in pixels (batch, n, 4), scores, classes."""
        import tensorflow as tf

        s, b, c = self.grid, self.boxes, self.classes
        height, width = self.image_size
        values = tf.reshape(grid_values[..., : 5 * b], [-1, s, s, b, 5])
        probabilities = tf.clip_by_value(grid_values[..., 5 * b:], 0.0, 1.0)  # (batch, S, S, C)
        # The column and row of every cell, as constants of the full (1, S, S, 1) shape.
        column, row = (tf.constant(a.reshape(1, s, s, 1), tf.float32)
                       for a in np.meshgrid(np.arange(s), np.arange(s), indexing="xy"))
        cx = (column + values[..., 0]) / s * width
        cy = (row + values[..., 1]) / s * height
        # The head predicts square roots of the size (a linear head may go below 0).
        w = tf.square(tf.maximum(values[..., 2], 0.0)) * width
        h = tf.square(tf.maximum(values[..., 3], 0.0)) * height
        corners = tf.stack([
            tf.clip_by_value(cx - w / 2, 0.0, width), tf.clip_by_value(cy - h / 2, 0.0, height),
            tf.clip_by_value(cx + w / 2, 0.0, width), tf.clip_by_value(cy + h / 2, 0.0, height),
        ], axis=-1)  # (batch, S, S, B, 4)
        confidence = tf.clip_by_value(values[..., 4], 0.0, 1.0)
        scores = confidence[..., None] * probabilities[:, :, :, None, :]  # (batch, S, S, B, C)
        n = s * s * b
        corners = tf.reshape(tf.repeat(tf.reshape(corners, [-1, n, 1, 4]), c, axis=2),
                             [-1, n * c, 4])
        scores = tf.reshape(scores, [-1, n * c])
        labels = tf.tile(tf.range(c, dtype=tf.int32), [n])
        return corners, scores, labels

    def call(self, inputs):
        import tensorflow as tf

        from compiler.detection.nms import class_aware_nms

        corners, scores, labels = self.candidates(inputs)
        extent = float(max(self.image_size))

        def one(image):
            box, score = image
            return class_aware_nms(box, score, labels, iou_threshold=self.iou_threshold,
                                   score_threshold=self.score_threshold,
                                   max_detections=self.max_detections, extent=extent)

        if inputs.shape[0] == 1:  # a fixed batch of one (TFLite): no loop over the batch
            kept = [tf.expand_dims(part, 0) for part in one((corners[0], scores[0]))]
        else:
            kept = tf.map_fn(one, (corners, scores), fn_output_signature=(
                tf.float32, tf.float32, tf.int32, tf.int32))
        return dict(zip(OUTPUT_NAMES, kept, strict=True))

    def compute_output_spec(self, inputs):
        batch, k = inputs.shape[0], self.max_detections
        return {
            "boxes": keras.KerasTensor((batch, k, 4), "float32"),
            "scores": keras.KerasTensor((batch, k), "float32"),
            "classes": keras.KerasTensor((batch, k), "int32"),
            "num_detections": keras.KerasTensor((batch,), "int32"),
        }

    def get_config(self) -> dict:
        return {**super().get_config(), "grid": self.grid, "boxes": self.boxes,
                "classes": self.classes, "image_size": list(self.image_size),
                "score_threshold": self.score_threshold, "iou_threshold": self.iou_threshold,
                "max_detections": self.max_detections}


def detector_model(model, head: Any, image_size: tuple[int, int], *, score_threshold: float,
                   iou_threshold: float, max_detections: int):
    """A Keras model: the trained detector's image input → decoded, suppressed detections."""
    decoded = DecodeDetections(head.grid, head.boxes, head.classes, image_size,
                               score_threshold=score_threshold, iou_threshold=iou_threshold,
                               max_detections=max_detections, name="decode_detections")
    outputs = decoded(model.outputs[0])
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, [outputs[name] for name in OUTPUT_NAMES],
                       name=f"{model.name}_detector")
