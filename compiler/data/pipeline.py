"""From a spec's `data:` section to batched ``tf.data`` pipelines: :func:`load_data`."""

from __future__ import annotations

from typing import Any

import numpy as np

from compiler.data.bundle import SPLITS, DataBundle
from compiler.data.encoder import InputEncoder
from compiler.data.raw import RawData
from compiler.data.sources import locate, read_splits
from compiler.errors import DataError, did_you_mean


def load_data(
    spec: Any,
    *,
    batch_size: int = 32,
    seed: int | None = None,
    allow_outside: bool = False,
) -> DataBundle:
    """Read, check, split, standardise and batch the data a spec describes.

    Args:
        spec: a loaded spec (``spec.data``, ``spec.inputs``, ``spec.outputs``,
            ``spec.base_dir``, ``spec.locate``).
        batch_size: examples per batch.
        seed: seed of the split and the shuffling when ``data.seed`` is unset.
        allow_outside: accept data files outside the spec's folder.

    Returns:
        A :class:`DataBundle` whose inputs and targets are keyed by the model's
        input and output names.

    Raises:
        DataError: bad data, a data input that fits no model input, or a shape
            that does not fit the model's input shape.
    """
    data = spec.data
    if data is None:
        raise DataError("the spec has no `data:` section; add one", locate(spec, "data"))
    seed = data.seed if data.seed is not None else (seed if seed is not None else 0)
    allow_outside = allow_outside or spec.allow_outside
    parts = read_splits(spec, seed, allow_outside=allow_outside)
    train = parts["train"]
    # The reader's metadata is its encoding (a CSV's columns and categories);
    # standardisation is fitted on the training split only.
    encoder = InputEncoder.from_metadata(train.metadata)
    if data.standardize:
        encoder = encoder.fit_standardization(train)
        parts = {k: v and _standardized(v, encoder) for k, v in parts.items()}
    input_map = _match_names(
        list(spec.inputs), list(train.inputs), data.inputs, "input", spec, "inputs"
    )
    output_map = _match_names(
        list(spec.outputs), list(train.targets), data.targets, "target", spec, "targets"
    )
    parts = {k: v and _fit_inputs(v, input_map, spec) for k, v in parts.items()}
    losses = _loss_names(spec, output_map)
    parts = {k: v and _labels_for_losses(v, losses) for k, v in parts.items()}
    train = parts["train"]

    num_classes = train.num_classes
    if num_classes is None and train.task in ("classification", "sequence_labeling"):
        labels = [
            array
            for part in parts.values()
            if part
            for name, array in part.targets.items()
            if part.task_of(name) in ("classification", "sequence_labeling") and array.size
        ]
        num_classes = 1 + max(int(array.max()) for array in labels) if labels else None
    arrays = {
        split: _arrays(part, input_map, output_map)
        for split, part in parts.items()
        if part is not None
    }
    class_names = _class_names(spec, train)
    encoder.inputs = input_map
    metadata = encoder.to_metadata()
    metadata.update(
        task=train.task,
        class_names=class_names,
        num_classes=num_classes,
        targets=output_map,
        sizes={split: len(part) for split, part in parts.items() if part is not None},
        seed=seed,
    )
    boxes = {}
    if train.task == "detection":  # boxes → the detection head's grid, augmented per epoch
        from compiler.detection.pipeline import detection_datasets

        origins = {split: part.origins for split, part in parts.items() if part is not None}
        arrays, datasets, boxes = detection_datasets(
            spec, arrays, origins, batch_size, data.shuffle, data.cache, seed)
    else:
        datasets = {
            split: _dataset(arrays[split], batch_size, split == "train" and data.shuffle,
                            data.cache, seed)
            if split in arrays
            else None
            for split in SPLITS
        }
    return DataBundle(
        train=datasets["train"],
        validation=datasets["validation"],
        test=datasets["test"],
        arrays=arrays,
        class_names=class_names,
        num_classes=num_classes,
        task=train.task,
        metadata=metadata,
        origins={split: part.origins for split, part in parts.items() if part is not None},
        target_where={
            model: train.target_where[data]
            for model, data in output_map.items()
            if data in train.target_where
        },
        target_tasks={model: train.task_of(data) for model, data in output_map.items()},
        boxes=boxes,
    )


