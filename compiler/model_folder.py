"""The model folder ``saved_models/<name>/``, and the one door to `.keras` files.

Every verb reaches a model folder through :class:`ModelFolder`: its paths,
writing a build or a training run, loading its model, its spec (with the
options of the run that wrote it), its metadata and its input preprocessing.
No other module builds a path inside a model folder or loads a model file
(:func:`load_model_file` is the only loader, for folders and loose files alike).

Layout (each file written atomically, see :mod:`compiler.atomic`)::

    model.keras             the Keras model (trained, or built by `build`)
    spec.resolved.yaml      the spec after extends, --set, variables and blocks
    run.json                how the folder was written: spec file, --set, --allow-outside
    metrics.json            a training run's results (its presence marks a trained model)
    metadata.json           names, shapes, labels, preprocessing: what applications need
    history.csv, training_curves.png, confusion_matrix.png, worst_examples.csv
    evaluation_<split>.json `nncompile evaluate`'s results
    backup/ checkpoints/ logs/
    .nncompile.lock         while train, build or export writes (see :meth:`ModelFolder.lock`)
    saved_model/ model.tflite model.<quantize>.tflite   exports
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.errors import Location, ModelFileError, NNCompileError, Problem
from compiler.model_file_check import check_archive

DEFAULT_ROOT = "saved_models"
SPEC_SUFFIXES = (".yaml", ".yml")
EXPECTED = "expected a .keras file or a saved_models/<name>/ folder holding model.keras"

# What `train` writes: a folder at one of these file names (or a file at one of the
# folder names) would fail the run after training, not before.
RUN_FILES = ("model.keras", "spec.resolved.yaml", "run.json", "metrics.json", "history.csv",
             "training_curves.png", "confusion_matrix.png", "worst_examples.csv",
             "metadata.json")
RUN_FOLDERS = ("backup", "checkpoints", "logs")


@dataclass(frozen=True)
class RunOptions:
    """The command-line options of the run that wrote a folder, reapplied by later verbs.

    Attributes:
        spec: the spec file the run read (absolute path), if known.
        overrides: its ``--set`` values, in order.
        allow_outside: whether ``--allow-outside`` was given.
    """

    spec: str | None = None
    overrides: list[str] = field(default_factory=list)
    allow_outside: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, "overrides": list(self.overrides),
                "allow_outside": self.allow_outside}


class ModelFolder:
    """A ``<root>/<name>/`` model folder: its paths, what is written there and read back.

    Example:
        folder = ModelFolder.for_spec(spec)            # saved_models/<spec name>/
        folder.write_build(spec, model)
        folder = ModelFolder.open("saved_models/digits_cnn")
        model, spec = folder.load_model(), folder.data_spec()
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"ModelFolder({str(self.path)!r})"

    def __str__(self) -> str:
        return str(self.path)

    # ------------------------------------------------------------------ finding one

    @classmethod
    def for_spec(cls, spec_or_name: Any, out_root: str | Path = DEFAULT_ROOT) -> ModelFolder:
        """The folder of a spec (or a model name) under ``out_root`` (``--out``)."""
        name = spec_or_name if isinstance(spec_or_name, str) else spec_or_name.name
        return cls(Path(out_root) / name)

    @classmethod
    def open(cls, target: str | Path) -> ModelFolder:
        """The folder of ``target``: a model folder, or a `.keras` file inside one.

        Raises:
            ModelFileError: ``target`` is neither.
        """
        target = Path(target)
        folder = target.parent if target.suffix == ".keras" else target
        if not folder.is_dir():
            raise ModelFileError(
                f"'{target}' is neither a model folder, a .keras file nor a spec file")
        return cls(folder)

    # ------------------------------------------------------------------ paths

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def model_file(self) -> Path:
        return self.path / "model.keras"

    @property
    def resolved_spec_file(self) -> Path:
        return self.path / "spec.resolved.yaml"

    @property
    def run_file(self) -> Path:
        return self.path / "run.json"

    @property
    def metrics_file(self) -> Path:
        return self.path / "metrics.json"

    @property
    def metadata_file(self) -> Path:
        return self.path / "metadata.json"

    @property
    def history_file(self) -> Path:
        return self.path / "history.csv"

    @property
    def curves_file(self) -> Path:
        return self.path / "training_curves.png"

    @property
    def confusion_file(self) -> Path:
        return self.path / "confusion_matrix.png"

    @property
    def worst_examples_file(self) -> Path:
        return self.path / "worst_examples.csv"

    @property
    def backup_dir(self) -> Path:
        return self.path / "backup"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @property
    def saved_model_dir(self) -> Path:
        return self.path / "saved_model"

    def tflite_file(self, quantize: str | None = None) -> Path:
        """``model.tflite`` for float32, ``model.<mode>.tflite`` for a quantised model."""
        return self.path / ("model.tflite" if quantize is None else f"model.{quantize}.tflite")

    def evaluation_file(self, split: str) -> Path:
        return self.path / f"evaluation_{split}.json"

    # ------------------------------------------------------------------ state

    def exists(self) -> bool:
        return self.path.is_dir()

    def is_trained(self) -> bool:
        """Whether ``train`` wrote the model here (its metrics.json is there)."""
        return self.metrics_file.is_file() and self.model_file.is_file()

    def check_writable(self, flag: str = "--out") -> None:
        """Refuse, before a long run, a folder that cannot be created or written.

        Checks the folder itself if it exists, else the closest existing parent
        (where it would be created); a file in the way is named too.

        Raises:
            NNCompileError: located at the folder, naming the flag that chose it.
        """
        existing = self.path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        where = Location(str(self.path))
        if existing.exists() and not existing.is_dir():
            raise NNCompileError(
                f"cannot write here: '{existing}' is a file, not a folder; move it away or "
                f"choose another folder with {flag}",
                where,
            )
        if not os.access(existing, os.W_OK | os.X_OK):
            raise NNCompileError(
                f"cannot write here: the folder '{existing}' is read-only or not yours; choose "
                f"another folder with {flag}",
                where,
            )

    def check_nothing_in_the_way(self, files: Sequence[str] = RUN_FILES,
                                 folders: Sequence[str] = RUN_FOLDERS) -> None:
        """Refuse a folder at a name a run writes a file to, or a file where it makes a folder.

        Raises:
            NNCompileError: every such name at once, each located at its path.
        """
        problems = [
            Problem(f"a folder is in the way of the file {name}; move it away",
                    Location(str(self.path / name)))
            for name in files
            if (self.path / name).is_dir()
        ] + [
            Problem(f"a file is in the way of the folder {name}/; move it away",
                    Location(str(self.path / name)))
            for name in folders
            if (self.path / name).exists() and not (self.path / name).is_dir()
        ]
        if problems:
            raise NNCompileError(problems)

    def check_can_build(self, replace_trained: bool) -> None:
        """Refuse to put an untrained build over a trained model (unless told to).

        Raises:
            ModelFileError: the folder holds a trained model and ``replace_trained`` is off.
        """
        if self.is_trained() and not replace_trained:
            raise ModelFileError(
                f"'{self.path}' holds a trained model; building would replace its weights with "
                "untrained ones. Use --no-save to only check the spec, --out to write elsewhere, "
                "or --force to replace it")

    # ------------------------------------------------------------------ writing

    def lock(self, verb: str) -> Any:
        """A context manager: this process is the folder's only writer for the block.

        Example:
            with folder.lock("train"):
                ...  # another train, build or export of the folder is refused meanwhile

        Raises:
            NNCompileError: another live process holds the lock (its pid, verb and
                start time are named); a lock left by a killed process is taken over.
        """
        from compiler.folder_lock import folder_lock

        return folder_lock(self.path, verb)

    def check_unlocked(self) -> None:
        """Refuse, before a long step, a folder another process is writing (see :meth:`lock`)."""
        from compiler.folder_lock import check_unlocked

        check_unlocked(self.path)

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def write_build(self, spec: Any, model: Any, *, replace_trained: bool = False) -> None:
        """Write an untrained build: model.keras, spec.resolved.yaml and run.json.

        A folder that holds a trained model is left alone unless
        ``replace_trained`` is set; then the training results that described the
        old weights go too.
        """
        self.check_can_build(replace_trained)
        self.create()
        self.write_model(model)
        self.write_resolved_spec(spec)
        self.write_run(spec)
        if replace_trained:
            self.metrics_file.unlink(missing_ok=True)

    def write_model(self, model: Any) -> None:
        from compiler.atomic import save_model

        save_model(model, self.model_file)

    def write_resolved_spec(self, spec: Any) -> None:
        """spec.resolved.yaml: the spec after extends, --set, variables and blocks."""
        from compiler.atomic import write_text_atomic

        write_text_atomic(self.resolved_spec_file, resolved_spec_text(spec))

    def write_run(self, spec: Any) -> None:
        """run.json: the spec file and options the folder was written with."""
        from compiler.atomic import write_json

        source = spec.source_path
        options = RunOptions(
            spec=str(Path(source).resolve()) if source else None,
            overrides=list(spec.overrides),
            allow_outside=bool(spec.allow_outside),
        )
        write_json(self.run_file, options.as_dict())

    def write_metrics(self, metrics: dict) -> None:
        from compiler.atomic import write_json

        write_json(self.metrics_file, metrics)

    def write_metadata(self, text: str) -> None:
        from compiler.atomic import write_text_atomic

        write_text_atomic(self.metadata_file, text)

    # ------------------------------------------------------------------ reading

    def _read_json(self, path: Path) -> dict:
        """A JSON object from the folder; {} when missing or unreadable (a hint, not a must)."""
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def run_options(self) -> RunOptions:
        """The options of the run that wrote the folder (run.json, else metrics.json)."""
        record = self._read_json(self.run_file)
        if not record:  # folders written before run.json existed
            metrics = self._read_json(self.metrics_file)
            record = {"spec": metrics.get("spec"), "overrides": metrics.get("overrides")}
        spec = record.get("spec")
        return RunOptions(
            spec=str(spec) if spec else None,
            overrides=[str(o) for o in record.get("overrides") or []],
            allow_outside=bool(record.get("allow_outside", False)),
        )

    def metrics(self) -> dict:
        return self._read_json(self.metrics_file)

    def metadata(self) -> dict:
        return self._read_json(self.metadata_file)

    def load_model(self, location: Location | None = None) -> Any:
        """The folder's model.keras (see :func:`load_model_file`)."""
        return load_model_file(self.model_file, location)

    def resolved_spec(self, overrides: Sequence[str] = ()) -> Any:
        """The folder's spec.resolved.yaml as a Spec.

        Its `training.init_from.model` is the path the training run read, relative
        to the folder it ran in, so from the model folder it usually lies outside
        and the spec would be refused; the weights it gave are in model.keras
        already, so the reference is dropped rather than failing the whole spec.

        Raises:
            ModelFileError: the folder has no spec.resolved.yaml.
            SpecError: it does not load.
        """
        from compiler.api import load_spec
        from compiler.errors import SpecError

        if not self.resolved_spec_file.is_file():
            raise ModelFileError(
                f"'{self.path}' has no spec.resolved.yaml: was it written by `nncompile train` "
                "or `nncompile build`? Give the spec file instead")
        allow = self.run_options().allow_outside
        try:
            return load_spec(self.resolved_spec_file, list(overrides), allow_outside=allow)
        except SpecError as err:
            if not all((p.location.path or "").startswith("training.init_from")
                       for p in err.problems):
                raise
            return load_spec(self.resolved_spec_file, [*overrides, "training.init_from=null"],
                             allow_outside=allow)

    def data_spec(self, overrides: Sequence[str] = (), allow_outside: bool = False) -> Any:
        """The spec to read the folder's data through, with the run's options reapplied.

        spec.resolved.yaml keeps data paths as written, relative to the original
        spec's folder, so the original spec file recorded in run.json is used when
        it still exists, with the run's ``--set`` values
        first (same data, same split), then ``overrides``, and the run's
        ``--allow-outside`` (or ``allow_outside``). Otherwise spec.resolved.yaml.
        """
        from compiler.api import load_spec

        options = self.run_options()
        allow = allow_outside or options.allow_outside
        original = Path(options.spec) if options.spec else None
        if original is not None and original.is_file():
            return load_spec(original, [*options.overrides, *overrides], allow_outside=allow)
        return self.resolved_spec(overrides)

    def preprocessing(self, allow_outside: bool = False) -> tuple[dict, str | None]:
        """How training prepared the inputs: metadata.json's `preprocessing`.

        When metadata.json lacks it (a folder written by `build`, or exported
        without its data), the spec's training data are read again to recover it
        (``allow_outside`` as in :meth:`data_spec`).

        Returns:
            ``(preprocessing, why_missing)``: why_missing is None when the
            preprocessing is known, else why the training data could not be read.
        """
        known = self.metadata().get("preprocessing")
        if isinstance(known, dict) and known:
            return known, None
        spec, why = self._spec_of_data(allow_outside)
        if spec is None or spec.data is None:
            return {}, why
        return self._read_preprocessing(spec)

    def encoder(self, allow_outside: bool = False) -> Any:
        """The input encoder training fitted (:class:`compiler.data.encoder.InputEncoder`).

        From metadata.json; else, when the spec's data needed encoding (a CSV,
        standardisation), recovered by reading its training data again. A
        folder without a spec, or whose data need no encoding, gets the
        identity encoder; one whose training data cannot be read says why.
        """
        from compiler.data.encoder import InputEncoder

        known = self.metadata().get("preprocessing")
        if isinstance(known, dict) and known:
            return InputEncoder.from_metadata(known)
        spec, _ = self._spec_of_data(allow_outside)
        if spec is None or spec.data is None:
            return InputEncoder()
        data = spec.data
        csv_source = data.kind == "csv"
        if not (csv_source or data.standardize):
            return InputEncoder()
        recovered, why = self._read_preprocessing(spec)
        if why is not None:
            if not ((csv_source and data.source.categorical) or data.standardize):
                return InputEncoder()  # plain numeric columns: the file is read as numbers
            return InputEncoder.unknown(why, standardized=bool(data.standardize))
        return InputEncoder.from_metadata(
            recovered, delimiter=data.source.delimiter if csv_source else ",")

    def _spec_of_data(self, allow_outside: bool) -> tuple[Any, str | None]:
        """(the data spec or None, why not) for recovering the preprocessing."""
        if not self.resolved_spec_file.is_file():
            return None, None
        try:
            return self.data_spec(allow_outside=allow_outside), None
        except NNCompileError as err:
            return None, str(err.problems[0])

    @staticmethod
    def _read_preprocessing(spec: Any) -> tuple[dict, str | None]:
        from compiler.data.pipeline import load_data

        training = spec.training
        try:
            bundle = load_data(spec, batch_size=training.batch_size if training else 32,
                               seed=training.seed if training else None)
        except NNCompileError as err:
            return {}, str(err.problems[0])
        return dict(bundle.metadata), None

    def class_names(self) -> list[str] | None:
        """A classifier's class names as metrics.json records them, else None."""
        info = self.metrics()
        if info.get("task") not in ("classification", "binary"):
            return None
        names = info.get("class_names")
        if names:
            return [str(n) for n in names]
        # An empty list means "name the classes by their index".
        return ["0", "1"] if info.get("task") == "binary" else []


