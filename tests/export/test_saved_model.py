"""SavedModel export: signature names, dtypes, dynamic batch, numbers, standalone loading."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from compiler.export.saved_model import export_saved_model
from compiler.export.signature import call_keras, model_signature, random_inputs
from tests.helpers import make_model, make_two_headed

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def two_headed_export(tmp_path_factory):
    model = make_two_headed()
    path = tmp_path_factory.mktemp("sm") / "saved_model"
    report = export_saved_model(model, path, metadata={"labels": ["a", "b"]})
    return model, path, report


def test_signature_has_spec_names_dtypes_and_dynamic_batch(two_headed_export):
    import tensorflow as tf

    _, path, report = two_headed_export
    fn = tf.saved_model.load(str(path)).signatures["serving_default"]
    _, inputs = fn.structured_input_signature
    assert sorted(inputs) == ["left", "tokens"]
    assert inputs["left"].dtype == tf.float32 and inputs["left"].shape.as_list() == [None, 4]
    assert inputs["tokens"].dtype == tf.int32 and inputs["tokens"].shape.as_list() == [None, 6]
    assert sorted(fn.structured_outputs) == ["prob", "score"]
    assert report.max_abs_diff <= 1e-5


def test_outputs_match_keras_for_several_batch_sizes(two_headed_export):
    import tensorflow as tf

    model, path, _ = two_headed_export
    fn = tf.saved_model.load(str(path)).signatures["serving_default"]
    sig = model_signature(model)
    for batch in (1, 5):
        inputs = random_inputs(sig, batch, seed=batch)
        got = fn(**{k: tf.constant(v) for k, v in inputs.items()})
        want = call_keras(model, sig, inputs)
        for name in ("score", "prob"):
            assert got[name].shape[0] == batch
            np.testing.assert_allclose(got[name].numpy(), want[name], atol=1e-5)


def test_metadata_is_embedded_as_asset(two_headed_export):
    _, path, _ = two_headed_export
    meta = json.loads((path / "assets.extra" / "metadata.json").read_text())
    assert meta == {"labels": ["a", "b"]}


def test_renamed_inputs_and_outputs(tmp_path):
    import tensorflow as tf

    model = make_model("gru")
    export_saved_model(model, tmp_path / "sm", input_names=["sentence"], output_names=["topic"])
    fn = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    assert list(fn.structured_input_signature[1]) == ["sentence"]
    assert list(fn.structured_outputs) == ["topic"]


@pytest.mark.slow
def test_loads_in_a_process_that_cannot_import_the_project(tmp_path):
    import keras

    from custom_layers import MinimalGRU  # noqa: F401 - the export uses a custom layer

    inp = keras.Input((7, 3), name="steps")
    out = keras.layers.Dense(2, name="y")(MinimalGRU(5)(inp))
    model = keras.Model(inp, out)
    export_saved_model(model, tmp_path / "sm")
    x = np.random.default_rng(0).standard_normal((4, 7, 3)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "want.npy", np.asarray(model(x)))
    code = textwrap.dedent(
        """
        import importlib.util, sys
        import numpy as np
        for name in ("compiler", "custom_layers"):
            assert importlib.util.find_spec(name) is None, name + " is importable"
        import tensorflow as tf
        fn = tf.saved_model.load("sm").signatures["serving_default"]
        got = fn(steps=tf.constant(np.load("x.npy")))["y"].numpy()
        diff = float(np.abs(got - np.load("want.npy")).max())
        assert diff <= 1e-5, diff
        print("OK", diff)
        """
    )
    # -I: ignore PYTHONPATH and user site; cwd is outside the repository, and
    # the editable install's path hook is the only other way in, so hide it.
    env = {"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"}
    script = tmp_path / "check.py"
    script.write_text(
        "import os, sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
        "sys.path_hooks[:] = [h for h in sys.path_hooks if 'editable' not in repr(h).lower()]\n"
        f"repo = {str(REPO_ROOT)!r}\n"
        "sys.path[:] = [p for p in sys.path\n"
        "               if '__editable__' not in p and os.path.realpath(p or '.') != repo]\n"
        + code
    )
    result = subprocess.run(
        [sys.executable, "-I", str(script)], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "OK" in result.stdout


@pytest.mark.slow
def test_indexed_outputs_of_one_layer_get_distinct_names(write_spec, tmp_path):
    """`att` and `att[1]` (context and attention weights), `bi[0]` and `bi[1]` (the
    halves of an unmerged bidirectional layer) would all export under the layer's name."""
    import tensorflow as tf

    from compiler.api import build_model, load_spec
    from compiler.export.run import export_from_spec

    path = write_spec("""
        nncompile: 1
        name: indexed
        inputs: {tokens: {shape: [6], dtype: int32}}
        layers:
          - embedding: {input_dim: 5, output_dim: 3, mask_zero: true}
          - bidirectional: {layer: {gru: {units: 2, return_sequences: true}}, merge_mode: null,
                            name: bi}
          - gru: {units: 4, return_sequences: true, return_state: true, inputs: "bi[0]",
                  name: enc}
          - additive_attention: {units: 3, inputs: ["enc[1]", enc],
                                 return_attention_scores: true, name: att}
        outputs: [att, "att[1]", "bi[0]", "bi[1]"]
        """)
    spec = load_spec(path)
    model = build_model(spec)
    export_from_spec(model, spec, tmp_path / "out", formats=["saved_model"])
    meta = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert [o["name"] for o in meta["outputs"]] == ["att", "att_1", "bi", "bi_1"]
    assert [o["shape"] for o in meta["outputs"]] == [[None, 4], [None, 6], [None, 6, 2],
                                                    [None, 6, 2]]
    serve = tf.saved_model.load(str(tmp_path / "out" / "saved_model")).signatures[
        "serving_default"]
    tokens = np.array([[1, 2, 3, 0, 0, 0]], "int32")
    got = serve(tokens=tf.constant(tokens))
    expected = model(tokens)
    for name, value in zip(["att", "att_1", "bi", "bi_1"], expected, strict=False):
        np.testing.assert_allclose(got[name].numpy(), np.asarray(value), atol=1e-6)
    assert np.all(got["att_1"].numpy()[0, 3:] == 0.0)  # padded steps get no attention


def test_repeated_output_names_are_refused_clearly():
    from compiler.errors import ExportError

    model = make_two_headed()
    with pytest.raises(ExportError, match="would both be called 'y'"):
        model_signature(model, output_names=["y", "y"])
