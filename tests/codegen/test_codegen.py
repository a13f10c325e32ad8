"""`nncompile codegen`: every shipped spec as a Keras module, built where nncompile is absent.

One fresh Python process (``python -S``, so the editable install of nncompile is
not on its path) imports every generated module, runs ``build_model()`` and
``compile_model()`` and records layer names, weight shapes, parameters, outputs
under fixed weights and the optimiser's config; this process compares them with
the model `nncompile build` builds. The default tier shrinks the four ImageNet
networks (``--set``) and leaves out the seq2seq translator; the long tier builds
those as shipped.
"""

from __future__ import annotations

import ast
import json
import shutil
import site
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compiler.api import load_spec
from compiler.codegen.generate import generate
from tests.codegen import fresh_build
from tests.helpers import assert_user_error, run_cli

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


# ImageNet-sized inputs make the default tier slow; the same code at a smaller size.
_FEW = ["vars.classes=10", "expect=null"]
SMALL = {"alexnet": ["inputs.image=[67, 67, 3]", "layers[10].dense.units=64",
                     "layers[12].dense.units=64", *_FEW],
         "vgg16": ["inputs.image=[32, 32, 3]", "layers[6].dense.units=64",
                   "layers[7].dense.units=64", "vars.classes=10", *_FEW],
         "resnet50": ["inputs.image=[32, 32, 3]", *_FEW],
         "inception": ["inputs.image=[32, 32, 3]", *_FEW]}


def _ruff() -> str:
    return shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")


def _imports(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


def _round_trip(tmp_path: Path, specs: list[Path], small: bool) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    shutil.copytree(ROOT / "custom_layers", modules / "custom_layers")
    expected = {}
    for path in specs:
        spec = load_spec(path, SMALL.get(path.stem, []) if small else [])
        source, model = generate(spec)
        name = f"{path.stem}_model"
        (modules / f"{name}.py").write_text(source)
        if path.stem == "resnet50":
            _check_blocks_and_comments(source)
        assert _imports(source) <= {"keras", "custom_layers"}, (path.stem, _imports(source))
        fresh_build.fill_weights(model)
        expected[name] = (fresh_build.describe(model), fresh_build.outputs(model), spec, model)
    generated = [str(p) for p in sorted(modules.glob("*.py"))]
    checks = [[_ruff(), "check", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length",
               "100", *generated],
              [_ruff(), "format", "--check", "--isolated", "--line-length", "100",
               *generated]]
    for command in checks:
        done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    out = tmp_path / "out"
    out.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-S", str(Path(fresh_build.__file__)), site.getsitepackages()[0],
         str(modules), str(out), *expected], capture_output=True, text=True, cwd=tmp_path,
        env=env, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["compiler_importable"] is False
    from compiler.training.compile import compile_args

    for name, (description, outputs, spec, model) in expected.items():
        theirs = report[name]
        assert theirs["layers"] == description["layers"], name
        assert theirs["weights"] == description["weights"], name
        assert theirs["params"] == description["params"], name
        assert not [m for m in theirs["imports"] if m.split(".")[0] in ("compiler", "tests")]
        with np.load(out / f"{name}.npz") as saved:
            got = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        assert len(got) == len(outputs), name
        for mine, other in zip(outputs, got, strict=True):
            np.testing.assert_array_equal(mine, other, err_msg=name)
        if spec.training is not None:
            args = compile_args(spec, model, fresh_build.STEPS_PER_EPOCH)
            wanted = fresh_build.optimizer_config(args.make_optimizer())
            assert theirs["optimizer"]["class_name"] == wanted["class_name"], name
            assert _rounded(theirs["optimizer"]["config"]) == _rounded(wanted["config"]), name
        else:
            assert theirs["optimizer"]["class_name"] == "Adam", name


def _rounded(config: dict) -> dict:
    """An optimiser's config without its numbered name, numbers as float32 holds them."""
    def norm(value):
        if isinstance(value, float):
            return float(np.float32(value))
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items() if k != "name"}
        if isinstance(value, list):
            return [norm(v) for v in value]
        return value

    return norm(config)


