"""Mutated example specs: `validate` and `build` end with success or a located error.

Every spec in specs/ is parsed, mutated (see tests/fuzz/mutations.py), written
back as YAML text next to copies of the other examples (so `extends:` still
finds its base) and given to the command line in-process. Whatever the
mutation, the command must exit 0, or 1/2 with a located message; exit 3 (an
internal error) or an escaped exception is a finding.

The big networks (AlexNet, Inception, ResNet-50, VGG-16) take seconds each to
build: `validate` fuzzes their whole spec, `build` only their tail (the last
two layers, `outputs:` and `expect:`), twice each in CI.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.mutations import dump, duplicate_a_key, mutated_tree
from tests.fuzz.outcome import assert_clean_outcome, invoke
from tests.fuzz.settings import fuzz_settings

SPECS = Path(__file__).resolve().parents[2] / "specs"
ALL_SPECS = sorted(p.name for p in SPECS.glob("*.yaml"))
BIG_SPECS = {"alexnet.yaml", "inception.yaml", "resnet50.yaml", "vgg16.yaml"}
SMALL_SPECS = [name for name in ALL_SPECS if name not in BIG_SPECS]


def _fuzzed_text(data: st.DataObject, name: str, tail_only: bool = False) -> str:
    tree = yaml.safe_load((SPECS / name).read_text(encoding="utf-8"))
    within = None
    if tail_only:
        last = len(tree["layers"]) - 1
        within = [("layers", last - 1), ("layers", last), ("outputs",), ("expect",)]
    text = dump(data.draw(mutated_tree(tree, within=within), label="mutated"))
    if data.draw(st.integers(0, 4), label="duplicate?") == 0:
        text = data.draw(duplicate_a_key(text), label="with a duplicated key")
    return text


def _run_on_text(text: str, *args: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for spec in SPECS.glob("*.yaml"):  # `extends:` bases
            shutil.copy(spec, folder)
        path = Path(folder) / "fuzzed.yaml"
        path.write_text(text, encoding="utf-8")
        result = invoke([*args, str(path)])
        assert_clean_outcome(result, text)


def test_every_example_spec_is_fuzzed():
    # A new example is picked up by the glob; this fails if the folder moved.
    assert len(ALL_SPECS) >= 10 and BIG_SPECS <= set(ALL_SPECS)


@pytest.mark.parametrize("name", ALL_SPECS)
@fuzz_settings(15)
@given(data=st.data())
def test_validate_mutated_spec(name, data):
    _run_on_text(_fuzzed_text(data, name), "validate")


@pytest.mark.slow
@pytest.mark.parametrize("name", SMALL_SPECS)
@fuzz_settings(4, long_share=0.2)
@given(data=st.data())
def test_build_mutated_spec(name, data):
    _run_on_text(_fuzzed_text(data, name), "build", "--no-save")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BIG_SPECS))
@fuzz_settings(2, long_share=0.02)
@given(data=st.data())
def test_build_big_spec_with_mutated_tail(name, data):
    _run_on_text(_fuzzed_text(data, name, tail_only=True), "build", "--no-save")
