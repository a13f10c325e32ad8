"""`nncompile export` of a trained model folder: its preprocessing and write failures."""

from __future__ import annotations

import errno
import json

from tests.helpers import assert_user_error, run_cli, write_regression_spec


def test_export_of_a_trained_folder_reads_the_training_data_and_survives_init_from(csv_folder,
                                                                                   monkeypatch):
    result = run_cli("train", write_regression_spec(csv_folder, "first"), "--out", "out",
                     "--quiet")
    assert result.exit_code == 0, result.output
    spec = write_regression_spec(csv_folder, "second",
                                 extra="  init_from: {model: out/first/model.keras}\n")
    result = run_cli("train", spec, "--out", "out", "--quiet")
    assert result.exit_code == 0, result.output
    result = run_cli("export", csv_folder / "out" / "second", "--format", "keras", "--out", "exp")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output and "no preprocessing" not in result.output
    assert json.loads((csv_folder / "exp" / "second" / "metadata.json").read_text())["outputs"]
    assert "--tolerance must be a number" in assert_user_error(run_cli(
        "export", csv_folder / "out" / "second", "--format", "tflite", "--tolerance", "nan"), 2)

    import compiler.export.run as export_run
    from compiler.atomic import WriteFailed

    def read_only(*args, **kwargs):
        raise WriteFailed(errno.EROFS, "Read-only file system", "exp/model.keras")

    monkeypatch.setattr(export_run, "export_from_spec", read_only)
    output = assert_user_error(run_cli("export", csv_folder / "out" / "second", "--format",
                                       "keras", "--out", "exp"))
    assert "exp/model.keras: cannot write: Read-only file system; choose a folder you can " \
           "write to" in output
