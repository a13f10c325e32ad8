"""Sequence tasks: the adding problem, parity and a tagging task."""

from __future__ import annotations

import numpy as np

from compiler.data.raw import RawData
from compiler.data.schema import GenerateSource
from compiler.data.sequences import fit_length


def adding(options: GenerateSource) -> RawData:
    """The adding problem of Hochreiter & Schmidhuber (1997).

    Each step holds a random value in [0, 1) and a marker; exactly two steps
    are marked (1.0), the others hold 0.0. The target is the sum of the two
    marked values, so the network must remember them across the sequence.

    Produces input ``sequence`` (length, 2) — [:, 0] values, [:, 1] markers —
    and target ``sum`` (1,).
    """
    length = options.length or 50
    if length < 2:
        raise ValueError("the adding problem needs `length` of at least 2")
    rng = np.random.default_rng(options.seed)
    values = rng.random((options.samples, length))
    markers = np.zeros((options.samples, length))
    # Two distinct positions per example: a random pair from a permutation.
    picks = np.argsort(rng.random((options.samples, length)), axis=1)[:, :2]
    np.put_along_axis(markers, picks, 1.0, axis=1)
    total = (values * markers).sum(axis=1, keepdims=True)
    return RawData(
        inputs={"sequence": np.stack([values, markers], axis=-1).astype(np.float32)},
        targets={"sum": total.astype(np.float32)},
        task="regression",
        metadata={"length": length},
    )


def parity(options: GenerateSource) -> RawData:
    """Is the number of 1-bits in a variable-length binary sequence odd?

    Bits are written as tokens 1 (a 0-bit) and 2 (a 1-bit) so that 0 is free
    for padding and a masking layer can skip it. Sequences have 1..`length`
    bits (default 20) and are cut or padded to `max_length` (default `length`);
    the target counts the bits that are kept.

    Produces input ``bits`` (max_length,) and target ``parity`` () with
    class 0 = even, 1 = odd.
    """
    longest = options.length or 20
    rng = np.random.default_rng(options.seed)
    lengths = rng.integers(1, longest + 1, size=options.samples)
    sequences = [rng.integers(1, 3, size=n) for n in lengths]
    bits = fit_length(
        sequences,
        options.max_length or longest,
        padding=options.padding,
        truncating=options.truncating,
    )
    labels = ((bits == 2).sum(axis=1) % 2).astype(np.int32)
    return RawData(
        inputs={"bits": bits},
        targets={"parity": labels},
        task="classification",
        class_names=["even", "odd"],
        num_classes=2,
        metadata={"pad_id": 0, "tokens": {"0-bit": 1, "1-bit": 2}, "max_length": bits.shape[1]},
    )


TAG_VOCABULARY = 9


def tagging(options: GenerateSource) -> RawData:
    """Tag each token that is a peak: greater than both of its neighbours.

    Tokens are integers 1..9 (0 is padding); the steps before the first and
    after the last token count as 0. Deciding step t needs token t+1, which a
    left-to-right network has not yet read, so a bidirectional network wins.

    Produces input ``tokens`` (length,) and target ``tags`` (length,) with
    class 0 = other, 1 = peak.
    """
    length = options.length or 20
    rng = np.random.default_rng(options.seed)
    tokens = rng.integers(1, TAG_VOCABULARY + 1, size=(options.samples, length))
    padded = np.pad(tokens, ((0, 0), (1, 1)))
    tags = (tokens > padded[:, :-2]) & (tokens > padded[:, 2:])
    return RawData(
        inputs={"tokens": tokens.astype(np.int32)},
        targets={"tags": tags.astype(np.int32)},
        task="sequence_labeling",
        class_names=["other", "peak"],
        num_classes=2,
        metadata={"vocabulary_size": TAG_VOCABULARY + 1, "pad_id": 0},
    )
