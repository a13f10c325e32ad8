"""Check an untrusted `.keras` archive as data before Keras reads a byte of it.

Keras's ``safe_mode`` refuses a Lambda, but configs naming other modules and
functions have slipped past it again and again (CVE-2025-1550, CVE-2025-8747,
CVE-2025-9905, CVE-2025-9906, CVE-2026-1462). So the archive is bounded
(members, sizes: no zip bomb), its ``config.json`` is parsed as plain JSON
(bounded size and depth) and every serialised object in it must be one that
nncompile could have written: a Keras layer, initialiser, regulariser,
constraint, activation, loss, metric, optimiser, schedule, dtype policy or
graph operation, or a class registered under the ``nncompile`` package. The
weights file is opened with h5py and must hold only plain numeric datasets
(no links to other files, no references, no compression filters).

Anything else is refused as a :class:`ModelFileError` that names the object
and where it is in the config (``config.layers[3].config.function``).
"""

from __future__ import annotations

import importlib
import json
import zipfile
from pathlib import Path
from typing import Any

from compiler.errors import Location, ModelFileError

# A .keras archive holds a config, metadata and weights (and assets of a few layers).
MAX_ARCHIVE_MEMBERS = 10_000
MAX_CONFIG_BYTES = 64 * 1024 * 1024
MAX_CONFIG_DEPTH = 200
# 2e9 parameters (the build limit) in float32, with two optimiser slots each, and room.
MAX_ARCHIVE_BYTES = 32 * 1024 ** 3
# Keras stores members uncompressed; a deflated member expanding this much is a bomb.
MAX_EXPANSION = 100
EXPANSION_FLOOR_BYTES = 64 * 1024 * 1024

ARCHIVE_FILES = ("config.json", "metadata.json", "model.weights.h5")
WEIGHTS_FILE = "model.weights.h5"

# Public Keras modules of the families a spec can produce, with each family's base class.
_FAMILIES = {
    "keras.layers": "keras.layers.Layer",
    "keras.initializers": "keras.initializers.Initializer",
    "keras.regularizers": "keras.regularizers.Regularizer",
    "keras.constraints": "keras.constraints.Constraint",
    "keras.losses": "keras.losses.Loss",
    "keras.metrics": "keras.metrics.Metric",
    "keras.optimizers": "keras.optimizers.Optimizer",
    "keras.optimizers.schedules": "keras.optimizers.schedules.LearningRateSchedule",
    # Tensor operations written into a functional graph (e.g. a mask's not_equal).
    "keras.src.ops.numpy": "keras.src.ops.operation.Operation",
    "keras.src.ops.nn": "keras.src.ops.operation.Operation",
    "keras.src.ops.math": "keras.src.ops.operation.Operation",
}
# Classes of those families that carry code or load files of their own.
_REFUSED_CLASSES = frozenset((
    "Lambda", "TFSMLayer", "JaxLayer", "FlaxLayer", "TorchModuleWrapper",
    "MeanMetricWrapper", "LossFunctionWrapper",
))
_EXACT = {
    ("keras", "DTypePolicy"), ("keras", "FloatDTypePolicy"),
    ("keras.src.models.functional", "Functional"),
    ("keras.src.models.sequential", "Sequential"),
    ("keras", "Sequential"), ("keras", "Functional"),  # how a nested model is written
}
# Serialised values that are data, not objects (see keras.saving's special cases).
_DATA_CLASSES = frozenset(("__keras_tensor__", "__tuple__", "__tensor__", "__numpy__",
                           "__bytes__", "__ellipsis__", "__slice__"))
_PACKAGE = "nncompile>"
# Where the classes registered under the nncompile package are defined.
REGISTERING_MODULES = ("custom_layers", "compiler.detection.")


