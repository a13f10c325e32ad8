"""Evaluating a trained model on a split of its spec's data (`nncompile evaluate`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from compiler.atomic import write_json
from compiler.errors import DataError, ModelFileError
from compiler.model_folder import DEFAULT_ROOT, find_model_and_spec


def evaluate(
    target: str | Path,
    split: str = "test",
    out_root: str | Path = DEFAULT_ROOT,
    overrides: Sequence[str] = (),
    output: str | Path | None = None,
    allow_outside: bool = False,
) -> tuple[dict, Path]:
    """Evaluate a trained model on one split and write the metrics as JSON.

    Args:
        target: a model folder, a `.keras` file in one, or a spec (its folder
            is ``<out_root>/<name>/``).
        split: train, validation or test.
        out_root: where a spec's model folder is (``--out``).
        overrides: ``--set`` values after the training run's own.
        output: the JSON file (``-o``); default the folder's evaluation_<split>.json.
        allow_outside: let the spec read data outside its folder (a folder's
            training run's ``--allow-outside`` is reapplied anyway).

    Returns:
        The metrics and the path of the JSON file written
        (default `<model dir>/evaluation_<split>.json`).
    """
    from compiler.data.bundle import check_labels
    from compiler.data.files import prepare_output
    from compiler.data.pipeline import load_data

    folder, spec = find_model_and_spec(target, out_root, overrides, allow_outside)
    path = Path(output) if output else folder.evaluation_file(split)
    if output:
        prepare_output(path, "-o/--output", create=False)  # before the (long) evaluation
    model = folder.load_model()
    check_model_matches_spec(model, spec, folder.model_file)
    if not model.compiled:
        raise ModelFileError(
            f"{folder.model_file} was built, not trained (it has no loss or metrics); "
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
        "model": str(folder.model_file),
        "split": split,
        "examples": bundle.size(split),
        "metrics": {k: float(v) for k, v in values.items()},
    }
    if bundle.task == "detection":  # mAP@0.5 and @0.5:0.95, overall and per class
        from compiler.detection.reports import evaluate_split

        detection = evaluate_split(model, spec, bundle, split)
        if detection is not None:
            metrics["metrics"].update(map_50=detection["map_50"], map_50_95=detection["map_50_95"])
            metrics["detection"] = detection
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

    spec_file = str(spec.source_path or "the spec")
    where = Location(str(model_path))
    problems = []
    if model.name != spec.name:
        problems.append(f"the model is named '{model.name}', the spec '{spec.name}'")
    ours = {t.name.split(":")[0]: tuple(t.shape[1:]) for t in model.inputs}
    declared = {
        name: tuple(decl.shape)
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
    names = list(model.output_names)
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
