"""`nncompile import`: a `.keras` file or a keras.applications network → a spec (and its weights).

A `.keras` file is untrusted: its archive and ``config.json`` are checked by
:mod:`compiler.model_file_check` before anything else reads them, the config
is then read as data (:mod:`compiler.codegen.functional`), and only after the
spec has been written are the weights loaded, by the one loader of model files
(:func:`compiler.model_folder.load_model_file`), to be copied into the model
the spec builds and saved beside the spec for ``training.init_from``.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.codegen.functional import GraphError, read_model
from compiler.errors import Location, ModelFileError, Problem, UsageError
from compiler.importer.entries import flat_spec
from compiler.importer.repeats import recover
from compiler.importer.writer import spec_text
from compiler.model_file_check import MAX_CONFIG_BYTES, ConfigChecker, check_archive

APPLICATIONS = "keras.applications."


@dataclass
class Imported:
    """What `nncompile import` wrote."""

    spec_path: Path
    weights_path: Path | None
    lines: int
    blocks: int
    renamed: dict[str, str]
    model: Any = None  # the model the spec builds, with the weights copied in
    source_model: Any = None  # the model imported (loaded after the spec was written)


def import_model(source: str, output: Path, *, input_shape: tuple[int, ...] | None = None,
                 weights: bool = True, keep_names: bool = False) -> Imported:
    """Write the spec of ``source`` to ``output`` (and its weights beside it).

    Raises:
        ModelFileError: a file that is not a model nncompile reads, or a layer
            that no layer type makes (naming the layer and its config path).
        UsageError: an unknown keras.applications name.
    """
    where = Location(file=source)
    config, load_weights = _read_source(source, where, "cannot import the model", input_shape)
    prefix = "cannot import"
    try:
        graph = read_model(config)
    except GraphError as err:
        raise ModelFileError(f"{prefix}: {err}", Location(file=source, path=err.path)) from None
    flat = flat_spec(graph, where, prefix)
    recovered = recover(flat, keep_names=keep_names)
    weights_path = _weights_path(source, output) if weights else None
    source_model = load_weights() if weights else None
    text = spec_text(flat, recovered, source=source,
                     weights=weights_path.name if weights_path else None,
                     total_params=int(source_model.count_params()) if source_model else None)
    output.parent.mkdir(parents=True, exist_ok=True)
    from compiler.atomic import write_text_atomic

    write_text_atomic(output, text)
    model = None
    if weights_path is not None:
        model = _carry_weights(output, source_model, recovered.renamed, weights_path)
    return Imported(output, weights_path, text.count("\n"), len(recovered.blocks),
                    recovered.renamed, model, source_model)


def _weights_path(source: str, output: Path) -> Path:
    """``<spec stem>.keras`` beside the spec; never the imported file itself."""
    path = output.with_suffix(".keras")
    try:
        same = Path(source).resolve() == path.resolve()
    except OSError:
        same = False
    return output.with_suffix(".imported.keras") if same else path


def _read_source(source: str, where: Location, prefix: str,
                 input_shape: tuple[int, ...] | None) -> tuple[dict, Any]:
    if source.startswith(APPLICATIONS):
        return _application(source[len(APPLICATIONS):], where, prefix, input_shape)
    path = Path(source)
    if not path.is_file():
        raise ModelFileError(f"{prefix}: no such file (give a .keras file or "
                             f"{APPLICATIONS}NAME)", where)
    if input_shape is not None:
        raise UsageError(Problem("--input-shape is for keras.applications networks; a .keras "
                                 "file has its own", Location("--input-shape")))
    check_archive(path, where, prefix)
    with zipfile.ZipFile(path) as archive, archive.open("config.json") as handle:
        config = json.loads(handle.read(MAX_CONFIG_BYTES + 1))

    def load() -> Any:
        from compiler.model_folder import load_model_file

        return load_model_file(path, where)

    return config, load


def _application(name: str, where: Location, prefix: str,
                 input_shape: tuple[int, ...] | None) -> tuple[dict, Any]:
    import keras

    known = sorted(n for n in dir(keras.applications)
                   if n[:1].isupper() and callable(getattr(keras.applications, n)))
    if name not in known:
        from compiler.errors import did_you_mean

        raise UsageError(Problem(f"keras.applications has no network '{name}'"
                                 f"{did_you_mean(name, known)}",
                                 Location(file=APPLICATIONS + name)))
    kwargs: dict[str, Any] = {"weights": None}
    if input_shape is not None:
        kwargs["input_shape"] = tuple(input_shape)
    try:
        model = getattr(keras.applications, name)(**kwargs)
    except ValueError as err:
        raise UsageError(Problem(f"keras.applications.{name} refuses this input shape: "
                                 f"{' '.join(str(err).split())[:300]}",
                                 Location("--input-shape"))) from None
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model), default=_plain))
    ConfigChecker(where, prefix).check(config, "")  # the same classes as a file may name
    return config, lambda: model


def _plain(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    raise TypeError(f"{type(value).__name__} is not data")


def leaf_layers(model: Any) -> list[Any]:
    """The layers of a model with nested models opened up, in order."""
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers") and type(layer).__name__ in ("Functional", "Sequential"):
            out += leaf_layers(layer)
        else:
            out.append(layer)
    return out


def _carry_weights(spec_path: Path, source: Any, renamed: dict[str, str], target: Path) -> Any:
    """Build the written spec, copy the source's weights in by layer name and save it."""
    from compiler.api import build_model, load_spec

    spec = load_spec(spec_path)
    model = build_model(spec)
    for layer in leaf_layers(source):
        if not layer.weights:
            continue
        model.get_layer(renamed.get(layer.name, layer.name)).set_weights(layer.get_weights())
    from compiler.atomic import save_model

    save_model(model, target)
    return model
