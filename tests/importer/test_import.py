"""`nncompile import`: a Keras model → a spec that builds the same model.

"The same" is checked as the round-trip guarantee says: parameters, weight
shapes in order, layer names (where no `repeat:` renamed them) and equal outputs
once the weights are copied (the import copies them, into <spec>.keras).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml

from compiler.api import build_model, load_spec
from compiler.importer import import_model
from compiler.importer.run import leaf_layers
from tests.codegen.fresh_build import fill_weights, sample_inputs
from tests.helpers import assert_user_error, run_cli

ROOT = Path(__file__).resolve().parents[2]


def assert_same_model(source, imported, *, names: bool = True) -> None:
    """The round-trip guarantee between a model and the model its imported spec builds."""
    assert imported.count_params() == source.count_params()
    assert [tuple(w.shape) for w in imported.weights] == [tuple(w.shape) for w in source.weights]
    if names:
        assert [layer.name for layer in leaf_layers(imported)] == [
            layer.name for layer in leaf_layers(source)]
    inputs = sample_inputs(source)
    ours = imported(inputs, training=False)
    theirs = source(inputs, training=False)
    ours = ours if isinstance(ours, (list, tuple)) else [ours]
    theirs = theirs if isinstance(theirs, (list, tuple)) else [theirs]
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def round_trip_spec(path: Path, tmp_path: Path, overrides=()) -> None:
    """Shipped spec → build → save → import → build: the same model (weights too)."""
    original = build_model(load_spec(path, list(overrides)))
    fill_weights(original)
    saved = tmp_path / f"{path.stem}_built.keras"
    original.save(saved)
    done = import_model(str(saved), tmp_path / "imported" / f"{path.stem}.yaml")
    if done.renamed:
        # The repeats found name their copies <name>_1, <name>_2, ... (printed as renames);
        # --keep-names keeps every layer's name instead, which the round trip asks for.
        done = import_model(str(saved), tmp_path / "imported" / f"{path.stem}.yaml",
                            keep_names=True)
    rebuilt = build_model(load_spec(done.spec_path))
    fill_weights(rebuilt)
    assert not done.renamed
    assert_same_model(original, rebuilt)  # the architecture, under the same weights
    assert_same_model(original, done.model)  # with the weights the import carried


def test_shared_layers_and_several_inputs_come_back_as_apply(tmp_path):
    round_trip_spec(ROOT / "specs" / "siamese.yaml", tmp_path)
    text = (tmp_path / "imported" / "siamese.yaml").read_text()
    assert "- apply: {layer: tower_conv1" in text
    assert "- distance:" in text  # the custom PairwiseDistance is the `distance` type


def test_repeated_blocks_become_a_block_with_repeat(tmp_path):
    """A small ResNet-like model written the way keras.applications writes its blocks."""
    inputs = keras.Input((6,), name="features")
    x = keras.layers.Dense(8, name="stem")(inputs)
    for index in range(1, 5):
        width = 8 if index < 4 else 8
        y = keras.layers.Dense(width * 2, activation="relu", name=f"stage_block{index}_1_dense")(x)
        y = keras.layers.Dense(width, name=f"stage_block{index}_2_dense")(y)
        x = keras.layers.Add(name=f"stage_block{index}_add")([x, y])
        x = keras.layers.Activation("relu", name=f"stage_block{index}_out")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="head")(x)
    source = keras.Model(inputs, outputs, name="tiny_resnet")
    fill_weights(source)
    path = tmp_path / "tiny.keras"
    source.save(path)
    before = path.read_bytes()
    result = run_cli("import", path, "-o", tmp_path / "tiny.yaml")
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == before  # the weights go to tiny.imported.keras instead
    text = (tmp_path / "tiny.yaml").read_text()
    tree = yaml.safe_load(text)
    assert len(tree["blocks"]) == 1
    (use,) = [item for item in tree["layers"] if "block_1" in item]
    assert use["block_1"]["repeat"] == 4
    assert "renamed" not in result.output and "--keep-names" in result.output
    imported = load_model(tmp_path / "tiny.imported.keras")
    assert_same_model(source, imported, names=False)
    # --keep-names keeps every name, so the four blocks are four uses.
    result = run_cli("import", path, "-o", tmp_path / "named.yaml", "--keep-names")
    assert result.exit_code == 0, result.output
    assert_same_model(source, load_model(tmp_path / "named.keras"))
    assert "repeat:" not in (tmp_path / "named.yaml").read_text()


def load_model(path: Path):
    from compiler.model_folder import load_model_file

    return load_model_file(path)


def test_nested_and_sequential_models_are_opened_up(tmp_path):
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="tanh",
                                                                   name="shared_dense"),
                              keras.layers.Dense(3, name="shared_out")], name="tower")
    a, b = keras.Input((4,), name="left"), keras.Input((4,), name="right")
    merged = keras.layers.Concatenate(name="both")([inner(a), inner(b)])
    source = keras.Model([a, b], keras.layers.Dense(1, name="score")(merged), name="pair")
    fill_weights(source)
    path = tmp_path / "pair.keras"
    source.save(path)
    done = import_model(str(path), tmp_path / "pair.yaml")
    assert_same_model(source, done.model)
    assert "apply: {layer: shared_dense" in done.spec_path.read_text()


def _lambda_file(tmp_path: Path, pwned: Path) -> Path:
    inputs = keras.Input((3,))
    function = eval(f"lambda x: __import__('os').system('touch {pwned}') and x or x")  # noqa: S307
    keras.Model(inputs, keras.layers.Lambda(function, name="evil")(inputs)).save(
        tmp_path / "evil.keras")
    pwned.unlink()  # building the model ran it once
    return tmp_path / "evil.keras"


def test_a_lambda_is_refused_and_nothing_runs(tmp_path):
    pwned = tmp_path / "pwned"
    path = _lambda_file(tmp_path, pwned)
    output = assert_user_error(run_cli("import", path, "-o", tmp_path / "evil.yaml"))
    assert "'Lambda'" in output and "config.layers[1]" in output
    assert not pwned.exists() and not (tmp_path / "evil.yaml").exists()


def test_a_config_naming_os_system_is_refused_and_nothing_runs(tmp_path):
    inputs = keras.Input((3,), name="x")
    keras.Model(inputs, keras.layers.Dense(2, name="hidden")(inputs)).save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    pwned = tmp_path / "pwned"
    layer = next(item for item in config["config"]["layers"] if item["name"] == "hidden")
    layer["config"]["activation"] = {"module": "os", "class_name": "function",
                                     "config": "system", "registered_name": "function"}
    layer["config"]["units"] = f"touch {pwned}"
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "hostile.keras", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    output = assert_user_error(run_cli("import", tmp_path / "hostile.keras", "-o",
                                       tmp_path / "h.yaml"))
    assert "config.layers[1].config.activation" in output and "'os'" in output
    assert not pwned.exists() and not (tmp_path / "h.yaml").exists()


def test_a_layer_no_type_makes_is_refused_by_name_and_path(tmp_path):
    inputs = keras.Input((3,), name="x")
    x = keras.layers.Dense(4, name="hidden")(inputs)
    keras.Model(inputs, keras.layers.UnitNormalization(name="unit")(x)).save(tmp_path / "u.keras")
    output = assert_user_error(run_cli("import", tmp_path / "u.keras", "-o", tmp_path / "u.yaml"))
    assert "config.layers[2]" in output and "'unit'" in output and "UnitNormalization" in output


def test_an_unknown_application_is_a_usage_error(tmp_path):
    output = assert_user_error(run_cli("import", "keras.applications.ResNet51", "-o",
                                       tmp_path / "r.yaml"), code=2)
    assert "ResNet51" in output and "ResNet50" in output


@pytest.mark.long
def test_train_with_init_from_fine_tunes_the_imported_weights(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inputs = keras.Input((4,), name="features")
    x = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
    keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="label")(x),
                name="iris_net").save(tmp_path / "iris_net.keras")
    assert run_cli("import", tmp_path / "iris_net.keras", "-o", tmp_path / "net" /
                   "iris.yaml").exit_code == 0
    (tmp_path / "net" / "tune.yaml").write_text(
        "extends: iris.yaml\nname: tuned\n"
        "data: {builtin: iris, split: {validation: 0.2, test: 0.2}}\n"
        "training:\n  loss: sparse_categorical_crossentropy\n  epochs: 1\n  batch_size: 16\n"
        "  jit_compile: false\n  init_from: {model: iris.keras}\n")
    result = run_cli("train", tmp_path / "net" / "tune.yaml", "--out", tmp_path / "out",
                     "--quiet")
    assert result.exit_code == 0, result.output
    assert "init_from: copied weights of 2 layer(s): hidden, label" in result.output
