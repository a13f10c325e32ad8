"""One flag, one meaning: every verb's options checked together.

The shared options live in compiler/cli/options.py; these tests read every
command's parameters, so a verb that declares its own `--out` or spells
`--output` differently fails here.
"""

from __future__ import annotations

from collections import defaultdict

import click
import pytest

from compiler.cli import cli

# The verbs that read a spec's data (directly, or through the spec a model
# folder was trained from) and the verbs that load a spec.
READS_DATA = {"validate", "build", "plot", "train", "lr-find", "evaluate", "export", "predict",
              "translate"}
LOADS_A_SPEC = {"validate", "build", "plot", "train", "lr-find", "evaluate", "export"}
MODEL_FOLDER_ROOT = {"build", "train", "evaluate", "export"}


def options():
    """(verb, option) for every option of every verb."""
    for verb, command in sorted(cli.load_all().items()):
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                yield verb, param


def _shape(option: click.Option) -> tuple:
    return (tuple(sorted(option.opts)), tuple(sorted(option.secondary_opts)), option.name,
            option.multiple, option.is_flag, type(option.type).__name__)


def test_a_flag_has_the_same_spelling_name_and_type_in_every_verb():
    uses = defaultdict(list)
    for verb, option in options():
        for flag in option.opts:
            uses[flag].append((verb, option))
    assert uses, "no options found"
    for flag, found in uses.items():
        shapes = {_shape(option) for _, option in found}
        assert len(shapes) == 1, f"{flag} differs between verbs: " + "; ".join(
            f"{verb}: {_shape(option)}" for verb, option in found)


@pytest.mark.parametrize("flag", ["--set", "--allow-outside", "--out"])
def test_shared_flags_say_the_same_thing_everywhere(flag):
    found = [(verb, o) for verb, o in options() if flag in o.opts]
    assert len(found) >= 3
    helps = {o.help for _, o in found}
    defaults = {repr(o.default) for _, o in found}
    assert len(helps) == 1, (flag, helps)
    assert len(defaults) == 1, (flag, defaults)


def test_every_verb_that_reads_data_takes_allow_outside_and_every_spec_verb_takes_set():
    have = defaultdict(set)
    for verb, option in options():
        have[verb].update(option.opts)
    assert set(cli.load_all()) >= READS_DATA | LOADS_A_SPEC
    for verb in READS_DATA:
        assert "--allow-outside" in have[verb], verb
    for verb in LOADS_A_SPEC:
        assert "--set" in have[verb], verb
    for verb in MODEL_FOLDER_ROOT:
        assert "--out" in have[verb], verb


def test_short_flags_stand_for_one_long_flag():
    short = defaultdict(set)
    for _, option in options():
        names = [o for o in option.opts if not o.startswith("--")]
        longs = [o for o in option.opts if o.startswith("--")]
        for name in names:
            short[name].update(longs)
    assert short["-o"] == {"--output"}
    assert short["-i"] == {"--input"}
    for name, longs in short.items():
        assert len(longs) == 1, (name, longs)


# Verbs whose result is several files: their `--output` is a folder.
OUTPUT_IS_A_FOLDER = {"detect"}


def test_output_files_are_files_and_out_folders_are_folders():
    for verb, option in options():
        if "--output" in option.opts and verb in OUTPUT_IS_A_FOLDER:
            assert isinstance(option.type, click.Path) and not option.type.file_okay, verb
        elif "--output" in option.opts:
            assert isinstance(option.type, click.Path) and not option.type.dir_okay, verb
        if "--out" in option.opts:
            assert isinstance(option.type, click.Path) and not option.type.file_okay, verb


def test_every_verb_is_in_the_table_the_command_line_loads_them_from():
    from compiler.cli import VERBS

    assert set(cli.load_all()) == set(VERBS)
    for verb, module in VERBS.items():
        assert cli.commands[verb].callback.__module__ == f"compiler.cli.{module}", verb


def test_a_misspelt_verb_is_a_usage_error_with_a_suggestion():
    from tests.helpers import run_cli

    result = run_cli("valdate", "spec.yaml")
    assert result.exit_code == 2
    assert "No such command 'valdate'. Did you mean 'validate'?" in result.output
