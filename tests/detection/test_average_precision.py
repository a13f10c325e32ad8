"""mAP as the COCO reference computes it: a hand-worked case and pycocotools itself."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from compiler.detection.average_precision import ImageDetections, class_results, mean_ap


def _image(boxes, classes, scores=None):
    return ImageDetections(np.array(boxes, float).reshape(-1, 4), np.array(classes, int),
                           None if scores is None else np.array(scores, float))


def test_hand_worked_average_precision():
    # Two objects; three detections, best first: a hit, a miss, a hit.
    truth = [_image([[0, 0, 10, 10], [20, 20, 30, 30]], [0, 0])]
    found = [_image([[0, 0, 10, 10], [50, 50, 60, 60], [21, 21, 30, 30]], [0, 0, 0],
                    [0.9, 0.8, 0.7])]
    (result,) = class_results(found, truth, classes=1)
    # recall 0.5, 0.5, 1; precision 1, 1/2, 2/3, made non-increasing: 1, 2/3, 2/3.
    # At the 101 recall points: 1 for 0.00..0.50 (51 points), 2/3 for 0.51..1.00 (50).
    assert result.ap[0] == pytest.approx((51 * 1 + 50 * 2 / 3) / 101)
    # The third box has IoU 81/100 with its object: a hit up to threshold 0.8, a
    # miss from 0.85, where AP is that of one hit in two objects.
    single = (51 * 1 + 0) / 101
    np.testing.assert_allclose(result.ap[:7], (51 + 50 * 2 / 3) / 101)
    np.testing.assert_allclose(result.ap[7:], single)
    assert mean_ap([result]) == pytest.approx((result.ap[0], result.ap.mean()))


def test_a_detection_matches_one_object_only_and_classes_apart():
    truth = [_image([[0, 0, 10, 10]], [1])]
    found = [_image([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], [1, 1, 0],
                    [0.9, 0.8, 0.95])]
    first, second = class_results(found, truth, classes=2)
    assert first.objects == 0 and np.isnan(first.ap).all()  # no ground truth: no AP
    # The duplicate is a false positive after the hit: precision 1 then 1/2.
    assert second.ap[0] == pytest.approx(1.0)
    assert mean_ap([first, second])[0] == pytest.approx(1.0)  # classes with objects only


def _random_scene(rng, images=12, classes=3):
    truth, found = [], []
    for _ in range(images):
        n = int(rng.integers(0, 5))
        xy = rng.uniform(0, 80, size=(n, 2))
        wh = rng.uniform(5, 30, size=(n, 2))
        boxes = np.concatenate([xy, xy + wh], axis=1)
        labels = rng.integers(0, classes, size=n)
        truth.append(_image(boxes, labels))
        # Detections: jittered copies of the objects (some with the wrong class),
        # some duplicates and some boxes of nothing.
        jitter = boxes + rng.normal(0, 3, size=boxes.shape)
        wrong = np.where(rng.random(n) < 0.15, (labels + 1) % classes, labels)
        m = int(rng.integers(0, 4))
        noise_xy = rng.uniform(0, 80, size=(m, 2))
        noise = np.concatenate([noise_xy, noise_xy + rng.uniform(5, 30, size=(m, 2))], axis=1)
        dup = jitter[: n // 2] + rng.normal(0, 2, size=(n // 2, 4))
        all_boxes = np.concatenate([jitter, noise, dup])
        all_boxes[:, 2:] = np.maximum(all_boxes[:, 2:], all_boxes[:, :2] + 1)
        all_labels = np.concatenate([wrong, rng.integers(0, classes, size=m), labels[: n // 2]])
        found.append(_image(all_boxes, all_labels, rng.random(len(all_boxes))))
    return truth, found


def _pycocotools(truth, found, classes):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def xywh(b):
        return [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]

    annotations, detections = [], []
    for image, (real, mine) in enumerate(zip(truth, found, strict=True)):
        for box, label in zip(real.boxes, real.classes, strict=True):
            w, h = xywh(box)[2:]
            annotations.append({"id": len(annotations) + 1, "image_id": image,
                                "category_id": int(label), "bbox": xywh(box), "area": w * h,
                                "iscrowd": 0})
        for box, label, score in zip(mine.boxes, mine.classes, mine.scores, strict=True):
            detections.append({"image_id": image, "category_id": int(label),
                               "bbox": xywh(box), "score": float(score)})
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = {"images": [{"id": i} for i in range(len(truth))],
                        "annotations": annotations,
                        "categories": [{"id": c} for c in range(classes)]}
        coco.createIndex()
        evaluation = COCOeval(coco, coco.loadRes(detections), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation.stats[1], evaluation.stats[0]  # AP@0.5, AP@0.5:0.95


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map_equals_pycocotools(seed):
    truth, found = _random_scene(np.random.default_rng(seed))
    map_50, map_50_95 = mean_ap(class_results(found, truth, classes=3))
    coco_50, coco_50_95 = _pycocotools(truth, found, 3)
    assert 0.05 < map_50 < 0.99  # a scene with hits and misses, not a trivial one
    assert map_50 == pytest.approx(coco_50, abs=1e-9)
    assert map_50_95 == pytest.approx(coco_50_95, abs=1e-9)
