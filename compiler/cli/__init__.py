"""The `nncompile` command line: one function per verb, heavy imports inside them.

Exit codes: 0 success, 1 a problem with the user's input, 2 command-line usage.
"""

from __future__ import annotations

import click

from compiler import __version__
from compiler.errors import NNCompileError, UsageError


class NNCompileGroup(click.Group):
    """Turns user errors into located one-line messages instead of tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UsageError as err:
            _print_problems(err)
            ctx.exit(2)
        except NNCompileError as err:
            _print_problems(err)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as err:  # noqa: BLE001 - last line of defence, see --debug
            from compiler.cli.options import write_problem

            problem = write_problem(err) if isinstance(err, OSError) else None
            if problem is not None:  # a full disk or a read-only folder: not a bug
                _print_problems(NNCompileError(problem))
                ctx.exit(1)
            if ctx.obj and ctx.obj.get("debug"):
                # The traceback is what --debug adds; the exit code stays the same,
                # so a script sees one failure one way whatever the flag.
                import traceback

                traceback.print_exc()
            click.echo(
                f"error: internal error {type(err).__name__}: {err}\n"
                "(this is a bug in nncompile; run again with --debug for the traceback)",
                err=True,
            )
            ctx.exit(3)


def _print_problems(err: NNCompileError) -> None:
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.obj and ctx.obj.get("debug"):
        import traceback

        traceback.print_exc()
    for problem in err.problems:
        click.echo(f"error: {problem}" if not problem.location.prefix() else str(problem), err=True)
    if len(err.problems) > 1:
        click.echo(f"{len(err.problems)} problems found", err=True)


@click.group(cls=NNCompileGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.version_option(__version__, prog_name="nncompile")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """nncompile: describe a network in YAML; build, train and export it with Keras."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    # Verbs import TensorFlow themselves (quietly, see compiler.tf_runtime),
    # once they have checked what they can without it: a mistake in a spec or
    # a path is reported at once, not after seconds of start-up.


def _register_commands() -> None:
    # Each verb lives in compiler/cli/<module>.py; importing them is cheap
    # because they import TensorFlow only when they run.
    from compiler.cli import codegen, detect, export, run, spec, train, tune

    for module in (spec, train, run, export, tune, detect, codegen):
        for command in module.COMMANDS:
            cli.add_command(command)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="nncompile", standalone_mode=True)


