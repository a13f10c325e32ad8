"""The `ctc` loss: label lengths from the padding, logit lengths from the steps or a mask."""

from __future__ import annotations

import keras
import numpy as np

from compiler.training.losses import build_loss
from compiler.training.schema import LossChoice
from custom_layers.ctc_loss import CTCLoss

LABELS = np.array([[1, 2, 2, 0], [3, 1, 0, 0]], "int32")  # padded with 0, CTC's blank


def logits(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(2, 7, 4)).astype("float32")


def test_ctc_is_keras_s_ctc_loss_with_the_lengths_of_the_labels():
    loss = build_loss(LossChoice.model_validate("ctc"))
    assert isinstance(loss, CTCLoss)
    expected = keras.losses.CTC()(LABELS, logits())
    np.testing.assert_allclose(float(loss(LABELS, logits())), float(expected), rtol=1e-5)
    per_example = keras.ops.ctc_loss(LABELS, logits(), np.array([3, 2]), np.array([7, 7]),
                                     mask_index=0)
    np.testing.assert_allclose(float(loss(LABELS, logits())),
                               float(np.mean(np.asarray(per_example))), rtol=1e-5)


def test_masked_logits_end_where_their_mask_ends_and_other_padding_values_work():
    y_pred = keras.ops.convert_to_tensor(logits())
    mask = np.array([[True] * 7, [True] * 4 + [False] * 3])
    y_pred._keras_mask = keras.ops.convert_to_tensor(mask)
    padded = np.where(LABELS == 0, -1, LABELS)
    loss = CTCLoss(pad=-1)
    per_example = keras.ops.ctc_loss(LABELS, logits(), np.array([3, 2]), np.array([7, 4]),
                                     mask_index=0)
    np.testing.assert_allclose(float(loss(padded, y_pred)),
                               float(np.mean(np.asarray(per_example))), rtol=1e-5)


def test_a_model_trains_with_the_ctc_loss_named_in_a_spec_s_words():
    loss = build_loss(LossChoice.model_validate({"CTCLoss": {"blank": 0}}))
    model = keras.Sequential([keras.Input((7, 3)), keras.layers.Dense(4)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss=loss)
    x = np.random.default_rng(0).normal(size=(2, 7, 3)).astype("float32")
    history = model.fit(x, LABELS, epochs=6, verbose=0, batch_size=2)
    assert history.history["loss"][-1] < history.history["loss"][0]
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, CTCLoss) and restored.blank == 0
