"""Pictures of detections: each box with its class name and score drawn on the image."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Distinct, saturated colours; class i gets COLOURS[i % len(COLOURS)].
COLOURS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 190), (0, 128, 128)]


def draw_detections(image: np.ndarray, detections: list[dict], scale: int = 1):
    """An RGB PIL image of ``image`` (h, w, 3) in [0, 1] or uint8 with the boxes drawn.

    Args:
        detections: dicts with ``box`` [x1, y1, x2, y2] in the image's pixels,
            ``class``, ``class_id`` and ``score``.
        scale: enlarge a small image this many times first, so labels are legible.
    """
    from PIL import Image, ImageDraw, ImageFont

    pixels = np.asarray(image)
    if pixels.dtype != np.uint8:
        pixels = (np.clip(pixels, 0.0, 1.0) * 255).round().astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    picture = Image.fromarray(pixels).convert("RGB")
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale),
                                 Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default()
    for found in detections:
        colour = COLOURS[int(found["class_id"]) % len(COLOURS)]
        x1, y1, x2, y2 = (float(v) * scale for v in found["box"])
        # A dark edge around the coloured frame keeps it visible on any background.
        line = max(1, scale // 2)
        draw.rectangle([x1 - line, y1 - line, x2 + line, y2 + line], outline=(0, 0, 0),
                       width=3 * line)
        draw.rectangle([x1, y1, x2, y2], outline=colour, width=line)
        label = f"{found['class']} {found['score']:.2f}"
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        y = y1 - (bottom - top) - 2 if y1 - (bottom - top) - 2 >= 0 else y1
        draw.rectangle([x1, y, x1 + right - left + 2, y + bottom - top + 2], fill=colour)
        draw.text((x1 + 1, y - top + 1), label, fill=(255, 255, 255), font=font)
    return picture


def save_picture(picture, path: Path) -> None:
    """Write a PIL image atomically (PNG, or by the file's suffix)."""
    from compiler.atomic import write_with

    fmt = "PNG" if path.suffix.lower() == ".png" else None
    write_with(path, lambda tmp: picture.save(tmp, format=fmt or "PNG"))
