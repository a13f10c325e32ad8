"""Finding a spec's detection head: the grid, boxes and classes the rest of detection needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.errors import Location, SpecError


@dataclass(frozen=True)
class HeadInfo:
    """What decoding and the data pipeline need to know about a `detection_head`."""

    name: str
    grid: int
    boxes: int
    classes: int
    score_threshold: float = 0.25
    iou_threshold: float = 0.5
    max_detections: int = 20
    location: Location | None = None

    @property
    def values_per_cell(self) -> int:
        """B·5 + C."""
        return self.boxes * 5 + self.classes


def detection_head(spec: Any) -> HeadInfo | None:
    """The `detection_head` among the spec's outputs, or None when the spec has none.

    Raises:
        SpecError: the spec has a detection head but several outputs (a detector
            exports boxes, scores and classes in place of its one output).
    """
    heads = [(entry, layer) for entry, layer in spec.entries
             if getattr(layer, "type_name", "") == "detection_head"]
    outputs = [name.partition("[")[0] for name in spec.outputs]
    heads = [(entry, layer) for entry, layer in heads if entry.name in outputs]
    if not heads:
        return None
    entry, layer = heads[0]
    mark, display = entry.where()
    location = mark.location(display) if mark else Location(path=display)
    if len(outputs) != 1:
        raise SpecError("a detector has one output, its detection_head; this spec lists "
                        f"{', '.join(outputs)}", spec.locate("outputs"))
    return HeadInfo(entry.name, layer.grid, layer.boxes, layer.classes, layer.score_threshold,
                    layer.iou_threshold, layer.max_detections, location)
