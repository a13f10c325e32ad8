"""The validated Spec: typed sections, declared state, and the resolve → validate stages.

`load_spec` is resolve (extends, --set, variables, blocks) followed by
validate (typed sections); each stage returns its own object, and what
validation computed is declared on the Spec rather than attached afterwards.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from compiler.api import load_spec
from compiler.data.files import FileReference, outside_problem
from compiler.data.schema import CsvSource, DataSpec
from compiler.errors import SpecError
from compiler.export.schema import ExportSpec
from compiler.layers.base import LayerSpec
from compiler.spec.blocks import Entry
from compiler.spec.resolve import ResolvedSpec, resolve_spec
from compiler.spec.schema import SPEC_VERSION, Spec, SpecDocument
from compiler.spec.validate import validate_spec
from compiler.training.schema import TrainingSpec

FULL = """
nncompile: 1
name: typed
vars: {width: 8}
blocks:
  pair:
    params: {units: null}
    layers:
      - dense: {units: $units, activation: relu}
      - dense: {units: $units}
inputs:
  x: [4]
layers:
  - pair: {units: $width, name: body}
  - dense: {units: 3, activation: softmax, name: head}
outputs: [body, head]
labels: [a, b, c]
data: {csv: {path: rows.csv, target: y}, test: held_out.csv}
training: {loss: mse, epochs: 2, init_from: {model: old/model.keras}}
export: [saved_model, {tflite: {quantize: dynamic}}]
"""


def test_sections_are_typed_models(write_spec):
    spec = load_spec(write_spec(FULL))
    assert isinstance(spec, Spec)
    assert isinstance(spec.data, DataSpec) and isinstance(spec.data.source, CsvSource)
    assert spec.data.kind == "csv" and spec.data.source.target == "y"
    assert isinstance(spec.training, TrainingSpec) and spec.training.epochs == 2
    assert isinstance(spec.export, ExportSpec)
    assert spec.export.formats() == ["saved_model", "tflite"]
    assert spec.labels == ["a", "b", "c"]


def test_optional_sections_are_none(write_spec):
    spec = load_spec(write_spec("name: bare\ninputs: {x: [2]}\nlayers: [dense: {units: 1}]\n"))
    assert (spec.data, spec.training, spec.export, spec.expect, spec.labels) == (
        None, None, None, None, None)


def test_what_validation_computes_is_declared_state(write_spec):
    path = write_spec(FULL)
    spec = load_spec(path, ["training.epochs=3"], allow_outside=True)
    declared = {f.name for f in dataclasses.fields(Spec)}
    assert {"entries", "instances", "output_aliases", "tree", "source_path", "allow_outside",
            "overrides", "data", "training", "export"} <= declared
    assert spec.source_path == path and spec.base_dir == Path.cwd().resolve()
    assert spec.allow_outside is True and spec.overrides == ("training.epochs=3",)
    assert spec.training.epochs == 3
    assert [entry.name for entry, _ in spec.entries] == ["body_dense_1", "body_dense_2", "head"]
    assert all(isinstance(e, Entry) and isinstance(layer, LayerSpec) for e, layer in spec.entries)
    assert spec.instances["body"].entries == ["body_dense_1", "body_dense_2"]
    # `outputs: [body, ...]`: the block instance stands for its last layer.
    assert spec.outputs == ["body_dense_2", "head"]
    assert spec.output_aliases == {"body": "body_dense_2"}


def test_spec_cannot_be_changed_after_validation(write_spec):
    spec = load_spec(write_spec(FULL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.training = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.allow_outside = True


def test_locate_and_resolved_tree_read_the_resolved_tree(write_spec):
    spec = load_spec(write_spec(FULL))
    assert spec.locate("training", "epochs").line == 18
    assert spec.locate("data", "csv", "target").path == "data.csv.target"
    tree = spec.resolved_tree()
    assert "vars" not in tree and "blocks" not in tree
    first = tree["layers"][0]["dense"]
    assert (first["units"], first["name"], first["inputs"]) == (8, "body_dense_1", ["x"])
    assert tree["outputs"] == ["body_dense_2", "head"]


def test_resolve_then_validate_each_return_their_own_object(write_spec):
    resolved = resolve_spec(write_spec(FULL), ["vars.width=16"])
    assert isinstance(resolved, ResolvedSpec)
    # Resolve substituted the variables and expanded the block; nothing is typed yet.
    assert [e.name for e in resolved.expansion.entries] == ["body_dense_1", "body_dense_2",
                                                            "head"]
    assert resolved.expansion.entries[0].params["units"] == 16
    assert isinstance(resolved.tree["data"], dict) and resolved.problems == ()
    spec = validate_spec(resolved)
    assert spec.entries[0][1].units == 16 and spec.overrides == ("vars.width=16",)


def test_problems_of_resolve_and_validate_are_reported_together(write_spec):
    path = write_spec("""
        name: both
        vars: {w: $nope}
        inputs: {x: [2]}
        layers: [dense: {units: $w}]
        data: {builtin: iris, splt: auto}
        """)
    resolved = resolve_spec(path)
    assert [p.location.path for p in resolved.problems] == ["vars.w"]
    with pytest.raises(SpecError) as caught:
        validate_spec(resolved)
    paths = [p.location.path for p in caught.value.problems]
    assert paths[0] == "vars.w" and "data.splt" in paths


def test_file_references_of_each_section(write_spec):
    spec = load_spec(write_spec(FULL))
    assert spec.data.file_references() == [FileReference(("csv", "path"), "rows.csv"),
                                           FileReference(("test",), "held_out.csv")]
    assert spec.training.file_references() == [
        FileReference(("init_from", "model"), "old/model.keras", kind="model")]
    assert spec.export.file_references() == []


def test_every_section_reference_is_checked_by_one_rule(write_spec, tmp_path):
    path = write_spec("""
        name: outside
        inputs: {x: [2]}
        layers: [dense: {units: 1}]
        data: {npy: {inputs: {x: ../x.npy}, targets: y.npy}}
        training: {loss: mse, init_from: {model: /elsewhere/model.keras}}
        """)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    shown = [str(p) for p in caught.value.problems]
    assert shown[0].startswith("spec.yaml:4:26: data.npy.inputs.x: data file '../x.npy' is "
                               f"outside the spec's folder {tmp_path}")
    assert shown[1].startswith("spec.yaml:5:42: training.init_from.model: model file "
                               "'/elsewhere/model.keras' is outside the spec's folder")
    assert len(shown) == 2
    assert load_spec(path, allow_outside=True).allow_outside is True


def test_outside_rule_for_data_and_model_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = tmp_path / "specs"
    base.mkdir()
    assert outside_problem(FileReference(("p",), "a/b.csv"), base) is None
    assert "data file '../b.csv' is outside" in outside_problem(
        FileReference(("p",), "../b.csv"), base)
    # Models may also come from saved_models/ of the working folder, where train writes them.
    model = FileReference(("m",), str(tmp_path / "saved_models" / "n" / "model.keras"), "model")
    assert outside_problem(model, base) is None
    elsewhere = FileReference(("m",), str(tmp_path / "other" / "model.keras"), "model")
    assert "model file" in outside_problem(elsewhere, base)


def test_the_format_version_is_checked_against_spec_version(write_spec):
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(f"nncompile: {SPEC_VERSION + 1}\nname: v\ninputs: {{x: [2]}}\n"
                             "layers: [dense: {units: 1}]\n"))
    assert (f"reads spec format version {SPEC_VERSION}; the spec says {SPEC_VERSION + 1}"
            in str(caught.value))
    schema = SpecDocument.model_json_schema()
    assert schema["properties"]["nncompile"]["const"] == SPEC_VERSION
