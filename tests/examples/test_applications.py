"""specs/vgg16.yaml and specs/resnet50.yaml against keras.applications.

The spec models must have the same parameter count and the same weight shapes
in the same order as the Keras reference models, so that the reference weights
(e.g. ImageNet's) can be copied in with ``set_weights``; after such a copy both
models must compute the same function.

Building both 138M- and 25M-parameter networks twice is the point here, and takes
most of a minute: this file is the `long` tier (`python -m pytest -m long`). The
default run still builds both specs and checks their parameter counts
(tests/examples/test_specs.py, `expect.params`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compiler.api import build, load_spec

pytestmark = [pytest.mark.slow, pytest.mark.long]

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs"

CASES = {
    "vgg16": ("VGG16", 138_357_544),
    "resnet50": ("ResNet50", 25_636_712),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def pair(request):
    """(spec model, Keras application model, expected parameter count) for one network."""
    import keras

    name = request.param
    app_name, params = CASES[name]
    spec_model = build(load_spec(SPEC_DIR / f"{name}.yaml")).model
    reference = getattr(keras.applications, app_name)(weights=None)
    yield name, spec_model, reference, params
    del spec_model, reference
    keras.backend.clear_session()


def test_parameter_count_matches_keras(pair):
    name, model, reference, params = pair
    assert reference.count_params() == params
    assert model.count_params() == reference.count_params(), name


def test_weight_shapes_match_keras_in_order(pair):
    name, model, reference, _ = pair
    ours = [tuple(w.shape) for w in model.weights]
    theirs = [tuple(w.shape) for w in reference.weights]
    assert len(ours) == len(theirs), name
    for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a == b, (f"{name}: weight {index} is {model.weights[index].path} {a}, "
                        f"Keras has {reference.weights[index].path} {b}")
    # Trainable and non-trainable (batch-norm moving statistics) split the same way.
    assert ([tuple(w.shape) for w in model.non_trainable_weights]
            == [tuple(w.shape) for w in reference.non_trainable_weights])


def _random_weights(reference, rng):
    """Distinct weights for every variable, scaled so activations stay of order one."""
    weights = []
    for variable in reference.weights:
        shape = tuple(variable.shape)
        path = variable.path
        if len(shape) > 1:  # kernels: He scaling on the fan-in
            fan_in = int(np.prod(shape[:-1]))
            w = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        elif "moving_variance" in path or path.endswith("gamma"):
            w = rng.uniform(0.5, 1.5, shape)
        else:  # biases, beta, moving means
            w = rng.normal(0.0, 0.05, shape)
        weights.append(w.astype("float32"))
    return weights


FEATURES = {"vgg16": "fc2", "resnet50": "avg_pool"}


def test_copied_weights_give_the_same_outputs(pair):
    import keras

    name, model, reference, _ = pair
    rng = np.random.default_rng(0)
    reference.set_weights(_random_weights(reference, rng))
    model.set_weights(reference.get_weights())
    x = rng.random((1, *reference.input_shape[1:])).astype("float32")

    # The features before the classifier (not squashed by the softmax) ...
    layer = FEATURES[name]
    theirs = keras.Model(reference.input, reference.get_layer(layer).output)
    ours = keras.Model(model.input, model.get_layer(layer).output)
    expected = np.asarray(theirs(x, training=False))
    got = np.asarray(ours(x, training=False))
    scale = float(np.max(np.abs(expected)))
    assert scale > 1e-3 and np.std(expected) > 1e-4, f"{name}: degenerate features"
    np.testing.assert_allclose(got, expected, atol=1e-4 * scale, rtol=1e-4, err_msg=name)

    # ... and the class probabilities.
    expected = np.asarray(reference(x, training=False))
    got = np.asarray(model(x, training=False))
    assert got.shape == expected.shape == (1, 1000)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4, err_msg=name)
