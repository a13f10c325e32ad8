"""`metadata.json`: everything an application needs besides the model itself.

Written next to the exports and inside the SavedModel (`assets.extra/`): the
input and output names, shapes and dtypes, class labels, preprocessing
constants and vocabularies, and the resolved spec the model was built from.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from compiler.export.signature import ModelSignature

METADATA_VERSION = 1


def build_metadata(
    sig: ModelSignature, spec: Any = None, data_bundle: Any = None,
    preprocessing: dict | None = None, tflite_batch: int | None = 1,
) -> dict[str, Any]:
    """Collect the facts about a model an application needs at inference time.

    Args:
        sig: The model's named inputs and outputs.
        spec: The spec the model was built from, if known.
        data_bundle: The spec's loaded data, if known (labels, vocabularies,
            standardisation constants).
        preprocessing: What training recorded (a model folder's metadata.json);
            it wins over the data's, which a later read could split otherwise.
        tflite_batch: The TFLite model's batch: 1 (models with a loop), or
            None for a free batch (written as "dynamic").

    Returns:
        A JSON-ready dict.
    """
    from compiler import __version__

    labels = spec.labels if spec is not None else None
    if labels is None and data_bundle is not None:
        labels = data_bundle.class_names
    meta: dict[str, Any] = {
        "metadata_version": METADATA_VERSION,
        "producer": f"nncompile {__version__}",
        "name": spec.name if spec is not None else None,
        "inputs": [info.as_dict() for info in sig.inputs],
        "outputs": [info.as_dict() for info in sig.outputs],
        "labels": _jsonable(labels),
        "task": data_bundle.task if data_bundle is not None else None,
        "preprocessing": _jsonable(
            preprocessing or (data_bundle.metadata if data_bundle is not None else None) or {}),
        "saved_model": {"signature": "serving_default", "batch": "dynamic"},
        "tflite": {"signature": "serving_default",
                   "batch": "dynamic" if tflite_batch is None else tflite_batch},
        "spec": _jsonable(spec.resolved_tree()) if spec is not None else None,
    }
    # Fails here, not halfway through writing, if something is not JSON.
    json.dumps(meta)
    return meta


def _jsonable(value: Any) -> Any:
    """Turn NumPy values, tuples and other containers into plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "model_dump"):
        return _jsonable(value.model_dump(mode="json"))
    return str(value)


def metadata_json(meta: dict[str, Any]) -> str:
    """The file text: sorted keys, indented, newline-terminated."""
    return json.dumps(meta, indent=2, sort_keys=True) + "\n"
