"""The tests' shared helpers: writing specs, and the checks every layer goes through.

Specs are written as YAML text and loaded with ``load_spec``, exactly as a user's
file would be, so the loader, resolver and validator are exercised too.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import keras
import numpy as np

from compiler.api import load_spec

REPO_ROOT = Path(__file__).resolve().parents[1]


def module_exists(name: str) -> bool:
    """True when ``name`` (e.g. ``custom_layers.maxout``) can be imported."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def spec_text(name: str, inputs: dict, layers: str, outputs: list[str] | None = None) -> str:
    """YAML of a spec.

    Args:
        name: the spec's name.
        inputs: input name -> shape (a list) or ``(shape, dtype)``.
        layers: the YAML list under `layers:` (lines starting with ``- ``).
        outputs: the spec's outputs (default: the last layer).
    """
    lines = ["nncompile: 1", f"name: {name}", "inputs:"]
    for input_name, value in inputs.items():
        shape, dtype = value if isinstance(value, tuple) else (value, "float32")
        lines.append(f"  {input_name}: {{shape: {list(shape)}, dtype: {dtype}}}")
    lines.append("layers:")
    lines.append(textwrap.indent(textwrap.dedent(layers).strip("\n"), "  "))
    if outputs:
        lines.append("outputs: [" + ", ".join(f'"{o}"' for o in outputs) + "]")
    return "\n".join(lines) + "\n"


def write_spec(tmp_path: Path, text: str, filename: str = "spec.yaml") -> Path:
    path = tmp_path / filename
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str, filename: str = "spec.yaml"):
    """Write ``text`` to ``tmp_path`` and load it as a validated Spec."""
    return load_spec(write_spec(tmp_path, text, filename))


# ---------------------------------------------------------------- layer checks
# Checks every custom layer goes through, written once (as keras-hub does): each
# takes a real layer or model, runs it with TensorFlow, and fails with a plain
# assertion message when the layer misbehaves.



def to_numpy(x: Any) -> Any:
    """Converts a tensor, or a list/tuple of them, to NumPy."""
    if isinstance(x, (list, tuple)):
        return [to_numpy(v) for v in x]
    return keras.ops.convert_to_numpy(x)


def assert_weights(layer: keras.layers.Layer, expected: dict[str, tuple[int, ...]]) -> None:
    """Asserts the layer's trainable weights are exactly ``expected`` (name -> shape)."""
    found = {w.name: tuple(w.shape) for w in layer.trainable_weights}
    assert found == expected, f"trainable weights {found}, expected {expected}"
    assert len(layer.trainable_weights) == len(expected)


def assert_config_round_trip(layer: keras.layers.Layer) -> keras.layers.Layer:
    """get_config -> JSON (sorted keys) -> from_config gives the same config.

    Returns:
        The re-created layer.
    """
    config = layer.get_config()
    text = json.dumps(config, sort_keys=True)
    clone = type(layer).from_config(json.loads(text))
    assert json.dumps(clone.get_config(), sort_keys=True) == text
    return clone


def assert_saving_round_trip(model: keras.Model, inputs: Any, tmp_path: Path) -> Path:
    """save(.keras) -> load_model -> the same predictions; returns the file path."""
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    expected = to_numpy(model(inputs, training=False))
    actual = to_numpy(loaded(inputs, training=False))
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=1e-6, atol=1e-6)
    return path


def assert_training_reduces_loss(
    model: keras.Model, x: Any, y: Any, jit_compile: bool = False, epochs: int = 5
) -> None:
    """Fitting a few epochs lowers the training loss (with or without XLA)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", jit_compile=jit_compile
    )
    before = model.evaluate(x, y, verbose=0, batch_size=len(y))
    model.fit(x, y, epochs=epochs, batch_size=len(y), verbose=0)
    after = model.evaluate(x, y, verbose=0, batch_size=len(y))
    assert np.isfinite(after), f"loss became {after}"
    assert after < before, f"loss did not go down: {before} -> {after}"


def assert_loads_in_fresh_python(model_path: Path, inputs: Any, expected: Any) -> None:
    """A new interpreter with only ``import custom_layers`` loads the file.

    The inputs and expected outputs travel through ``.npy`` files; the child
    also checks that `compiler` was never imported.
    """
    folder = model_path.parent
    arrays = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    for i, array in enumerate(arrays):
        np.save(folder / f"input_{i}.npy", np.asarray(array))
    np.save(folder / "expected.npy", np.asarray(expected))
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import keras
        import custom_layers
        model = keras.saving.load_model({str(model_path)!r})
        inputs = [np.load({str(folder)!r} + f"/input_{{i}}.npy") for i in range({len(arrays)})]
        out = model(inputs if {len(arrays)} > 1 else inputs[0], training=False)
        out = keras.ops.convert_to_numpy(out)
        np.testing.assert_allclose(out, np.load({str(folder)!r} + "/expected.npy"),
                                   rtol=1e-6, atol=1e-6)
        assert "compiler" not in sys.modules, "custom_layers imported compiler"
        print("LOADED_OK")
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=str(REPO_ROOT),
        env=env,
        timeout=300,
    )
    assert result.returncode == 0 and "LOADED_OK" in result.stdout, result.stderr[-3000:]
