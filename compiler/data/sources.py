"""Reading the one source a `data:` section names, split into train/validation/test.

Each source kind reads itself (:mod:`compiler.data.source_registry`); this
module decides which file each split comes from, checks it, hands it to the
source's reader and carves held-out splits out of the training examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from compiler.data.files import resolve_data_path, shown
from compiler.data.raw import RawData
from compiler.data.schema import DataSpec, FileSource, SplitFractions
from compiler.data.source_registry import SourceRequest
from compiler.data.splits import auto_fractions, split_indices
from compiler.errors import DataError, Location


def locate(spec: Any, *path: str | int) -> Location:
    """The spec location of ``path``, or of its closest located parent."""
    for end in range(len(path), 0, -1):
        try:
            return spec.locate(*path[:end])
        except Exception:  # noqa: BLE001 - a missing key just means "try the parent"
            continue
    return Location(path=".".join(str(p) for p in path))


def read_splits(spec: Any, seed: int, *, allow_outside: bool = False) -> dict[str, RawData | None]:
    """Read the source of ``spec.data`` and divide it into the three splits.

    Split files are read as given; a split without a file is carved out of
    the training examples when ``split`` gives it a fraction (or is ``auto``),
    else it is empty. Without split files, ``split`` defaults to ``auto``.
    """
    data: DataSpec = spec.data
    base_dir = Path(spec.base_dir)
    files = data.split_files()
    kind, source = data.kind, data.source
    default = source.path if isinstance(source, FileSource) else None
    if default is not None:
        # The source's `path` is the training file unless `train:` names another.
        files.setdefault("train", default)

    def read(split: str, reference: str | None, training: RawData | None) -> RawData:
        if reference is None or split == "train" and reference == default:
            where = locate(spec, "data", kind, "path")
        else:
            where = locate(spec, "data", split)
        return _read_one(spec, data, reference, where, base_dir, allow_outside, training)

    parts: dict[str, RawData | None] = {"train": None, "validation": None, "test": None}
    parts["train"] = read("train", files.get("train"), None)
    for split in ("validation", "test"):
        if split in files:
            parts[split] = read(split, files[split], parts["train"])

    split = data.split if data.split is not None else ("none" if data.split_files() else "auto")
    missing = [name for name in ("validation", "test") if parts[name] is None]
    if split == "none" or not missing:
        return parts
    train = parts["train"]
    if split == "auto":
        validation, test = auto_fractions(len(train))
    else:
        assert isinstance(split, SplitFractions)
        validation, test = split.validation, split.test
    fractions = {"validation": validation, "test": test}
    # A split that has a file is not carved again.
    indices = split_indices(
        len(train),
        fractions["validation"] if "validation" in missing else 0.0,
        fractions["test"] if "test" in missing else 0.0,
        seed,
    )
    if len(indices["train"]) == 0:
        held = ", ".join(
            f"{len(indices[name])} for {name}" for name in missing if len(indices[name])
        )
        raise DataError(
            f"the split leaves no training examples: the data hold {len(train)} example(s), "
            f"{held}; lower the fractions (each held-out split takes at least one example) "
            "or add examples",
            locate(spec, "data", "split"),
        )
    parts["train"] = train.take(indices["train"])
    for name in missing:
        parts[name] = train.take(indices[name]) if len(indices[name]) else None
    return parts


def _read_one(
    spec: Any,
    data: DataSpec,
    reference: str | None,
    where: Location,
    base_dir: Path,
    allow_outside: bool,
    training: RawData | None,
) -> RawData:
    """Read one split with the source's own reader, checking its file first."""
    kind, source = data.kind, data.source
    path, name = None, ""
    if isinstance(source, FileSource):
        path = resolve_data_path(
            reference, base_dir, where, allow_outside=allow_outside, want=source.reads
        )
        name = shown(path, base_dir)
    request = SourceRequest(
        path=path,
        name=name,
        base_dir=base_dir,
        allow_outside=allow_outside,
        locate=lambda *inside: locate(spec, "data", *inside),
        task=data.task,
        training=training,
    )
    raw = source.read(request)
    if data.task is not None and data.task != raw.task:
        raw = _retask(raw, data.task, where)
    if len(raw) == 0:
        raise DataError(f"the {kind} source holds no examples", where)
    return raw


def _retask(raw: RawData, task: str, where: Location) -> RawData:
    """Recast the targets for a task the spec fixes (``data.task``)."""
    targets = {}
    for name, values in raw.targets.items():
        if task in ("regression", "binary"):
            values = values.astype(np.float32)
            targets[name] = values[:, None] if values.ndim == 1 else values
        else:
            fractional = values != np.round(values) if values.dtype.kind == "f" else None
            if fractional is not None and fractional.any():
                index = int(np.argmax(fractional.reshape(len(values), -1).any(axis=1)))
                row = values[index]
                value = row[fractional[index]].flat[0] if values.ndim > 1 else row
                known = raw.where(name, index) if (raw.origins or raw.target_where) else None
                raise DataError(
                    f"`task: {task}` needs integer labels, but target '{name}' holds fractions "
                    f"(first: {float(value):g})",
                    known if known and known.file else where,
                )
            targets[name] = values.astype(np.int32)
            if task == "classification" and targets[name].ndim == 2 and targets[name].shape[1] == 1:
                targets[name] = targets[name][:, 0]
    raw.targets, raw.task, raw.target_tasks = targets, task, {}
    return raw
