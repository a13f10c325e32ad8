"""Dividing examples into training, validation and test sets.

The rule of thumb of the deep-learning notes: below 10,000 examples use
60% / 20% / 20%; above 1,000,000 use 98% / 1% / 1%. In between, ``auto``
shrinks each held-out fraction geometrically with the logarithm of the size,
from 20% at 10,000 to 1% at 1,000,000 (about 4.5% each at 100,000), so the
held-out sets keep growing in absolute size while their share falls.
"""

from __future__ import annotations

import math

import numpy as np

SMALL, LARGE = 10_000, 1_000_000
SMALL_HELD_OUT, LARGE_HELD_OUT = 0.20, 0.01


def auto_fractions(num_examples: int) -> tuple[float, float]:
    """The (validation, test) fractions ``split: auto`` uses for ``num_examples``."""
    if num_examples < SMALL:
        return SMALL_HELD_OUT, SMALL_HELD_OUT
    if num_examples > LARGE:
        return LARGE_HELD_OUT, LARGE_HELD_OUT
    position = (math.log10(num_examples) - math.log10(SMALL)) / (
        math.log10(LARGE) - math.log10(SMALL)
    )
    held_out = SMALL_HELD_OUT * (LARGE_HELD_OUT / SMALL_HELD_OUT) ** position
    return held_out, held_out


def split_indices(
    num_examples: int, validation: float, test: float, seed: int
) -> dict[str, np.ndarray]:
    """Shuffle ``range(num_examples)`` with ``seed`` and cut it into three parts.

    Sizes are rounded to whole examples; a non-zero fraction always holds out at
    least one example when there are three or more, so a tiny data set still
    gets a validation set instead of silently losing it.
    """
    order = np.random.default_rng(seed).permutation(num_examples)
    n_val = _count(num_examples, validation)
    n_test = _count(num_examples, test)
    n_train = num_examples - n_val - n_test
    return {
        "train": np.sort(order[:n_train]),
        "validation": np.sort(order[n_train : n_train + n_val]),
        "test": np.sort(order[n_train + n_val :]),
    }


def _count(num_examples: int, fraction: float) -> int:
    if fraction <= 0:
        return 0
    count = int(round(num_examples * fraction))
    return max(count, 1) if num_examples >= 3 else count
