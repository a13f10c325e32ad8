"""What :func:`compiler.data.pipeline.load_data` returns, and label checks against a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compiler.data.raw import example_location
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
        target_where: {model output name: where its targets are in the source
            (file, CSV column)}, where known.
        target_tasks: {model output name: task} of each output's targets; an
            output not listed has the bundle's ``task``.
        boxes: {split: padded ground-truth boxes (n, max_boxes, 5)} of a
            detection task (whose ``arrays`` hold the grid targets), else empty.
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
    target_where: dict[str, Location] = field(default_factory=dict)
    target_tasks: dict[str, str] = field(default_factory=dict)
    boxes: dict[str, Any] = field(default_factory=dict)

    def size(self, split: str) -> int:
        """Number of examples in ``split`` (0 for an empty split)."""
        if split not in self.arrays:
            return 0
        inputs = self.arrays[split][0]
        first = next(iter(inputs.values())) if isinstance(inputs, dict) else inputs
        return int(first.shape[0])


def check_labels(
    bundle: DataBundle, num_classes: int | dict[str, int], location: Location | None = None
) -> None:
    """Check that every label fits a model with ``num_classes`` outputs.

    Class labels must lie in ``0..num_classes-1``; binary targets must be 0 or 1.
    Regression targets (also those of a model whose other outputs classify)
    are not checked.

    Args:
        bundle: the loaded data.
        num_classes: classes the model predicts (units of its output layer):
            one number for the model's first output, or {output name: classes}
            for each output. With one number, the other outputs' labels are
            only checked to be 0 or above.
        location: where the model's output is defined, named when no data row
            can be named.

    Raises:
        DataError: one problem per split and target with a bad label, naming
            the first bad example (file, row and column, or the index in an
            array file, where known) and the value.
    """
    problems = []
    names = list(bundle.metadata.get("targets") or {})
    for split, (_, targets) in bundle.arrays.items():
        if isinstance(targets, dict):
            arrays = targets
        else:
            arrays = {names[0] if len(names) == 1 else "": targets}
        for position, (name, labels) in enumerate(arrays.items()):
            labels = np.asarray(labels)
            task = bundle.target_tasks.get(name, bundle.task)
            if isinstance(num_classes, dict):
                classes = num_classes.get(name)
            else:
                classes = num_classes if position == 0 else None
            if task == "binary":
                bad = (labels != 0) & (labels != 1)
                expected, shown_classes = "0 or 1", 2
            elif task in LABEL_TASKS:
                if classes is None:
                    bad = labels < 0
                    expected = "0 or above"
                else:
                    bad = (labels < 0) | (labels >= classes)
                    expected = f"0..{classes - 1}"
                shown_classes = classes
            else:
                continue
            if labels.ndim == 0 or not bad.any():
                continue
            flat = int(np.argmax(bad.reshape(len(labels), -1).any(axis=1)))
            value = labels[flat][bad[flat]].flat[0] if labels.ndim > 1 else labels[flat]
            origins = bundle.origins.get(split)
            where = bundle.target_where.get(name)
            if origins or where:
                where = example_location(origins[flat] if origins else None, where)
            elif location:
                where = Location(location.file, location.line, location.col, location.path)
            else:
                where = Location()
            target = f"target '{name}' " if len(arrays) > 1 and name else ""
            model = (
                f"a model with {shown_classes} classes"
                if shown_classes is not None
                else "class labels"
            )
            problems.append(
                Problem(
                    f"{split} example {flat}: {target}label {value:g} is out of range for "
                    f"{model} (expected {expected}; {int(bad.sum())} bad labels in this split)",
                    where,
                )
            )
    if problems:
        raise DataError(problems)
