"""The folder lock holds for Python callers too: train_spec and export_from_spec take it.

Inside one process the lock nests (the CLI takes it around train_spec, which
takes it again); another process holding it makes both refuse.
"""

from __future__ import annotations

import pytest

from compiler.folder_lock import LOCK_NAME, FolderInUse
from compiler.model_folder import ModelFolder
from tests.model_folder.locking import hold_lock


def test_train_spec_refuses_a_folder_another_process_writes(tmp_path, tiny_spec):
    from compiler.training.run import train_spec

    folder = tmp_path / "out" / "tiny"
    holder = hold_lock(folder, "train")
    try:
        with pytest.raises(FolderInUse, match=f"pid {holder.pid}, `train`"):
            train_spec(tiny_spec, out_root=tmp_path / "out", verbose=0, echo=lambda _: None)
        assert not (folder / "model.keras").exists()
    finally:
        holder.communicate("")
    assert holder.returncode == 0


def test_lock_nests_in_one_process_and_is_released(tmp_path, tiny_spec):
    from compiler.api import load_spec
    from compiler.training.run import train_spec

    loaded = load_spec(tiny_spec)
    folder = ModelFolder.for_spec(loaded, tmp_path / "out")
    with folder.lock("train"):  # as `nncompile train` does around train_spec
        folder.check_unlocked()  # this process is the writer: not refused
        result = train_spec(loaded, out_root=tmp_path / "out", verbose=0, echo=lambda _: None)
        assert (folder.path / LOCK_NAME).exists()  # still held by the outer block
    assert result.epochs_completed == 1
    assert not (folder.path / LOCK_NAME).exists()


def test_export_from_spec_refuses_a_folder_another_process_writes(tmp_path, tiny_spec):
    import keras

    from compiler.api import build_model, load_spec
    from compiler.export.run import export_from_spec

    loaded = load_spec(tiny_spec)
    model = build_model(loaded)
    folder = tmp_path / "exports" / "tiny"
    holder = hold_lock(folder, "train")
    try:
        with pytest.raises(FolderInUse):
            export_from_spec(model, loaded, folder, formats=["keras"])
        assert not (folder / "model.keras").exists()
    finally:
        holder.communicate("")
    export_from_spec(model, loaded, folder, formats=["keras"])
    assert isinstance(keras.saving.load_model(folder / "model.keras"), keras.Model)
