"""Untrusted .keras files: the published safe_mode bypasses are refused before Keras runs.

Each crafted archive starts from a real trained model folder and edits its
config.json (or its weights, or its members) the way a published exploit does.
Every verb that loads a model (predict, evaluate, export) must exit 1 with a
message naming the object and where it is in the config, and the code the
archive carries must not have run: each payload would create a file, which
the test checks is absent.
"""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from compiler.errors import Location, ModelFileError
from compiler.model_file_check import ConfigChecker
from compiler.model_folder import load_model_file
from tests.helpers import run_cli

SPEC = """\
nncompile: 1
name: kinds
inputs:
  features: {{shape: [3]}}
layers:
  - dense: {{units: 8, activation: relu, name: hidden}}
  - dense: {{units: 3, activation: softmax, name: kind}}
outputs: [kind]
data: {{csv: {{path: {csv}, target: kind}}, split: {{validation: 0.25}}}}
training:
  loss: sparse_categorical_crossentropy
  metrics: [accuracy, f1, auc, precision, recall, {{top_k: {{k: 2}}}}]
  optimizer: {{adamw: {{learning_rate: 0.01}}}}
  schedule: {{warmup: {{epochs: 1, then: {{cosine: {{}}}}}}}}
  batch_size: 8
  epochs: 2
  jit_compile: false
  seed: 1
"""


def _invoke(*args):
    return run_cli(*args, catch=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A trained model folder (AdamW, warm-up then cosine schedule, nncompile metrics)."""
    root = tmp_path_factory.mktemp("trained")
    rng = np.random.default_rng(0)
    rows = ["a,b,c,kind"] + [f"{x:.3f},{y:.3f},{z:.3f},{int(x > 0) + int(y > 0)}"
                             for x, y, z in rng.normal(size=(48, 3))]
    (root / "data.csv").write_text("\n".join(rows) + "\n")
    (root / "inputs.csv").write_text("a,b,c\n0.1,0.2,0.3\n-1,0.5,2\n")
    spec = root / "kinds.yaml"
    spec.write_text(SPEC.format(csv="data.csv"))
    result = _invoke("train", spec, "--out", root / "out", "--quiet")
    assert result.exit_code == 0, result.output
    return root / "out" / "kinds"


def _members(folder: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(folder / "model.keras") as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:  # stored, as Keras writes it
        for name, data in members.items():
            archive.writestr(name, data)


def _crafted(trained: Path, tmp_path: Path, edit) -> Path:
    """A copy of the trained folder whose model.keras config.json went through `edit`."""
    folder = tmp_path / "kinds"
    shutil.copytree(trained, folder)
    members = _members(trained)
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    _write(folder / "model.keras", members)
    return folder


def _layer(config: dict, name: str) -> dict:
    return next(layer for layer in config["config"]["layers"] if layer["name"] == name)


def _touch_lambda_config(pwned: Path) -> dict:
    """A real Lambda layer's serialised config whose function creates `pwned`."""
    function = eval(f"lambda x: __import__('os').system('touch {pwned}') and x or x")  # noqa: S307
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Lambda(function, name="evil")(inputs))
    pwned.unlink()  # calling it while building the model ran it once
    from keras.src.saving import saving_lib

    return _layer(json.loads(saving_lib._serialize_model_as_json(model)[0]), "evil")


def _function(module: str, name: str) -> dict:
    return {"module": module, "class_name": "function", "config": name,
            "registered_name": "function"}


def _os_system_activation(config, pwned):
    # CVE-2025-1550: an arbitrary module and function named in a config.
    _layer(config, "hidden")["config"]["activation"] = _function("os", "system")
    return "config.layers[1].config.activation", "'os'"


def _subprocess_layer(config, pwned):
    hidden = _layer(config, "hidden")
    hidden.update(module="subprocess", class_name="Popen", registered_name=None)
    hidden["config"]["args"] = ["touch", str(pwned)]
    return "config.layers[1]", "'subprocess'"


