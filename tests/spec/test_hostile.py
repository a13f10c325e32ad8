"""Hostile specs: each is refused with a clear, located error, quickly, running nothing.

The time bound here is not a performance goal: it shows that the work done on
a hostile file is bounded (an expanded alias bomb would take minutes and
gigabytes), so it is deliberately generous.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from compiler.api import load_spec
from compiler.errors import SpecError

BOUND_S = 10.0
VALID_TAIL = "inputs: {x: [4]}\nlayers:\n  - dense: 2\n"


def refused(path, *needles: str) -> str:
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        load_spec(path)
    elapsed = time.perf_counter() - start
    assert elapsed < BOUND_S, f"took {elapsed:.1f}s"
    text = str(info.value)
    for needle in needles:
        assert needle in text, text
    return text


def test_python_tag_is_refused_and_runs_nothing(write_spec, tmp_path):
    marker = tmp_path / "pwned"
    path = write_spec(f"""
        name: evil
        x: !!python/object/apply:os.system ["touch {marker}"]
    """)
    text = refused(path, "YAML tags are not allowed", "spec.yaml:2:4")
    assert not marker.exists()
    assert "python/object/apply" in text


def test_python_name_tag_on_mapping_is_refused(write_spec):
    path = write_spec("name: evil\nx: !!python/name:os.system {}\n")
    refused(path, "YAML tags are not allowed")


def test_any_custom_tag_is_refused(write_spec):
    refused(write_spec("name: !Ref thing\n"), "YAML tags are not allowed", ":1:7")


def test_billion_laughs_is_bounded(write_spec):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    path = write_spec("\n".join(lines) + "\n")
    refused(path, "more than", "YAML nodes")


def test_ten_megabyte_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("name: big\n" + "# padding\n" * 1_100_000)
    assert path.stat().st_size > 10_000_000
    refused(path, "bytes; specs are limited to")


def test_nesting_depth_500_is_refused(write_spec):
    path = write_spec("name: deep\nx: " + "[" * 500 + "]" * 500 + "\n")
    refused(path, "nested deeper than")


def test_duplicate_keys_are_refused(write_spec):
    path = write_spec("""
        name: a
        name: b
    """)
    refused(path, "duplicate key 'name' (first defined at line 1)", "spec.yaml:2:1")


@pytest.mark.parametrize("kind", ["lambda", "Lambda", "tfoplambda"])
def test_lambda_layer_is_refused(write_spec, kind):
    path = write_spec(f"name: t\ninputs: {{x: [4]}}\nlayers:\n  - {kind}: {{function: 'x'}}\n")
    refused(path, f"layer type '{kind}' would run code", "spec.yaml:4:5")


@pytest.mark.parametrize("kind", ["keras.layers.Lambda", "os:system", "builtins.eval"])
def test_import_path_layer_type_is_refused(write_spec, kind):
    path = write_spec(f"name: t\ninputs: {{x: [4]}}\nlayers:\n  - {kind}: {{}}\n")
    refused(path, "looks like an import path", "spec.yaml:4:5")


def test_extends_outside_the_spec_folder_is_refused(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("name: outside\n" + VALID_TAIL)
    inner = tmp_path / "specs"
    inner.mkdir()
    path = inner / "spec.yaml"
    path.write_text("extends: ../outside.yaml\n")
    refused(path, "is outside the spec's folder", "--allow-outside")
    refused_abs = inner / "abs.yaml"
    refused_abs.write_text("extends: /etc/passwd\n")
    refused(refused_abs, "is outside the spec's folder")


def test_data_files_outside_the_spec_folder_are_refused_by_validate(tmp_path):
    inner = tmp_path / "specs"
    inner.mkdir()
    path = inner / "spec.yaml"
    path.write_text("name: t\ninputs: {x: [4]}\nlayers: [dense: 2]\n"
                    "data:\n  csv: {path: ../../etc/passwd, target: y}\n  test: /etc/shadow\n")
    text = refused(path, "spec.yaml:5:15: data.csv.path: data file '../../etc/passwd' is outside",
                   "spec.yaml:6:9: data.test: data file '/etc/shadow' is outside")
    assert "--allow-outside" in text
    assert load_spec(path, allow_outside=True).data.test == "/etc/shadow"


def test_extends_outside_is_allowed_with_the_flag(tmp_path):
    (tmp_path / "base.yaml").write_text("name: base\n" + VALID_TAIL)
    inner = tmp_path / "specs"
    inner.mkdir()
    (inner / "child.yaml").write_text("extends: ../base.yaml\nname: child\n")
    spec = load_spec(inner / "child.yaml", allow_outside=True)
    assert spec.name == "child"


def test_empty_multi_document_and_non_utf8(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("  \n# only a comment\n")
    refused(empty, "the spec file is empty")
    multi = tmp_path / "multi.yaml"
    multi.write_text("name: a\n---\nname: b\n")
    refused(multi, "several YAML documents", "multi.yaml:2:1")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    refused(latin, "not UTF-8", "latin.yaml:1:10")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: a\x00b\n")
    refused(binary, "NUL bytes")


def test_expression_cannot_reach_python(write_spec):
    path = write_spec("""
        name: t
        vars: {w: 4}
        inputs: {x: [4]}
        layers:
          - dense: {units: "$w.__class__"}
          - dense: {units: "${__import__('os').system('true')}"}
    """)
    text = refused(path, "uses something expressions do not allow")
    assert text.count("expressions do not allow") == 2


def test_loading_imports_no_tensorflow_and_writes_nothing(write_spec, tmp_path):
    path = write_spec("name: t\ninputs: {x: [4]}\nlayers:\n  - dense: 2\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = (f"import sys; from compiler.api import load_spec; load_spec({str(path)!r}); "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, check=True).stdout.strip()
    assert out == "False False"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
