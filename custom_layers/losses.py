"""Losses the seeds need and Keras lacks: the contrastive loss of siamese networks.

Kept in this package so a trained ``model.keras`` loads with ``import custom_layers``.
"""

from __future__ import annotations

import keras
from keras import ops


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
