"""The default specs reach the accuracy a user of the book expects, on 2 CPU cores.

These train the shipped specs exactly as `nncompile train` does (seeded, so
the numbers are reproducible); the export step is skipped to save time.
"""

from __future__ import annotations

import pytest

from compiler.api import load_spec
from tests.helpers import SPECS_DIR, train_quietly

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name,goal", [("digits_cnn.yaml", 0.98), ("digits_mlp.yaml", 0.96)])
def test_digits_test_accuracy(name, goal, tmp_path):
    spec = load_spec(SPECS_DIR / name, ["export=[keras]"])
    result = train_quietly(spec, tmp_path)
    accuracy = result.metrics["metrics"]["test"]["accuracy"]
    assert accuracy >= goal, accuracy
    assert (result.out_dir / "confusion_matrix.png").is_file()
