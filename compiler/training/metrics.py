"""Keras metrics from the `training.metrics` key.

The right Keras class depends on the label format, which the loss tells:
sparse integer labels (`sparse_categorical_crossentropy`), one-hot labels
(`categorical_crossentropy`) or binary labels (`binary_crossentropy`).
Precision, recall, F1 and AUC are binary metrics in Keras; for several
classes the adapters below one-hot the labels (and, for precision and recall,
the arg-max prediction) first. Metric names stay short (`accuracy`, `f1`...)
so history columns read `val_accuracy`, `val_f1`.
"""

from __future__ import annotations

import keras
from keras import ops

from compiler.training.choices import Choice

_register = keras.saving.register_keras_serializable(package="nncompile")


def _one_hot_pair(y_true, y_pred, num_classes: int, sparse: bool, argmax_pred: bool):
    # Rows of class scores: a per-step output (batch, steps, classes) becomes
    # (batch · steps, classes), matching the flattened labels.
    y_pred = ops.reshape(ops.convert_to_tensor(y_pred), (-1, num_classes))
    if not sparse:
        y_true = ops.reshape(y_true, (-1, num_classes))
    if sparse:
        y_true = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), num_classes)
    if argmax_pred:
        y_pred = ops.one_hot(ops.argmax(y_pred, axis=-1), num_classes)
    return ops.cast(y_true, y_pred.dtype), y_pred


def _per_row_weight(sample_weight):
    # Class weights arrive as one weight per example (or per step); make it
    # one per row of scores, broadcast over classes.
    if sample_weight is not None:
        sample_weight = ops.reshape(sample_weight, (-1, 1))
    return sample_weight


def _adapter(base: type, argmax_pred: bool) -> type:
    class Adapter(base):
        def __init__(self, num_classes: int, sparse: bool = True, **kwargs):
            super().__init__(**kwargs)
            self.num_classes = int(num_classes)
            self.sparse = bool(sparse)

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true, y_pred = _one_hot_pair(
                y_true, y_pred, self.num_classes, self.sparse, argmax_pred
            )
            return super().update_state(y_true, y_pred, _per_row_weight(sample_weight))

        def get_config(self) -> dict:
            return {**super().get_config(), "num_classes": self.num_classes, "sparse": self.sparse}

    return Adapter


@_register
class MultiClassPrecision(_adapter(keras.metrics.Precision, argmax_pred=True)):
    """Micro-averaged precision of the arg-max class over several classes."""


@_register
class MultiClassRecall(_adapter(keras.metrics.Recall, argmax_pred=True)):
    """Micro-averaged recall of the arg-max class over several classes."""


@_register
class MultiClassAUC(_adapter(keras.metrics.AUC, argmax_pred=False)):
    """ROC AUC of the one-vs-rest scores over several classes (micro)."""


@_register
class MultiClassF1(_adapter(keras.metrics.F1Score, argmax_pred=False)):
    """F1 score over several classes (the arg-max class counts as predicted)."""


@_register
class BinaryF1(keras.metrics.F1Score):
    """F1 of sigmoid outputs: labels of shape (batch,) or (batch, 1) are reshaped
    to the (rows, units) the Keras metric requires, and counted at threshold 0.5."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        units = ops.shape(y_pred)[-1] if len(ops.shape(y_pred)) > 1 else 1
        y_pred = ops.reshape(y_pred, (-1, units))
        y_true = ops.cast(ops.reshape(y_true, (-1, units)), y_pred.dtype)
        return super().update_state(y_true, y_pred, _per_row_weight(sample_weight))


def label_format(loss_name: str | None) -> str:
    """Return ``sparse``, ``one_hot``, ``binary`` or ``other`` for a loss name."""
    return {
        "sparse_categorical_crossentropy": "sparse",
        "categorical_crossentropy": "one_hot",
        "binary_crossentropy": "binary",
    }.get(loss_name or "", "other")


def build_metric(choice: Choice, loss_name: str | None, num_outputs: int) -> keras.metrics.Metric | str:
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
            cls = {"precision": MultiClassPrecision, "recall": MultiClassRecall, "auc": MultiClassAUC}
            return cls[name](num_classes=num_outputs, sparse=fmt == "sparse", name=name)
        cls = {"precision": keras.metrics.Precision, "recall": keras.metrics.Recall, "auc": keras.metrics.AUC}
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
