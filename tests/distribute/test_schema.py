"""`training.backend`, `distribute` and `precision` in a spec, and the flags that set them."""

from __future__ import annotations

import pytest

from compiler.cli.train import _overrides
from tests.helpers import IRIS, assert_user_error, run_cli, write_training_spec


def test_the_new_fields_default_to_one_device_float32_on_the_engine_s_backend(tmp_path):
    from compiler.api import load_spec
    from compiler.distribute.choices import effective_backend

    path = write_training_spec(tmp_path, IRIS)
    training = load_spec(path).training
    assert (training.distribute, training.backend, training.precision) == ("none", None,
                                                                           "float32")
    assert effective_backend(None, "none") == "tensorflow"
    dp = load_spec(path, ["training.distribute=data_parallel"]).training
    assert effective_backend(dp.backend, dp.distribute) == "jax"
    mixed = load_spec(path, ["training.precision=mixed_bfloat16", "training.backend=jax"])
    assert (mixed.training.precision, mixed.training.backend) == ("mixed_bfloat16", "jax")


@pytest.mark.parametrize(("sets", "says"), [
    (["training.distribute=data_parallel", "training.backend=tensorflow"],
     "training.backend: distribute: data_parallel runs on the JAX backend"),
    (["training.distribute=mirrored", "training.backend=jax"],
     "training.backend: distribute: mirrored is TensorFlow's MirroredStrategy"),
    (["training.distribute=model_parallel"], "model_parallel (a layout map from the spec) is "
                                             "not available yet"),
    (["training.precision=mixed_half"], "expected one of 'float32', 'mixed_float16' or "
                                        "'mixed_bfloat16'"),
    (["training.backend=torch"], "expected one of 'tensorflow' or 'jax'"),
])
def test_validate_refuses_what_cannot_train_with_a_located_message(tmp_path, sets, says):
    path = write_training_spec(tmp_path, IRIS)
    args = [word for value in sets for word in ("--set", value)]
    output = assert_user_error(run_cli("validate", path, *args))
    assert says in output


def test_the_flags_become_overrides_after_the_spec_s_own():
    assert _overrides(("training.seed=1",), 3, "jax", "data_parallel") == [
        "training.seed=1", "training.epochs=3", "training.distribute=data_parallel",
        "training.backend=jax"]


def test_cluster_flags_without_data_parallel_are_a_usage_error_before_tensorflow(tmp_path):
    path = write_training_spec(tmp_path, IRIS)
    result = run_cli("train", path, "--out", tmp_path / "out", "--coordinator", "127.0.0.1:1",
                     "--num-workers", "2", "--worker-index", "1")
    output = assert_user_error(result, code=2)
    assert "several worker processes train together only with `distribute: data_parallel`" \
        in output
    assert not (tmp_path / "out").exists()
