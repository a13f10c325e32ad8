"""A small spec with the minimal GRU and additive attention, for the mixed precision tests."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_spec

ATTENDING_GRU = """\
nncompile: 1
name: attending_gru
inputs:
  sequence: [12, 2]
layers:
  - minimal_gru: {units: 16, return_sequences: true, name: states, inputs: sequence}
  - minimal_gru: {units: 16, name: summary, inputs: states}
  - additive_attention: {units: 8, inputs: [summary, states], name: context}
  - dense: {units: 1, name: total, inputs: context}
outputs: [total]
data:
  generate: {task: adding, samples: 384, length: 12, seed: 2}
  split: {validation: 0.25}
training:
  loss: mse
  optimizer: {adam: {learning_rate: 0.01}}
  batch_size: 32
  epochs: 4
  jit_compile: false
  seed: 4
export: [keras]
"""


def write_attending_gru(folder: Path) -> Path:
    """The spec file, in `folder`."""
    return write_spec(folder, ATTENDING_GRU, "attending_gru.yaml")