def _builtins_exec_initializer(config, pwned):
    init = _layer(config, "kind")["config"]
    init["kernel_initializer"] = {"module": "builtins", "class_name": "exec",
                                  "config": {"source": f"open('{pwned}', 'w')"},
                                  "registered_name": None}
    return "config.layers[2].config.kernel_initializer", "'exec'"


def _unsafe_then_lambda(config, pwned):
    # CVE-2025-9906: switch safe mode off from inside the config, then a Lambda.
    layers = config["config"]["layers"]
    layers[1]["config"]["kernel_regularizer"] = _function(
        "keras.config", "enable_unsafe_deserialization")
    evil = _touch_lambda_config(pwned)
    evil["inbound_nodes"] = layers[2]["inbound_nodes"]
    layers.insert(2, evil)
    return "config.layers[1].config.kernel_regularizer", "enable_unsafe_deserialization"


def _lambda_layer(config, pwned):
    layers = config["config"]["layers"]
    evil = _touch_lambda_config(pwned)
    evil["inbound_nodes"] = layers[2]["inbound_nodes"]
    layers.insert(2, evil)
    return "config.layers[2]", "'Lambda'"


def _tfsm_layer(config, pwned):
    hidden = _layer(config, "hidden")
    hidden.update(class_name="TFSMLayer")
    hidden["config"] = {"filepath": str(pwned.parent), "call_endpoint": "serve"}
    return "config.layers[1]", "'TFSMLayer'"


def _spoofed_registered_name(config, pwned):
    # A Keras class name, but a registered name Keras would look up first.
    _layer(config, "hidden")["registered_name"] = "os>system"
    return "config.layers[1]", "'os>system'"


def _loss_function(config, pwned):
    config["compile_config"]["loss"]["kind"] = _function("builtins", "eval")
    return "compile_config.loss.kind", "'eval'"


def _optimizer_schedule(config, pwned):
    rate = config["compile_config"]["optimizer"]["config"]["learning_rate"]
    rate["module"], rate["registered_name"] = "posix", "posix>system"
    return "compile_config.optimizer.config.learning_rate", "'posix"


def _raw_lambda_value(config, pwned):
    # A bare serialised lambda as an argument (Keras rebuilds it from bytecode).
    lam = _touch_lambda_config(pwned)["config"]["function"]
    _layer(config, "kind")["config"]["bias_initializer"] = lam
    return "config.layers[2].config.bias_initializer", "'__lambda__'"


def _keras_get_file(config, pwned):
    # CVE-2025-8747: a Keras utility that downloads and writes files, reached from a config.
    _layer(config, "kind")["config"]["kernel_constraint"] = _function("keras.utils", "get_file")
    return "config.layers[2].config.kernel_constraint", "get_file"


def _keras_internal_module(config, pwned):
    # A class from Keras's private tree outside the model-building families.
    hidden = _layer(config, "hidden")
    hidden.update(module="keras.src.utils.file_utils", class_name="File", registered_name=None)
    return "config.layers[1]", "'keras.src.utils.file_utils'"


PAYLOADS = [_keras_get_file, _keras_internal_module, _os_system_activation, _subprocess_layer,
            _builtins_exec_initializer, _unsafe_then_lambda, _lambda_layer, _tfsm_layer,
            _spoofed_registered_name, _loss_function, _optimizer_schedule, _raw_lambda_value]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.__name__.strip("_"))
@pytest.mark.parametrize("verb", ["predict", "evaluate", "export"])
def test_bypass_is_refused_by_every_verb_and_runs_nothing(trained, tmp_path, payload, verb):
    pwned = tmp_path / "pwned"
    where: list = []
    folder = _crafted(trained, tmp_path, lambda config: where.extend(payload(config, pwned)))
    path, named = where
    args = {"predict": ["predict", folder, "-i", trained.parent.parent / "inputs.csv",
                        "-o", tmp_path / "p.csv"],
            "evaluate": ["evaluate", folder],
            "export": ["export", folder, "--format", "keras", "--out", tmp_path / "x"]}[verb]
    result = _invoke(*args)
    assert result.exit_code == 1, result.output
    assert path in result.output and named in result.output, result.output
    assert "Traceback" not in result.output
    assert not pwned.exists()


