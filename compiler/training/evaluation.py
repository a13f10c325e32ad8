"""Evaluating a trained model on a split of its spec's data (`nncompile evaluate`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from compiler.errors import DataError, ModelFileError
from compiler.training.atomic import write_json

SPEC_SUFFIXES = (".yaml", ".yml")


def find_model_and_spec(target: str | Path, out_root: str | Path, overrides: Sequence[str] = ()):
    """Return ``(model_dir, spec)`` for a model folder, a `.keras` file or a spec file.

    A model folder's spec is the original spec file recorded in metrics.json
    when it still exists (its relative data paths are right), else the
    folder's spec.resolved.yaml.
    """
    from compiler.api import load_spec

    target = Path(target)
    if target.suffix in SPEC_SUFFIXES and target.is_file():
        spec = load_spec(str(target), list(overrides))
        return Path(out_root) / spec.name, spec
    model_dir = target.parent if target.suffix == ".keras" else target
    if not model_dir.is_dir():
        raise ModelFileError(f"'{target}' is neither a model folder, a .keras file nor a spec file")
    original = None
    metrics_path = model_dir / "metrics.json"
    if metrics_path.is_file():
        try:
            original = json.loads(metrics_path.read_text(encoding="utf-8")).get("spec")
        except (OSError, ValueError):
            original = None
    if original and Path(original).is_file():
        return model_dir, load_spec(original, list(overrides))
    resolved = model_dir / "spec.resolved.yaml"
    if not resolved.is_file():
        raise ModelFileError(f"'{model_dir}' has no spec.resolved.yaml; give the spec file instead")
    return model_dir, load_spec(str(resolved), list(overrides))


def evaluate(
    target: str | Path,
    split: str = "test",
    out_root: str | Path = "saved_models",
    overrides: Sequence[str] = (),
    output: str | Path | None = None,
) -> tuple[dict, Path]:
    """Evaluate a trained model on one split and write the metrics as JSON.

    Returns:
        The metrics and the path of the JSON file written
        (default `<model dir>/evaluation_<split>.json`).
    """
    from compiler.data.pipeline import load_data
    from compiler.training.prepare import load_keras_model

    model_dir, spec = find_model_and_spec(target, out_root, overrides)
    model = load_keras_model(model_dir / "model.keras")
    training = spec.training
    # The same seed as in training gives the same split of the data.
    bundle = load_data(
        spec,
        batch_size=training.batch_size if training else 32,
        seed=training.seed if training else None,
    )
    dataset = getattr(bundle, split)
    if dataset is None:
        raise DataError(f"the data of '{spec.name}' has no {split} split", spec.locate("data"))
    values = model.evaluate(dataset, verbose=0, return_dict=True)
    metrics = {
        "model": str(model_dir / "model.keras"),
        "split": split,
        "examples": bundle.size(split),
        "metrics": {k: float(v) for k, v in values.items()},
    }
    path = Path(output) if output else model_dir / f"evaluation_{split}.json"
    write_json(path, metrics)
    return metrics, path