def _class_names(spec: Any, train: RawData) -> list[str] | None:
    """The spec's `labels:` name the classes when given, else the data's names do.

    `labels:` renames the classes in index order (scikit-learn's `class_0` for
    wine, a folder's subfolder names), so predictions, reports and metadata all
    show the same names. Listing the data's own names in another order would
    silently swap classes, so that is refused.
    """
    labels = spec.labels
    names = train.class_names
    if not labels:
        return names
    labels = [str(label) for label in labels]
    if names is None:
        return labels
    names = [str(name) for name in names]
    if len(names) != len(labels):
        return names  # the output's size is checked against `labels:` at build time
    if set(names) == set(labels) and names != labels:
        raise DataError(
            f"`labels` lists the data's classes in another order than the data numbers them: "
            f"the data has {', '.join(names)} (class 0, 1, ...), the spec {', '.join(labels)}; "
            "write them in the data's order, or leave `labels:` out",
            locate(spec, "labels"))
    return labels


# Losses whose targets are class indices (0, 1, ...) or probabilities in [0, 1].
CLASS_INDEX_LOSSES = ("sparse_categorical_crossentropy",)
PROBABILITY_LOSSES = ("binary_crossentropy",)


def _loss_names(spec: Any, output_map: dict[str, str]) -> dict[str, str]:
    """{data target name: loss name} from the spec's `training.loss`, where it has one."""
    loss = spec.training.loss if spec.training is not None else None
    if loss is None:
        return {}
    if isinstance(loss, dict):
        named = {model: choice.name for model, choice in loss.items()}
    else:
        named = {model: loss.name for model in output_map}
    return {data: named[model] for model, data in output_map.items() if named.get(model)}


def _labels_for_losses(part: RawData, losses: dict[str, str]) -> RawData:
    """Check each target against what its loss needs, naming the first bad example.

    A numeric column read as a regression target but trained with
    ``sparse_categorical_crossentropy`` holds class indices: they must be whole
    numbers from 0 up (the upper bound, the model's number of classes, is
    checked by :func:`compiler.data.bundle.check_labels`). Targets of
    ``binary_crossentropy`` must lie between 0 and 1.
    """
    targets, tasks, changed = dict(part.targets), dict(part.target_tasks), False
    for name, loss in losses.items():
        values = targets.get(name)
        if values is None or values.size == 0:
            continue
        if loss in CLASS_INDEX_LOSSES:
            if values.dtype.kind == "f":
                fractional = values != np.round(values)
                _raise_first(
                    part, name, fractional, values, f"expected a whole class index for {loss}"
                )
            _raise_first(
                part, name, values < 0, values, f"expected a class index 0 or above for {loss}"
            )
            if part.task_of(name) not in ("regression", "binary"):
                continue
            # Read as numbers (a regression target): the loss says they are classes.
            values = values.astype(np.int32)
            targets[name] = values[:, 0] if values.ndim == 2 and values.shape[1] == 1 else values
            tasks[name], changed = "classification", True
        elif loss in PROBABILITY_LOSSES and values.dtype.kind in "fiub":
            outside = (values < 0) | (values > 1)
            _raise_first(part, name, outside, values, f"expected a value from 0 to 1 for {loss}")
    if not changed:
        return part
    checked = part.take(np.arange(len(part)))
    checked.targets = targets
    checked.target_tasks = {name: tasks.get(name, part.task) for name in targets}
    if set(checked.target_tasks.values()) == {"classification"} or checked.task == "regression":
        checked.task = "classification"
    return checked


def _raise_first(
    part: RawData, name: str, bad: np.ndarray, values: np.ndarray, message: str
) -> None:
    if not bad.any():
        return
    rows = bad.reshape(len(bad), -1).any(axis=1)
    index = int(np.argmax(rows))
    value = values[index][bad[index]].flat[0] if values.ndim > 1 else values[index]
    where = part.where(name, index)
    target = "" if where.path else f"target '{name}', "
    raise DataError(
        f"{message}, got {float(value):g} ({target}{int(rows.sum())} bad example(s))",
        where,
    )


