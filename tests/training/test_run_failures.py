"""A training run that fails or is stopped: a bad validation loss, Ctrl-C, a full disk and an
output folder that cannot be written each say what happened and how to continue."""

from __future__ import annotations

import errno
import json

from tests.helpers import (
    assert_user_error,
    run_cli,
    write_csv_spec,
    write_numbers_csv,
    write_regression_spec,
)


def test_a_partial_class_weight_mapping_trains_and_a_bad_validation_loss_stops(csv_folder):
    result = run_cli("train", write_csv_spec(csv_folder), "--out", "out", "--quiet",
                     "--set", "training.class_weight={2: 3.0}")  # classes 0 and 1 weigh 1
    assert result.exit_code == 0, result.output
    write_numbers_csv(csv_folder / "r.csv")
    # 1e30 is finite, but its square is not.
    (csv_folder / "v.csv").write_text("a,b,y\n0.1,0.2,0.3\n1e30,0.5,0.3\n")
    spec = write_regression_spec(csv_folder, "val")
    spec.write_text(spec.read_text().replace(
        "data: {csv: {path: r.csv, target: y}, split: {validation: 0.2, test: 0.2}}",
        "data: {csv: {target: y}, train: r.csv, validation: v.csv}"))
    output = assert_user_error(run_cli("train", spec, "--out", "out", "--quiet"))
    assert "data: the validation loss became inf in epoch 1 while the training loss stayed finite" \
           in output


def test_ctrl_c_says_how_to_continue(csv_folder, monkeypatch):
    import compiler.training.run as run

    spec = write_csv_spec(csv_folder)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "train_spec", interrupted)
    result = run_cli("train", spec, "--out", "out", "--set", "training.epochs=3")
    assert result.exit_code == 130
    assert ("interrupted: no epoch of this run was backed up; run it again with: "
            f"nncompile train {spec} --set training.epochs=3 --out out") in result.output

    def interrupted_after_two_epochs(*args, **kwargs):
        backup = csv_folder / "out" / "kinds" / "backup"
        backup.mkdir(parents=True)
        (backup / "epoch-0002.weights.h5").write_bytes(b"weights")
        (backup / "state.json").write_text(json.dumps(
            {"epochs_completed": 2, "weights": "epoch-0002.weights.h5", "history": []}))
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "train_spec", interrupted_after_two_epochs)
    result = run_cli("train", spec, "--out", "out", "--epochs", "3")
    assert result.exit_code == 130
    assert (f"interrupted: epoch 2 is backed up in out/kinds/backup; continue with: "
            f"nncompile train {spec} --epochs 3 --out out --resume") in result.output
    assert (csv_folder / "out" / "kinds" / "backup" / "state.json").is_file()


def test_a_full_disk_after_training_keeps_the_backup_and_resume_finishes(csv_folder, monkeypatch):
    import compiler.training.reports as reports

    real = reports.plot_training_curves

    def full(path, history):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(reports, "plot_training_curves", full)
    spec = write_csv_spec(csv_folder)
    output = assert_user_error(run_cli("train", spec, "--out", "out", "--quiet"))
    assert "out/kinds/training_curves.png: cannot write: No space left on device; free some " \
           "space: epoch 1 is backed up in out/kinds/backup; continue with: " \
           f"nncompile train {spec} --out out --resume" in output
    monkeypatch.setattr(reports, "plot_training_curves", real)
    result = run_cli("train", spec, "--out", "out", "--quiet", "--resume")
    assert result.exit_code == 0, result.output
    assert (csv_folder / "out" / "kinds" / "training_curves.png").is_file()
    metrics = json.loads((csv_folder / "out" / "kinds" / "metrics.json").read_text())
    assert metrics["epochs_completed"] == 1


def test_an_output_folder_that_cannot_be_written_is_refused_before_training(csv_folder,
                                                                           monkeypatch):
    import os

    (csv_folder / "out" / "kinds").mkdir(parents=True)
    (csv_folder / "out" / "kinds" / "backup").write_text("a file, not a csv_folder")
    (csv_folder / "out" / "kinds" / "model.keras").mkdir()
    output = assert_user_error(run_cli("train", write_csv_spec(csv_folder), "--out", "out"))
    assert "out/kinds/backup: a file is in the way of the folder backup/" in output
    assert "out/kinds/model.keras: a folder is in the way of the file model.keras" in output

    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if "locked" in str(path)
                        else real(path, mode))
    (csv_folder / "locked").mkdir()
    output = assert_user_error(run_cli("train", write_csv_spec(csv_folder), "--out", "locked/sub"))
    assert "locked/sub/kinds: cannot write here: the folder 'locked' is read-only" in output
