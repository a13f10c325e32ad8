"""Exports of a model trained on JAX, made in a TensorFlow-backend process.

SavedModel and TFLite are TensorFlow formats: after a JAX run has written
`model.keras` and its reports, the train command runs this module in a
child process with ``KERAS_BACKEND=tensorflow``; it exports the folder
exactly as ``nncompile export <folder>`` would (the parent holds the
folder's lock and hands it down to the child, see compiler.folder_lock).

Usage: ``python -m compiler.distribute.export_child FOLDER [--allow-outside] FORMAT...``
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from compiler.errors import ExportError


def export_in_tensorflow(folder: Path, formats: list[str], allow_outside: bool,
                         echo: Callable[[str], None]) -> None:
    """Export `folder` in `formats` in a TensorFlow process; relay its report lines.

    Raises:
        ExportError: The child failed (its message is included).
    """
    if not formats:
        return
    command = [sys.executable, "-m", "compiler.distribute.export_child", str(folder),
               *(["--allow-outside"] if allow_outside else []), *formats]
    from compiler.folder_lock import child_environment

    # The child writes under this process's lock of the folder.
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", **child_environment(folder)}
    env.pop("TF_CONFIG", None)  # the child is no worker of the cluster
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        echo(line)
    if done.returncode:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise ExportError(f"exporting {folder} on TensorFlow failed: "
                          f"{' '.join(lines[-3:]) or f'exit code {done.returncode}'}")


def main(argv: list[str]) -> int:
    """Export the folder `argv[0]` in the formats that follow."""
    from compiler.cli.options import quiet_tensorflow
    from compiler.errors import NNCompileError

    allow_outside = "--allow-outside" in argv
    words = [word for word in argv if word != "--allow-outside"]
    path, formats = Path(words[0]), words[1:]
    try:
        quiet_tensorflow()
        from compiler.cli.export import _from_model, _load_data, _training_spec
        from compiler.export.run import export_from_spec

        model, spec, folder = _from_model(path)
        data_spec = _training_spec(folder, spec, (), allow_outside)
        data = _load_data(data_spec or spec) if spec is not None else None
        recorded = folder.metadata().get("preprocessing") or None
        for report in export_from_spec(model, spec, folder, data_bundle=data, formats=formats,
                                       preprocessing=recorded):
            print(report.summary(), flush=True)
    except NNCompileError as err:
        print("; ".join(str(p) for p in err.problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
