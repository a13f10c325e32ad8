"""Every example spec in specs/ validates, builds, meets its `expect:` and runs.

The specs are globbed at collection time, so a new file in specs/ is covered
without touching this test. A spec whose `expect.params` is above 20M
parameters is marked slow (building and running it takes seconds to minutes
on a small CPU).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from compiler.api import build, load_spec

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs"
SPECS = sorted(SPEC_DIR.glob("*.yaml"))
SLOW_PARAMS = 20_000_000
VARIABLE_DIM = 5  # size given to a `null` (variable) dimension in the random batch


@functools.cache
def _spec_or_none(path: Path):
    """The loaded spec, or None when it does not load (the tests then report why).

    Loading validates without importing TensorFlow, so this is cheap at collection.
    """
    try:
        return load_spec(path)
    except Exception:  # noqa: BLE001 - test_spec_builds_meets_expect_and_runs shows the error
        return None


def _declared_params(path: Path) -> int:
    spec = _spec_or_none(path)
    return spec.expect.params if spec and spec.expect and spec.expect.params else 0


def _param(path: Path):
    marks = [pytest.mark.slow] if _declared_params(path) > SLOW_PARAMS else []
    return pytest.param(path, id=path.stem, marks=marks)


SPEC_PARAMS = [_param(p) for p in SPECS]


def _random_inputs(spec, batch: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, inp in spec.inputs.items():
        shape = (batch, *[VARIABLE_DIM if d is None else d for d in inp.shape])
        if inp.dtype.startswith("int"):
            arrays[name] = rng.integers(0, 2, size=shape).astype(inp.dtype)
        elif inp.dtype == "bool":
            arrays[name] = rng.integers(0, 2, size=shape).astype(bool)
        else:
            arrays[name] = rng.random(shape).astype(inp.dtype)
    return arrays


def _outputs_by_name(spec, out):
    if isinstance(out, dict):
        return out
    return dict(zip(spec.outputs, out if isinstance(out, (list, tuple)) else [out], strict=False))


def test_the_example_specs_exist():
    names = {p.stem for p in SPECS}
    for expected in ("mlp_figure6_1", "perceptron", "lenet5", "alexnet", "vgg16", "resnet50",
                     "inception", "siamese", "digits_cnn", "digits_mlp"):
        assert expected in names, f"specs/{expected}.yaml is missing"


@pytest.mark.parametrize("spec_path", SPEC_PARAMS)
def test_spec_builds_meets_expect_and_runs(spec_path, example_build):
    spec = load_spec(spec_path)
    # Every example declares what it builds, so the check below is never empty.
    assert spec.expect is not None and spec.expect.params, "example specs declare expect.params"
    assert spec.expect.output_shapes, "example specs declare expect.output_shapes"
    assert set(spec.expect.output_shapes) == set(spec.outputs)

    _, result = example_build(spec_path)  # `build` raises SpecError when `expect:` does not hold
    model = result.model
    assert result.total_params == spec.expect.params
    assert sum(row.params for row in result.rows) == result.total_params  # the table adds up
    assert [t.name for t in model.inputs] == list(spec.inputs)

    batch = 2
    x = _random_inputs(spec, batch)
    out = model(x if len(x) > 1 else next(iter(x.values())), training=False)
    outputs = _outputs_by_name(spec, out)
    for name, expected in spec.expect.output_shapes.items():
        value = np.asarray(outputs[name])
        assert value.ndim == len(expected) and value.shape[0] == batch, (name, value.shape)
        for axis, dim in enumerate(expected[1:], start=1):
            assert dim is None or value.shape[axis] == dim, (name, value.shape, expected)
        assert np.all(np.isfinite(value)), f"{name} has non-finite values"


# Drawing the detector's shapes data set takes seconds; the others load in well under one.
SLOW_DATA = {"yolo_shapes"}
DATA_SPECS = [pytest.param(p, id=p.stem, marks=[pytest.mark.slow]) if p.stem in SLOW_DATA
              else _param(p) for p in SPECS if (spec := _spec_or_none(p)) and spec.data is not None]


@pytest.mark.parametrize("spec_path", DATA_SPECS)
def test_spec_data_fits_the_model(spec_path, example_build):
    """The spec's `data:` section loads and one training batch goes through the model."""
    from compiler.data.pipeline import load_data

    spec, built = example_build(spec_path)
    assert spec.data is not None and spec.training is not None
    model = built.model
    bundle = load_data(spec, batch_size=spec.training.batch_size)
    assert bundle.train is not None and bundle.test is not None
    inputs, targets = next(iter(bundle.train))
    out = model(inputs, training=False)
    out = out[0] if isinstance(out, (list, tuple)) else out
    assert int(out.shape[0]) == int(np.asarray(targets).shape[0]) == spec.training.batch_size
    if bundle.task == "classification" and int(out.shape[-1]) == 1:
        assert bundle.num_classes == 2  # a single sigmoid unit for two classes
    elif bundle.task == "classification":
        assert int(out.shape[-1]) == bundle.num_classes
        np.testing.assert_allclose(np.sum(np.asarray(out), axis=-1), 1.0, rtol=1e-5)


