"""The values of `training.backend`, `training.distribute` and `training.precision`.

Imports neither TensorFlow nor Keras, so `nncompile validate` checks them for free.
"""

from __future__ import annotations

from typing import Literal

Backend = Literal["tensorflow", "jax"]
Distribute = Literal["none", "mirrored", "data_parallel", "model_parallel"]
Precision = Literal["float32", "mixed_float16", "mixed_bfloat16"]

BACKENDS: tuple[str, ...] = ("tensorflow", "jax")
DISTRIBUTE: tuple[str, ...] = ("none", "mirrored", "data_parallel")
PRECISIONS: tuple[str, ...] = ("float32", "mixed_float16", "mixed_bfloat16")

# The backend each engine runs on: Keras 3 runs `fit` across processes only on JAX
# (MultiWorkerMirroredStrategy is not supported by Keras 3: keras-team/keras#20585).
ENGINE_BACKEND = {"mirrored": "tensorflow", "data_parallel": "jax"}


def effective_backend(backend: str | None, distribute: str) -> str:
    """The backend a run uses: the one asked for, else the engine's, else TensorFlow."""
    if backend is not None:
        return backend
    return ENGINE_BACKEND.get(distribute, "tensorflow")


def combination_problem(backend: str | None, distribute: str) -> tuple[str, str] | None:
    """Why `backend` and `distribute` cannot go together, as (field, message), or None."""
    if distribute == "model_parallel":
        return ("distribute",
                "model_parallel (a layout map from the spec) is not available yet; "
                "use data_parallel (every device holds the whole model) or mirrored")
    wanted = ENGINE_BACKEND.get(distribute)
    if wanted is None or backend is None or backend == wanted:
        return None
    if distribute == "data_parallel":
        return ("backend",
                "distribute: data_parallel runs on the JAX backend (Keras 3 cannot run fit "
                "under TensorFlow's MultiWorkerMirroredStrategy, keras-team/keras#20585); "
                "set `backend: jax` or leave `backend` out, or use `distribute: mirrored` "
                "for the devices of one machine on TensorFlow")
    return ("backend",
            "distribute: mirrored is TensorFlow's MirroredStrategy and needs "
            "`backend: tensorflow` (or no `backend`); on JAX use `distribute: data_parallel`, "
            "which also spreads over every device of one machine")
