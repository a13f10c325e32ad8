"""The tests' shared helpers, written once and imported as ``from tests.helpers import ...``.

Running things:
    ``run_cli(*args, catch=False)``
        Runs ``nncompile ARGS`` in this process through click's ``CliRunner`` and
        returns its ``click.testing.Result`` (``exit_code``, ``output`` with stdout
        and stderr as a terminal shows them). Arguments may be Paths or numbers.
        ``catch=False`` lets an exception the CLI does not handle fail the test
        with its traceback; ``catch=True`` keeps it in ``result.exception``.
    ``assert_user_error(result, code=1)``
        Asserts the run exited with ``code`` and printed a message, not a traceback
        or "internal error"; returns the output.
    ``train_quietly(spec, out_root, **kwargs)``
        ``compiler.training.run.train_spec`` without output (``spec`` is a path or
        a loaded Spec); returns its result.

Writing specs:
    ``write_spec(folder, text, filename="spec.yaml")``
        Writes ``text`` to ``folder/filename`` and returns that path. The text is
        dedented and leading blank lines are dropped, so a triple-quoted block may
        be indented with the test and its first line is line 1 in messages.
        The ``write_spec`` fixture (tests/conftest.py) is this function bound to
        ``tmp_path``: ``write_spec(text, name="spec.yaml")``; it also makes
        ``tmp_path`` the working folder and returns the path relative to it, so
        messages read ``spec.yaml:3:5: ...``.
    ``write_training_spec(folder, template=IRIS, *, name="iris_mlp", epochs=4, extra="")``
        Writes ``IRIS`` (an MLP on the iris builtin) or ``DIGITS`` (a larger MLP on
        the digits builtin) as ``folder/<name>.yaml``; ``extra`` is YAML appended to
        the ``training:`` section (indent it by two spaces).
    ``write_csv_spec(folder, name="kinds", csv="c.csv", ...)``, ``write_regression_spec``
        ``CSV_MODEL`` filled in: a small classifier (or regressor) of a CSV file, one
        epoch; ``write_classes_csv(path)`` and ``write_numbers_csv(path)`` write such
        files. The ``csv_folder`` fixture is tmp_path as the working folder with
        ``c.csv`` in it.
    ``spec_text(name, inputs, layers, outputs=None)``, ``load_text(folder, text)``
        Build the YAML of a small spec; write and load one.

Fixtures (tests/conftest.py): ``write_spec``, ``csv_folder`` (above) and
``trained_iris``: IRIS trained once per session by ``nncompile train``, as
(folder, spec path, Result), for tests that only read the model folder;
``example_build(path)``: a shipped spec loaded and built once per test process, as
(Spec, BuildResult).

Objects the tests share:
    ``make_model(kind)``, ``make_two_headed()``
        Small hand-built Keras models (one per layer family; two inputs and two
        outputs) for the export tests.
    ``make_spec(base_dir, data, inputs=None, outputs=None, dtypes=None)``
        A light spec object holding a real ``DataSpec`` and what ``load_data``
        reads, for the data tests.
    ``REPO_ROOT``, ``SPECS_DIR``, ``module_exists(name)``.

Layer checks (as keras-hub's): each takes a real layer or model, runs it with
TensorFlow and fails with a plain assertion message:
    ``assert_weights``, ``assert_config_round_trip``, ``assert_saving_round_trip``,
    ``assert_training_reduces_loss``, ``assert_loads_in_fresh_python``, ``to_numpy``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import click.testing
    import keras

REPO_ROOT = Path(__file__).resolve().parents[1]
SPECS_DIR = REPO_ROOT / "specs"


def module_exists(name: str) -> bool:
    """True when ``name`` (e.g. ``custom_layers.maxout``) can be imported."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


# ----------------------------------------------------------------- running things


def run_cli(*args: object, catch: bool = False, input: str | None = None
            ) -> click.testing.Result:
    """Runs ``nncompile ARGS`` in this process and returns click's Result.

    Args:
        *args: the command line after ``nncompile``; Paths and numbers become strings.
        catch: keep an exception the CLI lets through in ``result.exception``
            instead of raising it.
        input: text given to the command's standard input.
    """
    from click.testing import CliRunner

    from compiler.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], input=input,
                              catch_exceptions=catch)


def assert_user_error(result: click.testing.Result, code: int = 1) -> str:
    """Asserts a CLI run failed with ``code`` and a message, not a traceback; returns the output."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result.output


def train_quietly(spec: Any, out_root: Path, **kwargs: Any) -> Any:
    """``train_spec`` on a spec path or Spec, printing nothing; returns its result."""
    from compiler.training.run import train_spec

    return train_spec(spec, out_root=out_root, verbose=0, echo=lambda _message: None, **kwargs)


# ------------------------------------------------------------------- writing specs


def write_spec(folder: Path, text: str, filename: str = "spec.yaml") -> Path:
    """Writes YAML text (dedented, leading blank lines dropped) to ``folder/filename``.

    Returns:
        The path of the written file.
    """
    path = Path(folder) / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


IRIS = """\
nncompile: 1
name: {name}
inputs:
  features: {{shape: [4]}}
