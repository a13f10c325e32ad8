"""Every shipped spec trains on JAX: one epoch of its data, or one step of a random batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.long

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs"

# One JAX process trains every spec: a spec with data and `training:` for one
# epoch through `train_spec` (generated data cut to 256 examples); an
# architecture without data for one optimiser step on a random batch of one.
SCRIPT = textwrap.dedent("""
    import json, math, sys
    from pathlib import Path
    import numpy as np
    from compiler.api import build_model, load_spec
    from compiler.training.run import train_spec
    import keras
    assert keras.backend.backend() == "jax"
    out, results = Path(sys.argv[1]), {}
    for path in sorted(Path(sys.argv[2]).glob("*.yaml")):
        spec = load_spec(path)
        if spec.training is not None and spec.data is not None:
            sets = ["training.epochs=1", "training.backend=jax", "export=[]"]
            if spec.data.generate is not None:
                sets.append("data.generate.samples=256")
            result = train_spec(load_spec(path, sets), out_root=out, verbose=0,
                                echo=lambda line: None)
            loss = result.history[-1]["loss"]
            results[path.stem] = {"loss": loss, "epochs": result.epochs_completed,
                                  "xla": result.xla.reason}
            continue
        model = build_model(spec)
        rng = np.random.default_rng(0)
        inputs = [rng.random((1, *[4 if d is None else d for d in t.shape[1:]]))
                  .astype("float32") for t in model.inputs]
        targets = [np.zeros((1, *[4 if d is None else d for d in t.shape[1:]]), "float32")
                   for t in model.outputs]
        model.compile(optimizer="sgd", loss="mse")
        loss = float(np.asarray(model.train_on_batch(inputs, targets)).reshape(-1)[0])
        results[path.stem] = {"loss": loss, "epochs": 0, "xla": "step"}
        keras.backend.clear_session()
    print(json.dumps(results))
""")


def test_every_shipped_spec_trains_on_jax(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), str(SPEC_DIR)],
                          env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(results) == sorted(p.stem for p in SPEC_DIR.glob("*.yaml"))
    for name, result in results.items():
        assert result["loss"] == result["loss"] and abs(result["loss"]) < 1e6, (name, result)
        if result["epochs"]:
            assert result["epochs"] == 1 and result["xla"].startswith("JAX backend"), name
