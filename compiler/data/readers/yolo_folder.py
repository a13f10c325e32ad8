"""Reading a folder in the YOLO text format: images, and beside each a label file.

For ``cat.jpg`` the labels are in ``cat.txt`` (or, in the Ultralytics layout,
``labels/.../cat.txt`` for ``images/.../cat.jpg``): one line per object,
``class cx cy w h``, the class a number from 0 and the box normalised to the
image (centre and size in 0..1). An image without a label file shows no
object. Class names come from the spec, else from ``classes.txt`` (one name a
line, as LabelImg writes it) in the folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compiler.data.raw import RawData
from compiler.data.readers.images import IMAGE_SUFFIXES
from compiler.errors import DataError, Location, Problem

NAMES_FILE = "classes.txt"
# Label tools round; a coordinate this far outside 0..1 is still taken as the border.
SLACK = 1e-3
MAX_BOXES = 1000


def _label_file(image: Path, folder: Path) -> Path:
    beside = image.with_suffix(".txt")
    if beside.is_file():
        return beside
    parts = image.relative_to(folder).parts
    if "images" in parts:  # images/train/a.jpg → labels/train/a.txt
        index = len(parts) - 1 - parts[::-1].index("images")
        other = folder.joinpath(*parts[:index], "labels", *parts[index + 1:]).with_suffix(".txt")
        if other.is_file():
            return other
    return beside


def read_labels(path: Path, shown: str, classes: int | None) -> list[tuple[float, ...]]:
    """The boxes of one label file; a DataError names the file and line of a bad one."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError("not a text file of `class cx cy w h` lines", Location(shown)) from None
    rows, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or line.lstrip().startswith("#"):
            continue
        where = Location(shown, number)
        if len(fields) != 5:
            problems.append(Problem(
                f"expected 5 values `class cx cy w h`, got {len(fields)}: {line.strip()[:60]!r}"
                + (" (segmentation polygons are not boxes)" if len(fields) > 5 else ""), where))
            continue
        try:
            values = [float(v) for v in fields]
        except ValueError:
            bad = next(v for v in fields if not _is_number(v))
            problems.append(Problem(f"expected numbers, got {bad!r}", where))
            continue
        cls, cx, cy, w, h = values
        if cls != int(cls) or cls < 0:
            problems.append(Problem(f"class must be a whole number from 0, got {fields[0]}",
                                    where))
        elif classes is not None and cls >= classes:
            problems.append(Problem(f"class {int(cls)} is out of range: there are {classes} "
                                    f"classes (0..{classes - 1})", where))
        elif not all(np.isfinite(values)):
            problems.append(Problem("the box holds a value that is not finite", where))
        elif w <= 0 or h <= 0:
            problems.append(Problem(f"box width and height must be above 0, got {w:g} {h:g}",
                                    where))
        elif not all(-SLACK <= v <= 1 + SLACK for v in (cx, cy, w, h)):
            problems.append(Problem(
                f"box values must be normalised to the image (0..1), got {cx:g} {cy:g} {w:g} "
                f"{h:g}; divide pixel coordinates by the image's width and height", where))
        else:
            rows.append((cls, *(min(max(v, 0.0), 1.0) for v in (cx, cy, w, h))))
        if len(rows) > MAX_BOXES:
            problems.append(Problem(f"more than {MAX_BOXES} boxes in one image", where))
            break
    if problems:
        raise DataError(problems)
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def class_names_of(folder: Path, shown: str, given: list[str] | None) -> list[str] | None:
    """The spec's `classes`, else the folder's classes.txt, else None (numbered)."""
    if given:
        return list(given)
    names_file = folder / NAMES_FILE
    if not names_file.is_file():
        return None
    names = [line.strip() for line in names_file.read_text(encoding="utf-8").splitlines()]
    names = [name for name in names if name]
    if not names:
        raise DataError("the class names file is empty", Location(f"{shown}/{NAMES_FILE}"))
    return names


def read_yolo_folder(folder: Path, size: tuple[int, int], color: str, input_name: str,
                     shown_name: str, class_names: list[str] | None = None) -> RawData:
    """Decode and resize every image under ``folder`` and read its boxes.

    Resizing leaves normalised boxes where they are. Targets: ``boxes`` (n,
    most boxes of an image, 5) rows ``(class, cx, cy, w, h)``, padded with rows
    of class -1.

    Raises:
        DataError: no images; a label line that is not ``class cx cy w h`` with a
            class in range and a box inside the image (file and line named); an
            image that cannot be decoded.
    """
    import tensorflow as tf

    images = sorted(p for p in folder.rglob("*") if p.is_file()
                    and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    if not images:
        raise DataError(f"found no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in the folder",
                        Location(shown_name))
    limit = len(class_names) if class_names else None
    channels = 3 if color == "rgb" else 1
    pixels, labels, origins, problems = [], [], [], []
    for image in images:
        where = f"{shown_name}/{image.relative_to(folder).as_posix()}"
        label_file = _label_file(image, folder)
        if label_file.is_file():
            try:
                labels.append(read_labels(
                    label_file, f"{shown_name}/{label_file.relative_to(folder).as_posix()}",
                    limit))
            except DataError as err:
                problems.extend(err.problems)
                continue
        else:
            labels.append([])
        try:
            decoded = tf.io.decode_image(tf.io.read_file(str(image)), channels=channels,
                                         expand_animations=False)
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as err:
            from compiler.tf_runtime import tf_error_text

            problems.append(Problem(f"cannot decode the image: {tf_error_text(err, 120)}",
                                    Location(where)))
            continue
        pixels.append(tf.image.resize(tf.cast(decoded, tf.float32) / 255.0, size).numpy())
        origins.append(where)
    if problems:
        raise DataError(problems[:20])
    most = max(1, max(len(rows) for rows in labels))
    boxes = np.full((len(labels), most, 5), -1.0, dtype=np.float32)
    boxes[..., 1:] = 0.0
    for i, rows in enumerate(labels):
        if rows:
            boxes[i, :len(rows)] = rows
    seen = int(boxes[..., 0].max()) + 1 if (boxes[..., 0] >= 0).any() else 1
    names = class_names or [str(i) for i in range(seen)]
    return RawData(
        inputs={input_name: np.stack(pixels).astype(np.float32)},
        targets={"boxes": boxes},
        task="detection",
        class_names=names,
        num_classes=len(names),
        metadata={"image_size": list(size), "color": color, "scale": "pixels / 255"},
        origins=origins,
    )
