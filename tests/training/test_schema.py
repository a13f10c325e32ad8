"""The `training:` schema: accepted forms, precise errors, no TensorFlow import."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from compiler.training.schema import TrainingSpec


def _error(data: dict) -> dict:
    with pytest.raises(ValidationError) as info:
        TrainingSpec.model_validate(data)
    return info.value.errors()[0]


def test_full_example_validates():
    spec = TrainingSpec.model_validate(
        {
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy", {"top_k": {"k": 3}}],
            "optimizer": {"adamw": {"learning_rate": 1e-3, "weight_decay": 0.01, "clipnorm": 1.0}},
            "schedule": {"warmup": {"epochs": 2, "then": {"cosine": {"min_lr": 1e-5}}}},
            "batch_size": 64,
            "epochs": 30,
            "class_weight": {0: 1.0, 1: 3.0},
            "callbacks": [{"early_stopping": {"patience": 5}}, "tensorboard", "csv_logger"],
            "init_from": {"model": "saved_models/other/model.keras", "layers": ["c1"]},
            "jit_compile": "auto",
            "seed": 7,
        }
    )
    assert spec.optimizer.name == "adamw" and spec.optimizer.params.weight_decay == 0.01
    assert spec.schedule.params.then.name == "cosine"
    assert [c.name for c in spec.callbacks] == ["early_stopping", "tensorboard", "csv_logger"]
    assert spec.metrics[1].params.k == 3


def test_defaults_and_bare_names():
    spec = TrainingSpec.model_validate({"loss": {"huber": {"delta": 2}}, "optimizer": "sgd"})
    assert spec.optimizer.name == "sgd"
    assert spec.optimizer.params.learning_rate == 0.01
    assert spec.loss.name == "huber" and spec.loss.params.delta == 2
    assert TrainingSpec.model_validate({"loss": "mse"}).optimizer.name == "adam"


def test_per_output_loss():
    spec = TrainingSpec.model_validate({"loss": {"digit": "sparse_categorical_crossentropy",
                                                 "box": {"huber": {"delta": 0.5}}}})
    assert spec.loss["box"].params.delta == 0.5


@pytest.mark.parametrize(
    ("data", "loc", "words"),
    [
        ({"loss": "mse", "optimizer": {"adm": {}}}, ("optimizer",), "did you mean 'adam'"),
        ({"loss": {"hubr": {"delta": 1}}}, ("loss",), "did you mean 'huber'"),
        ({"loss": "mse", "schedule": {"step_decy": {}}}, ("schedule",),
         "did you mean 'step_decay'"),
        ({"loss": "mse", "callbacks": ["early_stoping"]}, ("callbacks", 0),
         "did you mean 'early_stopping'"),
        ({"loss": "mse", "metrics": ["acuracy"]}, ("metrics", 0), "did you mean 'accuracy'"),
        ({"loss": "mse", "optimizer": {"adam": {"learning_rate": 0}}},
         ("optimizer", "adam", "learning_rate"), "greater than 0"),
        ({"loss": "mse", "optimizer": {"sgd": {"momentum": 1.0}}},
         ("optimizer", "sgd", "momentum"), "less than 1"),
        ({"loss": {"a": "mse", "b": {"huber": {"delta": -1}}}}, ("loss", "b", "huber", "delta"),
         "greater than 0"),
        ({"loss": "mse", "optimizer": {"adam": {"lr": 0.1}}}, ("optimizer", "adam", "lr"),
         "Extra inputs"),
        ({"loss": "mse", "optimizer": {"sgd": {}, "adam": {}}}, ("optimizer",), "exactly one key"),
        ({"loss": "mse", "schedule": {"warmup": {"then": {"warmup": {}}}}},
         ("schedule", "warmup", "then"), "unknown schedule 'warmup'"),
        ({"loss": "mse", "jit_compile": "sometimes"}, ("jit_compile",), ""),
        ({"loss": "mse", "class_weight": "balance"}, ("class_weight",), ""),
        ({"loss": "mse", "optimizer": {"adam": {"clipnorm": 1, "global_clipnorm": 1}}},
         ("optimizer", "adam"), "not both"),
    ],
)
def test_errors_are_located(data, loc, words):
    error = _error(data)
    assert tuple(error["loc"])[: len(loc)] == loc
    assert words in error["msg"]


def test_json_schema_lists_choices():
    from compiler.spec.base import attach_field_docstrings

    attach_field_docstrings()  # what `nncompile schema` does before generating
    schema = TrainingSpec.model_json_schema()
    optimizer = schema["$defs"]["OptimizerChoice"]
    assert set(optimizer["properties"]) == {"sgd", "rmsprop", "adagrad", "adam", "adamw", "adamax",
                                            "nadam"}
    assert optimizer["maxProperties"] == 1
    assert "momentum" in schema["$defs"]["SGDParams"]["properties"]
    assert schema["$defs"]["SGDParams"]["properties"]["momentum"]["description"]


def test_schema_and_command_modules_import_no_tensorflow():
    code = (
        "import sys, compiler.training.schema, compiler.cli.train;"
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_keras_names_of_losses_metrics_optimisers_and_callbacks():
    from compiler.training.schema import TrainingSpec

    training = TrainingSpec.model_validate({
        "loss": "mean_squared_error", "metrics": ["MeanAbsoluteError", "acc"],
        "optimizer": {"RMSprop": {"learning_rate": 0.01}}, "callbacks": None})
    assert training.loss.name == "mse" and training.optimizer.name == "rmsprop"
    assert [m.name for m in training.metrics] == ["mae", "accuracy"]
    assert training.callbacks == []
    adam = TrainingSpec.model_validate({"loss": "mse", "optimizer": "Adam"})
    assert adam.optimizer.name == "adam"
