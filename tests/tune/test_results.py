"""The results of a study: best.yaml, the best feasible trial, the Pareto front (no training)."""

from __future__ import annotations

import optuna
from optuna.distributions import FloatDistribution

from compiler.api import load_spec
from compiler.spec.spaces import load_search_spec
from compiler.tune import results
from tests.tune.test_spaces import SPEC


def _trial(number, values, params=None, measures=None, state=optuna.trial.TrialState.COMPLETE):
    trial = optuna.trial.create_trial(
        values=values if state == optuna.trial.TrialState.COMPLETE else None, state=state,
        params=params or {}, distributions={k: FloatDistribution(0, 1) for k in params or {}},
        user_attrs={results.MEASURES: measures or {}})
    trial.number = number
    return trial


def test_best_yaml_has_every_space_filled_and_loads_as_a_plain_spec(write_spec, tmp_path):
    _, search = load_search_spec(write_spec(SPEC))
    params = {"vars.width": 32, "layers[0].dense.activation": "tanh",
              "layers[1].dropout.rate": 0.25, "layers[2].dense.repeat": 3,
              "training.optimizer": "sgd", "training.optimizer[sgd].learning_rate": 0.05,
              "training.optimizer[sgd].momentum": 0.9}
    tree = results.best_tree(search, params)
    assert "tune" not in tree
    path = tmp_path / "best.yaml"
    path.write_text(results.spec_yaml(tree, "best trial 3\nsecond line"))
    assert path.read_text().startswith("# best trial 3\n# second line\n")
    spec = load_spec(path)  # refuses any space left
    assert spec.training.optimizer.name == "sgd"
    assert spec.training.optimizer.params.momentum == 0.9
    assert spec.entries[0][1].units == 64 and spec.entries[0][1].activation == "tanh"
    assert sum(entry.type == "dense" for entry, _ in spec.entries) == 5


def test_the_best_trial_is_the_best_that_meets_every_constraint():
    trials = [_trial(0, [0.99], measures={"params": 5000}),
              _trial(1, [0.90], measures={"params": 900}),
              _trial(2, [0.95], measures={"params": 1000}),
              _trial(3, None, state=optuna.trial.TrialState.PRUNED)]
    bounds = {"params": 1000.0}
    assert results.best_trial(trials, ["maximize"], bounds).number == 2
    assert results.best_trial(trials, ["maximize"], {}).number == 0
    assert results.best_trial(trials, ["minimize"], bounds).number == 1
    assert results.constraint_values(trials[0], bounds) == [4000.0]


def test_the_pareto_front_holds_exactly_the_undominated_trials():
    points = [(0.9, 100), (0.95, 300), (0.93, 400), (0.97, 800), (0.80, 90), (0.96, 800)]
    trials = [_trial(i, list(p)) for i, p in enumerate(points)]
    directions = ["maximize", "minimize"]
    front = results.pareto_front(trials, directions, {})
    assert {t.number for t in front} == {0, 1, 3, 4}
    for t in front:
        assert not any(results.dominates(o.values, t.values, directions) for o in trials)
