"""`detection_head`: the output layer of a YOLO v1 detector (Redmon et al. 2016)."""

# Annotations here are objects, not strings (no `from __future__ import annotations`):
# pydantic evaluates a class's string annotations again for every subclass, which
# `nncompile validate` pays for at start-up.

from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr

from compiler.layers.base import WeightedSpec, input_size, rank_message, register
from compiler.layers.params import PositiveInt


@register("detection_head")
class DetectionHead(WeightedSpec):
    """The S×S×(B·5+C) prediction of a YOLO v1 detector.

    For each of the S×S cells, B boxes of five values (x, y: the centre
    relative to the cell; √w, √h: the size relative to the image, as square
    roots; the confidence P(object)·IoU) and C class probabilities
    P(class | object). It reads either a feature map of S×S cells (one 1×1
    convolution per part, as in a fully convolutional detector) or a flat
    vector (one fully connected layer, as in the paper's last layer). Train
    it with `loss: yolo`; the export decodes its boxes and applies non-max
    suppression inside the graph.

    Example: `- detection_head: {grid: 6, boxes: 2, classes: 3}` → (None, 6, 6, 13)
    """

    max_inputs = 1
    grid: PositiveInt
    """S: cells along each side of the image."""
    boxes: PositiveInt = 2
    """B: boxes predicted per cell."""
    classes: PositiveInt
    """C: number of object classes."""
    activation: Literal["logistic", "linear"] = "logistic"
    """`logistic`: sigmoid on the box values and confidences, softmax over the class
    probabilities, so each lies in the range its meaning has; `linear`: the paper's
    linear output layer (the loss is the same sum-squared error)."""
    score_threshold: Annotated[float, Field(ge=0, lt=1)] = 0.25
    """Export: a (box, class) is a detection when P(class | object) · confidence is above this."""
    iou_threshold: Annotated[float, Field(gt=0, le=1)] = 0.5
    """Export: non-max suppression drops a box overlapping a better one of its class by more."""
    max_detections: Annotated[int, Field(gt=0, le=1000)] = 20
    """Export: detections kept per image, best first."""

    # Whether the input is a flat vector (else a feature map); known from check_shapes.
    _flat: bool = PrivateAttr(default=False)

    @property
    def values_per_cell(self) -> int:
        """B·5 + C."""
        return self.boxes * 5 + self.classes

    def check_shapes(self, shapes, sources):
        shape = shapes[0]
        self._flat = len(shape) == 2
        if len(shape) == 2:
            return None
        if len(shape) == 4:
            if shape[1] in (None, self.grid) and shape[2] in (None, self.grid):
                return None
            return (f"detection_head with grid {self.grid} reads a feature map of "
                    f"{self.grid}×{self.grid} cells, got {shape[1]}×{shape[2]} from "
                    f"'{sources[0]}'; pool or stride down to {self.grid}×{self.grid}, or "
                    "flatten it first")
        return rank_message("detection_head", f"a {self.grid}×{self.grid} feature map "
                            "(height, width, channels) or a flat vector", shape, sources[0])

    def infer_output_shape(self, shapes):
        return (shapes[0][0], self.grid, self.grid, self.values_per_cell)

    def count_params(self, shapes):
        features = shapes[0][-1]
        if features is None:
            return None
        # One kernel and bias per part (boxes, classes; or one linear part), either
        # a 1×1 convolution per cell or a dense layer making every cell at once.
        cells = 1 if len(shapes[0]) == 4 else self.grid * self.grid
        return (features + 1) * cells * self.values_per_cell

    def estimate_params(self, shapes):
        features = input_size(shapes)
        cells = 1 if shapes and len(shapes[0]) == 4 else self.grid * self.grid
        return (features + 1) * cells * self.values_per_cell

    def build(self) -> list[Any]:
        """The Keras layers of the head, in the order call() applies them."""
        import keras

        flat = self._flat
        s, name, kw = self.grid, self.name, self.weight_kwargs()
        common = {"trainable": self.trainable}
        size = {"boxes": self.boxes * 5, "classes": self.classes}
        if self.activation == "linear":
            size = {"": self.values_per_cell}
        layers = []
        for part, units in size.items():
            suffix = f"_{part}" if part else ""
            if flat:
                layers.append(keras.layers.Dense(s * s * units, name=f"{name}{suffix}_dense",
                                                 **kw, **common))
                layers.append(keras.layers.Reshape((s, s, units), name=f"{name}{suffix}"
                                                   if part else name))
            else:
                layers.append(keras.layers.Conv2D(units, 1, name=f"{name}{suffix}", **kw,
                                                  **common))
        if self.activation == "logistic":
            layers.append(keras.layers.Activation("sigmoid", name=f"{name}_box_values"))
            layers.append(keras.layers.Softmax(axis=-1, name=f"{name}_class_probabilities"))
            layers.append(keras.layers.Concatenate(axis=-1, name=name))
        return layers

    def call(self, layers, tensors):
        (x,) = tensors
        step = 2 if len(x.shape) == 2 else 1
        if self.activation == "linear":
            for layer in layers:
                x = layer(x)
            return x
        boxes = classes = x
        for layer in layers[:step]:
            boxes = layer(boxes)
        for layer in layers[step:2 * step]:
            classes = layer(classes)
        sigmoid, softmax, concat = layers[2 * step:]
        return concat([sigmoid(boxes), softmax(classes)])
