"""The recurrent example specs learn their generated tasks (trained here, small and short).

Each threshold is well above what a model that ignores the sequence can do,
so a broken recurrent layer, mask or bidirectional merge fails the test. The runs
are as small as the thresholds allow (fewer generated examples and epochs than the
shipped specs) and train without XLA: `jit_compile: auto` would first time a few
steps both ways, which tests/training/test_xla.py checks on its own.
"""

from __future__ import annotations

import numpy as np
import pytest

from compiler.api import load_spec
from tests.helpers import SPECS_DIR, train_quietly

pytestmark = pytest.mark.slow


def train(name: str, tmp_path, *overrides: str):
    spec = load_spec(SPECS_DIR / name, ["export=[keras]", "training.jit_compile=false",
                                        *overrides])
    result = train_quietly(spec, tmp_path)
    metrics = result.metrics.get("metrics", result.metrics)
    return spec, result, metrics["test"]


def test_bidirectional_tagger_labels_every_step(tmp_path):
    _, result, test = train("peak_tagger.yaml", tmp_path, "data.generate.samples=2000",
                            "training.epochs=3")
    # Peaks are about a third of the steps: "never a peak" scores about 0.7.
    assert test["accuracy"] >= 0.97, test
    assert result.model.outputs[0].shape[1:] == (20, 2)


def test_minimal_gru_classifies_variable_length_sequences(tmp_path):
    _, _, test = train("parity_minimal_gru.yaml", tmp_path, "data.generate.samples=3000",
                       "training.epochs=10")
    assert test["accuracy"] >= 0.9, test  # chance is 0.5


def test_minimal_gru_solves_the_adding_problem(tmp_path):
    _, _, test = train("adding_minimal_gru.yaml", tmp_path, "data.generate.samples=4000",
                       "training.epochs=8")
    # Answering the mean sum (1.0) gives a mean squared error of about 1/6.
    assert test["loss"] <= 0.02, test


def test_character_language_model_beats_the_most_frequent_character(tmp_path):
    from compiler.data.pipeline import load_data

    spec, _, test = train("char_language_model.yaml", tmp_path, "training.epochs=4")
    bundle = load_data(spec)
    _, targets = bundle.arrays["test"]
    baseline = np.bincount(np.asarray(targets).reshape(-1)).max() / np.asarray(targets).size
    assert test["accuracy"] >= baseline + 0.3, (test, baseline)