def check_archive(path: Path, where: Location, prefix: str) -> None:
    """Refuse a `.keras` archive that is a zip bomb, damaged or names code.

    Raises:
        ModelFileError: naming the member, or the object and its config path.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_members(infos, where, prefix)
            damaged = archive.testzip()
            if damaged is not None:
                raise ModelFileError(
                    f"{prefix}: damaged .keras archive (bad member '{damaged}')", where)
            names = {info.filename for info in infos}
            missing = [n for n in ("config.json", "metadata.json") if n not in names]
            if missing:
                raise ModelFileError(f"{prefix}: a zip file but not a Keras model: it lacks "
                                     f"{', '.join(missing)}", where)
            for name in sorted(names):
                parts = name.replace("\\", "/").split("/")
                if ".." in parts or name.startswith("/") or "\\" in name:
                    raise ModelFileError(f"{prefix}: the archive member '{name}' points outside "
                                         "the archive", where)
                if name not in ARCHIVE_FILES and not name.startswith("assets/"):
                    # e.g. a legacy HDF5 model with a Lambda, which Keras would not refuse.
                    raise ModelFileError(
                        f"{prefix}: the archive holds '{name}', which a Keras model file does "
                        f"not (expected {', '.join(ARCHIVE_FILES)} and assets/)", where)
            config = _read_config(archive, where, prefix)
            ConfigChecker(where, prefix).check(config, "")
            if WEIGHTS_FILE in names:
                with archive.open(WEIGHTS_FILE) as weights:
                    check_weights(weights, where, prefix)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ModelFileError(f"{prefix}: damaged .keras archive: {err}", where) from err


def _check_members(infos: list[zipfile.ZipInfo], where: Location, prefix: str) -> None:
    if len(infos) > MAX_ARCHIVE_MEMBERS:
        raise ModelFileError(f"{prefix}: the archive has {len(infos)} members, more than a "
                             f"Keras model has (at most {MAX_ARCHIVE_MEMBERS})", where)
    total = 0
    for info in infos:
        total += info.file_size
        if (info.file_size > EXPANSION_FLOOR_BYTES
                and info.file_size > MAX_EXPANSION * max(info.compress_size, 1)):
            raise ModelFileError(
                f"{prefix}: the archive member '{info.filename}' would expand from "
                f"{info.compress_size} to {info.file_size} bytes: a zip bomb, not a Keras "
                "model (Keras stores members uncompressed)", where)
    if total > MAX_ARCHIVE_BYTES:
        raise ModelFileError(f"{prefix}: the archive would expand to {total} bytes, more than "
                             f"a model nncompile builds (at most {MAX_ARCHIVE_BYTES})", where)


def _read_config(archive: zipfile.ZipFile, where: Location, prefix: str) -> Any:
    with archive.open("config.json") as handle:
        raw = handle.read(MAX_CONFIG_BYTES + 1)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ModelFileError(f"{prefix}: its config.json is larger than "
                             f"{MAX_CONFIG_BYTES // 2 ** 20} MiB", where)
    try:
        return json.loads(raw)
    except RecursionError:  # the C parser guards its recursion; the walk bounds the depth
        raise ModelFileError(f"{prefix}: its config.json nests deeper than "
                             f"{MAX_CONFIG_DEPTH} levels", where) from None
    except ValueError as err:
        raise ModelFileError(f"{prefix}: its config.json is not valid JSON ({err})",
                             where) from err


class ConfigChecker:
    """Walks a parsed config.json; every serialised object must be on the allowlist."""

    def __init__(self, where: Location, prefix: str):
        self.where = where
        self.prefix = prefix

    def refuse(self, path: str, what: str, why: str) -> ModelFileError:
        location = Location(file=self.where.file, path=path or None)
        return ModelFileError(
            f"{self.prefix}: its config.json names {what}, {why}; nncompile loads only "
            "Keras's own layers, losses, metrics, optimisers and schedules and the nncompile "
            "package's classes",
            location)

    def check(self, value: Any, path: str, depth: int = 0) -> None:
        if depth > MAX_CONFIG_DEPTH:
            raise ModelFileError(f"{self.prefix}: its config.json nests deeper than "
                                 f"{MAX_CONFIG_DEPTH} levels",
                                 Location(file=self.where.file, path=path or None))
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.check(item, f"{path}[{index}]" if path else f"[{index}]", depth + 1)
            return
        if not isinstance(value, dict):
            return
        if "class_name" in value:
            self.check_object(value, path)
        elif "module" in value or "registered_name" in value or "fn" in value:
            raise self.refuse(path, f"a reference {_describe(value)}",
                              "which is not a serialised Keras object")
        for key, item in value.items():
            self.check(item, f"{path}.{key}" if path else str(key), depth + 1)

    def check_object(self, obj: dict, path: str) -> None:
        class_name = obj.get("class_name")
        module = obj.get("module")
        registered = obj.get("registered_name")
        what = _describe(obj)
        if not isinstance(class_name, str) or not isinstance(module, (str, type(None))):
            raise self.refuse(path, what, "which is not a serialised Keras object")
        if class_name in _DATA_CLASSES:
            if module is not None or registered is not None:
                raise self.refuse(path, what, "a value that names a module")
            return
        if class_name.startswith("__"):
            raise self.refuse(path, what, "a kind of value Keras would run or rebuild as code")
        if class_name == "function":
            self.check_function(obj, path, what)
            return
        if module is None:
            raise self.refuse(path, what, "without the module Keras writes for its objects")
        if isinstance(registered, str) and registered.startswith(_PACKAGE):
            self.check_registered(registered, module, path, what)
            return
        if registered not in (None, class_name):
            raise self.refuse(path, what, f"under the registered name '{registered}'")
        if (module, class_name) in _EXACT:
            return
        base = _FAMILIES.get(module)
        if base is None:
            raise self.refuse(path, what, f"from the module '{module}', which is not one of "
                              "Keras's model-building families")
        if class_name in _REFUSED_CLASSES:
            raise self.refuse(path, what, "a Keras class that runs code or files of its own")
        found = getattr(importlib.import_module(module), class_name, None)
        if not (isinstance(found, type) and issubclass(found, _resolve(base))):
            raise self.refuse(path, what, f"which is not a class of {module}")

    def check_function(self, obj: dict, path: str, what: str) -> None:
        """Only the nncompile package's registered functions (e.g. the step activation)."""
        name = obj.get("config")
        if obj.get("module") == "builtins" and isinstance(name, str) and name.startswith(_PACKAGE):
            self.check_registered(name, None, path, what)
            return
        if obj.get("module") == "keras.activations" and isinstance(name, str):
            import keras

            if name in _public_functions(keras.activations):
                return
        raise self.refuse(path, what, "a function reference")

    def check_registered(self, registered: str, module: str | None, path: str,
                         what: str) -> None:
        import keras

        import compiler.detection.loss  # noqa: F401 - registers the YOLO loss
        import custom_layers  # noqa: F401 - registers the nncompile package

        found = keras.saving.get_registered_object(registered)
        defined_in = getattr(found, "__module__", "") or ""
        if found is None or not defined_in.startswith(REGISTERING_MODULES):
            raise self.refuse(path, what, f"'{registered}', which the nncompile package does "
                              "not register")
        if module is not None and module != defined_in:
            raise self.refuse(path, what, f"with the module '{module}' while nncompile "
                              f"registers it in '{defined_in}'")


