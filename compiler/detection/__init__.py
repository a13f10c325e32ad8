"""Object detection in the YOLO v1 manner (Redmon et al. 2016).

The image is divided into an S×S grid; each cell predicts B boxes (x, y
relative to the cell, √w, √h relative to the image, a confidence
P(object)·IoU) and C class probabilities, one S×S×(B·5+C) tensor
(:mod:`compiler.layers.detection_head`). Modules, one job each:

- :mod:`~compiler.detection.boxes`: box formats and intersection over union;
- :mod:`~compiler.detection.grid`: ground-truth boxes → the grid target;
- :mod:`~compiler.detection.loss`: the YOLO v1 loss (a registered Keras loss);
- :mod:`~compiler.detection.nms`: per-class non-max suppression in TensorFlow
  ops that convert to builtin TFLite kernels;
- :mod:`~compiler.detection.decode`: the grid → boxes in pixels, scores and
  classes, as a Keras layer inside the exported graph;
- :mod:`~compiler.detection.average_precision`: mAP as the COCO reference computes it;
- :mod:`~compiler.detection.pipeline`, :mod:`~compiler.detection.augment`: the
  tf.data side (box-aware augmentation, grid encoding);
- :mod:`~compiler.detection.reports`, :mod:`~compiler.detection.drawing`:
  metrics.json, the precision-recall plot, pictures of detections.

Nothing here is imported by ``nncompile validate``: :mod:`compiler.detection.options`
is pure pydantic, the rest import NumPy or TensorFlow.
"""
