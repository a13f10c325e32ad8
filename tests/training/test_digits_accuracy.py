"""The default specs reach the accuracy a user of the book expects, on 2 CPU cores.

These train the shipped specs exactly as `nncompile train` does (seeded, so
the numbers are reproducible); the export step is skipped to save time.
"""

from __future__ import annotations

import pytest

from compiler.api import load_spec

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path,goal", [("specs/digits_cnn.yaml", 0.98),
                                       ("specs/digits_mlp.yaml", 0.96)])
def test_digits_test_accuracy(path, goal, tmp_path):
    from compiler.training.run import train_spec

    spec = load_spec(path, ["export=[keras]"])
    result = train_spec(spec, out_root=tmp_path, verbose=0, echo=lambda _m: None)
    accuracy = result.metrics["metrics"]["test"]["accuracy"]
    assert accuracy >= goal, accuracy
    assert (result.out_dir / "confusion_matrix.png").is_file()
