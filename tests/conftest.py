"""Shared fixtures (the helpers they wrap are in tests/helpers.py), and the order in
which pytest-xdist hands test files to its workers.

TensorFlow's C++ logging is kept quiet for readable output.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import helpers

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Each pytest-xdist worker sizes TensorFlow's thread pools to its share of the cores
# (read when TensorFlow starts, which is after this file is imported): with a pool per
# core in every worker, idle pool threads spin on cores the other worker needs.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for _name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(_name, str(max(1, (_cores or 1) // _WORKERS)))


@pytest.fixture
def write_spec(tmp_path, monkeypatch):
    """``helpers.write_spec`` bound to tmp_path, which becomes the working folder.

    Call it as ``write_spec(text, name="spec.yaml")``; it returns the path relative
    to tmp_path, so messages name ``spec.yaml`` as a user's would.
    """
    monkeypatch.chdir(tmp_path)

    def write(text: str, name: str = "spec.yaml") -> Path:
        return helpers.write_spec(tmp_path, text, name).relative_to(tmp_path)

    return write


@pytest.fixture(scope="session")
def trained_iris(tmp_path_factory):
    """``helpers.IRIS`` trained once per session by ``nncompile train`` (2 epochs, batch 32).

    Returns (folder, spec path, the click Result of the run); the model folder is
    ``folder / "out" / "iris_mlp"``. Tests read it (evaluate may add its reports there)
    and copy it to change it.
    """
    folder = tmp_path_factory.mktemp("trained_iris")
    spec = helpers.write_training_spec(folder, epochs=2)
    result = helpers.run_cli("train", spec, "--out", folder / "out", "--quiet",
                             "--set", "training.batch_size=32")
    assert result.exit_code == 0, result.output
    return folder, spec, result


# Example models up to this many parameters are kept for the session once built;
# bigger ones (VGG16 and AlexNet hold hundreds of MB) are built for each use.
_KEEP_PARAMS = 30_000_000


@pytest.fixture(scope="session")
def example_build():
    """``example_build(path)``: the spec of specs/NAME.yaml loaded and built (``build``), once
    per test process, as (Spec, BuildResult).

    The example specs are built by tests in tests/examples, tests/export and
    tests/model_folder; each test process builds each of them once. A test may run
    the model, compile, save or export it; one that changes its weights builds its own.
    """
    from compiler.api import build, load_spec

    kept: dict[Path, tuple] = {}

    def get(path: Path):
        path = Path(path).resolve()
        if path in kept:
            return kept[path]
        spec = load_spec(path)
        pair = (spec, build(spec))
        expected = spec.expect.params if spec.expect and spec.expect.params else 0
        if expected <= _KEEP_PARAMS:
            kept[path] = pair
        return pair

    return get


@pytest.fixture
def csv_folder(tmp_path, monkeypatch):
    """tmp_path as the working folder, holding ``c.csv`` (``helpers.write_classes_csv``)."""
    monkeypatch.chdir(tmp_path)
    helpers.write_classes_csv(tmp_path / "c.csv")
    return tmp_path


# Test files that take tens of seconds on two cores, heaviest first. Under
# `--dist loadfile` (pyproject.toml) each file runs in one worker, so its module- and
# session-scoped fixtures are built once there; these files start first so that the
# two workers finish together. Files not listed follow, those with most tests first.
HEAVY_FILES = (
    "tests/examples/test_recurrent.py",
    "tests/run/test_seq2seq.py",
    "tests/export/test_specs.py",
    "tests/training/test_run.py",
    "tests/training/test_cli.py",
    "tests/training/test_mid_epoch_backup.py",
    "tests/run/test_encoding_across_verbs.py",
    "tests/model_folder/test_run_options.py",
    "tests/run/test_predict_streaming.py",
    "tests/model_folder/test_untrusted_files.py",
    "tests/fuzz/test_spec_fuzz.py",
    "tests/fuzz/test_data_fuzz.py",
    "tests/layers/test_keras_applications.py",
    "tests/training/test_digits_accuracy.py",
    "tests/run/test_predict_evaluate_errors.py",
    "tests/custom_layers/test_minimal_gru.py",
    "tests/export/test_tflite.py",
    "tests/examples/test_applications.py",
    "tests/spec/test_mistakes.py",
    "tests/examples/test_specs.py",
    "tests/export/test_atomic.py",
    "tests/export/test_saved_model.py",
    "tests/spec/test_json_schema.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, with the files of HEAVY_FILES handed out first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class HeavyFirstScheduling(LoadFileScheduling):
        ordered = False

        def _assign_work_unit(self, node):
            if not self.ordered:  # the queue is complete when the first unit is handed out
                self.ordered = True
                rank = {path: i for i, path in enumerate(HEAVY_FILES)}
                units = sorted(self.workqueue.items(),
                               key=lambda unit: rank.get(unit[0], len(rank)))
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return HeavyFirstScheduling(config, log)