def _describe(obj: dict) -> str:
    parts = [f"{key}={obj[key]!r}" for key in ("module", "class_name", "registered_name", "config")
             if key in obj and isinstance(obj[key], (str, type(None)))]
    return "{" + ", ".join(parts) + "}" if parts else "an object"


def _resolve(dotted: str) -> type:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _public_functions(module: Any) -> set[str]:
    return {name for name in dir(module)
            if not name.startswith("_") and name not in ("get", "serialize", "deserialize")
            and callable(getattr(module, name))}


def check_weights(handle: Any, where: Location, prefix: str) -> None:
    """Refuse a weights file that is more than plain numeric arrays.

    Keras reads model.weights.h5 with h5py as arrays, which runs no code; but an
    HDF5 file can link to other files, hold object references or variable-length
    data, declare arrays far larger than it stores, or ask for filter plugins,
    none of which Keras writes.
    """
    import h5py
    import numpy as np

    problems: list[str] = []
    declared = 0

    def visit(name: str, link: Any) -> None:
        nonlocal declared
        if not isinstance(link, h5py.HardLink):
            problems.append(f"'{name}' is a {type(link).__name__}")
            return
        item = group[name]
        if isinstance(item, h5py.Dataset):
            kind = item.dtype.kind
            if kind not in "biuf" or item.dtype.fields is not None:
                problems.append(f"'{name}' holds {item.dtype} data, not numbers")
            elif item.compression is not None or item.id.get_create_plist().get_nfilters():
                problems.append(f"'{name}' asks for a compression filter")
            elif item.is_virtual:
                problems.append(f"'{name}' is a virtual dataset")
            else:
                declared += int(np.prod(item.shape, dtype=np.int64)) * item.dtype.itemsize
        for attr in item.attrs:
            dtype = item.attrs.get_id(attr).dtype
            text = h5py.check_string_dtype(dtype) is not None  # names are text attributes
            if not (text or dtype.kind in "biufSU") or h5py.check_dtype(ref=dtype) is not None:
                problems.append(f"'{name}' has an attribute '{attr}' of type {dtype}")

    try:
        with h5py.File(handle, "r") as group:
            group.visititems_links(visit)
            size = handle.seek(0, 2)
    except (OSError, ValueError) as err:
        raise ModelFileError(f"{prefix}: its {WEIGHTS_FILE} is not an HDF5 file ({err})",
                             where) from err
    if problems:
        raise ModelFileError(f"{prefix}: its {WEIGHTS_FILE} is not plain weights: "
                             f"{'; '.join(problems[:3])}", where)
    if declared > 2 * size + 1024 * 1024:
        raise ModelFileError(f"{prefix}: its {WEIGHTS_FILE} declares {declared} bytes of "
                             f"weights in a file of {size} bytes", where)
