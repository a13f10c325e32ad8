"""The fuzz tests' verdict itself: it accepts clean endings and catches every kind of crash."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from compiler.cli import NNCompileGroup
from compiler.errors import Location, SpecError
from tests.fuzz.outcome import assert_clean_outcome


@click.group(cls=NNCompileGroup)
@click.pass_context
def toy(ctx: click.Context) -> None:
    ctx.ensure_object(dict)


@toy.command()
def ok() -> None:
    click.echo("fine")


@toy.command()
def located() -> None:
    raise SpecError("expected a positive integer, got -3", Location("s.yaml", 4, 12))


@toy.command()
def bug() -> None:
    raise ZeroDivisionError("division by zero")  # exit 3 through NNCompileGroup


@toy.command()
def vague() -> None:
    click.echo("something went wrong")
    raise SystemExit(1)


def _run(name: str, catch: bool = True):
    return CliRunner().invoke(toy, [name], catch_exceptions=catch)


def test_success_and_located_errors_pass():
    assert_clean_outcome(_run("ok"), "ok")
    result = _run("located")
    assert result.exit_code == 1 and "s.yaml:4:12:" in result.output, result.output
    assert_clean_outcome(result, "located")


@pytest.mark.parametrize("name, reason", [("bug", "exit 3"), ("vague", "without a located")])
def test_internal_errors_and_unlocated_failures_are_caught(name, reason):
    with pytest.raises(AssertionError, match=reason):
        assert_clean_outcome(_run(name), name)


def test_an_escaped_exception_is_caught():
    # A plain click command has no NNCompileGroup to turn the exception into exit 3:
    # the runner keeps it, and the verdict must call it a crash.
    plain = click.Command("bug", callback=lambda: 1 / 0)
    result = CliRunner().invoke(plain, [], catch_exceptions=True)
    assert isinstance(result.exception, ZeroDivisionError)
    with pytest.raises(AssertionError, match="exception escaped"):
        assert_clean_outcome(result, "bug")


def test_debug_keeps_the_exit_code_of_an_internal_error():
    result = CliRunner().invoke(toy, ["bug"], obj={"debug": True}, catch_exceptions=True)
    assert result.exit_code == 3
    with pytest.raises(AssertionError, match="exit 3"):
        assert_clean_outcome(result, "bug")
