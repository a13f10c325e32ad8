"""Connectionist temporal classification (CTC) loss with label and logit lengths."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="nncompile")
class CTCLoss(keras.losses.Loss):
    """CTC loss (Graves et al., 2006) of per-step logits against unaligned label sequences.

    ``y_true`` is (batch, max_labels) integer labels padded with ``pad``; each
    example's label length is its count of labels other than ``pad``.
    ``y_pred`` is (batch, steps, classes) logits (no softmax); each example's
    logit length is its number of steps, or those its mask keeps when the
    output carries a Keras mask (padded utterances). Class ``blank`` is CTC's blank.

    Args:
        blank: Index of the blank class.
        pad: The label value that pads ``y_true``.

    Example:
        >>> CTCLoss()([[1, 2, 0]], keras.ops.zeros((1, 5, 4)))  # log-likelihood of "1 2"
    """

    def __init__(self, blank: int = 0, pad: int = 0, name: str = "ctc", **kwargs):
        super().__init__(name=name, **kwargs)
        self.blank, self.pad = int(blank), int(pad)

    def __call__(self, y_true, y_pred, sample_weight=None):
        # A mask over the steps gives the logit lengths; Keras would otherwise apply it
        # to the per-example losses, whose shape it does not have.
        self._steps_mask = getattr(y_pred, "_keras_mask", None)
        if self._steps_mask is not None:
            y_pred = ops.add(y_pred, 0)  # the same values, without the mask
        try:
            return super().__call__(y_true, y_pred, sample_weight=sample_weight)
        finally:
            self._steps_mask = None

    def call(self, y_true, y_pred):
        mask = getattr(self, "_steps_mask", None)
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(ops.convert_to_tensor(y_true), "int32")
        if len(y_true.shape) == 3 and y_true.shape[-1] == 1:
            y_true = ops.squeeze(y_true, -1)
        label_length = ops.sum(ops.cast(ops.not_equal(y_true, self.pad), "int32"), axis=-1)
        if mask is not None:
            logit_length = ops.sum(ops.cast(mask, "int32"), axis=-1)
        else:
            logit_length = ops.full((ops.shape(y_pred)[0],), ops.shape(y_pred)[1], "int32")
        # Padding labels become the blank, which the label lengths leave out anyway.
        labels = ops.where(ops.equal(y_true, self.pad), self.blank, y_true)
        return ops.ctc_loss(labels, y_pred, label_length, logit_length, mask_index=self.blank)

    def get_config(self) -> dict:
        return {**super().get_config(), "blank": self.blank, "pad": self.pad}
