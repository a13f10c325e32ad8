"""`training.backup.every_steps`: a run killed mid-epoch resumes at its last step backup."""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from compiler.api import load_spec
from compiler.errors import SpecError
from tests.helpers import IRIS, write_training_spec

EVERY = 5
EPOCHS = 3
# 90 training examples in batches of 4: 23 steps per epoch, the last one short.
STEPS = 23
# With dropout, so that the layers' random state must be carried over too.
MID_EPOCH = IRIS.replace("  - dense: {{units: 3,",
                         "  - dropout: {{rate: 0.2}}\n  - dense: {{units: 3,")

# Runs `nncompile train` and prints `step E S` before each training step; with
# STOP_AT="E S" it stops there (mid-epoch, S steps of epoch E trained) so that
# the test can SIGKILL it at a step it chose.
DRIVER = textwrap.dedent("""\
    import os, sys, time
    from compiler.training.backup import TrainingBackup

    stop = os.environ.get("STOP_AT")

    def on_train_batch_begin(self, batch, logs=None):
        marker = f"{self._epoch} {batch}"
        print("step", marker, flush=True)
        if marker == stop:
            time.sleep(600)

    TrainingBackup.on_train_batch_begin = on_train_batch_begin
    from compiler.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def _spec(tmp_path):
    extra = f"  backup: {{every_steps: {EVERY}}}\n"
    spec = write_training_spec(tmp_path, MID_EPOCH, epochs=EPOCHS, extra=extra)
    spec.write_text(spec.read_text().replace("batch_size: 16", "batch_size: 4"))
    return spec


def _command(tmp_path, spec, out, *more):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    return [sys.executable, str(driver), "train", str(spec), "--quiet", "--out", str(out), *more]


def _env(**extra):
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def _train(path, out, echo=lambda message: None, **kwargs):
    from compiler.training.run import train_spec

    return train_spec(path, out_root=out, verbose=0, echo=echo, **kwargs)


@pytest.mark.slow
def test_sigkill_at_a_random_step_redoes_at_most_every_steps(tmp_path):
    spec = _spec(tmp_path)
    assert load_spec(spec).training.backup.every_steps == EVERY
    # A step inside an epoch (not its first), away from the end of the run.
    rng = random.Random(20261202)
    epoch, step = rng.randrange(EPOCHS), rng.randrange(1, STEPS)
    crash, clean = tmp_path / "crash", tmp_path / "clean"
    process = subprocess.Popen(_command(tmp_path, spec, crash), env=_env(STOP_AT=f"{epoch} {step}"),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 120
    seen = None
    for line in process.stdout:
        seen = line.split()[1:] if line.startswith("step ") else seen
        if seen == [str(epoch), str(step)] or time.monotonic() > deadline:
            break
    assert seen == [str(epoch), str(step)], "the run never reached the chosen step"
    time.sleep(0.2)  # it is blocked before the step: the kill lands mid-epoch
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    state = json.loads((crash / "iris_mlp" / "backup" / "state.json").read_text())
    saved = state["epochs_completed"] * STEPS + state["steps_completed"]
    killed = epoch * STEPS + step
    assert 0 <= killed - saved <= EVERY, (state["epochs_completed"], state["steps_completed"])
    assert state["epochs_completed"] == epoch  # within the epoch: an epoch-end backup is not enough
    assert state["steps_completed"] == step - step % EVERY
    assert len(state["history"]) == epoch and not state["finished"]
    assert not (crash / "iris_mlp" / "model.keras").exists()

    # Resumed and uninterrupted runs in this process (each sets the seed afresh):
    # the subprocess above pays TensorFlow's start-up once, which is most of the time.
    notes = []
    resumed = _train(spec, crash, resume=True, echo=notes.append)
    if state["steps_completed"]:
        assert (f"resuming after epoch {epoch} and {state['steps_completed']} step(s) of epoch "
                f"{epoch + 1}") in " ".join(notes)
    whole = _train(spec, clean)
    # The same steps in the same order, on the same batches: nothing differs.
    assert resumed.history == whole.history
    for a, b in zip(resumed.model.get_weights(), whole.model.get_weights(), strict=True):
        assert np.array_equal(a, b)
    assert ((crash / "iris_mlp" / "history.csv").read_text()
            == (clean / "iris_mlp" / "history.csv").read_text())
    finished = json.loads((crash / "iris_mlp" / "backup" / "state.json").read_text())
    assert finished["finished"] and finished["steps_completed"] == 0
    # Only the newest backup's files are kept.
    names = sorted(p.name for p in (crash / "iris_mlp" / "backup").iterdir())
    assert names == sorted([f"epoch-{EPOCHS:04d}.vars.npz", f"epoch-{EPOCHS:04d}.weights.h5",
                            "state.json"])


class _Crash(Exception):
    pass


@pytest.mark.slow
@pytest.mark.parametrize("cut", [(0, 7), (2, 22)])
def test_resume_within_an_epoch_matches_an_uninterrupted_run(tmp_path, monkeypatch, cut):
    """An exception at step `cut` stands in for the kill; resume must match a whole run."""
    from compiler.training.backup import TrainingBackup

    spec = _spec(tmp_path)
    whole = _train(spec, tmp_path / "whole")

    def crash_at(self, batch, logs=None):
        if (self._epoch, batch) == cut:
            raise _Crash

    monkeypatch.setattr(TrainingBackup, "on_train_batch_begin", crash_at, raising=False)
    with pytest.raises(_Crash):
        _train(spec, tmp_path / "cut")
    monkeypatch.undo()
    state = json.loads((tmp_path / "cut" / "iris_mlp" / "backup" / "state.json").read_text())
    saved = (state["epochs_completed"], state["steps_completed"])
    assert saved == (cut[0], cut[1] - cut[1] % EVERY)
    resumed = _train(spec, tmp_path / "cut", resume=True)
    assert resumed.history == whole.history
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights(), strict=True):
        assert np.array_equal(a, b)


def test_default_is_one_backup_per_epoch(tmp_path):
    spec = load_spec(write_training_spec(tmp_path, epochs=1))
    assert spec.training.backup.every_steps is None


@pytest.mark.parametrize(("value", "message"), [
    ("{every_steps: 0}", "training.backup.every_steps"),
    ("{every_steps: -3}", "training.backup.every_steps"),
    ("{every_steps: 2.5}", "training.backup.every_steps"),
    ("{every_steps: true}", "expected a whole number"),
    ("{every_step: 5}", "did you mean 'every_steps'"),
    ("5", "training.backup"),
])
def test_bad_backup_settings_are_located(tmp_path, value, message):
    spec = write_training_spec(tmp_path, epochs=1, extra=f"  backup: {value}\n")
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    text = str(info.value)
    assert message in text and "iris_mlp.yaml:" in text, text


def test_backup_is_in_the_json_schema():
    from compiler.spec.json_schema import spec_json_schema

    schema = json.dumps(spec_json_schema())
    assert "every_steps" in schema and "every N training steps" in schema


def test_metric_state_fits_a_fresh_model_with_two_outputs():
    """The metrics' variables a resumed run creates line up with those a trained one has."""
    import keras

    from compiler.training.backup import restore_metric_variables

    def model():
        x = keras.Input((3,), name="x")
        a = keras.layers.Dense(2, activation="softmax", name="a")(x)
        b = keras.layers.Dense(1, name="b")(x)
        net = keras.Model(x, {"a": a, "b": b})
        net.compile("sgd", loss={"a": "sparse_categorical_crossentropy", "b": "mse"},
                    metrics={"a": ["accuracy"], "b": ["mae"]})
        return net

    rng = np.random.default_rng(0)
    x = rng.random((8, 3), dtype=np.float32)
    y = {"a": rng.integers(0, 2, 8), "b": rng.random((8, 1), dtype=np.float32)}
    trained = model()
    trained.fit(x, y, epochs=1, batch_size=4, verbose=0)
    values = [v.numpy() for v in trained.metrics_variables]
    assert len(values) > 4  # total loss, both outputs' losses, both metrics
    fresh = model()
    restore_metric_variables(fresh, values, (x[:1], {k: v[:1] for k, v in y.items()}))
    assert [v.path for v in fresh.metrics_variables] == [v.path for v in trained.metrics_variables]
    assert all(np.array_equal(v.numpy(), w) for v, w in zip(fresh.metrics_variables, values,
                                                            strict=True))
    assert fresh.get_metrics_result() == trained.get_metrics_result()
