"""Writing the output folder of a finished run (model, resolved spec, reports, exports)."""

from __future__ import annotations

import sys

import numpy as np

from compiler.model_folder import ModelFolder
from compiler.training import reports


def versions() -> dict:
    """Versions of TensorFlow, Keras and nncompile."""
    import keras
    import tensorflow as tf

    from compiler import __version__

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "nncompile": __version__}


def evaluate_splits(model, bundle, splits=("train", "validation", "test")) -> dict:
    """Return ``{split: {metric: value}}`` for each non-empty split."""
    results = {}
    for split in splits:
        dataset = getattr(bundle, split)
        if dataset is not None:
            values = model.evaluate(dataset, verbose=0, return_dict=True)
            results[split] = {k: float(v) for k, v in values.items()}
    return results


def class_names_of(spec, bundle, num_classes: int) -> list[str]:
    """Class names from the data, else the spec's `labels:`, else the indices."""
    names = bundle.class_names or spec.labels
    if names and len(names) >= num_classes:
        return [str(n) for n in names]
    return [str(i) for i in range(num_classes)]


def write_classifier_reports(model, spec, bundle, folder: ModelFolder, num_classes: int) -> bool:
    """Confusion matrix and worst examples on the validation split (test if none).

    Returns:
        False when the model is not a single-output classifier (nothing written).
    """
    if bundle.task not in ("classification", "binary") or len(model.outputs) != 1:
        return False
    split = "validation" if "validation" in bundle.arrays else "test"
    if split not in bundle.arrays:
        return False
    inputs, targets = bundle.arrays[split]
    scores = np.asarray(model.predict(inputs, verbose=0, batch_size=256))
    if scores.ndim != 2:
        return False  # one prediction per step (sequence labelling): no per-example report
    true = np.asarray(targets).reshape(len(scores), -1)
    # One-hot targets carry the class as the position of their 1.
    true = true.argmax(-1) if true.shape[-1] > 1 else true.reshape(-1)
    n = max(num_classes, 2)
    names = class_names_of(spec, bundle, n)
    predicted, _ = reports.predicted_classes(scores)
    counts = reports.confusion_matrix(true.astype(int), predicted, n)
    reports.plot_confusion_matrix(folder.confusion_file, counts, names)
    reports.write_worst_examples_csv(
        folder.worst_examples_file, reports.worst_examples(scores, true, names)
    )
    return True


def write_outputs(
    model, spec, bundle, folder: ModelFolder, history, epoch_seconds, xla, num_classes, args,
    peak_rss_mib: float | None = None, echo=None,
) -> dict:
    """Write a finished run into its folder: model.keras, run.json, history.csv, the plots,
    metrics.json, then metadata.json, spec.resolved.yaml and the exports the spec lists.

    Returns:
        The content of metrics.json.
    """
    folder.write_model(model)
    folder.write_run(spec)
    reports.write_history_csv(folder.history_file, history)
    if history:
        reports.plot_training_curves(folder.curves_file, history)
    write_classifier_reports(model, spec, bundle, folder, num_classes)
    detection = None
    if bundle.task == "detection":  # mAP per class and the precision-recall plot
        from compiler.detection.reports import write_detection_reports

        detection = write_detection_reports(model, spec, bundle, folder)
    metrics = {
        "name": spec.name,
        "spec": str(spec.source_path or ""),
        "overrides": list(spec.overrides),  # run.json has them too, for every verb
        "metrics": evaluate_splits(model, bundle),
        "seed": spec.training.seed,
        "versions": versions(),
        "python": sys.version.split()[0],
        "xla": {"requested": xla.requested, "used": xla.used, "reason": xla.reason,
                # the timed trial of `auto` (seconds per step each way), when there was one
                **({"step_seconds": xla.step_seconds} if xla.step_seconds else {})},
        "epochs_requested": spec.training.epochs,
        "epochs_completed": len(history),
        "epoch_seconds": list(epoch_seconds[: len(history)]),
        "mean_epoch_seconds": float(np.mean(epoch_seconds)) if epoch_seconds else None,
        "peak_rss_mib_after_fit": peak_rss_mib,
        "losses": args.loss_names,
        "task": bundle.task,
        "class_names": bundle.class_names,
        **({"detection": detection} if detection else {}),
    }
    folder.write_metrics(metrics)
    # metadata.json (names, labels, standardisation constants, vocabularies) is
    # what `predict` and applications need, also when the spec exports nothing;
    # the export writes it with spec.resolved.yaml, once.
    from compiler.export.run import export_from_spec

    formats = spec.export.formats() if spec.export is not None else []
    for report in export_from_spec(model, spec, folder, bundle, formats=formats):
        if echo is not None:
            echo(report.summary())
    return metrics
