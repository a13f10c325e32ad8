"""The YOLO v1 loss (Redmon et al., 2016): :class:`custom_layers.yolo_loss.YoloLoss`."""

from custom_layers.yolo_loss import YoloLoss

__all__ = ["YoloLoss"]
