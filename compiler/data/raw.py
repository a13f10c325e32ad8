"""What every reader returns: named NumPy arrays plus what is known about them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from compiler.errors import DataError, Location


@dataclass
class RawData:
    """Examples read from one source, before splitting and batching.

    Attributes:
        inputs: {data input name: array}, one example per leading index.
        targets: {data target name: array}, same number of examples.
        task: what the targets are (classification, binary, regression, ...).
        class_names: names of the classes, index = label, where known.
        num_classes: number of classes of a classification task.
        metadata: JSON-serialisable facts an application needs at inference
            (vocabularies, category encodings, feature names).
        origins: for each example, where it came from (``file:row``, an
            image path, or ``index N`` in an array file), so later errors can
            point at it; None where unknown. A sequence of strings, or an
            object with ``take(index)`` that gives them lazily.
        no_standardize: {input name: boolean mask over the last axis} of the
            features standardisation must leave alone (one-hot columns).
        target_where: {data target name: where its values are in the source}:
            the file (or ``file[key]`` of an archive) and, for a CSV, the
            column; an example's row comes from ``origins``.
        target_tasks: {data target name: task} where targets differ (a
            regression and a classification target read from one file).
    """

    inputs: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]
    task: str
    class_names: list[str] | None = None
    num_classes: int | None = None
    metadata: dict = field(default_factory=dict)
    origins: list[str] | None = None
    no_standardize: dict[str, np.ndarray] = field(default_factory=dict)
    target_where: dict[str, Location] = field(default_factory=dict)
    target_tasks: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        first = next(iter(self.inputs.values()))
        return int(first.shape[0])

    def take(self, index: np.ndarray) -> RawData:
        """The examples at ``index``, sharing everything else."""
        return RawData(
            inputs={k: v[index] for k, v in self.inputs.items()},
            targets={k: v[index] for k, v in self.targets.items()},
            task=self.task,
            class_names=self.class_names,
            num_classes=self.num_classes,
            metadata=self.metadata,
            origins=None
            if self.origins is None
            else self.origins.take(index)
            if hasattr(self.origins, "take")
            else [self.origins[i] for i in index],
            no_standardize=self.no_standardize,
            target_where=self.target_where,
            target_tasks=self.target_tasks,
        )

    def task_of(self, name: str) -> str:
        """The task of data target ``name`` (the source's task unless it says otherwise)."""
        return self.target_tasks.get(name, self.task)

    def where(self, name: str, index: int) -> Location:
        """Where example ``index`` of target ``name`` is: file, row and column when known."""
        return example_location(
            self.origins[index] if self.origins else None, self.target_where.get(name)
        )


def example_location(origin: str | None, where: Location | None) -> Location:
    """Combine an example's origin (``file:row`` or ``index N``) with a target's place."""
    where = where or Location()
    if origin is None:
        return where
    if origin.startswith("index "):
        return Location(where.file, None, None, ": ".join(p for p in (where.path, origin) if p))
    file, _, row = origin.rpartition(":")
    if file and row.isdigit():
        return Location(file, int(row), where.col, where.path)
    return Location(origin, path=where.path)


def detect_task(target: np.ndarray) -> str:
    """Integer labels mean classification, anything else regression."""
    if np.issubdtype(target.dtype, np.integer) or target.dtype == np.bool_:
        return "classification"
    return "regression"


def labels_as_int32(values: np.ndarray, where: Location) -> np.ndarray:
    """Integer class labels as int32; a DataError for a label int32 cannot hold.

    A plain cast would wrap such a label silently onto a valid class (2**32 → 0).
    """
    info = np.iinfo(np.int32)
    if values.size and values.dtype.kind in "iu":
        outside = values > info.max
        if values.dtype.kind == "i":
            outside |= values < info.min
        if outside.any():
            index = np.unravel_index(int(np.argmax(outside)), values.shape)
            raise DataError(
                f"example {int(index[0])}: class label {int(values[index])} is far out of range "
                f"(class labels are 0, 1, 2, ...; {int(outside.sum())} such label(s))",
                where,
            )
    return values.astype(np.int32)
