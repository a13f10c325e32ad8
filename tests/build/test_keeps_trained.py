"""`build` never silently replaces a trained model with an untrained one."""

from __future__ import annotations

import shutil

from tests.helpers import run_cli


def test_build_after_train_keeps_the_trained_model_unless_forced(trained_iris, tmp_path):
    trained_root, spec, _ = trained_iris
    out = tmp_path / "out"
    shutil.copytree(trained_root / "out", out)  # a trained folder of this test's own
    folder = out / "iris_mlp"
    trained = (folder / "model.keras").read_bytes()

    result = run_cli("build", spec, "--out", out)
    assert result.exit_code == 1, result.output
    assert "holds a trained model" in result.output and "--force" in result.output
    assert (folder / "model.keras").read_bytes() == trained
    assert (folder / "metrics.json").is_file()

    # --no-save only checks the spec, so it is allowed.
    assert run_cli("build", spec, "--out", out, "--no-save").exit_code == 0

    result = run_cli("build", spec, "--out", out, "--force")
    assert result.exit_code == 0, result.output
    assert (folder / "model.keras").read_bytes() != trained
    assert not (folder / "metrics.json").exists()
