"""Keras losses from the `training.loss` key, including the contrastive loss."""

from __future__ import annotations

import keras

from compiler.training.choices import Choice
from custom_layers.losses import ContrastiveLoss

__all__ = ["ContrastiveLoss", "build_loss"]


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
    if name == "ctc":
        from custom_layers.ctc_loss import CTCLoss

        return CTCLoss(blank=p.blank, pad=p.pad)
    if name == "yolo":
        from compiler.detection.loss import YoloLoss

        return YoloLoss(coord=p.coord, noobj=p.noobj, rescore=p.rescore)
    raise AssertionError(f"loss {name!r} has no builder")  # schema and builder out of sync
