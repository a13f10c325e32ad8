"""Two worker processes train one spec (data_parallel, JAX, CPU) to one process's weights."""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.distribute.workers import read, start_workers, wait_all, worker_env
from tests.helpers import IRIS, write_training_spec

pytestmark = pytest.mark.long


def test_two_workers_match_one_process_and_only_the_chief_writes(tmp_path):
    # 90 training examples in global batches of 16: every worker takes 8 of each
    # (5 of the last 10), and every example is trained on once per epoch.
    spec = write_training_spec(tmp_path, IRIS, epochs=3, extra="export: [saved_model, keras]\n")
    workers = start_workers(spec, tmp_path / "out", tmp_path / "logs", tmp=tmp_path / "tmp")
    single = subprocess.run(
        [sys.executable, "-m", "compiler.cli", "train", str(spec), "--out",
         str(tmp_path / "single"), "--backend", "jax", "--set", "export=[]"],
        env=worker_env(), capture_output=True, text=True, timeout=600)
    codes = wait_all(workers)
    logs = tmp_path / "logs"
    assert codes == [0, 0], (read(logs, 0), read(logs, 1))
    assert single.returncode == 0, single.stderr[-3000:]

    chief, other = read(logs, 0), read(logs, 1)
    assert "global batch 16 = 2 worker(s) × 8 = 2 replica(s) × 8" in chief
    assert "saved_model: " in chief and "Epoch 3/3" in read(logs, 0, "out")
    assert "Epoch" not in read(logs, 1, "out") + other  # only the chief logs
    # (gloo announces its connection on stdout first)
    last = read(logs, 1, "out").strip().splitlines()[-1]
    assert last == f"worker 1: trained 3 epoch(s); worker 0 writes {tmp_path / 'out' / 'iris_mlp'}"
    assert "trained 3 epoch(s); wrote" in read(logs, 0, "out")
    # The worker's scratch folder is gone; the chief's folder has the exports.
    assert list((tmp_path / "tmp" / "worker1").iterdir()) == []
    folder = tmp_path / "out" / "iris_mlp"
    assert (folder / "saved_model" / "saved_model.pb").is_file()
    assert (folder / "model.keras").is_file() and not (folder / "model.tflite").exists()

    ours = keras.saving.load_model(folder / "model.keras").get_weights()
    theirs = keras.saving.load_model(tmp_path / "single" / "iris_mlp" / "model.keras").get_weights()
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs, strict=True))
    assert diff < 1e-5, diff
    # Validation and test metrics are over the whole splits: those of one process.
    mine = json.loads((folder / "metrics.json").read_text())["metrics"]
    one = json.loads((tmp_path / "single" / "iris_mlp" / "metrics.json").read_text())["metrics"]
    for split in ("validation", "test"):
        assert mine[split]["accuracy"] == one[split]["accuracy"]
        assert mine[split]["loss"] == pytest.approx(one[split]["loss"], abs=1e-5)
    print(f"max |weight difference| two workers vs one process: {diff:.2e}")
