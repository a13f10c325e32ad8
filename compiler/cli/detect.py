"""`nncompile detect`: draw a trained detector's boxes on images and list them in JSON."""

from __future__ import annotations

import click

from compiler.cli.options import must_exist, output_folder_option, quiet_tensorflow


@click.command()
@click.argument("model", type=click.Path())
@click.argument("images", nargs=-1, required=True, type=click.Path())
@output_folder_option("Folder for the pictures (<image>.png, boxes drawn) and detections.json.")
def detect(model: str, images: tuple[str, ...], output: str) -> None:
    """Detect objects in IMAGES with MODEL (a detector's model folder, model.keras or model.tflite).

    Each image is resized to the model's input; boxes are reported in the
    image's own pixels, after the score threshold and non-max suppression of
    the spec's detection head (the same graph the export holds).

    Example: nncompile detect saved_models/yolo_shapes photo.png -o detections/
    """
    must_exist(model, "model")
    for image in images:
        must_exist(image, "input")
    quiet_tensorflow()
    from compiler.detection.run_detect import JSON_NAME, detect_images

    report = detect_images(model, list(images), output)
    for entry in report["images"]:
        found = ", ".join(f"{d['class']} {d['score']:.2f}" for d in entry["detections"])
        click.echo(f"{entry['file']}: {len(entry['detections'])} object(s)"
                   + (f" ({found})" if found else ""))
    click.echo(f"wrote {len(report['images'])} picture(s) and {JSON_NAME} to {output}")


COMMANDS = [detect]
