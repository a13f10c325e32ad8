"""Search spaces in a spec: how they are read, checked, refused and filled in (no TensorFlow)."""

from __future__ import annotations

import math

import optuna
import pytest

from compiler.api import load_spec
from compiler.errors import SpecError
from compiler.spec.spaces import fill_template, load_search_spec
from compiler.tune.sampling import narrowed, optuna_pick
from tests.helpers import assert_user_error, run_cli

SPEC = """\
nncompile: 1
name: searched
vars:
  width: {choice: [8, 16, 32]}
inputs:
  features: {shape: [4]}
layers:
  - dense: {units: $width * 2, activation: {choice: [relu, tanh]}}
  - dropout: {rate: {uniform: [0.0, 0.5]}}
  - dense: {units: 5, repeat: {int: [1, 3]}}
  - dense: {units: 3, activation: softmax, name: label}
outputs: [label]
data: {builtin: iris, split: {validation: 0.2}}
training:
  loss: sparse_categorical_crossentropy
  optimizer:
    choice:
      - adam: {learning_rate: {log_uniform: [1e-4, 1e-1]}}
      - sgd: {learning_rate: {log_uniform: [1e-3, 1.0]}, momentum: {uniform: [0.5, 0.95]}}
  epochs: 2
tune:
  objective: {metric: val_accuracy}
"""


def test_every_kind_of_space_is_read_with_its_name_and_line(write_spec):
    spec, search = load_search_spec(write_spec(SPEC))
    found = {s.name: (s.kind, s.mark.line) for s in search.all()}
    assert found == {
        "vars.width": ("choice", 4),
        "layers[0].dense.activation": ("choice", 8),
        "layers[1].dropout.rate": ("uniform", 9),
        "layers[2].dense.repeat": ("int", 10),
        "training.optimizer": ("choice", 17),
        "training.optimizer[adam].learning_rate": ("log_uniform", 18),
        "training.optimizer[sgd].learning_rate": ("log_uniform", 19),
        "training.optimizer[sgd].momentum": ("uniform", 19),
    }
    # Validated with the stand-ins: first options and low ends.
    assert spec.training.optimizer.name == "adam"
    assert spec.entries[0][1].units == 16


def test_validate_reports_the_spaces_and_build_and_train_refuse_each(write_spec):
    path = write_spec(SPEC)
    result = run_cli("validate", path)
    assert result.exit_code == 0, result.output
    assert "search space training.optimizer[sgd].momentum: uniform in [0.5, 0.95]" in result.output
    for verb in ("build", "train"):
        output = assert_user_error(run_cli(verb, path))
        for line, name in [(4, "vars.width"), (9, "layers[1].dropout.rate"),
                           (10, "layers[2].dense.repeat"), (17, "training.optimizer")]:
            assert f"spec.yaml:{line}:" in output and f"{name}: unresolved search space" in output
        assert "5 problems found" in output
    with pytest.raises(SpecError, match="unresolved search space"):
        load_spec(path)


@pytest.mark.parametrize("space, message", [
    ("{log_uniform: [0, 1]}", "needs a positive low end"),
    ("{uniform: [0.5, 0.1]}", "needs low < high"),
    ("{uniform: [0.1]}", "takes [low, high], two finite numbers"),
    ("{int: [1.5, 4]}", "whole-number bounds"),
    ("{int: [1, 8], step: 2, log: true}", "not both"),
    ("{int: [1, 8], step: 2}", "multiple of the step"),
    ("{choice: []}", "at least one option"),
    ("{choice: [0.1, 0.2], low: 3}", "takes no other keys"),
])
def test_a_malformed_space_is_a_located_error(write_spec, space, message):
    path = write_spec(SPEC.replace("{uniform: [0.0, 0.5]}", space))
    with pytest.raises(SpecError) as caught:
        load_search_spec(path)
    text = str(caught.value)
    assert "spec.yaml:9:21: layers[1].dropout.rate: " in text and message in text, text


def test_an_option_or_range_end_that_makes_a_bad_spec_is_found_by_validate(write_spec):
    path = write_spec(SPEC.replace("{uniform: [0.0, 0.5]}", "{uniform: [0.0, 1.5]}")
                      .replace("[relu, tanh]", "[relu, tanhh]"))
    output = assert_user_error(run_cli("validate", path))
    assert "spec.yaml:9:21: layers[1].dropout.rate:" in output
    assert "(with every range at its high end)" in output
    assert "spec.yaml:8:44: layers[0].dense.activation:" in output
    assert "(with layers[0].dense.activation = 'tanhh')" in output


def _samples(search, n, seed=0):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        tree, chosen = fill_template(search, optuna_pick(trial))
        study.tell(trial, 0.0)
        out.append((tree, chosen, trial.params))
    return out


