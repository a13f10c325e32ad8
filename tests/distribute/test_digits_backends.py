"""The digits CNN reaches the same test accuracy on TensorFlow and on JAX (±0.5 %)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.api import build_model, load_spec
from compiler.training.run import train_spec
from tests.distribute.workers import worker_env

pytestmark = pytest.mark.long

SPEC = Path(__file__).resolve().parents[2] / "specs" / "digits_cnn.yaml"
EPOCHS = 30


def test_digits_cnn_reaches_the_same_test_accuracy_on_both_backends(tmp_path):
    spec_path = tmp_path / SPEC.name
    shutil.copy(SPEC, spec_path)
    # Both backends start from the same initial weights (their random generators
    # differ) and read the same seeded data order; only dropout's masks differ.
    build_model(load_spec(spec_path)).save(tmp_path / "init.keras")
    sets = ["training.init_from={model: init.keras}", "export=[]", f"training.epochs={EPOCHS}"]
    on_tf = train_spec(load_spec(spec_path, sets), out_root=tmp_path / "tf", verbose=0,
                       echo=lambda line: None)
    words = [w for s in sets for w in ("--set", s)]
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "train", str(spec_path),
                           "--backend", "jax", "--out", str(tmp_path / "jax"), "--quiet",
                           *words], env=worker_env(), capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    on_jax = json.loads((tmp_path / "jax" / "digits_cnn" / "metrics.json").read_text())
    tf_accuracy = on_tf.metrics["metrics"]["test"]["accuracy"]
    jax_accuracy = on_jax["metrics"]["test"]["accuracy"]
    print(f"digits_cnn test accuracy: TensorFlow {tf_accuracy:.4f}, JAX {jax_accuracy:.4f}")
    assert on_jax["xla"]["reason"].startswith("JAX backend")
    assert tf_accuracy > 0.95 and jax_accuracy > 0.95
    assert abs(tf_accuracy - jax_accuracy) <= 0.005
