"""Each schedule's learning rate equals its formula at given steps and epochs."""

import math

import numpy as np
import pytest

from compiler.training.schema import TrainingSpec

STEPS_PER_EPOCH = 10
ETA0 = 0.1


def _schedule(data: dict, epochs: int = 20):
    from compiler.training.schedules import build_schedule

    choice = TrainingSpec.model_validate({"loss": "mse", "schedule": data}).schedule
    return build_schedule(choice, ETA0, STEPS_PER_EPOCH, epochs)


def _rate(schedule, step: int) -> float:
    return float(np.asarray(schedule(step)))


@pytest.mark.parametrize("step", [0, 5, 9, 10, 25, 99, 150])
def test_inverse_time(step):
    epoch = step // STEPS_PER_EPOCH
    assert _rate(_schedule({"inverse_time": {"decay": 0.5}}), step) == pytest.approx(
        ETA0 / (1 + 0.5 * epoch), rel=1e-6)


@pytest.mark.parametrize("step", [0, 49, 50, 99, 100, 149, 150, 300])
def test_step_decay(step):
    epoch = step // STEPS_PER_EPOCH
    assert _rate(_schedule({"step_decay": {"factor": 0.9, "every": 5}}), step) == pytest.approx(
        ETA0 * 0.9 ** (epoch // 5), rel=1e-6)


@pytest.mark.parametrize("step", [0, 10, 35, 120])
def test_exponential(step):
    epoch = step // STEPS_PER_EPOCH
    assert _rate(_schedule({"exponential": {"rate": 0.8}}), step) == pytest.approx(
        ETA0 * 0.8**epoch, rel=1e-6)


@pytest.mark.parametrize("step", [0, 10, 55, 100, 199, 200, 400])
def test_cosine(step):
    epoch = min(step // STEPS_PER_EPOCH, 20)
    expected = 1e-3 + 0.5 * (ETA0 - 1e-3) * (1 + math.cos(math.pi * epoch / 20))
    assert _rate(_schedule({"cosine": {"min_lr": 1e-3}}), step) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("step", [0, 1, 10, 19, 20, 35, 60])
def test_warmup_then_step_decay(step):
    warm = 2 * STEPS_PER_EPOCH
    if step < warm:
        expected = ETA0 * (step + 1) / warm
    else:
        expected = ETA0 * 0.5 ** (((step - warm) // STEPS_PER_EPOCH) // 1)
    schedule = _schedule({"warmup": {"epochs": 2,
                                     "then": {"step_decay": {"factor": 0.5, "every": 1}}}})
    assert _rate(schedule, step) == pytest.approx(expected, rel=1e-6)


def test_warmup_alone_stays_constant():
    schedule = _schedule({"warmup": {"epochs": 1}})
    assert _rate(schedule, 4) == pytest.approx(ETA0 * 5 / 10)
    assert _rate(schedule, 500) == pytest.approx(ETA0)


def test_reduce_on_plateau_is_a_callback_not_a_schedule():
    assert _schedule({"reduce_on_plateau": {"factor": 0.5}}) is None


def test_schedule_drives_optimizer_and_survives_saving(tmp_path):
    import keras

    from compiler.training.optimizers import build_optimizer

    schedule = _schedule({"step_decay": {"factor": 0.5, "every": 1}})
    choice = TrainingSpec.model_validate({"loss": "mse", "optimizer": {"sgd": {}}}).optimizer
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(build_optimizer(choice, schedule), "mse")
    x, y = np.ones((40, 2), "float32"), np.ones((40, 1), "float32")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)  # 20 steps = 2 schedule epochs
    assert float(model.optimizer.learning_rate) == pytest.approx(ETA0 * 0.25)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert float(loaded.optimizer.learning_rate) == pytest.approx(ETA0 * 0.25)
