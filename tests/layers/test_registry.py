"""The layer catalogue: declared in each layer module, found without importing it.

A layer type is one class in one module of compiler/layers, registered with
``@register(...)``. These tests check that what the source scan finds is what
the modules register when imported, that a declaration the scan cannot read is
refused loudly, that every type has a schema and a builder, and that a family
over spatial axes refuses a number of axes Keras has no layer for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from compiler.errors import SpecError
from compiler.layers import (
    KERAS_NAMES,
    LAYER_TYPES,
    NOT_KERAS_NAMES,
    all_layer_classes,
    canonical_type,
    layer_class,
)
from compiler.layers.base import LayerSpec
from compiler.layers.registry import (
    DECLARED,
    REGISTRY,
    CatalogueError,
    discover,
    keras_names,
    read_declarations,
    register,
)
from compiler.layers.spatial import SpatialSpec, keras_class
from tests.helpers import load_text, spec_text

REPO_ROOT = Path(__file__).resolve().parents[2]
LAYERS_DIR = REPO_ROOT / "compiler" / "layers"

NEW_TYPES = ("conv3d", "conv3d_transpose", "max_pool3d", "avg_pool3d", "global_avg_pool3d",
             "global_max_pool3d", "zero_padding3d", "upsampling3d", "conv_lstm2d")


# ---------------------------------------------------------------- discovery

def test_each_module_registers_exactly_what_its_source_declares():
    classes = all_layer_classes()
    assert set(REGISTRY) == set(LAYER_TYPES) == set(classes)
    for name, cls in classes.items():
        declared = DECLARED[name]
        assert cls.__module__ == f"compiler.layers.{declared.module}", name
        assert cls.__name__ == declared.class_name, name
        assert cls.type_name == name


def test_the_scan_finds_every_register_call_in_the_layer_modules():
    # Count the decorators by a different reading of the source (lines, not the
    # scanner's regular expression): a declaration the scan misses fails here.
    for path in sorted(LAYERS_DIR.glob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        written = [line for line in lines if line.lstrip().startswith("@register(")]
        assert all(line.startswith("@register(") for line in written), \
            f"{path.name}: an indented @register is not a top-level layer type"
        assert len(read_declarations(path)) == len(written), path.name


def test_the_new_types_are_one_module_each_and_need_no_table():
    for name in NEW_TYPES:
        assert LAYER_TYPES[name] == name, f"{name} is not declared in its own module"
        assert (LAYERS_DIR / f"{name}.py").is_file()
    # No hand-written list of types is left in the package's entry point.
    init = (LAYERS_DIR / "__init__.py").read_text(encoding="utf-8")
    assert not any(f'"{name}"' in init for name in ("dense", "conv2d", "lstm"))


def test_every_registered_type_has_a_schema_and_a_builder():
    for name, cls in all_layer_classes().items():
        assert issubclass(cls, LayerSpec), name
        assert cls.build is not LayerSpec.build, f"{name} has no builder"
        schema = cls.model_json_schema()
        assert schema["type"] == "object" and "name" in schema["properties"], name
        assert (cls.__doc__ or "").strip(), f"{name} has no docstring (its schema description)"
        if cls.shorthand is not None:
            assert cls.shorthand in cls.model_fields, name


def test_every_spatial_type_builds_the_keras_class_for_its_number_of_axes():
    import keras

    for name, cls in all_layer_classes().items():
        if not issubclass(cls, SpatialSpec):
            continue
        assert cls.dims in cls.keras_classes, name
        keras_name = cls.keras_classes[cls.dims]
        assert f"{cls.dims}D" in keras_name, (name, keras_name)
        assert keras_class(cls, cls.dims) is getattr(keras.layers, keras_name)


def _package(tmp_path: Path, **modules: str) -> Path:
    for module, text in modules.items():
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def test_discovery_reads_names_keras_spellings_and_exclusions(tmp_path):
    folder = _package(tmp_path, volumes='''
        """A docstring that mentions @register("not_a_type") inside a line."""
        from compiler.layers.base import register


        @register("conv9d", keras=("Convolution9D", "Conv9DAlias"))
        class Conv9D:
            pass


        @register(
            "pool9d",  # a comment
            keras=("MaxPooling9D",),
        )
        @some_other_decorator
        class MaxPool9D:
            pass


        @register("additive", not_keras=("Additive",))
        class Additive:
            pass
        ''')
    found = discover(folder)
    assert list(found) == ["conv9d", "pool9d", "additive"]
    assert [d.class_name for d in found.values()] == ["Conv9D", "MaxPool9D", "Additive"]
    assert {d.module for d in found.values()} == {"volumes"}
    assert keras_names(found) == {"convolution9d": "conv9d", "conv9d_alias": "conv9d",
                                  "max_pooling9d": "pool9d"}
    assert found["additive"].not_keras == ("Additive",)


@pytest.mark.parametrize("source, message", [
    ('NAME = "x"\n@register(NAME)\nclass X:\n    pass\n', "literal names"),
    ('@register("x", keras=KERAS)\nclass X:\n    pass\n', "literal names"),
    ('@register("x", aliases=("X",))\nclass X:\n    pass\n', "literal names"),
    ('@register("x")\ndef x():\n    pass\n', "top-level class"),
    ('@register("x"\nclass X:\n    pass\n', "cannot read|unclosed"),
])
def test_a_declaration_the_scan_cannot_read_is_an_error(tmp_path, source, message):
    (tmp_path / "bad.py").write_text(source, encoding="utf-8")
    with pytest.raises(CatalogueError, match=message):
        discover(tmp_path)


def test_a_type_declared_twice_or_a_keras_name_taken_twice_is_an_error(tmp_path):
    _package(tmp_path, a='@register("x")\nclass X:\n    pass\n',
             b='@register("x")\nclass Y:\n    pass\n')
    with pytest.raises(CatalogueError, match="declared twice: a.py:1 and b.py:1"):
        discover(tmp_path)
    clash = tmp_path / "clash"
    clash.mkdir()
    _package(clash, a='@register("x", keras=("Y",))\nclass X:\n    pass\n',
             b='@register("y")\nclass Y:\n    pass\n')
    with pytest.raises(CatalogueError, match="Keras name 'Y' of 'x' is already the name of 'y'"):
        keras_names(discover(clash))
    both = tmp_path / "both"
    both.mkdir()
    _package(both, a='@register("x", keras=("Both",))\nclass X:\n    pass\n',
             b='@register("y", keras=("Both",))\nclass Y:\n    pass\n')
    with pytest.raises(CatalogueError, match="Keras name 'Both' of 'y' is already the name of 'x'"):
        keras_names(discover(both))


def test_register_refuses_a_layer_class_the_scan_did_not_see():
    namespace = {"__module__": "compiler.layers.core", "__qualname__": "Hidden"}
    hidden = type("Hidden", (), namespace)
    with pytest.raises(CatalogueError, match="not declared where the catalogue reads it"):
        register("hidden_type")(hidden)
    # A declared type registered with other Keras spellings than its source gives.
    dense = type("Dense", (), {"__module__": "compiler.layers.core"})
    with pytest.raises(CatalogueError, match="'dense'"):
        register("dense", keras=("Fully",))(dense)
    assert "hidden_type" not in REGISTRY and layer_class("dense").__name__ == "Dense"


def test_a_family_over_an_unsupported_number_of_axes_is_an_error():
    from compiler.layers.convolution import Convolution, SeparableConvolution
    from compiler.layers.pooling import MaxPooling

    with pytest.raises(TypeError, match=r"^Convolution: no Keras layer of this family has 4 "
                       r"spatial axes \(dims 1 \(Conv1D\), 2 \(Conv2D\), 3 \(Conv3D\)\)$"):
        Convolution.of(4)
    with pytest.raises(TypeError, match="SeparableConvolution: no Keras layer .* has 3 spatial"):
        SeparableConvolution.of(3)
    with pytest.raises(TypeError, match="MaxPool4D: no Keras layer of this family has 4 spatial"):
        class MaxPool4D(MaxPooling):
            dims = 4
    with pytest.raises(TypeError, match="has 0 spatial axes"):
        keras_class(MaxPooling, 0)
    # Each number of axes is one class, its per-axis fields typed for that many axes.
    assert Convolution.of(3) is Convolution.of(3) is not Convolution.of(2)
    assert Convolution.of(3).dims == 3 and Convolution.of(3).keras_classes[3] == "Conv3D"


# ---------------------------------------------------------------- lookups

@pytest.mark.parametrize(("written", "expected"), [
    ("Conv3D", "conv3d"), ("Convolution3D", "conv3d"), ("convolution3d", "conv3d"),
    ("Conv3DTranspose", "conv3d_transpose"), ("Convolution3DTranspose", "conv3d_transpose"),
    ("MaxPooling3D", "max_pool3d"), ("max_pooling3d", "max_pool3d"),
    ("AveragePooling3D", "avg_pool3d"), ("average_pooling3d", "avg_pool3d"),
    ("GlobalAveragePooling3D", "global_avg_pool3d"),
    ("global_average_pooling3d", "global_avg_pool3d"),
    ("GlobalMaxPooling3D", "global_max_pool3d"), ("global_max_pooling3d", "global_max_pool3d"),
    ("ZeroPadding3D", "zero_padding3d"), ("UpSampling3D", "upsampling3d"),
    ("up_sampling3d", "upsampling3d"), ("ConvLSTM2D", "conv_lstm2d"),
    ("conv_lstm2d", "conv_lstm2d"), ("AdditiveAttention", "AdditiveAttention"),
    ("Conv4D", "Conv4D"), (3, 3),
])
def test_canonical_type_of_the_new_names(written, expected):
    assert canonical_type(written) == expected


def test_keras_names_match_the_names_keras_gives_its_layers():
    import keras
    from keras.src.utils.naming import to_snake_case

    for alias, name in KERAS_NAMES.items():
        assert name in LAYER_TYPES and alias not in LAYER_TYPES
    for cls_name in ("Conv3D", "Conv3DTranspose", "MaxPooling3D", "AveragePooling3D",
                     "GlobalAveragePooling3D", "GlobalMaxPooling3D", "ZeroPadding3D",
                     "UpSampling3D", "ConvLSTM2D"):
        assert hasattr(keras.layers, cls_name)
        assert canonical_type(to_snake_case(cls_name)) == canonical_type(cls_name) != cls_name
    assert NOT_KERAS_NAMES == {"AdditiveAttention"}


def test_layer_class_imports_only_the_module_it_needs():
    code = textwrap.dedent("""
        import sys
        from compiler.layers import LAYER_TYPES, layer_class
        assert layer_class('conv3d').type_name == 'conv3d'
        loaded = sorted(m for m in sys.modules if m.startswith('compiler.layers.'))
        heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)
        assert not heavy, heavy
        assert 'compiler.layers.core' not in loaded, loaded
        assert 'compiler.layers.conv_lstm2d' not in loaded, loaded
        print(len(LAYER_TYPES))
        """)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(LAYER_TYPES)


def test_an_unknown_type_gets_a_did_you_mean(tmp_path):
    text = spec_text("t", {"x": [4, 4, 4, 1]}, "- conv3e: {filters: 2, kernel: 3}")
    with pytest.raises(SpecError, match=r"unknown layer type 'conv3e' \(did you mean 'conv3d'\?\)"):
        load_text(tmp_path, text)
    text = spec_text("t", {"x": [3, 4, 4, 1]}, "- conv_lstm: {filters: 2, kernel: 3}")
    with pytest.raises(SpecError, match=r"did you mean 'conv_lstm2d'\?"):
        load_text(tmp_path, text)


def test_layer_class_of_every_type():
    for name in LAYER_TYPES:
        assert layer_class(name).type_name == name
