"""One failure, one exit code: --debug adds the traceback and changes nothing else."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from compiler.cli import cli


@pytest.fixture
def crashing_command():
    """A verb with a bug in it (an exception nncompile does not expect), on the real CLI."""

    @click.command("crash-for-test")
    def crash() -> None:
        raise RuntimeError("a bug")

    cli.add_command(crash)
    try:
        yield "crash-for-test"
    finally:
        cli.commands.pop("crash-for-test")


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_internal_error_is_exit_3_with_and_without_debug(crashing_command):
    plain = _invoke(crashing_command)
    debug = _invoke("--debug", crashing_command)
    assert plain.exit_code == 3 and debug.exit_code == 3
    assert "Traceback" not in plain.output and "run again with --debug" in plain.output
    assert "Traceback (most recent call last)" in debug.output
    assert "RuntimeError: a bug" in debug.output


def test_user_error_is_exit_1_with_and_without_debug(tmp_path):
    missing = str(tmp_path / "nothing.keras")
    plain = _invoke("export", missing)
    debug = _invoke("--debug", "export", missing)
    assert plain.exit_code == 1 and debug.exit_code == 1
    assert "no such model or spec file" in plain.output and "Traceback" not in plain.output
    assert "Traceback" in debug.output


def test_export_check_failure_is_exit_1_with_and_without_debug(tmp_path):
    """A model that runs on no sample length: a located error, never an internal one."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("nncompile: 1\nname: too_long\ninputs:\n  x: [null, 4]\nlayers:\n"
                    "  - conv1d: {filters: 8, kernel: 3000}\n  - global_max_pool1d: {}\n"
                    "  - dense: {units: 1}\n")
    codes = []
    for flags in ([], ["--debug"]):
        result = _invoke(*flags, "export", str(spec), "--format", "tflite",
                         "--out", str(tmp_path / "out"))
        codes.append(result.exit_code)
        assert "fixed length" in result.output, result.output
    assert codes == [1, 1]
