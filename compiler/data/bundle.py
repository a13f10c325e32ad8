"""What :func:`compiler.data.pipeline.load_data` returns, and label checks against a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compiler.errors import DataError, Location, Problem

SPLITS = ("train", "validation", "test")
LABEL_TASKS = ("classification", "sequence_labeling", "seq2seq")


@dataclass
class DataBundle:
    """The data of a spec, split, batched and ready for ``model.fit``.

    Attributes:
        train: batched, shuffled (each epoch), cached, prefetched
            ``tf.data.Dataset`` of ``(inputs, targets)``; None if empty.
        validation: the same without shuffling; None if the split is empty.
        test: like validation.
        arrays: {split: (inputs, targets)} as NumPy arrays, for adapting
            normalisation layers, calibration and error analysis. Inputs and
            targets are dicts keyed by model input/output names when the model
            has several, else plain arrays. Empty splits are left out.
        class_names: names of the classes, index = label, where known.
        num_classes: number of classes of a classification task, else None.
        task: classification, binary, regression, sequence_labeling or seq2seq.
        metadata: JSON-serialisable facts an application needs at inference:
            vocabularies, start/stop ids, standardisation constants, category
            encodings, the map from model names to data names.
        origins: {split: where each example came from (``file:row``)} where known.
    """

    train: Any
    validation: Any
    test: Any
    arrays: dict[str, tuple[Any, Any]]
    class_names: list[str] | None
    num_classes: int | None
    task: str
    metadata: dict = field(default_factory=dict)
    origins: dict[str, list[str] | None] = field(default_factory=dict)

    def size(self, split: str) -> int:
        """Number of examples in ``split`` (0 for an empty split)."""
        if split not in self.arrays:
            return 0
        inputs = self.arrays[split][0]
        first = next(iter(inputs.values())) if isinstance(inputs, dict) else inputs
        return int(first.shape[0])


def check_labels(bundle: DataBundle, num_classes: int, location: Location | None = None) -> None:
    """Check that every label fits a model with ``num_classes`` outputs.

    Class labels must lie in ``0..num_classes-1``; binary targets must be 0 or 1.
    Regression targets are not checked.

    Args:
        bundle: the loaded data.
        num_classes: classes the model predicts (units of its output layer).
        location: where the model's output is defined, named when no data row
            can be named.

    Raises:
        DataError: one problem per split with a bad label, naming the first
            bad example (``file:row`` where known) and the value.
    """
    problems = []
    for split, (_, targets) in bundle.arrays.items():
        arrays = targets if isinstance(targets, dict) else {"": targets}
        for name, labels in arrays.items():
            labels = np.asarray(labels)
            if bundle.task == "binary":
                bad = (labels != 0) & (labels != 1)
                expected = "0 or 1"
            elif bundle.task in LABEL_TASKS:
                bad = (labels < 0) | (labels >= num_classes)
                expected = f"0..{num_classes - 1}"
            else:
                continue
            if not bad.any():
                continue
            flat = int(np.argmax(bad.reshape(len(labels), -1).any(axis=1)))
            value = labels[flat][bad[flat]].flat[0] if labels.ndim > 1 else labels[flat]
            origins = bundle.origins.get(split)
            where = (
                _origin_location(origins[flat])
                if origins
                else Location(location.file, location.line, location.col, location.path)
                if location
                else Location()
            )
            target = f"target '{name}' " if name else ""
            problems.append(
                Problem(
                    f"{split} example {flat}: {target}label {value:g} is out of range for a "
                    f"model with {num_classes} classes (expected {expected}; "
                    f"{int(bad.sum())} bad labels in this split)",
                    where,
                )
            )
    if problems:
        raise DataError(problems)


def _origin_location(origin: str) -> Location:
    file, _, row = origin.rpartition(":")
    if file and row.isdigit():
        return Location(file, int(row))
    return Location(origin)
