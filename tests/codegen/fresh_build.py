"""Runs generated modules where nncompile cannot be imported, and records what they build.

Run as ``python -S fresh_build.py SITE_PACKAGES MODULE_DIR OUT_DIR NAME...``: ``-S``
skips the .pth files, so the editable install of nncompile is not on the path; the
site-packages folder is added by hand for Keras. The test imports this file for
:func:`fill_weights`, :func:`sample_inputs` and :func:`describe`, so both sides set
the same weights and feed the same inputs.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

STEPS_PER_EPOCH = 7


def fill_weights(model) -> None:
    """The same weights on both sides: a fixed pattern, positive for variances."""
    import numpy as np

    for index, weight in enumerate(model.weights):
        size = int(np.prod(weight.shape))
        values = np.sin(np.arange(size, dtype="float64") * 1.37 + index) * 0.05
        if "variance" in weight.path:
            values = 1 + 10 * values
        weight.assign(values.reshape(weight.shape).astype(weight.dtype))


def sample_inputs(model):
    """Two fixed examples for the model's inputs (small integers for token inputs)."""
    import numpy as np

    out = []
    for tensor in model.inputs:
        shape = [2] + [int(d) for d in tensor.shape[1:]]
        size = int(np.prod(shape))
        if "int" in str(tensor.dtype):
            out.append((np.arange(size) % 2 + 1).reshape(shape).astype(str(tensor.dtype)))
        else:
            out.append(np.sin(np.arange(size) * 0.7).reshape(shape).astype("float32"))
    return out[0] if len(out) == 1 else out


def outputs(model) -> list:
    import numpy as np

    result = model(sample_inputs(model), training=False)
    return [np.asarray(r) for r in (result if isinstance(result, (list, tuple)) else [result])]


def describe(model) -> dict:
    """What must be equal: layer names and classes, weight paths and shapes, parameters."""
    return {"layers": [[layer.name, type(layer).__name__] for layer in model.layers],
            "weights": [[w.path, list(w.shape)] for w in model.weights],
            "params": int(model.count_params())}


def optimizer_config(optimizer) -> dict:
    import keras

    return json.loads(json.dumps(keras.saving.serialize_keras_object(optimizer), default=str))


def main(site: str, module_dir: str, out_dir: str, names: list[str]) -> None:
    sys.path.insert(0, module_dir)
    sys.path.append(site)
    found = importlib.util.find_spec("compiler")
    report: dict = {"compiler_importable": found is not None}
    import numpy as np

    for name in names:
        module = importlib.import_module(name)
        model = module.build_model()
        entry = describe(model)
        fill_weights(model)
        np.savez(Path(out_dir) / f"{name}.npz", *outputs(model))
        module.compile_model(model, steps_per_epoch=STEPS_PER_EPOCH)
        entry["optimizer"] = optimizer_config(model.optimizer)
        entry["imports"] = sorted(m for m in sys.modules if m.split(".")[0] in (
            "compiler", "custom_layers", "tests"))
        report[name] = entry
    (Path(out_dir) / "report.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
