"""Optimisers take a step; losses match their formulas; metrics build for each label format."""

import numpy as np
import pytest

from compiler.training.schema import LOSSES, OPTIMIZERS, TrainingSpec


def _tiny_model():
    import keras

    keras.utils.set_random_seed(1)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_builds_and_steps(name):
    from compiler.training.optimizers import build_optimizer

    params = {"learning_rate": 0.05, "clipnorm": 1.0}
    choice = TrainingSpec.model_validate({"loss": "mse", "optimizer": {name: params}}).optimizer
    model = _tiny_model()
    optimizer = build_optimizer(choice)
    assert float(optimizer.learning_rate) == pytest.approx(0.05)
    assert optimizer.clipnorm == 1.0
    model.compile(optimizer, "mse")
    before = [w.copy() for w in model.get_weights()]
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    model.train_on_batch(x, x.sum(1, keepdims=True))
    assert any(not np.array_equal(a, b)
               for a, b in zip(before, model.get_weights(), strict=False))


def test_sgd_momentum_and_nesterov_are_passed():
    from compiler.training.optimizers import build_optimizer

    choice = TrainingSpec.model_validate(
        {"loss": "mse", "optimizer": {"sgd": {"momentum": 0.9, "nesterov": True}}}).optimizer
    optimizer = build_optimizer(choice)
    assert optimizer.momentum == 0.9 and optimizer.nesterov is True


def _loss(data):
    from compiler.training.losses import build_loss

    return build_loss(TrainingSpec.model_validate({"loss": data}).loss)


def test_contrastive_matches_numpy():
    rng = np.random.default_rng(3)
    d = rng.uniform(0, 2, size=(32, 1)).astype("float32")
    y = rng.integers(0, 2, size=(32, 1)).astype("float32")
    margin = 1.25
    expected = np.mean(y * d**2 + (1 - y) * np.maximum(margin - d, 0) ** 2)
    got = float(_loss({"contrastive": {"margin": margin}})(y, d))
    assert got == pytest.approx(expected, rel=1e-5)


def test_contrastive_is_registered_and_round_trips():
    import keras

    loss = _loss({"contrastive": {"margin": 2.0}})
    config = keras.saving.serialize_keras_object(loss)
    assert config["registered_name"] == "nncompile>ContrastiveLoss"
    again = keras.saving.deserialize_keras_object(config)
    assert again.margin == 2.0


def test_huber_matches_numpy():
    err = np.array([[0.3], [2.0], [-1.5]], "float32")
    delta = 0.5
    a = np.abs(err)
    expected = np.mean(np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta)))
    assert (float(_loss({"huber": {"delta": delta}})(np.zeros_like(err), err))
            == pytest.approx(expected, rel=1e-5))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_has_a_builder(name):
    assert _loss(name) is not None


@pytest.mark.parametrize(
    ("loss", "units", "y"),
    [
        ("sparse_categorical_crossentropy", 3, np.array([0, 1, 2, 1])),
        ("categorical_crossentropy", 3, np.eye(3)[[0, 1, 2, 1]]),
        ("binary_crossentropy", 1, np.array([[0], [1], [1], [0]])),
        ("binary_crossentropy", 1, np.array([0, 1, 1, 0])),  # labels as a CSV column gives them
    ],
)
def test_metrics_build_for_each_label_format(loss, units, y):
    import keras

    from compiler.training.metrics import build_metric

    names = ["accuracy", "precision", "recall", "f1", "auc"] + (["top_k"] if units > 1 else [])
    spec = TrainingSpec.model_validate({"loss": loss, "metrics": names})
    model = keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(units, activation="softmax" if units > 1 else "sigmoid"),
    ])
    model.compile("adam", loss, metrics=[build_metric(m, loss, units) for m in spec.metrics])
    x = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    logs = model.evaluate(x, y.astype("float32"), verbose=0, return_dict=True)
    for key in ("accuracy", "precision", "recall", "f1", "auc"):
        assert 0.0 <= logs[key] <= 1.0


def test_multiclass_precision_counts_argmax_predictions():
    from compiler.training.metrics import MultiClassPrecision

    metric = MultiClassPrecision(num_classes=3, sparse=True)
    metric.update_state(np.array([0, 1, 2, 2]), np.array(
        [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.6, 0.2, 0.2], [0.1, 0.1, 0.8]], "float32"))
    assert float(metric.result()) == pytest.approx(0.75)


def test_f1_matches_its_definition_for_sigmoid_and_per_step_outputs():
    from compiler.training.metrics import BinaryF1, MultiClassF1

    def f1(true, predicted, positive):
        tp = np.sum((predicted == positive) & (true == positive))
        return 2 * tp / (np.sum(predicted == positive) + np.sum(true == positive))

    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 50), rng.random(50).astype("float32")
    metric = BinaryF1(threshold=0.5)
    metric.update_state(y, p[:, None])  # labels (batch,), sigmoid scores (batch, 1)
    assert float(np.ravel(metric.result())[0]) == pytest.approx(f1(y, p > 0.5, 1), rel=1e-5)

    tags, scores = rng.integers(0, 4, (6, 7)), rng.random((6, 7, 4)).astype("float32")
    metric = MultiClassF1(num_classes=4, sparse=True, average="macro")
    metric.update_state(tags, scores)  # one label per step
    predicted = scores.argmax(-1)
    want = np.mean([f1(tags, predicted, c) for c in range(4)])
    assert float(metric.result()) == pytest.approx(want, rel=1e-5)
