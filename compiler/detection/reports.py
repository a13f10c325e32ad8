"""Detection reports of a trained model: mAP per class in metrics.json, a precision-recall plot."""

from __future__ import annotations

from typing import Any

import numpy as np

from compiler.detection.average_precision import (
    ClassResult,
    ImageDetections,
    class_results,
    mean_ap,
)
from compiler.detection.boxes import corners
from compiler.detection.head import HeadInfo, detection_head

# As the COCO evaluation does: every detection down to a tiny score, 100 per image.
EVAL_SCORE_THRESHOLD = 0.001
EVAL_MAX_DETECTIONS = 100
PLOT_NAME = "precision_recall.png"


def truth_of(boxes: np.ndarray, image_size: tuple[int, int]) -> list[ImageDetections]:
    """Padded normalised ``(class, cx, cy, w, h)`` rows → per-image corner boxes in pixels."""
    height, width = image_size
    out = []
    for rows in np.asarray(boxes):
        rows = rows[rows[:, 0] >= 0]
        pixels = corners(rows[:, 1:5]) * np.array([width, height, width, height])
        out.append(ImageDetections(pixels, rows[:, 0].astype(int)))
    return out


def detect(model, images: np.ndarray, head: HeadInfo, *, score_threshold: float,
           max_detections: int, batch_size: int = 64) -> list[ImageDetections]:
    """Run a detector (raw grid output) and decode its detections, per image."""
    from compiler.detection.decode import DecodeDetections

    size = tuple(int(d) for d in images.shape[1:3])
    decode = DecodeDetections(head.grid, head.boxes, head.classes, size,
                              score_threshold=score_threshold, iou_threshold=head.iou_threshold,
                              max_detections=max_detections)
    found = []
    for start in range(0, len(images), batch_size):
        grid = model.predict(images[start:start + batch_size], verbose=0)
        out = {k: np.asarray(v) for k, v in decode(grid).items()}
        for i in range(len(grid)):
            n = int(out["num_detections"][i])
            found.append(ImageDetections(out["boxes"][i, :n], out["classes"][i, :n],
                                         out["scores"][i, :n]))
    return found


def evaluate_detector(model, images: np.ndarray, boxes: np.ndarray, head: HeadInfo,
                      class_names: list[str]) -> tuple[dict, list[ClassResult]]:
    """mAP@0.5 and mAP@0.5:0.95, overall and per class, on one split."""
    found = detect(model, images, head, score_threshold=EVAL_SCORE_THRESHOLD,
                   max_detections=EVAL_MAX_DETECTIONS)
    results = class_results(found, truth_of(boxes, images.shape[1:3]), head.classes,
                            EVAL_MAX_DETECTIONS)
    map_50, map_50_95 = mean_ap(results)
    per_class = {}
    for index, result in enumerate(results):
        name = class_names[index] if index < len(class_names) else str(index)
        per_class[name] = {
            "objects": result.objects,
            "ap_50": None if np.isnan(result.ap[0]) else float(result.ap[0]),
            "ap_50_95": None if np.isnan(result.ap[0]) else float(np.mean(result.ap)),
        }
    summary = {"map_50": _finite(map_50), "map_50_95": _finite(map_50_95),
               "images": int(len(images)), "per_class": per_class}
    return summary, results


def _finite(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def plot_precision_recall(path, results: list[ClassResult], class_names: list[str],
                          title: str) -> None:
    """One precision-recall curve per class at IoU 0.5."""
    from compiler.figures import new_figure, save_figure

    fig = new_figure(5, 4)
    ax = fig.subplots()
    for index, result in enumerate(results):
        if not result.objects:
            continue
        name = class_names[index] if index < len(class_names) else str(index)
        recall = np.concatenate([[0.0], result.recall])
        precision = np.concatenate([[result.precision[0] if len(result.precision) else 0.0],
                                    result.precision])
        ax.step(recall, precision, where="post", label=f"{name} (AP {result.ap[0]:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(title)
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(path, fig)


def evaluate_split(model, spec: Any, bundle: Any, split: str) -> dict | None:
    """`nncompile evaluate`'s detection numbers of one split (see :func:`evaluate_detector`)."""
    head = detection_head(spec)
    if head is None or split not in bundle.boxes:
        return None
    summary, _ = evaluate_detector(model, np.asarray(bundle.arrays[split][0]),
                                   bundle.boxes[split], head, list(bundle.class_names or []))
    return summary


def write_detection_reports(model, spec: Any, bundle: Any, folder: Any) -> dict | None:
    """mAP of the validation and test splits for metrics.json, and the test split's PR plot.

    Returns:
        ``{"iou_threshold_nms": ..., "<split>": {map_50, map_50_95, per_class}}``,
        or None when the model is not a detector.
    """
    head = detection_head(spec)
    if head is None or not bundle.boxes:
        return None
    names = list(bundle.class_names or [])
    report: dict[str, Any] = {"evaluation": "COCO (101-point interpolated AP, at most "
                                            f"{EVAL_MAX_DETECTIONS} detections per image)"}
    plotted = None
    for split in ("validation", "test"):
        if split not in bundle.boxes:
            continue
        images = np.asarray(bundle.arrays[split][0])
        report[split], results = evaluate_detector(model, images, bundle.boxes[split], head,
                                                   names)
        plotted = (split, results)
    if plotted is not None:
        split, results = plotted
        plot_precision_recall(folder.path / PLOT_NAME, results, names,
                              f"{spec.name}: {split} split, IoU 0.5")
    return report