layers:
  - normalization: {{}}
  - dense: {{units: 16, activation: relu}}
  - dense: {{units: 3, activation: softmax, name: label}}
outputs: [label]
data: {{builtin: iris, split: {{validation: 0.2, test: 0.2}}}}
training:
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
  optimizer: {{adam: {{learning_rate: 0.02}}}}
  batch_size: 16
  epochs: {epochs}
  jit_compile: false
  seed: 3
{extra}"""

# Sized so that one epoch takes a noticeable fraction of a second on a busy
# CPU: the crash test must be able to kill the run between two epochs' ends.
DIGITS = """\
nncompile: 1
name: {name}
inputs:
  image: {{shape: [8, 8, 1]}}
layers:
  - flatten: {{}}
  - dense: {{units: 256, activation: relu}}
  - dense: {{units: 256, activation: relu}}
  - dense: {{units: 10, activation: softmax, name: label}}
outputs: [label]
data: {{builtin: digits, split: {{validation: 0.2, test: 0.2}}}}
training:
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
  optimizer: {{sgd: {{learning_rate: 0.02, momentum: 0.9}}}}
  batch_size: 4
  epochs: {epochs}
  jit_compile: false
  seed: 5
{extra}"""


def write_training_spec(folder: Path, template: str = IRIS, *, name: str = "iris_mlp",
                        epochs: int = 4, extra: str = "") -> Path:
    """Writes ``template`` (IRIS or DIGITS) filled in as ``folder/<name>.yaml``."""
    return write_spec(folder, template.format(name=name, epochs=epochs, extra=extra),
                      f"{name}.yaml")


CSV_MODEL = """\
nncompile: 1
name: {name}
inputs:
  features: {{shape: [{width}]}}
layers:
  - dense: {{units: 8, activation: relu, name: hidden}}
  - dense: {{units: {units}, activation: {activation}, name: {output}}}
outputs: [{output}]
data: {{csv: {{path: {csv}, target: {output}}}, split: {{validation: 0.2, test: 0.2}}}}
training:
  loss: {loss}
  optimizer: {{adam: {{learning_rate: 0.01}}}}
  batch_size: 8
  epochs: 1
  jit_compile: false
  seed: 1
"""


CLASSES_MODEL = """\
nncompile: 1
name: {name}
inputs:
  features: {{shape: [{width}]}}
layers:
  - dense: {{units: 8, activation: relu}}
  - dense: {{units: {classes}, activation: softmax, name: kind}}
outputs: [kind]
data: {{csv: {{path: {csv}, target: kind{extra}}}, split: {split}{standardize}}}
training:
  loss: sparse_categorical_crossentropy
  optimizer: {{adam: {{learning_rate: 0.01}}}}
  batch_size: 8
  epochs: 1
  jit_compile: false
  seed: 1
