"""`nncompile validate`, `build`, `schema` and `plot`: the spec-only verbs.

`validate` and `schema` never import TensorFlow; `build` and `plot` do, inside.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from compiler.cli.options import (
    allow_outside_option,
    check_out_folder,
    out_option,
    output_option,
    quiet_tensorflow,
    set_option,
)
from compiler.errors import NNCompileError, Problem, SpecError


@click.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@set_option
@allow_outside_option
def validate(specs: tuple[str, ...], overrides: tuple[str, ...], allow_outside: bool) -> None:
    """Check SPEC files without building them (fast: no TensorFlow)."""
    from compiler.spec.spaces import load_search_spec

    problems: list[Problem] = []
    for path in specs:
        try:
            spec, search = load_search_spec(path, overrides, allow_outside=allow_outside)
        except SpecError as err:
            problems.extend(err.problems)
            continue
        from compiler.spec.shapes import describe, expect_problems

        found = spec.shape_report.located + expect_problems(spec)
        if found:  # what `build` would refuse, found without building
            problems.extend(found)
            continue
        count = len(spec.entries)
        click.echo(f"{path}: ok ({spec.name}: {count} layer{'s' if count != 1 else ''}, "
                   f"outputs {', '.join(spec.outputs)})")
        for line in search.lines():  # a spec for `nncompile tune`
            click.echo(f"  search space {line}")
        click.echo(describe(spec))
    if problems:
        raise SpecError(problems)


@click.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False))
@set_option
@allow_outside_option
@out_option
@click.option("--no-save", is_flag=True, help="Only print the summary; write nothing.")
@click.option("--force", is_flag=True,
              help="Replace a trained model in saved_models/<name>/ with the untrained build.")
def build(spec_path: str, overrides: tuple[str, ...], allow_outside: bool, out_root: str,
          no_save: bool, force: bool) -> None:
    """Build SPEC into a Keras model, print its summary and check `expect:`.

    Writes saved_models/<name>/model.keras and spec.resolved.yaml; a trained
    model already there is kept unless --force is given.
    """
    from compiler.api import load_spec
    from compiler.model_folder import ModelFolder

    spec = load_spec(spec_path, overrides, allow_outside=allow_outside)
    folder = ModelFolder.for_spec(spec, out_root)
    if not no_save:
        check_out_folder(folder.path)
        folder.check_can_build(force)  # before the (possibly long) build
        folder.check_unlocked()
    quiet_tensorflow()
    from compiler.build.graph import build as build_spec
    from compiler.build.summary import format_summary

    result = build_spec(spec, check_expect=False)
    click.echo(format_summary(spec, result))
    from compiler.build.graph import check_expectations

    check_expectations(spec, result)
    if spec.expect is not None:
        click.echo("expect: ok")
    if no_save:
        return
    try:
        with folder.lock("build"):
            folder.write_build(spec, result.model, replace_trained=force)
    except OSError as err:
        raise NNCompileError(f"cannot write the model to '{folder}': "
                             f"{err.strerror or err}") from None
    click.echo(f"wrote {folder.model_file} and {folder.resolved_spec_file}")


@click.command()
@output_option("Write the schema to this file instead of standard output.")
def schema(output: str | None) -> None:
    """Print the JSON Schema of a spec (for editors: yaml-language-server)."""
    from compiler.spec.json_schema import spec_json_schema

    text = json.dumps(spec_json_schema(), indent=2, sort_keys=False)
    if output:
        from compiler.atomic import write_text_atomic
        from compiler.data.files import prepare_output, write_failed

        prepare_output(output, "-o/--output")  # creates a missing folder
        try:
            write_text_atomic(output, text + "\n")
        except OSError as err:
            raise write_failed(output, err, "-o/--output") from None
        click.echo(f"wrote {output}")
    else:
        click.echo(text)


@click.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False))
@output_option("Picture to write: .png or .svg.", required=True)
@set_option
@allow_outside_option
def plot(spec_path: str, output: str, overrides: tuple[str, ...], allow_outside: bool) -> None:
    """Draw the graph of SPEC (layers, shapes, connections) as a PNG or SVG picture."""
    suffix = Path(output).suffix.lower()
    if suffix not in (".png", ".svg"):
        from compiler.errors import UsageError

        raise UsageError(f"-o must end in .png or .svg, got '{output}'")
    from compiler.api import load_spec

    spec = load_spec(spec_path, overrides, allow_outside=allow_outside)
    quiet_tensorflow()
    from compiler.build.graph import build as build_spec
    from compiler.build.plot import plot_graph

    result = build_spec(spec, check_expect=False)
    try:
        plot_graph(spec, result, Path(output))
    except OSError as err:
        raise NNCompileError(f"cannot write {output}: {err.strerror}") from None
    click.echo(f"wrote {output}")


COMMANDS = [validate, build, schema, plot]
