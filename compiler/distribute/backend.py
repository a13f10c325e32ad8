"""Choosing the Keras backend, which Keras fixes when it is first imported.

``KERAS_BACKEND`` is read once, by ``import keras``; so the command line
decides from the spec (and ``--backend``/``--distribute``) before anything
imports Keras, and a process whose Keras already runs on another backend
says so instead of training on the wrong one.
"""

from __future__ import annotations

import os
import sys

from compiler.errors import NNCompileError


def keras_backend_in_use() -> str | None:
    """The backend of the Keras already imported in this process, or None."""
    if "keras" not in sys.modules:
        return None
    import keras

    return keras.backend.backend()


def activate_backend(name: str) -> None:
    """Make Keras run on `name` ("tensorflow" or "jax") in this process.

    Raises:
        NNCompileError: Keras was already imported on another backend (a
            Python session that imported Keras first); start a new process.
    """
    current = keras_backend_in_use()
    if current is None:
        os.environ["KERAS_BACKEND"] = name
        return
    if current != name:
        raise NNCompileError(
            f"training.backend is {name}, but Keras was already imported on the {current} "
            f"backend in this process; Keras picks its backend once, at `import keras`. "
            f"Run in a new process (`nncompile train`), or set KERAS_BACKEND={name} before "
            "importing Keras")
