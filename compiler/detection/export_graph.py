"""The hook of the export: a detector is exported with its decoding and NMS inside the graph."""

from __future__ import annotations

from typing import Any

from compiler.detection.decode import OUTPUT_NAMES, detector_model
from compiler.detection.head import detection_head


def detection_export_model(spec: Any, model) -> tuple[Any, list[str]] | None:
    """The model an application runs for a detector spec, and its output names; else None.

    The image goes in; ``boxes`` (pixels), ``scores``, ``classes`` and
    ``num_detections`` come out, after the head's score threshold and per-class
    non-max suppression (its `iou_threshold` and `max_detections`).
    """
    head = detection_head(spec)
    if head is None:
        return None
    shape = model.inputs[0].shape
    image_size = (int(shape[1]), int(shape[2]))
    wrapped = detector_model(model, head, image_size, score_threshold=head.score_threshold,
                             iou_threshold=head.iou_threshold,
                             max_detections=head.max_detections)
    return wrapped, list(OUTPUT_NAMES)
