"""TFLite export: builtin ops only, numbers match Keras, quantisation, clear refusals."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from compiler.errors import ExportError
from compiler.export.tflite import export_tflite
from compiler.export.tflite_ops import list_ops, non_builtin_ops
from tests.helpers import make_model, make_two_headed

CALIBRATION = np.random.default_rng(0).standard_normal((40, 12, 5)).astype("float32")


def _run(path, inputs):
    runner = Interpreter(model_path=str(path)).get_signature_runner("serving_default")
    return runner(**inputs)


@pytest.mark.parametrize(
    "kind", ["mlp", "cnn", "lstm", "gru", "simple_rnn", "bidirectional", "minimal_gru",
             "attention"]
)
def test_builtin_ops_only_and_matches_keras(kind, tmp_path):
    model = make_model(kind)
    report = export_tflite(model, tmp_path / "m.tflite")
    content = (tmp_path / "m.tflite").read_bytes()
    assert non_builtin_ops(list_ops(content)) == []
    assert report.select_ops == [] and report.max_abs_diff < 1e-4
    # An independent check with the interpreter an application would use.
    x = np.random.default_rng(5).standard_normal((1, 12, 5)).astype("float32")
    got = _run(tmp_path / "m.tflite", {"seq": x})["out"]
    np.testing.assert_allclose(got, np.asarray(model(x)), atol=1e-4)


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_rnn", "minimal_gru", "stacked"])
def test_recurrent_dropout_does_not_block_export(kind, tmp_path):
    """Keras draws unused dropout masks at inference too; the export must not trip on them."""
    from custom_layers import MinimalGRU

    rates = {"dropout": 0.2, "recurrent_dropout": 0.1}
    inp = keras.Input((12, 5), name="seq")
    if kind == "stacked":
        cells = [keras.layers.GRUCell(6, **rates), keras.layers.LSTMCell(6, **rates)]
        x = keras.layers.RNN(cells)(inp)
    else:
        layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU,
                 "simple_rnn": keras.layers.SimpleRNN, "minimal_gru": MinimalGRU}[kind]
        x = keras.layers.Bidirectional(layer(6, **rates))(inp)
    model = keras.Model(inp, keras.layers.Dense(3, name="out")(x))
    report = export_tflite(model, tmp_path / "m.tflite")
    assert report.select_ops == [] and report.max_abs_diff < 1e-4
    cells = [layer for layer in model._flatten_layers() if hasattr(layer, "recurrent_dropout")]
    assert cells and all(c.recurrent_dropout == 0.1 for c in cells)  # restored after tracing


def test_names_dtypes_and_several_outputs(tmp_path):
    model = make_two_headed()
    export_tflite(model, tmp_path / "m.tflite")
    runner = Interpreter(model_path=str(tmp_path / "m.tflite")).get_signature_runner()
    details = runner.get_input_details()
    assert details["tokens"]["dtype"] == np.int32 and details["left"]["dtype"] == np.float32
    left = np.ones((1, 4), "float32")
    tokens = np.arange(6, dtype="int32")[None]
    got = runner(left=left, tokens=tokens)
    score, prob = model([left, tokens])
    np.testing.assert_allclose(got["score"], np.asarray(score), atol=1e-5)
    np.testing.assert_allclose(got["prob"], np.asarray(prob), atol=1e-5)


@pytest.mark.parametrize("quantize", ["dynamic", "float16", "int8"])
def test_quantisation_shrinks_and_agrees(quantize, tmp_path):
    inp = keras.Input((12, 5), name="seq")
    x = keras.layers.Dense(64, activation="relu")(keras.layers.Flatten()(inp))
    model = keras.Model(inp, keras.layers.Dense(3, activation="softmax", name="out")(x))
    plain = export_tflite(model, tmp_path / "f.tflite")
    report = export_tflite(
        model, tmp_path / "q.tflite", quantize=quantize, representative_data=CALIBRATION,
        sample_targets=np.argmax(np.asarray(model(CALIBRATION)), -1),
    )
    assert report.size_bytes < plain.size_bytes * (0.6 if quantize != "int8" else 0.4)
    assert report.agreement is not None and report.agreement >= 0.9
    assert report.accuracy >= 0.9 and report.keras_accuracy == 1.0
    ops = list_ops((tmp_path / "q.tflite").read_bytes())
    if quantize == "int8":
        assert "QUANTIZE" in ops
    assert quantize in report.summary()


def test_int8_needs_representative_data(tmp_path):
    with pytest.raises(ExportError, match="representative"):
        export_tflite(make_model("mlp"), tmp_path / "m.tflite", quantize="int8")
    assert not (tmp_path / "m.tflite").exists()


def test_int8_refuses_recurrent_loops_naming_the_layer(tmp_path):
    with pytest.raises(ExportError, match="my_lstm.*dynamic or float16"):
        export_tflite(make_model("lstm"), tmp_path / "m.tflite", quantize="int8",
                      representative_data=CALIBRATION)


class _Inverse(keras.layers.Layer):
    """A layer whose op (MatrixInverse) has no builtin TFLite kernel."""

    def call(self, x):
        return keras.ops.linalg.inv(x)


def _inverse_model():
    inp = keras.Input((4, 4), name="mat")
    return keras.Model(inp, keras.layers.Flatten(name="flat")(_Inverse(name="inverse")(inp)))


def test_flex_op_is_refused_naming_op_and_layer(tmp_path):
    with pytest.raises(ExportError) as info:
        export_tflite(_inverse_model(), tmp_path / "m.tflite")
    message = str(info.value)
    assert "MatrixInverse" in message and "'inverse'" in message
    assert "--allow-select-ops" in message
    assert not (tmp_path / "m.tflite").exists()


def test_allow_select_ops_is_an_explicit_opt_in(tmp_path):
    report = export_tflite(_inverse_model(), tmp_path / "m.tflite", allow_select_ops=True)
    assert report.select_ops == ["FlexMatrixInverse"]
    assert non_builtin_ops(list_ops((tmp_path / "m.tflite").read_bytes())) == ["FlexMatrixInverse"]


def test_tolerance_failure_keeps_previous_file(tmp_path):
    model = make_model("mlp")
    export_tflite(model, tmp_path / "m.tflite")
    before = (tmp_path / "m.tflite").read_bytes()
    with pytest.raises(ExportError, match="tolerance"):
        export_tflite(model, tmp_path / "m.tflite", quantize="float16", tolerance=1e-12)
    assert (tmp_path / "m.tflite").read_bytes() == before


@pytest.mark.parametrize("go_backwards", [False, True])
def test_variable_length_minimal_gru_matches_keras_at_every_length(go_backwards, tmp_path):
    """Inputs of shape (None,) tokens: the flatbuffer is traced with batch 1 and an
    unknown number of steps; padded sequences of every true length must agree."""
    from custom_layers import MinimalGRU

    keras.utils.set_random_seed(3)
    inp = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(4, 5, mask_zero=True)(inp)
    x = MinimalGRU(6, go_backwards=go_backwards)(x)
    model = keras.Model(inp, keras.layers.Dense(2, name="out")(x))
    export_tflite(model, tmp_path / "m.tflite")
    rng = np.random.default_rng(4)
    for steps in (1, 7, 19):
        tokens = rng.integers(1, 4, (1, steps)).astype("int32")
        padded = np.pad(tokens, ((0, 0), (0, 5)))
        got = _run(tmp_path / "m.tflite", {"tokens": padded})["out"]
        np.testing.assert_allclose(got, np.asarray(model(tokens)), atol=1e-5)


def test_integer_outputs_are_compared_as_ids_not_as_magnitudes():
    """Greedy-decoded tokens: one differing id is 1/40 of the ids, whatever its value,
    and the attention of that example is left out of the float comparison."""
    from compiler.export.tflite import TfliteReport, _compare_discrete

    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 14, (4, 10)).astype("int32")
    attention = rng.random((4, 10, 7)).astype("float32")
    got_tokens = tokens.copy()
    got_tokens[2, 5] = 1 if tokens[2, 5] == 13 else 13  # far away in value
    got_attention = attention + 1e-6
    got_attention[2] = 0.0  # that example decoded a different history
    expected = {"tokens": tokens, "attention": attention}
    got = {"tokens": got_tokens, "attention": got_attention}

    def report(tolerance):
        return TfliteReport(path=None, quantize="dynamic", size_bytes=0, ops=[], select_ops=[],
                            tolerance=tolerance)

    ok = report(0.1)
    _compare_discrete(ok, expected, got, ["tokens"])
    assert ok.agreement == pytest.approx(39 / 40) and ok.agreement_kind == "token"
    assert ok.max_rel_diff < 1e-5
    assert "token agreement 97.5%" in ok.summary()
    with pytest.raises(ExportError, match=r"other ids than Keras in 2.5% of the values of "
                                          r"output 'tokens'"):
        _compare_discrete(report(1e-4), expected, got, ["tokens"])
