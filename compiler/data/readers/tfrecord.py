"""Reading a TFRecord file of ``tf.train.Example`` records into arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compiler.data.raw import RawData, detect_task, labels_as_int32
from compiler.data.readers.arrays import check_finite
from compiler.data.schema import TFRecordFeature
from compiler.errors import DataError, Location


def read_tfrecord(
    path: Path, features: dict[str, TFRecordFeature], targets: list[str], shown_name: str
) -> RawData:
    """Parse every record with the fixed shapes and types the spec gives.

    Raises:
        DataError: the file is not a TFRecord file, or a record lacks a feature
            or holds a value of another size (the message names the record, 1-based).
    """
    import tensorflow as tf

    kinds = {"float32": tf.float32, "int64": tf.int64, "string": tf.string}
    description = {
        name: tf.io.FixedLenFeature(feature.shape, kinds[feature.dtype])
        for name, feature in features.items()
    }
    columns: dict[str, list[np.ndarray]] = {name: [] for name in features}
    record = 0
    try:
        for record, serialized in enumerate(tf.data.TFRecordDataset(str(path)), start=1):
            try:
                parsed = tf.io.parse_single_example(serialized, description)
            except tf.errors.InvalidArgumentError as err:
                reason = str(err).splitlines()[0][:200]
                raise DataError(
                    f"record does not match the `features` of the spec: {reason}",
                    Location(shown_name, record, path="record"),
                ) from None
            for name, value in parsed.items():
                columns[name].append(value.numpy())
    except tf.errors.DataLossError:
        raise DataError(
            f"not a valid TFRecord file (corrupt after record {record})", Location(shown_name)
        ) from None
    if record == 0:
        if path.stat().st_size > 0:
            raise DataError(
                f"not a TFRecord file: its {path.stat().st_size} bytes hold no complete record",
                Location(shown_name),
            )
        raise DataError("the file holds no records", Location(shown_name))
    arrays = {name: np.stack(values) for name, values in columns.items()}
    for name, array in arrays.items():
        if array.dtype.kind == "O":
            raise DataError(
                f"feature '{name}' holds strings; only numeric features can be fed to a model",
                Location(shown_name),
            )
        check_finite(array, f"{shown_name}[{name}]")
    inputs = {name: arrays[name] for name in features if name not in targets}
    target_arrays = {name: arrays[name] for name in targets}
    task = detect_task(target_arrays[targets[0]])
    if task == "classification":
        target_arrays = {
            k: labels_as_int32(v, Location(shown_name, path=f"feature '{k}'"))
            for k, v in target_arrays.items()
        }
    return RawData(inputs=inputs, targets=target_arrays, task=task)
