"""What the folder-lock tests share: a tiny trainable spec and a process holding a lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TINY_SPEC = """\
nncompile: 1
name: tiny
inputs:
  x: {shape: [3]}
layers:
  - dense: {units: 2, activation: softmax, name: y}
outputs: [y]
data: {csv: {path: d.csv, target: k}, split: none}
training:
  loss: sparse_categorical_crossentropy
  optimizer: {adam: {learning_rate: 0.01}}
  epochs: 1
"""

HOLD = """\
import sys
from compiler.model_folder import ModelFolder
with ModelFolder(sys.argv[1]).lock(sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()
"""


def write_tiny_spec(folder: Path) -> Path:
    """``tiny.yaml`` and its 40-row ``d.csv`` in ``folder``."""
    rows = [f"{i % 3},{i % 5},{i % 7},{i % 2}" for i in range(40)]
    (folder / "d.csv").write_text("a,b,c,k\n" + "\n".join(rows) + "\n")
    path = folder / "tiny.yaml"
    path.write_text(TINY_SPEC)
    return path


def hold_lock(folder: Path, verb: str) -> subprocess.Popen:
    """Another process holding ``folder``'s lock for ``verb``, until its stdin closes."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), verb],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process
