"""Intersection over union and non-max suppression on hand-worked boxes."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.detection.boxes import corners, iou_matrix
from custom_layers.yolo_loss import iou_centre_size

# (box a, box b, IoU) as corners (x1, y1, x2, y2), worked by hand.
CASES = {
    "disjoint": ([0, 0, 2, 2], [5, 5, 7, 7], 0.0),
    "touching edges": ([0, 0, 2, 2], [2, 0, 4, 2], 0.0),  # a shared edge has no area
    "touching corners": ([0, 0, 2, 2], [2, 2, 4, 4], 0.0),
    "identical": ([1, 1, 3, 4], [1, 1, 3, 4], 1.0),
    "nested": ([0, 0, 4, 4], [1, 1, 3, 3], 4 / 16),  # inner area over outer area
    "partial": ([0, 0, 2, 2], [1, 1, 3, 3], 1 / 7),  # 1 / (4 + 4 - 1)
    "half": ([0, 0, 2, 2], [1, 0, 3, 2], 2 / 6),
    "empty box": ([1, 1, 1, 1], [0, 0, 2, 2], 0.0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_iou_of_hand_worked_boxes(name):
    a, b, expected = CASES[name]
    assert iou_matrix([a], [b])[0, 0] == pytest.approx(expected)
    assert iou_matrix([b], [a])[0, 0] == pytest.approx(expected)  # symmetric
    # The loss's keras.ops version, on centre-size boxes.
    to_centre = lambda c: [(c[0] + c[2]) / 2, (c[1] + c[3]) / 2, c[2] - c[0], c[3] - c[1]]  # noqa: E731
    got = iou_centre_size(np.array([to_centre(a)], "float32"), np.array([to_centre(b)], "float32"))
    assert float(np.asarray(got)[0]) == pytest.approx(expected, abs=1e-6)


def test_iou_matrix_pairs_every_box_with_every_box():
    a = np.array([[0, 0, 2, 2], [0, 0, 4, 4]])
    b = np.array([[0, 0, 2, 2], [1, 1, 3, 3], [10, 10, 11, 11]])
    np.testing.assert_allclose(iou_matrix(a, b), [[1, 1 / 7, 0], [4 / 16, 4 / 16, 0]])
    np.testing.assert_allclose(corners([[2, 3, 4, 2]]), [[0, 2, 4, 4]])


def _nms(boxes, scores, classes=None, iou=0.5, score=0.0, keep=10):
    from compiler.detection.nms import class_aware_nms

    boxes = np.array(boxes, "float32")
    classes = np.zeros(len(boxes), "int32") if classes is None else np.array(classes, "int32")
    out = class_aware_nms(boxes, np.array(scores, "float32"), classes, iou_threshold=iou,
                          score_threshold=score, max_detections=keep, extent=100.0)
    kept_boxes, kept_scores, kept_classes, count = (np.asarray(v) for v in out)
    n = int(count)
    assert not kept_boxes[n:].any() and not kept_scores[n:].any()  # zero padding after the last
    return (kept_boxes[:n].tolist(), [round(float(s), 4) for s in kept_scores[:n]],
            kept_classes[:n].tolist())


def test_nms_keeps_one_of_identical_boxes_the_best():
    boxes, scores, _ = _nms([[0, 0, 10, 10]] * 3, [0.6, 0.9, 0.7])
    assert boxes == [[0, 0, 10, 10]] and scores == [0.9]


def test_nms_keeps_disjoint_and_touching_boxes():
    boxes, scores, _ = _nms([[0, 0, 10, 10], [10, 0, 20, 10], [50, 50, 60, 60]], [0.5, 0.9, 0.7])
    assert scores == [0.9, 0.7, 0.5]  # all kept, best first
    assert boxes == [[10, 0, 20, 10], [50, 50, 60, 60], [0, 0, 10, 10]]


def test_nms_one_box_inside_many():
    # A large box holding four small ones. The small ones overlap it by IoU 1/16
    # each, below the threshold, so all stay; a near-copy of the large box goes.
    big = [0, 0, 40, 40]
    small = [[0, 0, 10, 10], [30, 0, 40, 10], [0, 30, 10, 40], [30, 30, 40, 40]]
    copy = [1, 1, 40, 40]  # IoU 39²/40² = 0.95 with the big box
    boxes, scores, _ = _nms([big, *small, copy], [0.9, 0.8, 0.7, 0.6, 0.5, 0.85])
    assert boxes == [big, *small] and scores == [0.9, 0.8, 0.7, 0.6, 0.5]
    # With the threshold under 1/16, the large box suppresses every box inside it.
    boxes, _, _ = _nms([big, *small, copy], [0.9, 0.8, 0.7, 0.6, 0.5, 0.85], iou=0.05)
    assert boxes == [big]


def test_nms_on_nested_boxes_follows_the_threshold():
    outer, inner = [0, 0, 4, 4], [1, 1, 3, 3]  # IoU 0.25
    assert len(_nms([outer, inner], [0.9, 0.8], iou=0.3)[0]) == 2
    assert _nms([outer, inner], [0.9, 0.8], iou=0.2)[0] == [outer]
    assert _nms([outer, inner], [0.8, 0.9], iou=0.2)[0] == [inner]  # the better one wins


def test_nms_suppresses_within_a_class_only():
    boxes, scores, classes = _nms([[0, 0, 10, 10], [0, 0, 10, 10], [1, 0, 10, 10]],
                                  [0.9, 0.8, 0.7], classes=[0, 1, 0])
    assert classes == [0, 1] and scores == [0.9, 0.8]


def test_nms_score_threshold_and_maximum():
    far = [[i * 20, 0, i * 20 + 10, 10] for i in range(5)]
    _, scores, _ = _nms(far, [0.1, 0.2, 0.3, 0.4, 0.5], score=0.25)
    assert scores == [0.5, 0.4, 0.3]
    _, scores, _ = _nms(far, [0.1, 0.2, 0.3, 0.4, 0.5], keep=2)
    assert scores == [0.5, 0.4]
