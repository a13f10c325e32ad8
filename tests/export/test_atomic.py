"""Atomic exports: a killed export leaves the previous one intact and nothing half-written."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from compiler.atomic import atomic_folder, recover, write_text_atomic


def test_failed_write_keeps_old_folder_and_removes_temp(tmp_path):
    final = tmp_path / "saved_model"
    with atomic_folder(final) as tmp:
        (tmp / "v").write_text("1")
    with pytest.raises(RuntimeError), atomic_folder(final) as tmp:
        (tmp / "v").write_text("2")
        raise RuntimeError("disk full")
    assert (final / "v").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved_model"]


def test_leftovers_of_a_dead_process_are_cleaned_and_backup_restored(tmp_path):
    finished = subprocess.Popen(["true"])  # any short-lived process: its id is then free
    finished.wait()
    dead = finished.pid
    final = tmp_path / "saved_model"
    (tmp_path / f".saved_model.tmp-{dead}-abcd").mkdir()
    backup = tmp_path / f".saved_model.old-{dead}-abcd"
    backup.mkdir()
    (backup / "v").write_text("old")
    recover(final)  # died between the two renames: the backup comes back
    assert (final / "v").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved_model"]


def test_file_write_replaces_in_one_step(tmp_path):
    write_text_atomic(tmp_path / "metadata.json", "{}")
    write_text_atomic(tmp_path / "metadata.json", '{"a": 1}')
    assert (tmp_path / "metadata.json").read_text() == '{"a": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["metadata.json"]


_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from compiler.atomic import atomic_folder
    with atomic_folder(Path(sys.argv[1])) as tmp:
        for i in range(10_000):
            (tmp / f"shard{i}").write_bytes(b"x" * 1000)
            if i == 20:
                print("writing", flush=True)
            time.sleep(0.001)
    """
)


@pytest.mark.parametrize("stage", ["raw", pytest.param("saved_model", marks=pytest.mark.slow)])
def test_sigkill_midway_leaves_previous_export_intact(stage, tmp_path):
    final = tmp_path / "out" / "saved_model"
    if stage == "raw":
        with atomic_folder(final) as tmp:
            (tmp / "good").write_text("previous")
        script = tmp_path / "writer.py"
        script.write_text(_WRITER)
        cmd = [sys.executable, str(script), str(final)]
        marker = "writing"
    else:
        # A real export killed while TensorFlow writes the SavedModel.
        from compiler.export.saved_model import export_saved_model
        from tests.helpers import make_model

        make_model("gru").save(tmp_path / "m.keras")
        export_saved_model(make_model("mlp"), final)
        script = tmp_path / "writer.py"
        script.write_text(
            "import sys, keras, compiler.export.saved_model as s, compiler.atomic as a\n"
            "m = keras.models.load_model(sys.argv[2])\n"
            "def slow(root):\n"
            "    print('writing', flush=True)\n"
            "    import time; time.sleep(60)\n"
            "a._fsync_tree = slow  # hold the export after its files are written\n"
            "s.export_saved_model(m, sys.argv[1])\n"
        )
        cmd = [sys.executable, str(script), str(final), str(tmp_path / "m.keras")]
        marker = "writing"
    before = sorted(p.relative_to(final) for p in final.rglob("*"))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    line = ""
    while marker not in line and time.time() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
    assert marker in line, "the writer never started writing"
    temps = [p for p in final.parent.iterdir() if ".tmp-" in p.name]
    assert temps and any(temps[0].rglob("*")), "the kill must come while files are written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert sorted(p.relative_to(final) for p in final.rglob("*")) == before
    # The next write to the same target sweeps up the dead process's temp folder.
    recover(final)
    assert [p.name for p in final.parent.iterdir()] == ["saved_model"]


def test_a_failed_write_names_the_final_path_and_keeps_the_old_file(tmp_path):
    from compiler.atomic import WriteFailed, atomic_file

    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(WriteFailed) as caught, atomic_file(target) as tmp:
        tmp.write_text("new")
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    assert caught.value.filename == str(target) and caught.value.errno == errno.ENOSPC
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
