"""Constant outputs prove nothing: the export check compares a layer that varies instead.

An untrained network can give the same outputs for every input (an untrained
MobileNetV2 says 1/classes for every class). Then the check converts the
model up to the deepest layer whose output varies and compares that.
"""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from compiler.errors import ExportError  # noqa: E402
from compiler.export.probe import varying_probe  # noqa: E402
from compiler.export.saved_model import export_saved_model  # noqa: E402
from compiler.export.signature import model_signature  # noqa: E402
from compiler.export.tflite import export_tflite  # noqa: E402


def _constant_head(zero_hidden: bool = False):
    """A model whose output ignores its input; `hidden` varies unless `zero_hidden`."""
    keras.utils.set_random_seed(3)
    inp = keras.Input((6,), name="x")
    init = "zeros" if zero_hidden else "glorot_uniform"
    hidden = keras.layers.Dense(5, activation="tanh", kernel_initializer=init,
                                name="hidden")(inp)
    out = keras.layers.Dense(3, activation="softmax", kernel_initializer="zeros",
                             bias_initializer="ones", name="out")(hidden)
    return keras.Model(inp, out)


def test_probe_is_the_deepest_varying_layer():
    model = _constant_head()
    sig = model_signature(model)
    x = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
    probe = varying_probe(model, sig, {"x": x})
    assert probe is not None and probe.layer == "hidden"
    np.testing.assert_allclose(np.asarray(probe.model(x)),
                               np.asarray(model.get_layer("hidden")(x)), rtol=1e-6)


def test_no_probe_when_nothing_varies():
    model = _constant_head(zero_hidden=True)
    sig = model_signature(model)
    x = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
    assert varying_probe(model, sig, {"x": x}) is None


def test_tflite_check_compares_the_varying_layer(tmp_path):
    report = export_tflite(_constant_head(), tmp_path / "m.tflite")
    assert report.weak and report.probe_layer == "hidden"
    assert report.probe_rel_diff is not None and report.probe_rel_diff < 1e-5
    assert "layer 'hidden', whose output varies, was compared instead" in report.summary()


def test_saved_model_check_compares_the_varying_layer(tmp_path):
    report = export_saved_model(_constant_head(), tmp_path / "sm")
    assert report.weak and report.probe_layer == "hidden" and report.probe_diff < 1e-5
    assert "layer 'hidden', whose output varies" in report.summary()
    assert not (tmp_path / "sm" / "probe").exists()  # the probe is not part of the export


def test_nothing_varies_is_said(tmp_path):
    report = export_tflite(_constant_head(zero_hidden=True), tmp_path / "m.tflite")
    assert report.weak and report.probe_layer is None
    assert "no layer's output varies" in report.summary()


def test_a_probe_that_disagrees_fails_the_export(tmp_path, monkeypatch):
    """A wrong conversion up to the varying layer is an error, and nothing is written."""
    import compiler.export.tflite as tflite

    real = tflite.convert_to_tflite
    calls = []

    def convert_wrong_probe(model, sig, **kwargs):
        calls.append(model.name)
        if not model.name.endswith("_probe"):
            return real(model, sig, **kwargs)
        # Convert a different network at the probe's place: its numbers differ.
        inp = keras.Input((6,), name="x")
        other = keras.Model(inp, keras.layers.Dense(5, name="hidden")(inp), name="other")
        return real(other, sig, **kwargs)

    monkeypatch.setattr(tflite, "convert_to_tflite", convert_wrong_probe)
    with pytest.raises(ExportError, match="at layer 'hidden', whose output varies"):
        export_tflite(_constant_head(), tmp_path / "m.tflite")
    assert len(calls) == 2 and not (tmp_path / "m.tflite").exists()


@pytest.mark.long
def test_untrained_mobilenet_is_checked_at_its_pooling(tmp_path):
    """The case reported: an untrained MobileNetV2 outputs 1/classes for every class."""
    model = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35,
                                           weights=None, classes=10)
    report = export_tflite(model, tmp_path / "m.tflite")
    assert report.weak and report.probe_layer.startswith("global_average_pooling2d")
    assert report.probe_rel_diff < 1e-4
    saved = export_saved_model(model, tmp_path / "sm")
    assert saved.weak and saved.probe_layer.startswith("global_average_pooling2d")
