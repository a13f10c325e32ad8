"""The `nncompile` command line: one function per verb, heavy imports inside them.

Exit codes: 0 success, 1 a problem with the user's input, 2 command-line usage.
"""

from __future__ import annotations

import importlib
import os

# pydantic looks for plugins among every installed package's entry points on
# its first import (tens of milliseconds with TensorFlow installed); the
# command line uses none, and `validate` should start in well under 0.5 s.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import click  # noqa: E402

from compiler import __version__  # noqa: E402
from compiler.errors import NNCompileError, UsageError  # noqa: E402

# Each verb lives in compiler/cli/<module>.py (its COMMANDS); a module is
# imported when one of its verbs runs, so `validate` does not import `tune`.
VERBS = {"validate": "spec", "build": "spec", "schema": "spec", "plot": "spec",
         "train": "train", "lr-find": "train", "evaluate": "run", "predict": "run",
         "translate": "run", "export": "export", "tune": "tune", "detect": "detect",
         "codegen": "codegen", "import": "codegen"}


class NNCompileGroup(click.Group):
    """Turns user errors into located one-line messages instead of tracebacks.

    The verbs are loaded on first use (see ``VERBS``); :meth:`load_all` loads
    every one, as `--help` does.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(VERBS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in VERBS:
            self._load(VERBS[name])
        return self.commands.get(name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            ctx.fail(f"No such command '{name}'.{hint}")
        return super().resolve_command(ctx, args)

    def load_all(self) -> dict[str, click.Command]:
        """Every verb, by name (imports every verb's module)."""
        for module in sorted(set(VERBS.values())):
            self._load(module)
        return self.commands

    def _load(self, module_name: str) -> None:
        module = importlib.import_module(f"compiler.cli.{module_name}")
        for command in module.COMMANDS:
            if command.name not in self.commands:
                self.add_command(command)

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


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="nncompile", standalone_mode=True)


