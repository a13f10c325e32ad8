"""best.yaml reaches the tuned spec's files: references rewritten, or a copy beside the spec."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from compiler.api import load_spec
from compiler.errors import SpecError
from compiler.spec.spaces import fill_template, load_search_spec
from compiler.tune import results
from compiler.tune.best_spec import write_best_specs
from compiler.tune.sampling import params_pick
from tests.helpers import CSV_MODEL, write_classes_csv, write_spec

CSV_SPACES = CSV_MODEL.format(name="kinds", csv="data/c.csv", units=3, width=2,
                              loss="sparse_categorical_crossentropy", activation="softmax",
                              output="kind").replace(
    "learning_rate: 0.01", "learning_rate: {log_uniform: [1e-3, 1e-1]}")


def _write(spec_path: Path, study: Path, **kwargs):
    loaded, search = load_search_spec(spec_path, **kwargs)
    params = {"training.optimizer.adam.learning_rate": 0.02}
    filled, _ = fill_template(search, params_pick(params))
    like = type("Like", (), {"source": loaded.source_path, "allow_outside": loaded.allow_outside,
                             "overrides": ()})()
    return write_best_specs(results.best_tree(search, params), filled, like, study, "best trial 0")


def test_best_yaml_points_at_the_tuned_specs_files_and_a_copy_beside_it_trains_as_is(
        tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    write_classes_csv(project / "data" / "c.csv")
    spec_path = write_spec(project, CSV_SPACES, "kinds.yaml")
    study = tmp_path / "elsewhere" / "saved_models" / "kinds-tune"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    written = _write(spec_path, study)

    in_study = yaml.safe_load(written.in_study.read_text())
    reference = in_study["data"]["csv"]["path"]
    assert reference == os.path.relpath(project / "data" / "c.csv", study)
    assert (study / reference).resolve() == (project / "data" / "c.csv").resolve()
    assert "outside this folder" in written.in_study.read_text()
    # The file rule holds: the study's copy needs --allow-outside; the one beside the spec not.
    with pytest.raises(SpecError, match="outside the spec's folder"):
        load_spec(written.in_study)
    assert load_spec(written.in_study, allow_outside=True).data is not None
    assert written.beside_spec == project / "kinds.best.yaml"
    assert written.to_train == written.beside_spec
    beside = yaml.safe_load(written.beside_spec.read_text())
    assert beside["data"]["csv"]["path"] == "data/c.csv"
    assert beside["training"]["optimizer"] == {"adam": {"learning_rate": 0.02}}
    monkeypatch.chdir(tmp_path)
    assert load_spec(written.beside_spec).training is not None


def test_a_spec_without_files_gets_one_best_yaml_in_the_study_folder(tmp_path):
    text = CSV_SPACES.replace("data: {csv: {path: data/c.csv, target: kind}",
                              "data: {builtin: iris").replace("[2]", "[4]")
    spec_path = write_spec(tmp_path / "project", text, "kinds.yaml")
    written = _write(spec_path, tmp_path / "saved_models" / "kinds-tune")
    assert written.beside_spec is None and written.to_train == written.in_study
    assert not (tmp_path / "project" / "kinds.best.yaml").exists()
    assert load_spec(written.in_study).data is not None
