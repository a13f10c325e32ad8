"""Reading a folder of images with one subfolder per class."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compiler.data.raw import RawData
from compiler.errors import DataError, Location

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp"}


def read_image_folder(
    folder: Path,
    size: tuple[int, int],
    color: str,
    input_name: str,
    shown_name: str,
    class_names: list[str] | None = None,
) -> RawData:
    """Decode, resize and scale every image under ``folder/<class>/``.

    Args:
        folder: the resolved folder.
        size: (height, width) of the result.
        color: ``"rgb"`` (3 channels) or ``"grayscale"`` (1 channel).
        input_name: name of the data input.
        shown_name: how messages name the folder.
        class_names: classes fixed by the training folder; None to use the
            sorted subfolder names of this one.

    Raises:
        DataError: no class subfolders, an empty class, a file that is not an
            image or cannot be decoded, a class missing from the training folder.
    """
    import tensorflow as tf

    found = sorted(child.name for child in folder.iterdir() if child.is_dir())
    if not found:
        raise DataError(
            "expected one subfolder per class (for example cats/ and dogs/), found none",
            Location(shown_name),
        )
    classes = class_names or found
    channels = 3 if color == "rgb" else 1
    images, labels, origins = [], [], []
    for name in found:
        if name not in classes:
            raise DataError(
                f"class folder '{name}' does not occur in the training folder; "
                f"known: {', '.join(classes)}",
                Location(f"{shown_name}/{name}"),
            )
        files = sorted(
            p for p in (folder / name).iterdir() if p.is_file() and not p.name.startswith(".")
        )
        if not files:
            inner = sorted(p.name for p in (folder / name).iterdir() if p.is_dir())
            hint = (
                f" (only subfolders: {', '.join(inner[:5])}; images must lie directly in the "
                "class folder)"
                if inner
                else ""
            )
            raise DataError(
                f"class folder holds no images{hint}", Location(f"{shown_name}/{name}")
            )
        for file in files:
            where = f"{shown_name}/{name}/{file.name}"
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                raise DataError(
                    f"not an image file (expected one of {', '.join(sorted(IMAGE_SUFFIXES))})",
                    Location(where),
                )
            try:
                image = tf.io.decode_image(
                    tf.io.read_file(str(file)), channels=channels, expand_animations=False
                )
            except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as err:
                from compiler.tf_runtime import tf_error_text

                reason = tf_error_text(err, 120)
                raise DataError(f"cannot decode the image: {reason}", Location(where)) from None
            image = tf.image.resize(tf.cast(image, tf.float32) / 255.0, size)
            images.append(image.numpy())
            labels.append(classes.index(name))
            origins.append(where)
    if class_names is None and len(found) == 1:
        # Every label would be 0: a "classifier" that cannot be wrong learns nothing.
        raise DataError(
            f"found one class folder ('{found[0]}'); a classifier needs two or more: give "
            "the folder that holds one subfolder per class",
            Location(shown_name),
        )
    return RawData(
        inputs={input_name: np.stack(images).astype(np.float32)},
        targets={"label": np.array(labels, dtype=np.int32)},
        task="classification",
        class_names=list(classes),
        num_classes=len(classes),
        metadata={"image_size": list(size), "color": color, "scale": "pixels / 255"},
        origins=origins,
    )
