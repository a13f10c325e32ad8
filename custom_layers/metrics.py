"""Keras metrics the training section needs and Keras lacks.

Precision, recall, F1 and AUC are binary metrics in Keras; for several
classes the adapters below one-hot the labels (and, for precision and recall,
the arg-max prediction) first, and per-step outputs count each step as a row.
They live in this package because a trained ``model.keras`` keeps its compiled
metrics: importing ``custom_layers`` must be enough to load it back.
"""

from __future__ import annotations

import keras
from keras import ops

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