def test_log_uniform_samples_fall_evenly_into_each_decade(write_spec):
    _, search = load_search_spec(write_spec(SPEC))
    samples = _samples(search, 2000)
    rates = [c["training.optimizer[adam].learning_rate"] for _, c, _ in samples
             if c["training.optimizer"] == "adam"]
    assert len(rates) > 800
    # Three decades, 1e-4..1e-1: a third of the samples in each. The binomial
    # standard deviation of a share is sqrt(p(1-p)/n) < 0.017 here; 4 of them.
    for decade in range(3):
        low, high = 10 ** (-4 + decade), 10 ** (-3 + decade)
        share = sum(low <= r < high for r in rates) / len(rates)
        assert abs(share - 1 / 3) < 0.065, (decade, share)
    # The uniform range is even on a linear scale instead: half below its middle.
    rates = [c["layers[1].dropout.rate"] for _, c, _ in samples]
    assert abs(sum(r < 0.25 for r in rates) / len(rates) - 0.5) < 0.05


def test_conditional_spaces_appear_only_when_their_option_is_chosen(write_spec):
    _, search = load_search_spec(write_spec(SPEC))
    chosen_kinds = set()
    for tree, chosen, params in _samples(search, 200, seed=1):
        optimizer = tree["training"]["optimizer"]
        kind = chosen["training.optimizer"]
        chosen_kinds.add(kind)
        assert list(optimizer) == [kind]
        has_momentum = "training.optimizer[sgd].momentum" in params
        assert has_momentum == (kind == "sgd")
        assert ("training.optimizer[adam].learning_rate" in params) == (kind == "adam")
        if kind == "sgd":
            assert 0.5 <= optimizer["sgd"]["momentum"] <= 0.95
        assert tree["vars"]["width"] in (8, 16, 32)
        assert tree["layers"][2]["dense"]["repeat"] in (1, 2, 3)
    assert chosen_kinds == {"adam", "sgd"}


def test_coarse_to_fine_narrows_ranges_around_the_best_values(write_spec):
    _, search = load_search_spec(write_spec(SPEC))
    best = [{"training.optimizer": "adam", "training.optimizer[adam].learning_rate": 1e-3,
             "layers[1].dropout.rate": 0.2, "vars.width": 16, "layers[2].dense.repeat": 2},
            {"training.optimizer": "adam", "training.optimizer[adam].learning_rate": 4e-3,
             "layers[1].dropout.rate": 0.3, "vars.width": 32, "layers[2].dense.repeat": 2}]
    ranges = narrowed(search, best, margin=0.25)
    lr = ranges["training.optimizer[adam].learning_rate"]
    width = math.log(4e-3) - math.log(1e-3)
    assert math.isclose(math.log(lr.low), math.log(1e-3) - width / 4)
    assert math.isclose(math.log(lr.high), math.log(4e-3) + width / 4)
    assert math.isclose(ranges["layers[1].dropout.rate"].low, 0.175)
    assert ranges["vars.width"].labels == (16, 32)
    assert ranges["training.optimizer"].labels == ("adam",)
    assert (ranges["layers[2].dense.repeat"].low, ranges["layers[2].dense.repeat"].high) == (1, 3)
    assert "training.optimizer[sgd].momentum" not in ranges


def test_tune_refuses_a_spec_without_spaces(write_spec):
    path = write_spec(SPEC.replace("{choice: [8, 16, 32]}", "8").replace(
        "{choice: [relu, tanh]}", "relu").replace("{uniform: [0.0, 0.5]}", "0.1").replace(
        "{int: [1, 3]}", "1").replace("""    choice:
      - adam: {learning_rate: {log_uniform: [1e-4, 1e-1]}}
      - sgd: {learning_rate: {log_uniform: [1e-3, 1.0]}, momentum: {uniform: [0.5, 0.95]}}""",
        "    adam: {learning_rate: 0.01}"))
    output = assert_user_error(run_cli("tune", path))
    assert "no search space" in output


def test_a_bad_tune_section_is_located(write_spec):
    path = write_spec(SPEC.replace("objective: {metric: val_accuracy}",
                                   "objective: {metric: val_accuracy, direction: up}"))
    output = assert_user_error(run_cli("validate", path))
    assert "spec.yaml:22:48: tune.objective.direction: expected one of" in output


def test_the_tune_example_validates_with_its_spaces():
    from tests.helpers import REPO_ROOT

    spec, search = load_search_spec(REPO_ROOT / "specs" / "tune" / "digits_tune.yaml")
    assert spec.name == "digits_tune"
    assert "training.optimizer[sgd].momentum" in {s.name for s in search.all()}