def _standardized(part: RawData, encoder: InputEncoder) -> RawData:
    """``part`` with its inputs standardised by ``encoder``."""
    standardized = part.take(np.arange(len(part)))
    standardized.inputs = encoder.standardize(part.inputs)
    return standardized


def _match_names(
    model_names: list[str],
    data_names: list[str],
    explicit: dict[str, str],
    what: str,
    spec: Any,
    key: str,
) -> dict[str, str]:
    """{model name: data name}: explicit map first, then equal names, then the only one."""
    for model_name, data_name in explicit.items():
        if model_name not in model_names:
            raise DataError(
                f"the model has no {what if what == 'input' else 'output'} '{model_name}'"
                f"{did_you_mean(model_name, model_names)}; it has: {', '.join(model_names)}",
                locate(spec, "data", key, model_name),
            )
        if data_name not in data_names:
            raise DataError(
                f"the data has no {what} '{data_name}'{did_you_mean(data_name, data_names)}; "
                f"it has: {', '.join(data_names)}",
                locate(spec, "data", key, model_name),
            )
    mapping = {}
    for model_name in model_names:
        if model_name in explicit:
            mapping[model_name] = explicit[model_name]
        elif model_name in data_names:
            mapping[model_name] = model_name
        elif len(model_names) == 1 and len(data_names) == 1:
            mapping[model_name] = data_names[0]
        else:
            raise DataError(
                f"model {what if what == 'input' else 'output'} '{model_name}' gets no data: "
                f"the data's {what}s are {', '.join(data_names)}; map them, for example "
                f"`data: {{{key}: {{{model_name}: {data_names[0]}}}}}`",
                locate(spec, "data", key),
            )
    unused = [name for name in data_names if name not in mapping.values()]
    if unused:
        raise DataError(
            f"data {what}(s) {', '.join(unused)} feed no model "
            f"{what if what == 'input' else 'output'} (the model has: {', '.join(model_names)}); "
            f"map them with `data.{key}`",
            locate(spec, "data", key),
        )
    return mapping


def _fit_inputs(part: RawData, input_map: dict[str, str], spec: Any) -> RawData:
    """Check each input's shape against the spec and cast it to the spec's dtype."""
    inputs = dict(part.inputs)
    for model_name, data_name in input_map.items():
        array = inputs[data_name]
        declared = spec.inputs[model_name]
        shape = list(declared.shape)
        got = list(array.shape[1:])
        fits = len(shape) == len(got) and all(s is None or s == g
                                              for s, g in zip(shape, got, strict=True))
        if not fits:
            raise DataError(
                f"data input '{data_name}' has shape {tuple(got)} per example, but model input "
                f"'{model_name}' is declared with shape {tuple(shape)}; change "
                f"`inputs.{model_name}.shape` to {got}",
                locate(spec, "inputs", model_name, "shape"),
            )
        dtype = declared.dtype
        if dtype and np.dtype(dtype) != array.dtype:
            if array.dtype.kind == "f" and np.dtype(dtype).kind in "iu":
                raise DataError(
                    f"data input '{data_name}' holds fractions ({array.dtype}), but model input "
                    f"'{model_name}' is declared as {dtype}",
                    locate(spec, "inputs", model_name, "dtype"),
                )
            inputs[data_name] = array.astype(dtype)
    part = part.take(np.arange(len(part)))
    part.inputs = inputs
    return part


def _arrays(part: RawData, input_map: dict, output_map: dict) -> tuple[Any, Any]:
    """Inputs and targets keyed by model names; plain arrays when there is one of each."""
    inputs = {model: part.inputs[data] for model, data in input_map.items()}
    targets = {model: part.targets[data] for model, data in output_map.items()}
    return (
        inputs if len(inputs) > 1 else next(iter(inputs.values())),
        targets if len(targets) > 1 else next(iter(targets.values())),
    )


def _dataset(arrays: tuple, batch_size: int, shuffle: bool, cache: bool, seed: int):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(arrays)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        count = (len(arrays[1]) if not isinstance(arrays[1], dict)
                 else len(next(iter(arrays[1].values()))))
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
