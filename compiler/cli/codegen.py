"""`nncompile codegen` and `nncompile import`: leaving with Keras code, arriving with a model."""

from __future__ import annotations

from pathlib import Path

import click

from compiler.cli.options import allow_outside_option, output_option, quiet_tensorflow, set_option
from compiler.errors import Location, Problem, UsageError


@click.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False))
@set_option
@allow_outside_option
@output_option("Write the module to this file instead of standard output.")
def codegen(spec_path: str, overrides: tuple[str, ...], allow_outside: bool,
            output: str | None) -> None:
    """Write SPEC as a plain Keras 3 Python module (build_model, compile_model).

    The module builds the model `nncompile build` builds (same layers, names,
    weight order and initialisers), writes blocks as functions and repeats as
    loops, and imports only keras (and custom_layers where the spec uses one).
    """
    from compiler.api import load_spec

    spec = load_spec(spec_path, overrides, allow_outside=allow_outside)
    quiet_tensorflow()
    from compiler.codegen import generate_module

    source = generate_module(spec)
    if output is None:
        click.echo(source, nl=False)
        return
    _write(output, source)
    click.echo(f"wrote {output} ({source.count(chr(10))} lines)")


@click.command("import")
@click.argument("model", metavar="MODEL")
@output_option("The spec to write (its weights go beside it, as <stem>.keras).", required=True)
@click.option("--input-shape", "input_shape", default=None, metavar="H,W,C",
              help="Input shape of a keras.applications network (default: its own).")
@click.option("--no-weights", is_flag=True, help="Write only the spec, not the weights.")
@click.option("--keep-names", is_flag=True,
              help="Keep every layer name, even where that means no `repeat:`.")
def import_(model: str, output: str, input_shape: str | None, no_weights: bool,
            keep_names: bool) -> None:
    """Turn MODEL (a .keras file or keras.applications.NAME) into a spec.

    The model's config.json is checked and read as data; no code from the
    file runs. Repeated subgraphs become blocks with `repeat:`. The weights are
    saved beside the spec, so `training.init_from` can fine-tune them.
    """
    shape = _shape(input_shape)
    target = Path(output)
    if target.suffix not in (".yaml", ".yml"):
        raise UsageError(Problem("the spec file must end in .yaml or .yml",
                                 Location("-o/--output")))
    quiet_tensorflow()
    from compiler.importer import import_model

    done = import_model(model, target, input_shape=shape, weights=not no_weights,
                        keep_names=keep_names)
    blocks = f", {done.blocks} block{'s' if done.blocks != 1 else ''}" if done.blocks else ""
    click.echo(f"wrote {done.spec_path} ({done.lines} lines{blocks})")
    if done.renamed:
        click.echo(f"{len(done.renamed)} layers of repeated blocks take the names `repeat:` gives "
                   "(e.g. " + ", ".join(f"{a} → {b}" for a, b in list(done.renamed.items())[:2])
                   + "); --keep-names keeps them")
    if done.weights_path is not None:
        click.echo(f"wrote {done.weights_path} (the weights, for training.init_from)")


def _shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        shape = ()
    if not shape or any(d <= 0 for d in shape):
        raise UsageError(Problem(f"--input-shape takes positive sizes such as 32,32,3, got "
                                 f"'{text}'", Location("--input-shape")))
    return shape


def _write(output: str, text: str) -> None:
    from compiler.atomic import write_text_atomic
    from compiler.data.files import prepare_output, write_failed

    prepare_output(output, "-o/--output")
    try:
        write_text_atomic(output, text)
    except OSError as err:
        raise write_failed(output, err, "-o/--output") from None


COMMANDS = [codegen, import_]
