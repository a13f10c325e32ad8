"""The data-source registry: one class per source kind, read by schema, resolve and reading.

Each kind declares its options, its file references and its reader in one
class; the `data:` schema, `extends:` merging and `read_splits` all take the
list of kinds from ``SOURCES``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from pydantic import ValidationError

from compiler.data.files import FileReference
from compiler.data.schema import DataSpec
from compiler.data.source_registry import SOURCES, BuiltinSource, DataSource, FileSource
from compiler.data.sources import read_splits
from compiler.spec.resolve import resolve_spec
from tests.helpers import make_spec

KINDS = ("builtin", "csv", "npz", "npy", "images", "tfrecord", "text", "generate", "yolo")
# The smallest valid options of each kind.
OPTIONS = {
    "builtin": "iris",
    "csv": {"path": "rows.csv", "target": "y"},
    "npz": {"path": "arrays.npz", "inputs": "x", "targets": "y"},
    "npy": {"inputs": "x.npy", "targets": "y.npy"},
    "images": {"path": "photos", "size": [8, 8]},
    "tfrecord": {"path": "r.tfrecord", "features": {"x": {"shape": [2]}, "y": {}}, "target": "y"},
    "text": {"path": "corpus.txt", "max_length": 4},
    "generate": {"task": "adding", "samples": 20, "length": 5},
    "yolo": {"path": "boxes", "size": [8, 8]},
}


def test_registry_lists_every_kind_once_under_its_own_key():
    assert tuple(SOURCES) == KINDS
    for key, cls in SOURCES.items():
        assert cls.kind == key
        assert cls.summary and cls.summary.endswith(".")


def test_the_data_schema_has_one_field_per_registered_kind():
    fields = list(DataSpec.model_fields)
    assert fields[: len(SOURCES)] == list(SOURCES)
    schema = DataSpec.model_json_schema()
    for key, cls in SOURCES.items():
        assert schema["properties"][key]["description"] == cls.summary
        spec = DataSpec.model_validate({key: OPTIONS[key]})
        assert spec.kind == key and isinstance(spec.source, cls)


def test_every_kind_has_a_reader_of_its_own():
    for cls in SOURCES.values():
        assert cls.read is not DataSource.read, f"{cls.kind} has no reader"
        assert callable(cls.file_references)


def test_split_files_apply_to_the_kinds_that_read_a_file():
    for key, cls in SOURCES.items():
        reads_file = issubclass(cls, FileSource)
        assert reads_file == ("path" in cls.model_fields), key
        data = {key: OPTIONS[key], "train": "a", "test": "b"}
        if reads_file:
            assert DataSpec.model_validate(data).split_files() == {"train": "a", "test": "b"}
        else:
            with pytest.raises(ValidationError, match=f"do not apply to a `{key}` source"):
                DataSpec.model_validate(data)


def test_file_references_name_each_file_below_the_kinds_key():
    refs = {key: DataSpec.model_validate({key: OPTIONS[key]}).file_references()
            for key in SOURCES}
    assert refs["builtin"] == [] and refs["generate"] == []
    assert refs["csv"] == [FileReference(("csv", "path"), "rows.csv")]
    assert refs["images"] == [FileReference(("images", "path"), "photos")]
    assert refs["npy"] == [FileReference(("npy", "inputs"), "x.npy"),
                           FileReference(("npy", "targets"), "y.npy")]
    named = DataSpec.model_validate({"npy": {"inputs": {"a": "a.npy", "b": "b.npy"},
                                             "targets": "y.npy"}, "split": "none"})
    assert [r.where for r in named.file_references()] == [
        ("npy", "inputs", "a"), ("npy", "inputs", "b"), ("npy", "targets")]


@pytest.mark.parametrize("kind", KINDS)
def test_extends_replaces_the_source_whatever_its_kind(tmp_path, kind):
    base_kind = "csv" if kind == "builtin" else "builtin"
    (tmp_path / "base.yaml").write_text(textwrap.dedent(f"""
        name: base
        inputs: {{x: [2]}}
        layers: [dense: {{units: 1}}]
        data: {{{base_kind}: {OPTIONS[base_kind]}, split: none}}
        """))
    (tmp_path / "child.yaml").write_text(
        f"extends: base.yaml\ndata: {{{kind}: {OPTIONS[kind]}}}\n".replace("'", ""))
    data = resolve_spec(tmp_path / "child.yaml").tree["data"]
    assert [k for k in data if k in SOURCES] == [kind]
    assert data["split"] == "none"


def _write_files(tmp_path):
    (tmp_path / "rows.csv").write_text("a,b,y\n" + "".join(f"{i},{i + 1},{i % 2}\n"
                                                           for i in range(6)))
    x, y = np.arange(12, dtype=np.float32).reshape(6, 2), np.arange(6) % 2
    np.savez(tmp_path / "arrays.npz", x=x, y=y)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    (tmp_path / "corpus.txt").write_text("abcabcabcabc\n")


@pytest.mark.parametrize(("kind", "examples", "inputs"), [
    ("builtin", 150, ["features"]),
    ("csv", 6, ["features"]),
    ("npz", 6, ["x"]),
    ("npy", 6, ["x.npy"]),
    ("text", 9, ["chars"]),
    ("generate", 20, ["sequence"]),
])
def test_read_splits_uses_the_kinds_reader(tmp_path, kind, examples, inputs):
    _write_files(tmp_path)
    spec = make_spec(tmp_path, {kind: OPTIONS[kind], "split": "none"})
    train = read_splits(spec, seed=0)["train"]
    assert len(train) == examples and list(train.inputs) == inputs


def test_a_kind_without_a_reader_says_so():
    class Unread(DataSource):
        kind = "unread"
        summary = "A source with no reader."

    with pytest.raises(NotImplementedError, match="the unread source has no reader"):
        Unread().read(None)
    assert BuiltinSource("iris").file_references() == []


def test_the_registry_and_schemas_import_no_numpy_or_tensorflow(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent("""
        name: light
        inputs: {x: [2]}
        layers: [dense: {units: 1}]
        data: {npy: {inputs: x.npy, targets: y.npy}}
        training: {loss: mse}
        export: [keras]
        """))
    code = ("import sys; from compiler.api import load_spec; load_spec(sys.argv[1]); "
            "import compiler.data.source_registry; "
            "print(sorted(m for m in ('numpy', 'tensorflow', 'keras', 'sklearn') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(spec)], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"
