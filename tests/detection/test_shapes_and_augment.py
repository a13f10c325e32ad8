"""The generated `shapes` task and the augmentation that moves boxes with the pixels."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.data.generated import generate
from compiler.data.schema import GenerateSource
from compiler.detection.options import BoxAugmentation


def _shapes(seed=1, samples=40, size=64):
    return generate(GenerateSource(task="shapes", samples=samples, size=size, seed=seed))


def test_shapes_are_seeded_and_boxed_tightly():
    data, again, other = _shapes(), _shapes(), _shapes(seed=2)
    np.testing.assert_array_equal(data.inputs["image"], again.inputs["image"])
    assert not np.array_equal(data.inputs["image"], other.inputs["image"])
    images, boxes = data.inputs["image"], data.targets["boxes"]
    assert images.shape == (40, 64, 64, 3) and boxes.shape == (40, 4, 5)
    assert 0 <= images.min() and images.max() <= 1
    assert data.class_names == ["circle", "square", "triangle"] and data.task == "detection"
    counts = (boxes[..., 0] >= 0).sum(-1)
    assert counts.min() >= 1 and counts.max() <= 4 and len(set(counts)) > 1
    assert set(np.unique(boxes[..., 0])) == {-1, 0, 1, 2}
    for image, rows in zip(images, boxes, strict=True):
        # Shape pixels stand out from the grey, noisy background by far more than the noise.
        shape_pixels = np.abs(image - np.median(image, axis=(0, 1))).max(-1) > 0.25
        covered = np.zeros_like(shape_pixels)
        for cls, cx, cy, w, h in rows[rows[:, 0] >= 0]:
            x1, y1 = round((cx - w / 2) * 64), round((cy - h / 2) * 64)
            x2, y2 = round((cx + w / 2) * 64), round((cy + h / 2) * 64)
            covered[y1:y2, x1:x2] = True
            # A square fills its box, a circle π/4 of it, a triangle half; a
            # neighbour may reach into the box's corners, or be drawn over it.
            share = {0: np.pi / 4, 1: 1.0, 2: 0.5}[int(cls)]
            assert share - 0.15 <= shape_pixels[y1:y2, x1:x2].mean() <= share + 0.25
        assert shape_pixels[~covered].mean() < 0.01  # nothing drawn outside the boxes


def _square_image():
    image = np.full((40, 40, 3), 0.5, "float32")
    image[8:16, 4:12] = [1.0, 0.0, 0.0]  # an 8×8 red square: x 4..12, y 8..16
    boxes = np.array([[1, 8 / 40, 12 / 40, 8 / 40, 8 / 40], [-1, 0, 0, 0, 0]], "float32")
    return image, boxes


def _red_extent(image):
    red = (image[..., 0] > 0.75) & (image[..., 1] < 0.25)
    ys, xs = np.nonzero(red)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) / 40


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_flip_shift_and_zoom_move_the_box_with_the_pixels(seed):
    import tensorflow as tf

    from compiler.detection.augment import augment_example

    tf.random.set_seed(seed)
    image, boxes = _square_image()
    options = BoxAugmentation(flip=True, translate=0.2, scale=0.2)
    moved, rows = (np.asarray(v) for v in augment_example(tf.constant(image),
                                                          tf.constant(boxes), options))
    cls, cx, cy, w, h = rows[0]
    assert cls == 1 and rows[1, 0] == -1  # the padding row stays padding
    box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    np.testing.assert_allclose(box, _red_extent(moved), atol=1.5 / 40)


def test_a_box_pushed_off_the_image_is_dropped_and_one_cut_is_clipped():
    import tensorflow as tf

    from compiler.detection.augment import augment_example

    image, boxes = _square_image()
    # Large random shifts: some push the square off the image, some cut it.
    options = BoxAugmentation(flip=False, translate=0.45, scale=0.0, min_visible=0.4)
    seen = set()
    for seed in range(40):
        tf.random.set_seed(seed)
        moved, rows = (np.asarray(v) for v in augment_example(tf.constant(image),
                                                              tf.constant(boxes), options))
        red = (moved[..., 0] > 0.75) & (moved[..., 1] < 0.25)
        if rows[0, 0] == -1:
            seen.add("dropped")
            assert red.sum() < 0.4 * 64 + 8  # less than 40% of the square is left
        elif red.sum() < 60:
            seen.add("clipped")
            cx, cy, w, h = rows[0, 1:]
            assert cx - w / 2 >= 0 and cy - h / 2 >= 0 and cx + w / 2 <= 1 and cy + h / 2 <= 1
        if len(seen) == 2:
            break
    assert seen == {"dropped", "clipped"}
