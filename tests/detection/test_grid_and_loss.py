"""The grid target of the data pipeline and the YOLO v1 loss on a hand-computed 2×2 grid."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.detection.grid import encode_grid_numpy
from compiler.detection.loss import YoloLoss

PAD = [-1, 0, 0, 0, 0]


def test_boxes_go_to_the_cell_of_their_centre():
    boxes = np.array([[[1, 0.25, 0.75, 0.5, 0.2],     # centre in row 1, column 0 of a 2×2 grid
                       [0, 0.9, 0.1, 0.1, 0.1],       # row 0, column 1
                       PAD]], "float32")
    grid = encode_grid_numpy(boxes, 2, 2)
    assert grid.shape == (1, 2, 2, 7)
    # x, y relative to the cell; w, h relative to the image; object; class one-hot
    np.testing.assert_allclose(grid[0, 1, 0], [0.5, 0.5, 0.5, 0.2, 1, 0, 1], atol=1e-6)
    np.testing.assert_allclose(grid[0, 0, 1], [0.8, 0.2, 0.1, 0.1, 1, 1, 0], atol=1e-6)
    assert not grid[0, 0, 0].any() and not grid[0, 1, 1].any()


def test_one_object_per_cell_the_first_listed_and_the_border_belongs_to_the_last_cell():
    boxes = np.array([[[2, 0.1, 0.1, 0.1, 0.1], [0, 0.2, 0.2, 0.3, 0.3],
                       [1, 1.0, 1.0, 0.2, 0.2]]], "float32")
    grid = encode_grid_numpy(boxes, 3, 3)
    assert grid[0, 0, 0, 4] == 1 and grid[0, 0, 0, 5:].tolist() == [0, 0, 1]  # the first
    np.testing.assert_allclose(grid[0, 2, 2], [1, 1, 0.2, 0.2, 1, 0, 1, 0], atol=1e-6)
    assert grid[..., 4].sum() == 2


def _two_by_two(first_box, second_box, classes=(0.3, 0.7)):
    """Targets and predictions of one image, S = 2, B = 2, C = 2.

    One object, of class 1, centred in cell (0, 0): x = y = 0.5 within the
    cell, w = 0.36, h = 0.16 of the image (√w = 0.6, √h = 0.4).
    """
    truth = np.zeros((1, 2, 2, 7), "float32")
    truth[0, 0, 0] = [0.5, 0.5, 0.36, 0.16, 1, 0, 1]
    pred = np.zeros((1, 2, 2, 12), "float32")
    pred[0, 0, 0] = [*first_box, *second_box, *classes]
    # Cells without an object: only their confidences count (coordinates and
    # class probabilities there are anything).
    pred[0, 0, 1] = [0.3, 0.3, 0.3, 0.3, 0.2, 0.7, 0.7, 0.7, 0.7, 0.4, 0.9, 0.1]
    pred[0, 1, 0] = [0.9, 0.9, 0.9, 0.9, 0.0, 0.9, 0.9, 0.9, 0.9, 0.0, 0.5, 0.5]
    pred[0, 1, 1] = [0.1, 0.2, 0.3, 0.4, 0.1, 0.5, 0.6, 0.7, 0.8, 0.0, 0.2, 0.8]
    return truth, pred


# λ_noobj · Σ conf² over the cells without an object: 0.5 · (0.2² + 0.4² + 0.1²)
EMPTY_CELLS = 0.5 * (0.04 + 0.16 + 0.01)
CLASSES = (0 - 0.3) ** 2 + (1 - 0.7) ** 2  # the object's cell only


def _loss(truth, pred, **options):
    return float(np.asarray(YoloLoss(**options)(truth, pred)))


def test_loss_with_a_perfect_responsible_box():
    truth, pred = _two_by_two([0.5, 0.5, 0.6, 0.4, 0.8], [0.1, 0.1, 0.1, 0.1, 0.3])
    # box 0 is exact (IoU 1): responsible, coordinates cost 0, its confidence
    # target is 1; box 1 is not responsible: λ_noobj · 0.3²
    expected = (1 - 0.8) ** 2 + 0.5 * 0.3 ** 2 + CLASSES + EMPTY_CELLS
    assert _loss(truth, pred) == pytest.approx(expected, rel=1e-5)  # 0.37


def test_loss_coordinates_square_roots_and_rescored_confidence():
    # box 0 shifted left by 0.1 of the cell (0.05 of the image) and too wide:
    # √w predicted 0.7 against 0.6. Box 1 is far off, so box 0 is responsible.
    truth, pred = _two_by_two([0.4, 0.5, 0.7, 0.4, 0.8], [0.9, 0.9, 0.1, 0.1, 0.3])
    # predicted box: centre (0.2, 0.25), w 0.49, h 0.16 → x from -0.045 to 0.445,
    # truth x from 0.07 to 0.43: intersection 0.36 · 0.16, union 0.49 · 0.16
    iou = (0.36 * 0.16) / (0.49 * 0.16)
    coord = 5 * ((0.5 - 0.4) ** 2 + (0.6 - 0.7) ** 2)
    expected = coord + (iou - 0.8) ** 2 + 0.5 * 0.3 ** 2 + CLASSES + EMPTY_CELLS
    assert _loss(truth, pred) == pytest.approx(expected, rel=1e-5)
    # Without rescoring, the target confidence is 1.
    expected = coord + (1 - 0.8) ** 2 + 0.5 * 0.3 ** 2 + CLASSES + EMPTY_CELLS
    assert _loss(truth, pred, rescore=False) == pytest.approx(expected, rel=1e-5)


def test_the_responsible_box_is_the_one_of_highest_iou_not_the_first():
    truth, pred = _two_by_two([0.1, 0.1, 0.1, 0.1, 0.3], [0.5, 0.5, 0.6, 0.4, 0.8])
    expected = (1 - 0.8) ** 2 + 0.5 * 0.3 ** 2 + CLASSES + EMPTY_CELLS
    assert _loss(truth, pred) == pytest.approx(expected, rel=1e-5)
    # λ_coord and λ_noobj scale their terms.
    coord_free = (1 - 0.8) ** 2 + 0.25 * 0.3 ** 2 + CLASSES + EMPTY_CELLS / 2
    assert _loss(truth, pred, noobj=0.25) == pytest.approx(coord_free, rel=1e-5)


def test_loss_is_summed_over_an_image_and_averaged_over_the_batch():
    t1, p1 = _two_by_two([0.5, 0.5, 0.6, 0.4, 0.8], [0.1, 0.1, 0.1, 0.1, 0.3])
    empty_truth, empty_pred = np.zeros_like(t1), np.zeros_like(p1)
    empty_pred[..., [4, 9]] = 1.0  # both boxes of every cell say "object": 8 · λ_noobj · 1²
    both = _loss(np.concatenate([t1, empty_truth]), np.concatenate([p1, empty_pred]))
    assert both == pytest.approx((0.37 + 4.0) / 2, rel=1e-5)


def test_loss_config_round_trip():
    loss = YoloLoss(coord=3.0, noobj=0.1, rescore=False)
    again = YoloLoss.from_config(loss.get_config())
    assert (again.coord, again.noobj, again.rescore) == (3.0, 0.1, False)
