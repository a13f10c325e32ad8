"""Mean average precision, computed as the COCO reference (pycocotools' COCOeval) does.

Per class and IoU threshold: detections of every image, best score first
(at most ``max_detections`` per image and class), are matched greedily, each
to the unmatched ground-truth box it overlaps most with IoU ≥ the threshold;
precision is made non-increasing from the right, and AP is its mean at the
101 recall points 0, 0.01, ..., 1. mAP@0.5 is the mean over classes at IoU
0.5; mAP@0.5:0.95 the mean over classes and the ten thresholds 0.5, 0.55,
..., 0.95. A class without ground truth has no AP and is left out of the means.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from compiler.detection.boxes import iou_matrix

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


@dataclass
class ImageDetections:
    """One image's boxes (n, 4) corners ``(x1, y1, x2, y2)``, their classes and scores."""

    boxes: np.ndarray
    classes: np.ndarray
    scores: np.ndarray | None = None  # None for ground truth


@dataclass
class ClassResult:
    """AP of one class at every IoU threshold, and its precision-recall curve at 0.5."""

    objects: int
    ap: np.ndarray  # (len(IOU_THRESHOLDS),); NaN without ground truth
    recall: np.ndarray = field(default_factory=lambda: np.zeros(0))
    precision: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _match(ious: np.ndarray, threshold: float) -> np.ndarray:
    """Whether each detection (rows, best first) matches a ground-truth box (columns)."""
    matched_truth = np.zeros(ious.shape[1], dtype=bool)
    hits = np.zeros(ious.shape[0], dtype=bool)
    for d in range(ious.shape[0]):
        best, best_iou = -1, min(threshold, 1 - 1e-10)
        for g in range(ious.shape[1]):
            if matched_truth[g] or ious[d, g] < best_iou:
                continue
            best, best_iou = g, ious[d, g]
        if best >= 0:
            matched_truth[best] = hits[d] = True
    return hits


def class_results(detections: list[ImageDetections], truth: list[ImageDetections],
                  classes: int, max_detections: int = 100) -> list[ClassResult]:
    """AP per class (see the module docstring); ``detections[i]`` and ``truth[i]`` are image i."""
    if len(detections) != len(truth):
        raise ValueError(f"{len(detections)} images of detections, {len(truth)} of ground truth")
    results = []
    for c in range(classes):
        scores, hits = [[] for _ in IOU_THRESHOLDS], [[] for _ in IOU_THRESHOLDS]
        objects = 0
        for found, real in zip(detections, truth, strict=True):
            real_boxes = np.asarray(real.boxes).reshape(-1, 4)[np.asarray(real.classes) == c]
            mine = np.asarray(found.classes) == c
            boxes = np.asarray(found.boxes).reshape(-1, 4)[mine]
            score = np.asarray(found.scores)[mine]
            order = np.argsort(-score, kind="mergesort")[:max_detections]
            boxes, score = boxes[order], score[order]
            objects += len(real_boxes)
            ious = iou_matrix(boxes, real_boxes)
            for t, threshold in enumerate(IOU_THRESHOLDS):
                scores[t].append(score)
                hits[t].append(_match(ious, threshold))
        ap = np.full(len(IOU_THRESHOLDS), np.nan)
        curve = (np.zeros(0), np.zeros(0))
        if objects:
            for t in range(len(IOU_THRESHOLDS)):
                recall, precision = _curve(np.concatenate(scores[t]), np.concatenate(hits[t]),
                                           objects)
                ap[t] = _interpolated(recall, precision).mean()
                if t == 0:
                    curve = (recall, precision)
        results.append(ClassResult(objects, ap, *curve))
    return results


def _curve(scores: np.ndarray, hits: np.ndarray, objects: int) -> tuple[np.ndarray, np.ndarray]:
    """Recall and the non-increasing precision envelope, detection by detection."""
    order = np.argsort(-scores, kind="mergesort")
    hits = hits[order]
    true_positives = np.cumsum(hits, dtype=np.float64)
    false_positives = np.cumsum(~hits, dtype=np.float64)
    recall = true_positives / objects
    precision = true_positives / (true_positives + false_positives + np.spacing(1))
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return recall, precision


def _interpolated(recall: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """Precision at the 101 recall points (0 where the recall is never reached)."""
    index = np.searchsorted(recall, RECALL_POINTS, side="left")
    out = np.zeros(len(RECALL_POINTS))
    reached = index < len(precision)
    out[reached] = precision[index[reached]]
    return out


def mean_ap(results: list[ClassResult]) -> tuple[float, float]:
    """(mAP@0.5, mAP@0.5:0.95) over the classes that have ground truth (NaN if none)."""
    aps = np.array([r.ap for r in results if r.objects])
    if not len(aps):
        return float("nan"), float("nan")
    return float(aps[:, 0].mean()), float(aps.mean())
