"""`build` never silently replaces a trained model with an untrained one."""

from __future__ import annotations

from tests.helpers import run_cli, write_training_spec


def test_build_after_train_keeps_the_trained_model_unless_forced(tmp_path):
    spec = write_training_spec(tmp_path, epochs=1)
    out = tmp_path / "out"
    assert run_cli("train", spec, "--out", out).exit_code == 0
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
