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


# Every optimiser, schedule, callback and metric, and the regression losses, on JAX:
# one epoch each, in one process.
CHOICES_SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import keras
    from compiler.api import load_spec
    from compiler.training.run import train_spec
    from compiler.training.schema import OPTIMIZERS
    assert keras.backend.backend() == "jax"
    spec, regression, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    schedules = ["{step_decay: {every: 1}}", "{inverse_time: {}}", "{exponential: {}}",
                 "{cosine: {}}", "{warmup: {epochs: 1, then: {cosine: {}}}}",
                 "{reduce_on_plateau: {patience: 0}}"]
    runs = [[f"training.optimizer={{{name}: {{}}}}"] for name in OPTIMIZERS]
    runs += [[f"training.schedule={schedule}", "training.epochs=2"] for schedule in schedules]
    runs.append(["training.callbacks=[{early_stopping: {}}, {checkpoint: {}}, "
                 "{tensorboard: {histogram_freq: 1}}, {csv_logger: {}}]"])
    results = []
    for sets in runs:
        result = train_spec(load_spec(spec, ["export=[]", "training.backend=jax", *sets]),
                            out_root=out / str(len(results)), verbose=0, echo=lambda line: None)
        results.append([sets, result.metrics["metrics"]["validation"]])
    for loss in ("mse", "mae", "{huber: {delta: 0.5}}"):
        sets = [f"training.loss={loss}", "export=[]", "training.backend=jax"]
        result = train_spec(load_spec(regression, sets), out_root=out / str(len(results)),
                            verbose=0, echo=lambda line: None)
        results.append([sets, result.metrics["metrics"]["validation"]])
    print(json.dumps(results))
""")

REGRESSION = """\
nncompile: 1
name: adding
inputs:
  sequence: [10, 2]
layers:
  - flatten: {}
  - dense: {units: 8, activation: relu}
  - dense: {units: 1, name: total}
outputs: [total]
data: {generate: {task: adding, samples: 200, length: 10, seed: 1}, split: {validation: 0.2}}
training:
  loss: mse
  metrics: [mae, mse, rmse]
  epochs: 1
  seed: 1
"""


def test_every_optimizer_schedule_callback_metric_and_regression_loss_on_jax(tmp_path):
    from tests.helpers import IRIS, write_spec, write_training_spec

    metrics = "[accuracy, precision, recall, f1, auc, {{top_k: {{k: 2}}}}]"  # a template
    spec = write_training_spec(tmp_path, IRIS.replace("metrics: [accuracy]",
                                                      f"metrics: {metrics}"), epochs=1)
    regression = write_spec(tmp_path, REGRESSION, "adding.yaml")
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", CHOICES_SCRIPT, str(spec), str(regression),
                           str(tmp_path / "out")], env=env, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(results) == 7 + 6 + 1 + 3
    for sets, values in results:
        assert values and all(v == v for v in values.values()), (sets, values)
    assert len(results[0][1]) == 1 + 6, results[0]  # the loss and every metric
    assert len(results[-1][1]) == 1 + 3, results[-1]
