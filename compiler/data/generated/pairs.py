"""Siamese pairs built from the scikit-learn digits."""

from __future__ import annotations

import numpy as np

from compiler.data.builtin import load_builtin
from compiler.data.raw import RawData
from compiler.data.schema import GenerateSource


def digit_pairs(options: GenerateSource) -> RawData:
    """Pairs of 8×8×1 digit images; target 1 if both show the same digit, else 0.

    Exactly half of the pairs (rounded down) are "same" pairs, in random order,
    and the two images of a pair are always different pictures.

    Produces inputs ``image_a`` and ``image_b`` (8, 8, 1) and target ``same`` (1,).
    """
    digits = load_builtin("digits")
    images, labels = digits.inputs["image"], digits.targets["label"]
    by_class = [np.flatnonzero(labels == c) for c in range(10)]
    rng = np.random.default_rng(options.seed)
    same = np.zeros(options.samples, dtype=bool)
    same[: options.samples // 2] = True
    rng.shuffle(same)
    first = np.empty(options.samples, dtype=np.int64)
    second = np.empty(options.samples, dtype=np.int64)
    for i, is_same in enumerate(same):
        a = rng.integers(10)
        b = a if is_same else (a + rng.integers(1, 10)) % 10
        first[i] = rng.choice(by_class[a])
        second[i] = rng.choice(by_class[b])
        while second[i] == first[i]:
            second[i] = rng.choice(by_class[b])
    return RawData(
        inputs={"image_a": images[first], "image_b": images[second]},
        targets={"same": same.astype(np.float32)[:, None]},
        task="binary",
        class_names=["different", "same"],
        num_classes=2,
        metadata={"image_size": [8, 8], "scale": "pixels / 16"},
    )
