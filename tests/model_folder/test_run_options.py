"""A model folder remembers how it was trained: run.json, reapplied by every verb.

A spec whose data lie outside its folder needs `--allow-outside` to train; the
verbs that read the folder afterwards (evaluate, export, predict) find the data
again without being told.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from compiler.model_folder import ModelFolder, RunOptions
from tests.helpers import cities_spec, run_cli

SPEC = cities_spec("outside", width=3, csv="../shared/rows.csv", classes=2,
                   split="{test: 0.25}")


def _invoke(*args):
    return run_cli(*args, catch=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("outside")
    (root / "specs").mkdir()
    (root / "shared").mkdir()
    rng = np.random.default_rng(0)
    lines = ["size,city,kind"]
    for i in range(40):
        lines.append(f"{rng.normal():.4f},{['rome', 'oslo'][i % 2]},{i % 2}")
    (root / "shared" / "rows.csv").write_text("\n".join(lines) + "\n")
    spec = root / "specs" / "outside.yaml"
    spec.write_text(SPEC)
    refused = _invoke("train", spec, "--out", root / "out", "--quiet")
    result = _invoke("train", spec, "--out", root / "out", "--quiet", "--allow-outside")
    return root, spec, refused, result


def test_training_needs_the_flag_and_the_folder_records_it(trained):
    root, spec, refused, result = trained
    assert refused.exit_code == 1 and "--allow-outside" in refused.output
    assert result.exit_code == 0, result.output
    folder = ModelFolder(root / "out" / "outside")
    record = json.loads(folder.run_file.read_text())
    assert record == {"spec": str(spec.resolve()), "overrides": [], "allow_outside": True}
    assert folder.run_options() == RunOptions(str(spec.resolve()), [], True)


def test_evaluate_export_and_predict_reapply_it(trained, tmp_path):
    root, _spec, _refused, _result = trained
    folder = root / "out" / "outside"
    evaluated = _invoke("evaluate", folder)
    assert evaluated.exit_code == 0, evaluated.output
    exported = _invoke("export", folder, "--format", "keras")
    assert exported.exit_code == 0, exported.output
    assert "no preprocessing" not in exported.output
    (folder / "metadata.json").unlink()  # predict must now read the training data again
    rows = tmp_path / "rows.csv"
    rows.write_text(textwrap.dedent("""\
        size,city
        0.5,rome
        -1.0,oslo
    """))
    predicted = _invoke("predict", folder, "-i", rows, "-o", tmp_path / "p.csv")
    assert predicted.exit_code == 0, predicted.output
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 3


def test_verbs_given_the_spec_take_the_flag(trained, tmp_path):
    root, spec, _refused, _result = trained
    refused = _invoke("evaluate", spec, "--out", root / "out")
    assert refused.exit_code == 1 and "--allow-outside" in refused.output
    evaluated = _invoke("evaluate", spec, "--out", root / "out", "--allow-outside")
    assert evaluated.exit_code == 0, evaluated.output
    picture = tmp_path / "lr.png"
    refused = _invoke("lr-find", spec, "-o", picture, "--steps", "10")
    assert refused.exit_code == 1 and "--allow-outside" in refused.output
    found = _invoke("lr-find", spec, "-o", picture, "--steps", "10", "--allow-outside")
    assert found.exit_code == 0, found.output
    assert picture.is_file()
    for verb in (["validate"], ["build", "--no-save"]):
        assert _invoke(*verb, spec).exit_code == 1
        assert _invoke(*verb, spec, "--allow-outside").exit_code == 0