"""


def classes_spec(name: str, width: int, csv: str = "c.csv", *, classes: int = 3,
                 split: str = "none", extra: str = "", standardize: str = "") -> str:
    """A classifier of the CSV column `kind` from ``width`` features; ``extra`` goes
    into the csv source (``, categorical: [city]``), ``standardize`` after the split."""
    return CLASSES_MODEL.format(name=name, width=width, csv=csv, classes=classes,
                                split=split, extra=extra, standardize=standardize)


def cities_spec(name: str, width: int, csv: str = "train.csv", classes: int = 3,
                split: str = "none") -> str:
    """:func:`classes_spec` with a categorical `city` column (one-hot: ``width`` counts its
    cities) and the numbers standardised."""
    return classes_spec(name, width, csv, classes=classes, split=split,
                        extra=", categorical: [city]", standardize=", standardize: true")


def write_classes_csv(path: Path, rows: int = 30, extra: str | None = None) -> None:
    """A CSV of two random features `a`, `b` and a class `kind` (0, 1, 2 in turn).

    Args:
        path: the file to write.
        rows: the number of examples.
        extra: a line that replaces the fifth example (row 6 of the file).
    """
    rng = np.random.default_rng(0)
    lines = [f"{rng.random():.3f},{rng.random():.3f},{i % 3}" for i in range(rows)]
    if extra is not None:
        lines[4] = extra
    path.write_text("a,b,kind\n" + "\n".join(lines) + "\n")


def write_numbers_csv(path: Path, rows: int = 30) -> None:
    """A CSV of two random features `a`, `b` and a random number `y`."""
    rng = np.random.default_rng(1)
    lines = [f"{rng.random():.3f},{rng.random():.3f},{rng.random():.3f}" for _ in range(rows)]
    path.write_text("a,b,y\n" + "\n".join(lines) + "\n")


def write_csv_spec(folder: Path, name: str = "kinds", csv: str = "c.csv",
                   loss: str = "sparse_categorical_crossentropy", units: int = 3,
                   activation: str = "softmax", output: str = "kind", width: int = 2,
                   extra: str = "") -> Path:
    """Writes ``CSV_MODEL`` (a classifier of `write_classes_csv` by default) as
    ``folder/<name>.yaml``; ``extra`` is appended (YAML under ``training:``)."""
    return write_spec(folder, CSV_MODEL.format(
        name=name, csv=csv, loss=loss, units=units, width=width, activation=activation,
        output=output) + extra, f"{name}.yaml")


def write_regression_spec(folder: Path, name: str = "numbers", extra: str = "") -> Path:
    """Writes ``r.csv`` (`write_numbers_csv`) and a regressor of its `y` on `a`, `b`."""
    write_numbers_csv(folder / "r.csv")
    return write_csv_spec(folder, name, "r.csv", "mse", 1, "linear", "y", extra=extra)


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


def load_text(folder: Path, text: str, filename: str = "spec.yaml"):
    """Writes ``text`` to ``folder`` and loads it as a validated Spec."""
    from compiler.api import load_spec

    return load_spec(write_spec(folder, text, filename))


# ------------------------------------------------------------- shared test objects


def make_model(kind: str) -> keras.Model:
    """A tiny model ending in a softmax layer named `out`, with input `seq` (12, 5)."""
    import keras

    inp = keras.Input((12, 5), name="seq")
    if kind == "mlp":
        x = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(inp))
    elif kind == "cnn":
        x = keras.layers.Reshape((12, 5, 1))(inp)
        x = keras.layers.Conv2D(4, 3, activation="relu")(x)
        x = keras.layers.Flatten()(keras.layers.MaxPooling2D()(x))
    elif kind == "lstm":
        x = keras.layers.LSTM(8, name="my_lstm")(inp)
    elif kind == "gru":
        x = keras.layers.GRU(8)(inp)
    elif kind == "simple_rnn":
        x = keras.layers.SimpleRNN(8)(inp)
    elif kind == "bidirectional":
        x = keras.layers.Bidirectional(keras.layers.LSTM(6, return_sequences=True))(inp)
        x = keras.layers.GRU(4)(x)
    elif kind == "minimal_gru":
        from custom_layers import MinimalGRU

        x = MinimalGRU(8)(inp)
    elif kind == "attention":  # Keras's attention layers, as a Transformer encoder uses them
        x = keras.layers.MultiHeadAttention(2, 4)(inp, inp)
        x = keras.layers.LayerNormalization()(keras.layers.Add()([inp, x]))
        x = keras.layers.Attention(use_scale=True)([x, inp])
        x = keras.layers.Conv1DTranspose(4, 3, strides=2)(x)
        x = keras.layers.GroupNormalization(2)(keras.layers.Cropping1D((1, 2))(x))
        x = keras.layers.GlobalAveragePooling1D()(x)
    else:
        raise ValueError(kind)
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax", name="out")(x))


def make_two_headed() -> keras.Model:
    """Two inputs (float `left`, int `tokens`) and two outputs (`score`, `prob`)."""
    import keras

    left = keras.Input((4,), name="left")
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    t = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 3)(tokens))
    x = keras.layers.Concatenate()([left, t])
    score = keras.layers.Dense(2, name="score")(x)
    prob = keras.layers.Dense(1, activation="sigmoid", name="prob")(x)
    return keras.Model([left, tokens], [score, prob])


@dataclass
class InputDecl:
    """A model input as ``load_data`` reads it from a spec."""

    shape: list[int | None]
    dtype: str = "float32"


@dataclass
class LightSpec:
    """The attributes of a Spec that ``load_data`` reads, around a real DataSpec."""

    data: Any
    inputs: dict[str, InputDecl]
    outputs: list[str]
    base_dir: Path
    file: str = "spec.yaml"
    lines: dict[tuple, int] = field(default_factory=dict)
    labels: list[str] | None = None
    training: Any = None
    allow_outside: bool = False

    def locate(self, *path):
        from compiler.errors import Location

        return Location(self.file, self.lines.get(tuple(path), 1), 1, ".".join(map(str, path)))


def make_spec(
    base_dir: Path,
    data: dict,
    inputs: dict[str, list[int | None]] | None = None,
    outputs: list[str] | None = None,
    dtypes: dict[str, str] | None = None,
) -> LightSpec:
    """A spec reading ``data`` with the given model inputs ({name: shape}) and outputs."""
    from compiler.data.schema import DataSpec

    dtypes = dtypes or {}
    return LightSpec(
        data=DataSpec.model_validate(data),
        inputs={
            name: InputDecl(shape, dtypes.get(name, "float32"))
            for name, shape in (inputs or {}).items()
        },
        outputs=outputs or ["out"],
        base_dir=base_dir,
    )


# -------------------------------------------------------------------- layer checks


def to_numpy(x: Any) -> Any:
    """Converts a tensor, or a list/tuple of them, to NumPy."""
    import keras

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
    import keras

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
    import keras

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


def entry_weight_count(model, name: str, entry_names) -> int:
    """Weights of the Keras layers one spec entry built: the layer called `name`, and
    the parts it names `<name>_<part>` (a detection head's convolutions) that are no
    other entry's."""
    others = set(entry_names) - {name}
    return sum(layer.count_params() for layer in model.layers
               if layer.name == name
               or layer.name.startswith(f"{name}_") and layer.name not in others)
