"""Keras metrics from the `training.metrics` key.

The right Keras class depends on the label format, which the loss tells:
sparse integer labels (`sparse_categorical_crossentropy`), one-hot labels
(`categorical_crossentropy`) or binary labels (`binary_crossentropy`).
Precision, recall, F1 and AUC are binary metrics in Keras; for several
classes the adapters one-hot the labels (and, for precision and recall,
the arg-max prediction) first. Metric names stay short (`accuracy`, `f1`...)
so history columns read `val_accuracy`, `val_f1`. The adapter classes live in
``custom_layers.metrics`` so that a saved model loads with that package only.
"""

from __future__ import annotations

import keras

from compiler.training.choices import Choice
from custom_layers.metrics import (
    BinaryF1,
    MultiClassAUC,
    MultiClassF1,
    MultiClassPrecision,
    MultiClassRecall,
)

__all__ = [
    "BinaryF1",
    "MultiClassAUC",
    "MultiClassF1",
    "MultiClassPrecision",
    "MultiClassRecall",
    "build_metric",
    "label_format",
]

def label_format(loss_name: str | None) -> str:
    """Return ``sparse``, ``one_hot``, ``binary`` or ``other`` for a loss name."""
    return {
        "sparse_categorical_crossentropy": "sparse",
        "categorical_crossentropy": "one_hot",
        "binary_crossentropy": "binary",
    }.get(loss_name or "", "other")


def build_metric(choice: Choice, loss_name: str | None,
                 num_outputs: int) -> keras.metrics.Metric | str:
    """Return the Keras metric for one metric choice.

    Args:
        choice: The validated metric.
        loss_name: The loss of the same output (decides the label format).
        num_outputs: Size of the output's last axis (the number of classes).
    """
    name, p = choice.name, choice.params
    fmt = label_format(loss_name)
    several = fmt in ("sparse", "one_hot") or (fmt == "binary" and num_outputs > 1)
    if name == "accuracy":
        return {
            "sparse": keras.metrics.SparseCategoricalAccuracy,
            "one_hot": keras.metrics.CategoricalAccuracy,
            "binary": keras.metrics.BinaryAccuracy,
        }.get(fmt, keras.metrics.Accuracy)(name="accuracy")
    if name in ("precision", "recall", "auc"):
        if several and fmt != "binary":
            cls = {"precision": MultiClassPrecision, "recall": MultiClassRecall,
                   "auc": MultiClassAUC}
            return cls[name](num_classes=num_outputs, sparse=fmt == "sparse", name=name)
        cls = {"precision": keras.metrics.Precision, "recall": keras.metrics.Recall,
               "auc": keras.metrics.AUC}
        return cls[name](name=name)
    if name == "f1":
        if several and fmt != "binary":
            return MultiClassF1(
                num_classes=num_outputs, sparse=fmt == "sparse", average=p.average, name="f1"
            )
        return BinaryF1(average=p.average, threshold=0.5, name="f1")
    if name == "mae":
        return keras.metrics.MeanAbsoluteError(name="mae")
    if name == "mse":
        return keras.metrics.MeanSquaredError(name="mse")
    if name == "rmse":
        return keras.metrics.RootMeanSquaredError(name="rmse")
    if name == "top_k":
        if fmt == "sparse":
            return keras.metrics.SparseTopKCategoricalAccuracy(k=p.k, name=f"top_{p.k}")
        return keras.metrics.TopKCategoricalAccuracy(k=p.k, name=f"top_{p.k}")
    raise AssertionError(f"metric {name!r} has no builder")  # schema and builder out of sync
