"""What every reader returns: named NumPy arrays plus what is known about them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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
        origins: for each example, where it came from (``file:row`` or an
            image path), so later errors can point at it; None where unknown.
        no_standardize: {input name: boolean mask over the last axis} of the
            features standardisation must leave alone (one-hot columns).
    """

    inputs: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]
    task: str
    class_names: list[str] | None = None
    num_classes: int | None = None
    metadata: dict = field(default_factory=dict)
    origins: list[str] | None = None
    no_standardize: dict[str, np.ndarray] = field(default_factory=dict)

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
            origins=None if self.origins is None else [self.origins[i] for i in index],
            no_standardize=self.no_standardize,
        )


def detect_task(target: np.ndarray) -> str:
    """Integer labels mean classification, anything else regression."""
    if np.issubdtype(target.dtype, np.integer) or target.dtype == np.bool_:
        return "classification"
    return "regression"