def resolved_spec_text(spec: Any) -> str:
    """The resolved spec as YAML (variables substituted, blocks expanded)."""
    import yaml

    header = f"# resolved from {spec.source_path}\n" if spec.source_path else ""
    return header + yaml.safe_dump(spec.resolved_tree(), sort_keys=False, allow_unicode=True)


def find_model_and_spec(target: str | Path, out_root: str | Path = DEFAULT_ROOT,
                        overrides: Sequence[str] = (), allow_outside: bool = False
                        ) -> tuple[ModelFolder, Any]:
    """The folder and the data spec of a verb's MODEL argument.

    ``target`` is a model folder, a `.keras` file inside one, or a spec file
    (whose folder is ``<out_root>/<name>/``).
    """
    from compiler.api import load_spec

    target = Path(target)
    if target.suffix in SPEC_SUFFIXES and target.is_file():
        spec = load_spec(target, list(overrides), allow_outside=allow_outside)
        return ModelFolder.for_spec(spec, out_root), spec
    folder = ModelFolder.open(target)
    return folder, folder.data_spec(overrides, allow_outside)


# ---------------------------------------------------------------------- the one loader

def load_model_file(path: str | Path, location: Location | None = None) -> Any:
    """Load a `.keras` file, or the model.keras of a ``saved_models/<name>/`` folder.

    The file is untrusted: before Keras reads it, the archive is bounded and its
    config and weights are checked as data (only objects nncompile could have
    written, see :mod:`compiler.model_file_check`); then it is loaded in Keras's
    safe mode with the project's layers, losses and metrics registered, and
    compiled when it was saved with a training configuration.

    Raises:
        ModelFileError: the path is missing, of the wrong kind, truncated or not
            a Keras model; the message says what was expected.
    """
    path = Path(path)
    where = location or Location(str(path))
    prefix = f"cannot load model file '{path}'"
    if not path.exists():
        raise ModelFileError(f"{prefix}: no such file or folder ({EXPECTED})", where)
    if path.is_dir():
        if (path / "model.keras").is_file():
            return load_model_file(path / "model.keras", location)
        if (path / "saved_model.pb").is_file():
            raise ModelFileError(
                f"{prefix}: this is a SavedModel folder, which cannot be loaded again; "
                f"{EXPECTED} (e.g. the folder that contains this one)", where)
        raise ModelFileError(f"{prefix}: the folder holds no model.keras ({EXPECTED})", where)
    if path.suffix in (".tflite", ".pb", ".h5", ".hdf5"):
        raise ModelFileError(f"{prefix}: a '{path.suffix}' file cannot be loaded here; {EXPECTED}",
                             where)
    if path.suffix != ".keras":
        raise ModelFileError(
            f"{prefix}: it is not a .keras file (train writes saved_models/<name>/model.keras)",
            where)
    if not zipfile.is_zipfile(path):
        # Keras would say "file not found" about an empty or truncated file.
        size = path.stat().st_size
        reason = ("it is empty (0 bytes)" if size == 0 else
                  "it is not a zip archive, as a .keras file is (truncated, or something else?)")
        raise ModelFileError(f"{prefix}: not a .keras file: {reason}", where)
    # Before Keras reads a byte: bounded archive, allowlisted config, plain weights.
    check_archive(path, where, prefix)
    import keras

    import custom_layers  # noqa: F401 - registers the project's layers, losses and metrics
    from compiler.build.graph import allow_deep_model_file

    allow_deep_model_file(path)  # Keras rebuilds the graph recursively
    try:
        return keras.saving.load_model(path, compile=True, safe_mode=True)
    except Exception as err:  # noqa: BLE001 - Keras raises many types for bad files
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelFileError(
            f"{prefix}: it is truncated, corrupt or not a Keras model ({detail[:200]})", where
        ) from err
