"""The YOLO v1 loss of Redmon et al. (2016), equation (3).

Registered under the ``nncompile`` package, so a trained ``model.keras``
(whose training configuration names it) loads again; it needs only Keras, so a
module written by `nncompile codegen` compiles a detector with it.
"""

from __future__ import annotations

import keras
from keras import ops

TARGET_VALUES = 5  # a grid target per cell: x, y, w, h, object; the class one-hot follows


def iou_centre_size(a, b):
    """IoU of ``(cx, cy, w, h)`` boxes, element-wise over the leading axes (keras.ops).

    Used by the loss to choose the responsible box and to set its target
    confidence; differentiable, though the loss stops its gradient.
    """
    a_min, a_max = a[..., 0:2] - a[..., 2:4] / 2, a[..., 0:2] + a[..., 2:4] / 2
    b_min, b_max = b[..., 0:2] - b[..., 2:4] / 2, b[..., 0:2] + b[..., 2:4] / 2
    size = ops.maximum(ops.minimum(a_max, b_max) - ops.maximum(a_min, b_min), 0.0)
    inter = size[..., 0] * size[..., 1]
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter
    return ops.where(union > 0, inter / ops.maximum(union, 1e-12), 0.0)


@keras.saving.register_keras_serializable(package="nncompile")
class YoloLoss(keras.losses.Loss):
    """Sum-squared error over the S×S×(B·5+C) prediction, weighted as in the paper.

    With 𝟙ᵒᵇʲᵢⱼ marking the predictor j of cell i that is *responsible* for the
    object in that cell (of the cell's B boxes, the one whose prediction has
    the highest IoU with the ground truth) and 𝟙ⁿᵒᵒᵇʲᵢⱼ every other predictor::

        λ_coord Σᵢⱼ 𝟙ᵒᵇʲᵢⱼ [(xᵢ − x̂ᵢ)² + (yᵢ − ŷᵢ)²]
      + λ_coord Σᵢⱼ 𝟙ᵒᵇʲᵢⱼ [(√wᵢ − √ŵᵢ)² + (√hᵢ − √ĥᵢ)²]
      +         Σᵢⱼ 𝟙ᵒᵇʲᵢⱼ (Cᵢ − Ĉᵢ)²
      + λ_noobj Σᵢⱼ 𝟙ⁿᵒᵒᵇʲᵢⱼ (Cᵢ − Ĉᵢ)²
      +         Σᵢ 𝟙ᵒᵇʲᵢ Σ_c (pᵢ(c) − p̂ᵢ(c))²          (cells with an object only)

    The head predicts √w and √h directly (as Darknet does), so the square
    roots are taken of the targets only and a prediction never needs the root
    of a negative number. The target confidence Cᵢ of the responsible box is
    its IoU with the ground truth (``rescore``), or 1. The sum runs over one
    image; Keras averages it over the batch.

    Args:
        coord: λ_coord, the weight of the box coordinates (5 in the paper).
        noobj: λ_noobj, the weight of the confidence of boxes without an object (0.5).
        rescore: Target confidence IoU(prediction, truth) instead of 1.

    Call arguments:
        y_true: (batch, S, S, 5 + C) grid targets (see nncompile's `compiler.detection.grid`).
        y_pred: (batch, S, S, B·5 + C): per box x, y, √w, √h, confidence, then C
            class probabilities.

    Example:
        >>> YoloLoss()(np.zeros((1, 7, 7, 8)), np.zeros((1, 7, 7, 13)))  # B = 2, C = 3
    """

    def __init__(self, coord: float = 5.0, noobj: float = 0.5, rescore: bool = True,
                 name: str = "yolo", **kwargs):
        super().__init__(name=name, **kwargs)
        self.coord = float(coord)
        self.noobj = float(noobj)
        self.rescore = bool(rescore)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        grid = y_pred.shape[1]
        classes = y_true.shape[-1] - TARGET_VALUES
        boxes = (y_pred.shape[-1] - classes) // 5
        predicted = ops.reshape(y_pred[..., : 5 * boxes], (-1, grid, grid, boxes, 5))
        truth = y_true[..., None, :TARGET_VALUES]  # one object per cell, against every box
        has_object = y_true[..., 4]  # (batch, S, S)

        # Both boxes in image units (centre from the cell's offset, size squared
        # back from the root), to choose the responsible predictor by IoU.
        cells = ops.arange(grid, dtype=y_pred.dtype)
        cell_xy = ops.stack(ops.meshgrid(cells, cells, indexing="xy"), axis=-1)[:, :, None, :]
        def in_image(xy, wh):
            return ops.concatenate([(cell_xy + xy) / grid, wh], axis=-1)
        pred_box = in_image(predicted[..., 0:2], ops.square(predicted[..., 2:4]))
        true_box = in_image(truth[..., 0:2], truth[..., 2:4])
        iou = ops.stop_gradient(iou_centre_size(pred_box, true_box))  # (batch, S, S, B)
        responsible = ops.one_hot(ops.argmax(iou, axis=-1), boxes, dtype=y_pred.dtype)
        responsible = responsible * has_object[..., None]

        xy_error = ops.sum(ops.square(truth[..., 0:2] - predicted[..., 0:2]), axis=-1)
        wh_error = ops.sum(ops.square(ops.sqrt(truth[..., 2:4]) - predicted[..., 2:4]), axis=-1)
        target_conf = iou if self.rescore else ops.ones_like(iou)
        conf = predicted[..., 4]
        object_error = ops.square(target_conf - conf)
        no_object_error = ops.square(conf)
        class_error = ops.sum(ops.square(y_true[..., TARGET_VALUES:]
                                         - y_pred[..., 5 * boxes:]), axis=-1)

        per_box = (self.coord * responsible * (xy_error + wh_error)
                   + responsible * object_error
                   + self.noobj * (1.0 - responsible) * no_object_error)
        total = ops.sum(per_box, axis=(1, 2, 3)) + ops.sum(has_object * class_error, axis=(1, 2))
        return total

    def get_config(self) -> dict:
        return {**super().get_config(), "coord": self.coord, "noobj": self.noobj,
                "rescore": self.rescore}