def test_the_lambda_payload_does_run_code_when_unchecked(tmp_path):
    """The side effect the tests look for is real: unchecked, Keras runs the payload."""
    pwned = tmp_path / "pwned"
    inputs = keras.Input((3,))
    function = eval(f"lambda x: __import__('os').system('touch {pwned}') and x or x")  # noqa: S307
    keras.Model(inputs, keras.layers.Lambda(function)(inputs)).save(tmp_path / "m.keras")
    pwned.unlink()  # calling it while building ran it once
    with pytest.raises(ModelFileError, match="'Lambda'"):
        load_model_file(tmp_path / "m.keras")
    assert not pwned.exists()
    keras.saving.load_model(tmp_path / "m.keras", safe_mode=False)
    assert pwned.exists()


def test_a_legacy_hdf5_model_inside_the_archive_is_refused(trained, tmp_path):
    # CVE-2025-9905 reached a Lambda through an HDF5 model, which safe_mode does not cover.
    members = _members(trained)
    members["model.h5"] = members["model.weights.h5"]
    _write(tmp_path / "m.keras", members)
    with pytest.raises(ModelFileError, match="'model.h5'"):
        load_model_file(tmp_path / "m.keras")


@pytest.mark.parametrize("name", ["assets/../../escape.txt", "/etc/cron.d/x", "assets\\..\\x"])
def test_a_member_pointing_outside_the_archive_is_refused(trained, tmp_path, name):
    members = _members(trained)
    members[name] = b"x"
    _write(tmp_path / "m.keras", members)
    with pytest.raises(ModelFileError, match="points outside the archive"):
        load_model_file(tmp_path / "m.keras")


@pytest.mark.parametrize("kind", ["external_link", "object_data", "compressed", "huge"])
def test_weights_that_are_more_than_arrays_are_refused(trained, tmp_path, kind):
    members = _members(trained)
    weights = tmp_path / "w.h5"
    weights.write_bytes(members["model.weights.h5"])
    with h5py.File(weights, "a") as handle:
        if kind == "external_link":
            handle["layers/evil"] = h5py.ExternalLink("/etc/passwd", "/")
        elif kind == "object_data":
            handle.create_dataset("layers/evil", data=np.array([b"x"], dtype=object),
                                  dtype=h5py.string_dtype())
        elif kind == "compressed":
            handle.create_dataset("layers/evil", data=np.zeros(100), compression="gzip")
        else:  # declared, never written: Keras would allocate 8 GB reading it
            handle.create_dataset("layers/evil", shape=(2 ** 30,), dtype="float64")
    members["model.weights.h5"] = weights.read_bytes()
    _write(tmp_path / "m.keras", members)
    with pytest.raises(ModelFileError, match="model.weights.h5") as err:
        load_model_file(tmp_path / "m.keras")
    assert kind == "huge" or "layers/evil" in str(err.value)


def test_zip_bomb_is_refused_quickly(trained, tmp_path):
    members = _members(trained)
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("config.json", "metadata.json"):
            archive.writestr(name, members[name])
        with archive.open("model.weights.h5", "w", force_zip64=True) as member:
            chunk = bytes(1 << 20)
            for _ in range(256):
                member.write(chunk)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    start = time.process_time()
    with pytest.raises(ModelFileError, match="zip bomb"):
        load_model_file(bomb)
    assert time.process_time() - start < 1.0
    folder = tmp_path / "kinds"
    shutil.copytree(trained, folder)
    shutil.copy(bomb, folder / "model.keras")
    result = _invoke("evaluate", folder)
    assert result.exit_code == 1 and "zip bomb" in result.output, result.output


