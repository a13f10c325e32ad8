"""`nncompile detect`: run a trained detector, or its TFLite file, on image files.

Writes, into one folder, each image with its detections drawn and
``detections.json``: for every image its file, size and detections (class
name and index, score, box ``[x1, y1, x2, y2]`` in the image's own pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compiler.errors import DataError, Location, ModelFileError
from compiler.model_folder import ModelFolder

JSON_NAME = "detections.json"


@dataclass
class Detector:
    """A runnable detector: images (n, h, w, c) in [0, 1] → per-image detection lists."""

    run: Any
    image_size: tuple[int, int]
    channels: int
    class_names: list[str]
    source: str


def _names(found: list, class_names: list[str]) -> list[str]:
    return [class_names[i] if 0 <= i < len(class_names) else str(i) for i in found]


def keras_detector(target: Path) -> Detector:
    """A model folder (or its model.keras): the Keras model with the export's decoding."""
    from compiler.detection.decode import detector_model
    from compiler.detection.head import detection_head
    from compiler.model_folder import ModelFolder

    folder = ModelFolder(target.parent if target.suffix == ".keras" else target)
    if not folder.resolved_spec_file.is_file():
        raise ModelFileError(f"'{target}' is not a trained detector's model folder: it has no "
                             "spec.resolved.yaml (give saved_models/<name>/ or its model.tflite)",
                             Location(str(target)))
    spec = folder.resolved_spec()
    head = detection_head(spec)
    if head is None:
        raise ModelFileError(f"'{target}' is not a detector: its spec's output is not a "
                             "detection_head", Location(str(target)))
    model = folder.load_model(Location(str(target)))
    shape = model.inputs[0].shape
    size = (int(shape[1]), int(shape[2]))
    wrapped = detector_model(model, head, size, score_threshold=head.score_threshold,
                             iou_threshold=head.iou_threshold, max_detections=head.max_detections)
    names = [str(n) for n in (folder.metrics().get("class_names") or [])] \
        if folder.metrics_file.is_file() else []

    def run(images: np.ndarray) -> list[dict]:
        boxes, scores, classes, counts = (np.asarray(v) for v in
                                          wrapped.predict(images, verbose=0))
        return [{"boxes": boxes[i, :n], "scores": scores[i, :n], "classes": classes[i, :n]}
                for i, n in enumerate(int(c) for c in counts)]

    return Detector(run, size, int(shape[3]), names, str(target))


def tflite_detector(path: Path) -> Detector:
    """A detector's exported TFLite file (decoding and NMS inside it)."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(path))
        runner = interpreter.get_signature_runner("serving_default")
    except (RuntimeError, ValueError) as err:
        raise ModelFileError(f"cannot load the TFLite file: {str(err).splitlines()[0][:160]}",
                             Location(str(path))) from None
    inputs = runner.get_input_details()
    outputs = set(runner.get_output_details())
    if len(inputs) != 1 or not {"boxes", "scores", "classes", "num_detections"} <= outputs:
        raise ModelFileError("not a detector's TFLite file: it must take one image and give "
                             "boxes, scores, classes and num_detections", Location(str(path)))
    name, detail = next(iter(inputs.items()))
    shape = [int(d) for d in detail["shape"]]
    folder = ModelFolder(path.parent)  # the TFLite file's model folder, if it is in one
    names = []
    if folder.metadata_file.is_file():
        names = [str(n) for n in (folder.metadata().get("labels") or [])]

    def run(images: np.ndarray) -> list[dict]:
        found = []
        for image in images:  # the file takes one image per call (batch 1)
            out = runner(**{name: image[None].astype(np.float32)})
            n = int(np.asarray(out["num_detections"]).reshape(-1)[0])
            found.append({"boxes": out["boxes"][0, :n], "scores": out["scores"][0, :n],
                          "classes": out["classes"][0, :n]})
        return found

    return Detector(run, (shape[1], shape[2]), shape[3], names, str(path))


def load_detector(target: str | Path) -> Detector:
    """A model folder, its model.keras, or a .tflite file."""
    path = Path(target)
    if path.suffix == ".tflite":
        return tflite_detector(path)
    return keras_detector(path)


def read_image(path: Path, channels: int) -> np.ndarray:
    """An image file as (h, w, channels) uint8; a DataError names a file that is not one."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            picture = opened.convert("RGB" if channels == 3 else "L")
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"cannot read the image: {str(err)[:160]}", Location(str(path))) from None
    pixels = np.asarray(picture)
    return pixels if pixels.ndim == 3 else pixels[..., None]


def detect_images(target: str | Path, images: list[str | Path], out_dir: str | Path) -> dict:
    """Detect objects in ``images``; write the pictures and detections.json into ``out_dir``.

    Each image is resized to the model's input (as training resized its data),
    and the boxes are scaled back to the image's own pixels.

    Returns:
        The content of detections.json.
    """
    from PIL import Image

    from compiler.detection.drawing import draw_detections, save_picture

    detector = load_detector(target)
    paths = [Path(p) for p in images]
    for path in paths:
        if not path.is_file():
            raise DataError("no such image file", Location(str(path)))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    height, width = detector.image_size
    report: dict[str, Any] = {"model": detector.source, "images": []}
    used: set[str] = set()
    for path in paths:
        pixels = read_image(path, detector.channels)
        small = Image.fromarray(pixels[..., 0] if detector.channels == 1 else pixels)
        small = np.asarray(small.resize((width, height), Image.Resampling.BILINEAR))
        small = (small.reshape(height, width, detector.channels) / 255.0).astype(np.float32)
        (found,) = detector.run(small[None])
        sx, sy = pixels.shape[1] / width, pixels.shape[0] / height
        detections = [
            {"class": name, "class_id": int(c), "score": round(float(s), 4),
             "box": [round(float(v), 2) for v in (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy)]}
            for b, s, c, name in zip(found["boxes"], found["scores"], found["classes"],
                                     _names(list(map(int, found["classes"])),
                                            detector.class_names), strict=True)
        ]
        picture_name = _unique(f"{path.stem}.png", used)
        scale = max(1, 384 // max(pixels.shape[:2]))  # small images are enlarged to be legible
        save_picture(draw_detections(pixels, detections, scale=scale), out / picture_name)
        report["images"].append({"file": str(path), "picture": picture_name,
                                 "width": int(pixels.shape[1]), "height": int(pixels.shape[0]),
                                 "detections": detections})
    from compiler.atomic import write_json

    write_json(out / JSON_NAME, report)
    return report


def _unique(name: str, used: set[str]) -> str:
    stem, suffix, n = Path(name).stem, Path(name).suffix, 1
    while name in used:
        n += 1
        name = f"{stem}_{n}{suffix}"
    used.add(name)
    return name
