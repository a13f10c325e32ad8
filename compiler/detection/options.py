"""Spec options of the detection sources and the `yolo` loss (pure pydantic, no TensorFlow).

``nncompile validate`` imports this module through the data and training
schemas, so it must stay free of NumPy and TensorFlow.
"""

from __future__ import annotations

from pydantic import Field

from compiler.spec.base import StrictModel


class BoxAugmentation(StrictModel):
    """Random changes to each training image that move its boxes with its pixels.

    Drawn afresh for every example in every epoch, on the training split only.
    """

    flip: bool = True
    """Mirror left-right with probability 1/2 (box centres x → 1 − x)."""
    translate: float = Field(default=0.1, ge=0.0, lt=0.5)
    """Largest shift, as a fraction of the width and of the height."""
    scale: float = Field(default=0.1, ge=0.0, lt=0.5)
    """Largest zoom in or out, as a fraction (0.1: sizes times 0.9 to 1.1)."""
    min_visible: float = Field(default=0.4, gt=0.0, le=1.0)
    """A box cut by the image border is kept when at least this share of it is left."""


class DetectionOptions(StrictModel):
    """Options that detection sources share (the YOLO folder and the `shapes` task)."""

    augment: BoxAugmentation | None = None
    """Box-aware augmentation of the training split (`{}` for the defaults); none when unset."""


class YoloLossParams(StrictModel):
    """The YOLO v1 loss (Redmon et al. 2016) on the grid of a `detection_head`."""

    coord: float = Field(default=5.0, gt=0)
    """λ_coord: weight of the box coordinates."""
    noobj: float = Field(default=0.5, ge=0)
    """λ_noobj: weight of the confidence of predictors without an object."""
    rescore: bool = True
    """Target confidence of the responsible box is its IoU with the ground truth (else 1)."""
