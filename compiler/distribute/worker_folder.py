"""Only the chief writes the model folder: the other workers write into a scratch copy.

Every worker runs the same training code, callbacks and backups included
(they must take the same decisions: early stopping, a NaN); a worker other
than the chief points them at a private temporary folder that is removed at
the end. On `--resume` that folder starts as a copy of the chief's backup,
so every worker restores from it (the `--out` folder must then be shared,
or copied to each machine, as the README says).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from compiler.model_folder import ModelFolder


def scratch_folder(real: ModelFolder, worker_index: int, resume: bool) -> tuple[ModelFolder, Path]:
    """A worker's private stand-in for `real`, and the root to remove afterwards."""
    root = Path(tempfile.mkdtemp(prefix=f"nncompile-worker{worker_index}-"))
    folder = ModelFolder(root / real.path.name)
    folder.create()
    if resume and real.backup_dir.is_dir():
        shutil.copytree(real.backup_dir, folder.backup_dir)
    return folder, root
