"""The default specs reach the accuracy a user of the book expects, on 2 CPU cores.

These train the shipped specs as `nncompile train` does (seeded, so the numbers
are reproducible); to save time the export step is skipped and XLA is off
(`jit_compile: auto` would first time a few steps both ways; tests/training/test_xla.py
checks that choice on its own).
"""

from __future__ import annotations

import pytest

from compiler.api import load_spec
from tests.helpers import SPECS_DIR, train_quietly

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name,goal", [("digits_cnn.yaml", 0.98), ("digits_mlp.yaml", 0.96)])
def test_digits_test_accuracy(name, goal, tmp_path):
    spec = load_spec(SPECS_DIR / name, ["export=[keras]", "training.jit_compile=false"])
    result = train_quietly(spec, tmp_path)
    accuracy = result.metrics["metrics"]["test"]["accuracy"]
    assert accuracy >= goal, accuracy
    assert (result.out_dir / "confusion_matrix.png").is_file()
