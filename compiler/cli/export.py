"""`nncompile export`: write a model as a SavedModel, a TFLite flatbuffer or a .keras file.

TensorFlow is imported inside the command only, so registering it costs
nothing for `nncompile validate`.
"""

from __future__ import annotations

from pathlib import Path

import click

from compiler.cli.options import (
    allow_outside_option,
    data_only_overrides,
    out_option,
    quiet_tensorflow,
    set_option,
    submodel_option,
)
from compiler.errors import NNCompileError, UsageError
from compiler.model_folder import ModelFolder

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
@set_option
@allow_outside_option
@out_option
@submodel_option
@click.pass_context
def export(ctx: click.Context, target: str, formats: tuple[str, ...], quantize: str | None,
           allow_select_ops: bool,
           tolerance: float | None, overrides: tuple[str, ...], allow_outside: bool,
           out_root: str, submodel: str | None = None) -> None:
    """Export MODEL (a .keras file or a saved_models/<name>/ folder) or SPEC (.yaml).

    A SPEC is built untrained and exported, which is useful to check that a
    network converts before training it. The files go to <out>/<name>/; a
    model folder exports into itself unless --out is given. Every file is
    written to a temporary name and renamed into place after it was checked
    against Keras.
    """
    if tolerance is not None and tolerance != tolerance:  # NaN passes click's range check
        raise UsageError("--tolerance must be a number above 0, got nan")
    if not Path(target).exists():  # said before TensorFlow takes seconds to load
        from compiler.errors import ModelFileError

        raise ModelFileError(f"no such model or spec file or folder '{target}'")
    if formats and (quantize or tolerance) and "tflite" not in formats:
        raise UsageError(
            "--quantize and --tolerance apply to the TFLite format; add --format tflite"
        )
    path = Path(target)
    from_spec = path.suffix in (".yaml", ".yml")
    given_out = ctx.get_parameter_source("out_root") is not click.core.ParameterSource.DEFAULT
    if given_out:
        ModelFolder(out_root).check_writable()  # before the conversion, not after it
    # A trained model is exported as it is: --set may change only the data it reads.
    sets = list(overrides) if from_spec else data_only_overrides(overrides, "export")
    spec = _load_spec(path, sets, allow_outside) if from_spec else None
    quiet_tensorflow()
    from compiler.export.run import export_from_spec
    from compiler.export.schema import TfliteOptions

    data_spec = None
    if from_spec:
        from compiler.api import build_model

        model = build_model(spec)
        folder = ModelFolder.for_spec(spec, out_root)
        data_spec = spec
    else:
        model, spec, source = _from_model(path)
        data_spec = _training_spec(source, spec, sets, allow_outside)
        name = spec.name if spec is not None else model.name
        folder = ModelFolder.for_spec(name, out_root) if given_out else source
    if submodel is not None:  # the part of the graph, into <out>/<name>_<submodel>/
        from compiler.build.submodel import build_submodel

        if spec is None:
            raise UsageError(f"--submodel needs the model's spec; {path} has none")
        model, spec = build_submodel(spec, submodel, model)
        data_spec = None
        folder = ModelFolder.for_spec(spec, out_root if given_out or path.suffix in
                                      (".yaml", ".yml") else str(source.path.parent))
    base = spec.export.options("tflite") if spec is not None and spec.export is not None \
        else TfliteOptions()
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
    # A trained folder's own record of its encoding is the truth; data read again
    # serve to calibrate and measure.
    recorded = None if from_spec or submodel else \
        source.metadata().get("preprocessing") or None
    folder.check_writable()
    with folder.lock("export"):
        reports = export_from_spec(
            model, spec, folder, data_bundle=data, formats=list(formats) or None,
            tflite_options=options, preprocessing=recorded,
        )
        if from_spec and submodel is None:
            folder.write_run(spec)
    for report in reports:
        click.echo(report.summary())
    click.echo(f"wrote {folder}")


def _load_spec(path: Path, overrides: tuple[str, ...], allow_outside: bool):
    from compiler.api import load_spec

    if not path.is_file():
        raise UsageError(f"{path}: no such spec file")
    return load_spec(path, list(overrides), allow_outside=allow_outside)


def _from_model(path: Path):
    """(model, its spec or None, its folder) of a model folder or a .keras file."""
    from compiler.model_folder import load_model_file

    model = load_model_file(path)
    folder = ModelFolder(path if path.is_dir() else path.parent)
    if not model.compiled:
        click.echo(f"note: {path} has no training configuration: it was built, not trained "
                   "(`nncompile train` first), so its weights are the random initial ones",
                   err=True)
    spec = None
    if folder.resolved_spec_file.is_file():
        try:
            spec = folder.resolved_spec()
        except NNCompileError as err:
            # The model itself is enough to export; only names and labels are lost.
            click.echo(f"warning: ignoring {folder.resolved_spec_file}: {err.problems[0]}",
                       err=True)
    if spec is not None:
        from compiler.run.evaluate import check_model_matches_spec

        check_model_matches_spec(model, spec, path)  # a model copied in from another spec
    return model, spec, folder


def _training_spec(folder: ModelFolder, spec, overrides: tuple[str, ...], allow_outside: bool):
    """The spec a model folder was trained from, to read its data; else None.

    spec.resolved.yaml keeps the data paths as written, relative to the
    original spec's folder, so the data are read through the original spec
    (with the run's --set values and --allow-outside, as `evaluate` does).
    """
    if spec is None:
        return None
    try:
        original = folder.data_spec(overrides, allow_outside)
    except NNCompileError:
        return None
    return original if original.name == spec.name else None


def _wants_data(formats: tuple[str, ...], options) -> bool:
    # Reading data is only worth it to calibrate or to measure a quantised model.
    return (not formats or "tflite" in formats) and options.quantize is not None


def _load_data(spec):
    """The spec's data, split as training split them (its seed)."""
    if spec.data is None:
        return None
    from compiler.data.pipeline import load_data

    seed = spec.training.seed if spec.training is not None else None
    return load_data(spec, batch_size=32, seed=seed)


COMMANDS = [export]
