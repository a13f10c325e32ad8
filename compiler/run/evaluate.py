"""Evaluating a trained model on a split of its spec's data (`nncompile evaluate`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from compiler.atomic import write_json
from compiler.errors import DataError, ModelFileError

SPEC_SUFFIXES = (".yaml", ".yml")


def find_model_and_spec(target: str | Path, out_root: str | Path, overrides: Sequence[str] = ()):
    """Return ``(model_dir, spec)`` for a model folder, a `.keras` file or a spec file.

    A model folder's spec is the original spec file recorded in metrics.json
    when it still exists (its relative data paths are right), with the
    training run's `--set` overrides, else the folder's spec.resolved.yaml.
    """
    from compiler.api import load_spec

    target = Path(target)
    if target.suffix in SPEC_SUFFIXES and target.is_file():
        spec = load_spec(str(target), list(overrides))
        return Path(out_root) / spec.name, spec
    model_dir = target.parent if target.suffix == ".keras" else target
    if not model_dir.is_dir():
        raise ModelFileError(f"'{target}' is neither a model folder, a .keras file nor a spec file")
    original, recorded = None, []
    metrics_path = model_dir / "metrics.json"
    if metrics_path.is_file():
        try:
            record = json.loads(metrics_path.read_text(encoding="utf-8"))
            original = record.get("spec")
            recorded = [str(o) for o in record.get("overrides") or []]
        except (OSError, ValueError, AttributeError):
            original, recorded = None, []
    if original and Path(original).is_file():
        # The training run's --set overrides first (same data, same split), then these.
        return model_dir, load_spec(original, [*recorded, *overrides])
    resolved = model_dir / "spec.resolved.yaml"
    if not resolved.is_file():
        raise ModelFileError(f"'{model_dir}' has no spec.resolved.yaml; give the spec file instead")
    return model_dir, load_resolved_spec(resolved, overrides)


def load_resolved_spec(path: str | Path, overrides: Sequence[str] = ()):
    """Load a model folder's spec.resolved.yaml.

    Its `training.init_from.model` is the path the training run read, relative
    to the folder it ran in, so from the model folder it usually lies outside
    and the spec would be refused; the weights it gave are in model.keras
    already, so the reference is dropped rather than failing the whole spec.
    """
    from compiler.api import load_spec
    from compiler.errors import SpecError

    try:
        return load_spec(str(path), list(overrides))
    except SpecError as err:
        if not all((p.location.path or "").startswith("training.init_from") for p in err.problems):
            raise
        return load_spec(str(path), [*overrides, "training.init_from=null"])


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
    from compiler.data.bundle import check_labels
    from compiler.data.files import prepare_output
    from compiler.data.pipeline import load_data
    from compiler.training.prepare import load_keras_model

    model_dir, spec = find_model_and_spec(target, out_root, overrides)
    path = Path(output) if output else model_dir / f"evaluation_{split}.json"
    if output:
        prepare_output(path, "-o/--output", create=False)  # before the (long) evaluation
    model = load_keras_model(model_dir / "model.keras")
    check_model_matches_spec(model, spec, model_dir / "model.keras")
    if not getattr(model, "compiled", False):
        raise ModelFileError(
            f"{model_dir / 'model.keras'} was built, not trained (it has no loss or metrics); "
            "train it first with `nncompile train SPEC`")
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
    check_labels(bundle, output_classes(model), spec.locate("outputs"))
    values = model.evaluate(dataset, verbose=0, return_dict=True)
    metrics = {
        "model": str(model_dir / "model.keras"),
        "split": split,
        "examples": bundle.size(split),
        "metrics": {k: float(v) for k, v in values.items()},
    }
    try:
        if output:
            prepare_output(path, "-o/--output")  # creates a missing folder
        write_json(path, metrics)
    except OSError as err:
        from compiler.data.files import write_failed

        raise write_failed(path, err, "-o/--output" if output else "the evaluation file") from None
    return metrics, path


def output_classes(model) -> dict[str, int]:
    """{output name: classes it predicts}: the last axis (one sigmoid unit: two classes)."""
    classes = {}
    for name, tensor in zip(model.output_names, model.outputs, strict=True):
        shape = tensor.shape
        units = int(shape[-1]) if len(shape) > 1 and shape[-1] else 1
        classes[name] = 2 if units == 1 else units
    return classes


def check_model_matches_spec(model, spec, model_path: str | Path) -> None:
    """Check that a loaded model is the one its spec describes.

    Compares the model's name, its inputs (names and shapes) and its outputs
    (names) with the spec's, so a model file copied in from another spec is
    reported instead of failing deep inside Keras.

    Raises:
        ModelFileError: one problem per difference, naming the model file and
            the spec file.
    """
    from compiler.errors import Location, Problem

    spec_file = str(getattr(spec, "source_path", "") or "the spec")
    where = Location(str(model_path))
    problems = []
    if getattr(spec, "name", None) and model.name != spec.name:
        problems.append(f"the model is named '{model.name}', the spec '{spec.name}'")
    ours = {t.name.split(":")[0]: tuple(t.shape[1:]) for t in model.inputs}
    declared = {
        name: tuple(getattr(decl, "shape", None) or ())
        for name, decl in (spec.inputs or {}).items()
    }
    if set(ours) != set(declared):
        problems.append(
            f"the model has inputs {', '.join(ours) or 'none'}, the spec "
            f"{', '.join(declared) or 'none'}"
        )
    else:
        for name, shape in declared.items():
            got = ours[name]
            fits = len(got) == len(shape) and all(
                s is None or g is None or s == g for s, g in zip(shape, got, strict=True)
            )
            if not fits:
                problems.append(
                    f"input '{name}' has shape {_shape(got)} in the model, "
                    f"{_shape(shape)} in the spec"
                )
    outputs = [str(name).split("[")[0] for name in (spec.outputs or [])]
    names = list(getattr(model, "output_names", None) or [])
    if outputs and names and len(outputs) == len(names) and set(names) != set(outputs):
        problems.append(f"the model has outputs {', '.join(names)}, the spec {', '.join(outputs)}")
    elif outputs and names and len(outputs) != len(names):
        problems.append(
            f"the model has {len(names)} output(s) ({', '.join(names)}), the spec "
            f"{len(outputs)} ({', '.join(outputs)})"
        )
    if problems:
        raise ModelFileError(
            [
                Problem(
                    f"does not match {spec_file} (was it copied from another model?): {text}",
                    where,
                )
                for text in problems
            ]
        )


def _shape(shape: tuple) -> str:
    inner = ", ".join("None" if s is None else str(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"
