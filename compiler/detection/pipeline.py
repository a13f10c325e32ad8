"""The tf.data side of detection: box-aware augmentation, then the grid target of the head.

:func:`compiler.data.pipeline.load_data` hands a detection task's arrays here.
The bundle's arrays (used by reports and the export check) hold the grid
targets; the padded box lists stay in ``bundle.boxes`` for mAP.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compiler.data.bundle import SPLITS
from compiler.detection.augment import augment_example
from compiler.detection.grid import encode_grid, encode_grid_numpy
from compiler.detection.head import HeadInfo, detection_head
from compiler.errors import DataError, SpecError


def detection_datasets(spec: Any, arrays: dict, origins: dict, batch_size: int, shuffle: bool,
                       cache: bool, seed: int) -> tuple[dict, dict, dict]:
    """Grid targets and batched datasets of every split of a detection source.

    Args:
        spec: the loaded spec, whose output is a `detection_head`.
        arrays: {split: (images, padded boxes)} keyed as the model's input and output.
        origins: {split: where each example came from}, for messages.

    Returns:
        ({split: (images, grid targets)}, {split: dataset or None}, {split: padded boxes}).

    Raises:
        SpecError: the model has no detection head, or several inputs or outputs.
        DataError: a class the head does not predict.
    """
    head = detection_head(spec)
    if head is None:
        raise SpecError("the data are boxes for object detection, so the model's output must "
                        "be a `detection_head` (trained with `loss: yolo`)", spec.locate("outputs"))
    if any(isinstance(part, dict) for pair in arrays.values() for part in pair):
        raise SpecError("a detector takes one image input and gives one output",
                        spec.locate("inputs"))
    boxes = {split: np.asarray(pair[1], np.float32) for split, pair in arrays.items()}
    for split, values in boxes.items():
        _check_classes(values, head, split, origins.get(split))
    encoded = {split: (images, encode_grid_numpy(boxes[split], head.grid, head.classes))
               for split, (images, _) in arrays.items()}
    source = spec.data.source
    augment = getattr(source, "augment", None)
    datasets = {}
    for split in SPLITS:
        if split not in arrays:
            datasets[split] = None
        elif split == "train" and augment is not None:
            datasets[split] = _augmented(arrays[split][0], boxes[split], head, augment,
                                         batch_size, shuffle, cache, seed)
        else:
            datasets[split] = _plain(encoded[split], batch_size,
                                     shuffle and split == "train", cache, seed)
    return encoded, datasets, boxes


def _check_classes(boxes: np.ndarray, head: HeadInfo, split: str, origins) -> None:
    cls = boxes[..., 0]
    bad = cls >= head.classes
    if not bad.any():
        return
    index = int(np.argmax(bad.any(axis=-1)))
    where = origins[index] if origins else f"example {index}"
    raise DataError(
        f"{split} example {index} ({where}) has an object of class {int(cls[bad].flat[0])}, "
        f"but the detection head '{head.name}' predicts {head.classes} classes "
        f"(0..{head.classes - 1}); raise its `classes`",
        head.location)


def _plain(arrays: tuple, batch_size: int, shuffle: bool, cache: bool, seed: int):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(arrays)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(len(arrays[0]), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _augmented(images: np.ndarray, boxes: np.ndarray, head: HeadInfo, options: Any,
               batch_size: int, shuffle: bool, cache: bool, seed: int):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, boxes))
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.map(lambda image, rows: augment_example(image, rows, options),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.batch(batch_size)
    dataset = dataset.map(lambda image, rows: (image, encode_grid(rows, head.grid, head.classes)))
    return dataset.prefetch(tf.data.AUTOTUNE)