@pytest.mark.parametrize("depth", [300, 100_000])
def test_deeply_nested_config_is_refused(trained, tmp_path, depth):
    members = _members(trained)
    members["config.json"] = b"[" * depth + b"]" * depth
    _write(tmp_path / "m.keras", members)
    with pytest.raises(ModelFileError, match="nests deeper than 200"):
        load_model_file(tmp_path / "m.keras")


def test_the_trained_model_still_loads_and_predicts(trained, tmp_path):
    """The allowlist admits what training writes: AdamW, schedules, nncompile metrics."""
    model = load_model_file(trained)
    assert type(model.optimizer).__name__ == "AdamW"
    result = _invoke("predict", trained, "-i", trained.parent.parent / "inputs.csv",
                     "-o", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p.csv").is_file()


# A few quick ones cover what the others add: a registered function (the step
# activation), a custom loss and layer, a graph operation and a custom decoder.
QUICK = ("perceptron", "siamese", "date_translator", "digits_cnn")
SPECS = [pytest.param(path, marks=() if path.stem in QUICK else pytest.mark.slow, id=path.stem)
         for path in sorted((Path(__file__).parents[2] / "specs").glob("*.yaml"))]


@pytest.mark.parametrize("spec_file", SPECS)
def test_every_example_spec_model_passes_the_check(spec_file, tmp_path, example_build):
    """Each shipped spec, built and compiled as training would, passes the allowlist.

    Small models are saved and loaded through the one loader; for the large ones
    (VGG16, ResNet50, ...) the config alone is checked, as saving is slow.
    """
    from keras.src.saving import saving_lib

    from compiler.training.compile import compile_args

    spec, built = example_build(spec_file)
    model = built.model
    if spec.training is not None:
        compile_args(spec, model, steps_per_epoch=10).compile(model, False)
    config = json.loads(saving_lib._serialize_model_as_json(model)[0])
    ConfigChecker(Location(str(spec_file)), "check").check(config, "")
    if model.count_params() < 3_000_000:
        model.save(tmp_path / "m.keras")
        loaded = load_model_file(tmp_path / "m.keras")
        assert loaded.count_params() == model.count_params()


def test_every_loss_metric_optimiser_and_schedule_choice_passes_the_check():
    """Whatever a spec can choose in `training:` serialises to allowlisted objects."""
    from compiler.training.losses import build_loss
    from compiler.training.metrics import build_metric
    from compiler.training.optimizers import build_optimizer
    from compiler.training.schedules import build_schedule
    from compiler.training.schema import (
        AFTER_WARMUP,
        LOSSES,
        METRICS,
        OPTIMIZERS,
        SCHEDULES,
        LossChoice,
        MetricChoice,
        OptimizerChoice,
        ScheduleChoice,
    )

    checker = ConfigChecker(Location("choices"), "check")
    objects = {}
    for loss in LOSSES:
        objects[f"loss {loss}"] = build_loss(LossChoice.model_validate(loss))
    for metric in METRICS:
        choice = MetricChoice.model_validate({"top_k": {"k": 2}} if metric == "top_k" else metric)
        for loss, outputs in (("sparse_categorical_crossentropy", 3),
                              ("categorical_crossentropy", 3), ("binary_crossentropy", 1),
                              ("mse", 1)):
            objects[f"metric {metric} after {loss}"] = build_metric(choice, loss, outputs)
    schedules = [*SCHEDULES, *({"warmup": {"then": then}} for then in AFTER_WARMUP)]
    for schedule in schedules:
        rate = build_schedule(ScheduleChoice.model_validate(schedule), 0.01, 10, 5)
        for optimizer in OPTIMIZERS:
            objects[f"{optimizer} with {schedule}"] = build_optimizer(
                OptimizerChoice.model_validate(optimizer), rate)
    assert len(objects) > 50
    for name, obj in objects.items():
        if not isinstance(obj, str):
            checker.check(keras.saving.serialize_keras_object(obj), name)