# ------------------------------------------------------------- particular specs
def test_mlp_figure6_1_is_the_book_figure(example_build):
    model = example_build(SPEC_DIR / "mlp_figure6_1.yaml")[1].model
    dense = [layer for layer in model.layers if layer.weights]
    assert [tuple(layer.kernel.shape) for layer in dense] == [(2, 4), (4, 4), (4, 1)]
    y = np.asarray(model(np.array([[0.5, -1.0], [3.0, 2.0]], dtype="float32")))
    assert np.all((y > 0) & (y < 1))  # logistic output: a probability


def test_perceptron_outputs_zero_or_one():
    # Built here: the test sets the weights of the model.
    spec = load_spec(SPEC_DIR / "perceptron.yaml")
    model = build(spec).model
    tlu = model.get_layer("tlu")
    tlu.set_weights([np.array([[1.0], [1.0]], dtype="float32"), np.array([-1.5], "float32")])
    # The TLU with w = (1, 1), b = -1.5 is the AND of two binary inputs.
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    np.testing.assert_array_equal(np.asarray(model(x)).ravel(), [0, 0, 0, 1])


def test_lenet5_shapes_follow_the_paper(example_build):
    model = example_build(SPEC_DIR / "lenet5.yaml")[1].model
    shapes = {name: tuple(model.get_layer(name).output.shape[1:])
              for name in ("c1", "s2", "c3", "s4", "c5", "f6", "output")}
    assert shapes == {"c1": (28, 28, 6), "s2": (14, 14, 6), "c3": (10, 10, 16),
                      "s4": (5, 5, 16), "c5": (1, 1, 120), "f6": (84,), "output": (10,)}


def test_inception_modules_concatenate_four_branches(example_build):
    model = example_build(SPEC_DIR / "inception.yaml")[1].model
    widths = {m: int(model.get_layer(f"inception_{m}_output").output.shape[-1])
              for m in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")}
    assert widths == {"3a": 256, "3b": 480, "4a": 512, "4b": 512, "4c": 512, "4d": 528,
                      "4e": 832, "5a": 832, "5b": 1024}
    concat = model.get_layer("inception_3a_output")
    parents = [t._keras_history[0].name for t in concat.input]
    assert parents == ["inception_3a_1x1", "inception_3a_3x3", "inception_3a_5x5",
                       "inception_3a_pool_proj"]


def test_siamese_towers_share_their_weights(example_build):
    spec, built = example_build(SPEC_DIR / "siamese.yaml")
    model = built.model
    # One set of tower weights: the second application adds no variables.
    assert len(model.weights) == 4 * 2  # conv1, conv2, hidden, embedding: kernel + bias each
    rng = np.random.default_rng(1)
    a = rng.random((3, 8, 8, 1)).astype("float32")
    b = rng.random((3, 8, 8, 1)).astype("float32")
    d_ab = np.asarray(model({"image_a": a, "image_b": b}))
    d_ba = np.asarray(model({"image_a": b, "image_b": a}))
    d_aa = np.asarray(model({"image_a": a, "image_b": a}))
    assert d_ab.shape == (3, 1) and np.all(d_ab > 1e-3)
    np.testing.assert_allclose(d_ab, d_ba, rtol=1e-5)  # the same h on both sides
    np.testing.assert_allclose(d_aa, 0.0, atol=1e-3)
    assert spec.training.loss.name == "contrastive"
