"""What every fuzzed command must end with: success, or a located error; never a crash."""

from __future__ import annotations

import re
import traceback

from click.testing import CliRunner, Result

from compiler.cli import cli

# `file:line:col: path: message`, `file:line: message` (a data row), `file: message`
# (a whole file), `error: message` (no place to point at), or click's `Error: ` (usage).
_LOCATED = re.compile(r"^(error: |Error: |[^\s:][^:]*(:\d+){0,2}: \S)")


def invoke(args: list[str]) -> Result:
    """Runs ``nncompile ARGS`` in-process; an escaped exception is kept, not raised."""
    return CliRunner().invoke(cli, args, catch_exceptions=True)


def assert_clean_outcome(result: Result, what: str) -> None:
    """Exit 0, or exit 1/2 with a located error line; never exit 3 or a traceback.

    Args:
        result: the finished command (its output holds stdout and stderr).
        what: the input, shown when the check fails (the YAML text, a file's bytes).
    """
    output = result.output
    context = f"\n--- input ---\n{what}\n--- output ---\n{output}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"exception escaped the CLI:\n{trace}{context}")
    assert result.exit_code in (0, 1, 2), f"exit {result.exit_code}{context}"
    assert "Traceback" not in output, f"traceback printed{context}"
    assert "internal error" not in output, f"internal error{context}"
    if result.exit_code != 0:
        assert any(_LOCATED.match(line) for line in output.splitlines()), (
            f"exit {result.exit_code} without a located error{context}")