# Tracing its greedy decoding loop takes longer than all the other specs together.
LONG_ONLY = {"date_translator"}


@pytest.mark.slow
def test_every_shipped_spec_builds_the_same_model_without_nncompile(tmp_path):
    _round_trip(tmp_path, [p for p in SPECS if p.stem not in LONG_ONLY], small=True)


@pytest.mark.long
def test_every_shipped_spec_at_its_own_size(tmp_path):
    _round_trip(tmp_path, [p for p in SPECS if p.stem in SMALL or p.stem in LONG_ONLY],
                small=False)


def _check_blocks_and_comments(source: str) -> None:
    """ResNet-50's blocks as functions, its `repeat:` a loop, its comments kept."""
    tree = ast.parse(source)
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {"conv_bn", "projection_block", "identity_block", "stage", "build_model",
            "compile_model"} <= functions
    assert "for i in range(blocks - 1):" in source
    assert "filters * 4" in source
    assert '"""Bottleneck with an identity shortcut' in source  # the block's comment
    assert "# residual stages (blocks 3-4-6-3)" in source  # a comment above a use


def test_the_command_writes_the_module_and_reports_spec_errors(tmp_path):
    target = tmp_path / "model.py"
    result = run_cli("codegen", ROOT / "specs" / "perceptron.yaml", "-o", target)
    assert result.exit_code == 0, result.output
    assert "def build_model():" in target.read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text("nncompile: 1\nname: bad\ninputs: {x: [2]}\nlayers:\n  - dense: {unit: 3}\n"
                   "outputs: [dense_1]\n")
    output = assert_user_error(run_cli("codegen", bad, "-o", tmp_path / "bad.py"))
    assert "bad.yaml:5" in output and "unit" in output
    assert not (tmp_path / "bad.py").exists()


SHAPES_DIFFER = """\
nncompile: 1
name: uneven
blocks:
  # instances with and without the extra layer
  unit:
    params: {units: null, extra: 1}
    layers:
      - dense: {units: $units, activation: relu, name: a}
      - dense: {units: $units, repeat: $extra, name: b}
inputs:
  x: [3]
layers:
  - unit: {units: 4, name: first}
  - unit: {units: 5, extra: 0, name: second}
  - unit: {units: 6, repeat: 2, name: third}   # a loop of two
  - dense: {units: 2, name: head}
outputs: [head]
"""


def _same_model(source: str, model) -> None:
    namespace: dict = {}
    exec(compile(source, "uneven_model.py", "exec"), namespace)  # noqa: S102 - our own output
    rebuilt = namespace["build_model"]()
    assert fresh_build.describe(rebuilt) == fresh_build.describe(model)
    fill = fresh_build.fill_weights
    fill(model), fill(rebuilt)
    for mine, theirs in zip(fresh_build.outputs(model), fresh_build.outputs(rebuilt), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_layer_some_instances_lack_is_an_if_in_the_function(tmp_path):
    path = tmp_path / "uneven.yaml"
    path.write_text(SHAPES_DIFFER)
    source, model = generate(load_spec(path))
    _same_model(source, model)
    assert "def unit(inputs, units, extra=1, *, name):" in source
    assert "    if extra > 0:\n" in source
    assert "for i in range(2):" in source and "# a loop of two" in source


def test_option_a_shortcuts_are_an_if_on_the_stride(tmp_path):
    source, model = generate(load_spec(ROOT / "specs" / "resnet20_option_a.yaml"))
    _same_model(source, model)
    assert "def basic(inputs, filters, stride=1, *, name):" in source
    assert "    if stride > 1:\n" in source and "for i in range(2):" in source


def test_a_block_one_function_cannot_express_is_written_out(tmp_path):
    path = tmp_path / "uneven.yaml"
    path.write_text(SHAPES_DIFFER.replace("extra: 0", "extra: 2"))  # b_1, b_2 in one instance
    source, model = generate(load_spec(path))
    _same_model(source, model)
    assert "def unit(" not in source and 'name="third_1_a"' in source
    assert "# a loop of two" in source
