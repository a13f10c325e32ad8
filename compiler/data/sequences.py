"""Cutting and padding sequences to one length (Burkov, appendix B).

A recurrent network is unfolded over a fixed number of steps, so sequences
are cut at ``max_length`` or padded with zeros up to it. Id 0 is therefore
reserved for padding in every vocabulary this package builds, which lets a
masking layer skip padded steps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PAD_ID = 0


def fit_length(
    sequences: Sequence[Sequence[int]],
    max_length: int | None = None,
    *,
    padding: str = "post",
    truncating: str = "post",
    value: int = PAD_ID,
    dtype: str = "int32",
) -> np.ndarray:
    """Cut or pad every sequence to ``max_length`` steps.

    Args:
        sequences: lists of token ids (or of equally shaped step vectors).
        max_length: steps of the result; default: the longest sequence.
        padding: ``"pre"`` puts the padding before a short sequence, ``"post"`` after.
        truncating: ``"pre"`` cuts the beginning of a long sequence, ``"post"`` its end.
        value: what padded steps hold.
        dtype: dtype of the result.

    Returns:
        An array of shape ``(len(sequences), max_length, ...)``.

    Example:
        >>> fit_length([[1, 2, 3], [4]], 2, padding="pre", truncating="pre").tolist()
        [[2, 3], [0, 4]]
    """
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"padding and truncating are 'pre' or 'post', got "
                         f"{padding!r}, {truncating!r}")
    arrays = [np.asarray(seq) for seq in sequences]
    if max_length is None:
        max_length = max((len(a) for a in arrays), default=0)
    step_shape = next((a.shape[1:] for a in arrays if len(a)), ())
    out = np.full((len(arrays), max_length, *step_shape), value, dtype=dtype)
    for row, seq in enumerate(arrays):
        if not len(seq):
            continue
        seq = seq[-max_length:] if truncating == "pre" else seq[:max_length]
        if padding == "post":
            out[row, : len(seq)] = seq
        else:
            out[row, max_length - len(seq) :] = seq
    return out
