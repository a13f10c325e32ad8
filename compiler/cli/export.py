"""`nncompile export`: write a model as a SavedModel, a TFLite flatbuffer or a .keras file.

TensorFlow is imported inside the command only, so registering it costs
nothing for `nncompile validate`.
"""

from __future__ import annotations

from pathlib import Path

import click

from compiler.errors import NNCompileError, UsageError

FORMATS = ("saved_model", "tflite", "keras")
QUANTIZATIONS = ("dynamic", "float16", "int8")


@click.command()
@click.argument("target", metavar="MODEL|SPEC", type=click.Path())
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Format to write (repeatable) [default: the spec's export: list, else all].")
@click.option("--quantize", type=click.Choice(QUANTIZATIONS),
              help="Quantise the TFLite model: dynamic (int8 weights), float16, or int8 "
                   "(full integer, calibrated on the spec's training data).")
@click.option("--allow-select-ops", is_flag=True,
              help="Allow TensorFlow (Flex) ops in the TFLite model "
                   "(apps then need the Flex delegate).")
@click.option("--tolerance", type=click.FloatRange(min=0, min_open=True),
              help="Largest accepted |TFLite - Keras| / max(1, peak |Keras|).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Export folder [default: the model's folder; saved_models/<name> for a spec].")
def export(target: str, formats: tuple[str, ...], quantize: str | None, allow_select_ops: bool,
           tolerance: float | None, out_dir: str | None) -> None:
    """Export MODEL (a .keras file or a saved_models/<name>/ folder) or SPEC (.yaml).

    A SPEC is built untrained and exported, which is useful to check that a
    network converts before training it. Every file is written to a temporary
    name and renamed into place after it was checked against Keras.
    """
    if tolerance is not None and tolerance != tolerance:  # NaN passes click's range check
        raise UsageError("--tolerance must be a number above 0, got nan")
    if not Path(target).exists():  # said before TensorFlow takes seconds to load
        from compiler.errors import ModelFileError

        raise ModelFileError(f"no such model or spec file or folder '{target}'")
    from compiler.tf_runtime import import_tensorflow_quietly

    import_tensorflow_quietly()
    from compiler.export.run import export_from_spec
    from compiler.export.schema import TfliteOptions

    if formats and (quantize or tolerance) and "tflite" not in formats:
        raise UsageError(
            "--quantize and --tolerance apply to the TFLite format; add --format tflite"
        )
    path = Path(target)
    if out_dir:
        from compiler.model_folder import check_folder_writable

        check_folder_writable(Path(out_dir))  # before the conversion, not after it
    data_spec = None
    if path.suffix in (".yaml", ".yml"):
        model, spec, default_out = _from_spec(path)
    else:
        model, spec, default_out = _from_model(path)
        data_spec = _training_spec(default_out, spec)
    export_spec = getattr(spec, "export", None)
    base = export_spec.options("tflite") if export_spec is not None else TfliteOptions()
    changes = {"allow_select_ops": allow_select_ops or base.allow_select_ops}
    if quantize is not None:
        changes["quantize"] = quantize
    if tolerance is not None:
        changes["tolerance"] = tolerance
    options = base.model_copy(update=changes)
    data = None
    if spec is not None:
        # The data give metadata.json its preprocessing (vocabularies, constants) and
        # calibrate int8; without quantisation a missing data file only costs the former.
        try:
            data = _load_data(data_spec or spec)
        except NNCompileError as err:
            if _wants_data(formats, options):
                raise
            click.echo(f"note: metadata.json will have no preprocessing ({err.problems[0]})",
                       err=True)
    out = Path(out_dir) if out_dir else default_out
    if not out_dir:
        from compiler.model_folder import check_folder_writable

        check_folder_writable(out)
    reports = export_from_spec(
        model, spec, out, data_bundle=data, formats=list(formats) or None, tflite_options=options
    )
    for report in reports:
        click.echo(report.summary())
    click.echo(f"wrote {out}")


def _from_spec(path: Path):
    from compiler.api import build_model, load_spec

    if not path.is_file():
        raise UsageError(f"{path}: no such spec file")
    spec = load_spec(path)
    return build_model(spec), spec, Path("saved_models") / spec.name


def _from_model(path: Path):
    from compiler.export.run import load_model_file

    model = load_model_file(path)
    folder = path if path.is_dir() else path.parent
    if not getattr(model, "compiled", False):
        click.echo(f"note: {path} has no training configuration: it was built, not trained "
                   "(`nncompile train` first), so its weights are the random initial ones",
                   err=True)
    spec = None
    resolved = folder / "spec.resolved.yaml"
    if resolved.is_file():
        from compiler.run.evaluate import load_resolved_spec

        try:
            spec = load_resolved_spec(resolved)
        except NNCompileError as err:
            # The model itself is enough to export; only names and labels are lost.
            click.echo(f"warning: ignoring {resolved}: {err.problems[0]}", err=True)
    if spec is not None:
        from compiler.run.evaluate import check_model_matches_spec

        check_model_matches_spec(model, spec, path)  # a model copied in from another spec
    return model, spec, folder


def _training_spec(folder: Path, spec):
    """The spec a model folder was trained from, to read its data; else None.

    spec.resolved.yaml keeps the data paths as written, relative to the
    original spec's folder, so the data are read through the original spec
    (with the run's --set overrides, as `evaluate` does) when it still exists.
    """
    if spec is None:
        return None
    from compiler.run.evaluate import find_model_and_spec

    try:
        _, original = find_model_and_spec(folder, folder.parent)
    except NNCompileError:
        return None
    return original if getattr(original, "name", None) == spec.name else None


def _wants_data(formats: tuple[str, ...], options) -> bool:
    # Reading data is only worth it to calibrate or to measure a quantised model.
    return (not formats or "tflite" in formats) and options.quantize is not None


def _load_data(spec):
    if getattr(spec, "data", None) is None:
        return None
    from compiler.data.pipeline import load_data

    return load_data(spec, batch_size=32, seed=0)


COMMANDS = [export]
