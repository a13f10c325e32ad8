"""Keras losses from the `training.loss` key, including the contrastive loss."""

from __future__ import annotations

import keras
from keras import ops

from compiler.training.choices import Choice


@keras.saving.register_keras_serializable(package="nncompile")
class ContrastiveLoss(keras.losses.Loss):
    """Contrastive loss of Hadsell, Chopra and LeCun on predicted distances.

    ``loss = y · d² + (1 − y) · max(margin − d, 0)²`` where ``y = 1`` marks a
    similar pair and ``d`` is the distance the model outputs for the pair.

    Args:
        margin: Distance beyond which dissimilar pairs cost nothing.

    Example:
        >>> ContrastiveLoss(margin=1.0)([[1.0], [0.0]], [[0.5], [0.2]])  # (0.25 + 0.64) / 2
    """

    def __init__(self, margin: float = 1.0, name: str = "contrastive", **kwargs):
        super().__init__(name=name, **kwargs)
        self.margin = float(margin)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(ops.reshape(y_true, ops.shape(y_pred)), y_pred.dtype)
        similar = y_true * ops.square(y_pred)
        dissimilar = (1.0 - y_true) * ops.square(ops.maximum(self.margin - y_pred, 0.0))
        return ops.mean(similar + dissimilar, axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "margin": self.margin}


def build_loss(choice: Choice) -> keras.losses.Loss:
    """Return the Keras loss object for one validated loss choice."""
    name, p = choice.name, choice.params
    if name == "mse":
        return keras.losses.MeanSquaredError()
    if name == "mae":
        return keras.losses.MeanAbsoluteError()
    if name == "huber":
        return keras.losses.Huber(delta=p.delta)
    if name == "binary_crossentropy":
        return keras.losses.BinaryCrossentropy(
            from_logits=p.from_logits, label_smoothing=p.label_smoothing
        )
    if name == "categorical_crossentropy":
        return keras.losses.CategoricalCrossentropy(
            from_logits=p.from_logits, label_smoothing=p.label_smoothing
        )
    if name == "sparse_categorical_crossentropy":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=p.from_logits)
    if name == "contrastive":
        return ContrastiveLoss(margin=p.margin)
    raise AssertionError(f"loss {name!r} has no builder")  # schema and builder out of sync
