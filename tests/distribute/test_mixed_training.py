"""Mixed precision trains on both backends: float32 outputs, a falling loss; MinimalGRU and
attention included."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from compiler.api import load_spec
from compiler.training.run import train_spec
from tests.distribute.mixed_spec import write_attending_gru
from tests.distribute.workers import worker_env

pytestmark = pytest.mark.long

POLICIES = ["mixed_float16", "mixed_bfloat16"]

# One JAX process trains the spec under both policies.
JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import keras
    from compiler.api import load_spec
    from compiler.training.run import train_spec
    assert keras.backend.backend() == "jax"
    results = {}
    for policy in sys.argv[3:]:
        spec = load_spec(sys.argv[1], [f"training.precision={policy}", "training.backend=jax"])
        result = train_spec(spec, out_root=f"{sys.argv[2]}/{policy}", verbose=0,
                            echo=lambda line: None)
        results[policy] = {"losses": [row["loss"] for row in result.history],
                           "optimizer": type(result.model.optimizer).__name__}
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def on_jax(tmp_path_factory):
    folder = tmp_path_factory.mktemp("jax_mixed")
    spec = write_attending_gru(folder)
    done = subprocess.run([sys.executable, "-c", JAX_SCRIPT, str(spec), str(folder / "out"),
                           *POLICIES], env={**worker_env(), "KERAS_BACKEND": "jax"},
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder, json.loads(done.stdout.strip().splitlines()[-1])


def _check_saved(folder, policy: str) -> None:
    model = keras.saving.load_model(folder / "attending_gru" / "model.keras")
    compute = policy.removeprefix("mixed_")
    layers = {layer.name: layer for layer in model.layers}
    assert layers["states"].compute_dtype == compute  # the minimal GRU
    assert layers["context"].compute_dtype == compute  # additive attention
    x = np.random.default_rng(0).random((4, 12, 2)).astype("float32")
    assert model.predict(x, verbose=0).dtype == np.float32


@pytest.mark.parametrize("policy", POLICIES)
def test_mixed_precision_on_tensorflow(tmp_path, policy):
    spec = load_spec(write_attending_gru(tmp_path), [f"training.precision={policy}"])
    result = train_spec(spec, out_root=tmp_path / "out", verbose=0, echo=lambda line: None)
    losses = [row["loss"] for row in result.history]
    assert losses[-1] < losses[0] and np.isfinite(losses).all(), losses
    scaled = isinstance(result.model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (policy == "mixed_float16")
    _check_saved(tmp_path / "out", policy)


@pytest.mark.parametrize("policy", POLICIES)
def test_mixed_precision_on_jax(on_jax, policy):
    folder, results = on_jax
    losses = results[policy]["losses"]
    assert losses[-1] < losses[0] and np.isfinite(losses).all(), losses
    scaled = results[policy]["optimizer"] == "LossScaleOptimizer"
    assert scaled == (policy == "mixed_float16")
    _check_saved(folder / "out" / policy, policy)
