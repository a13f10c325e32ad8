"""`jit_compile`: what a run used, and why, is recorded; `auto` measures both ways."""

from __future__ import annotations

import json

import pytest

from compiler.api import load_spec
from tests.helpers import train_quietly

SPEC = """
name: xla_{mode}
inputs: {{x: [8]}}
layers:
  - dense: {{units: 16, activation: relu}}
  - dense: {{units: 3, activation: softmax, name: y}}
data: {{builtin: wine, split: {{validation: 0.2, test: 0.2}}}}
training:
  loss: sparse_categorical_crossentropy
  epochs: 1  # what is checked is the decision, taken before the first epoch
  batch_size: 8
  jit_compile: {mode}
"""


def run(write_spec, tmp_path, mode: str) -> dict:
    path = write_spec(SPEC.format(mode=mode).replace("[8]", "[13]"), f"{mode}.yaml")
    result = train_quietly(load_spec(path), tmp_path / "out")
    return json.loads((result.out_dir / "metrics.json").read_text())["xla"]


@pytest.mark.slow
def test_auto_times_both_ways_and_keeps_the_faster(write_spec, tmp_path):
    xla = run(write_spec, tmp_path, "auto")
    assert xla["requested"] == "auto"
    assert xla["reason"].startswith("auto: ") and "ms/step with XLA" in xla["reason"]
    # The reported choice is the faster of the two measured step times.
    with_xla, without = [float(x) for x in
                         xla["reason"].split("auto: ")[1].replace(" ms/step", "").replace(
                             "with XLA vs", "").split(" without")[0].split()]
    assert xla["used"] == (with_xla < without)


@pytest.mark.slow
def test_true_and_false_are_obeyed(write_spec, tmp_path):
    assert run(write_spec, tmp_path, "true")["used"] is True
    assert run(write_spec, tmp_path, "false") == {
        "requested": False, "used": False, "reason": "jit_compile: false in the spec"}
