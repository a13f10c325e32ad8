"""What `nncompile train` checks before it fits: losses, metrics, class weights, init_from
and token ids that do not fit the model or its data are located errors (exit 1)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import assert_user_error, run_cli, write_csv_spec, write_regression_spec


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "mse"])
def test_a_loss_that_does_not_fit_class_index_targets(csv_folder, loss):
    output = assert_user_error(run_cli("train", write_csv_spec(csv_folder), "--out", "out",
                                       "--set", f"training.loss={loss}"))
    assert f"training.loss: output 'kind' gives shape (3,) per example, so {loss} needs targets " \
           "of shape (3,)" in output
    assert "use sparse_categorical_crossentropy" in output
    output = assert_user_error(run_cli("lr-find", write_csv_spec(csv_folder), "-o", "lr.png",
                                       "--steps", "5", "--set", f"training.loss={loss}"))
    assert "use sparse_categorical_crossentropy" in output


def test_metrics_that_cannot_mean_anything(csv_folder):
    output = assert_user_error(run_cli("train", write_regression_spec(csv_folder), "--out", "out",
                                       "--set", "training.metrics=[mae, accuracy, auc]"))
    assert "training.metrics[1]: 'accuracy' measures classification, but output 'y' is trained " \
           "with mse on continuous targets" in output
    assert "training.metrics[2]: 'auc' measures classification" in output
    output = assert_user_error(run_cli("train", write_csv_spec(csv_folder), "--out", "out",
                                       "--set", "training.metrics=[accuracy, top_k]"))
    assert "training.metrics[1]: top_k with k=5 on output 'kind' of 3 classes is always 1; " \
           "choose k below 3" in output


def test_class_weight_for_a_class_the_model_lacks(csv_folder):
    output = assert_user_error(run_cli("train", write_csv_spec(csv_folder), "--out", "out",
                                       "--set", "training.class_weight={0: 1.0, 5: 2.0}"))
    assert "training.class_weight: class_weight names class(es) 5, but the model has 3 classes" \
           in output


def test_class_weight_on_a_model_with_two_outputs(csv_folder):
    (csv_folder / "m.csv").write_text("a,b,price,kind\n" + "".join(
        f"{i / 10},{i % 4 / 4},{i / 7:.3f},{i % 3}\n" for i in range(12)))
    spec = csv_folder / "m.yaml"
    spec.write_text(
        "nncompile: 1\nname: m\ninputs:\n  features: {shape: [2]}\nlayers:\n"
        "  - dense: {units: 4, name: h}\n  - dense: {units: 1, name: price, inputs: h}\n"
        "  - dense: {units: 3, activation: softmax, name: kind, inputs: h}\n"
        "outputs: [price, kind]\n"
        "data: {csv: {path: m.csv, target: [price, kind], features: [a, b]}, split: none}\n"
        "training: {loss: {price: mse, kind: sparse_categorical_crossentropy}, epochs: 1,\n"
        "           jit_compile: false, class_weight: balanced}\n")
    output = assert_user_error(run_cli("train", spec, "--out", "out"))
    assert "training.class_weight: class_weight applies to a model with one output; " \
           "this one has 2" in output


def test_init_from_a_model_with_no_layer_of_the_same_name(csv_folder):
    other = write_regression_spec(csv_folder, "other")
    other.write_text(other.read_text().replace("name: hidden", "name: first"))
    assert run_cli("train", other, "--out", "out", "--quiet").exit_code == 0
    output = assert_user_error(run_cli("train", write_csv_spec(csv_folder), "--out", "out", "--set",
                                       "training.init_from={model: out/other/model.keras}"))
    assert "training.init_from.model: no layer of this model has a namesake with weights in " \
           "'out/other/model.keras'" in output
    assert "its layers with weights are: first, y (this model's: hidden, kind)" in output


def test_token_ids_beyond_the_embedding_are_located_before_training(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, size=(40, 6))
    x[:, 0] = 28  # in every split
    np.savez(tmp_path / "t.npz", x=x, y=rng.integers(0, 2, 40))
    (tmp_path / "t.yaml").write_text(
        "name: t\ninputs: {x: {shape: [6], dtype: int32}}\nlayers:\n"
        "  - embedding: {input_dim: 20, output_dim: 4, mask_zero: true}\n"
        "  - gru: 4\n  - dense: {units: 2, activation: softmax}\n"
        "data: {npz: {path: t.npz, inputs: x, targets: y}, split: {validation: 0.2, test: 0.2}}\n"
        "training: {loss: sparse_categorical_crossentropy, epochs: 1, jit_compile: auto}\n")
    out = assert_user_error(run_cli("train", "t.yaml", "--out", tmp_path / "out", "--quiet"))
    assert ("t.yaml:4:28: layers[0].embedding.input_dim: input_dim 20 is too small for input 'x': "
            "its training data hold token ids up to 28; set input_dim to at least 29") in out
