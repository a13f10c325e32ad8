"""The closed registry of data sources: each kind's options, files and reader side by side.

A `data:` section names exactly one source kind. Each kind is one class here,
like a layer type in :mod:`compiler.layers`: its fields are the options a
spec writes under the kind's key, :meth:`~DataSource.file_references` lists
the files those options name (validation keeps them under the spec's folder),
and :meth:`~DataSource.read` reads the examples. :data:`SOURCES` maps every
key to its class; the `data:` schema (:mod:`compiler.data.schema`),
``extends:`` merging, validation and reading (:mod:`compiler.data.sources`)
all take the list of kinds from it, so a new kind is one class added here.

Pure pydantic: nothing here imports NumPy or TensorFlow, because
``nncompile validate`` imports this module and must start fast. A reader
imports what it needs when it is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, RootModel

from compiler.data.files import FileReference
from compiler.detection.options import DetectionOptions
from compiler.errors import DataError, Location
from compiler.spec.base import StrictModel

if TYPE_CHECKING:
    from compiler.data.raw import RawData

BuiltinName = Literal["digits", "iris", "wine", "breast_cancer", "diabetes"]
TaskName = Literal[
    "adding", "dates", "addition", "parity", "tagging", "digit_pairs", "char_text", "shapes"
]


@dataclass(frozen=True)
class SourceRequest:
    """What a source's reader is given to read one split.

    Attributes:
        path: the file or folder to read, already checked to exist and to stay
            under the spec's folder (sources that read one, :class:`FileSource`);
            None for the others.
        name: how messages name that file (relative to the spec's folder).
        base_dir: the spec's folder, for sources that name their own files.
        allow_outside: whether files may leave the spec's folder (--allow-outside).
        locate: the spec location of a path inside `data:`, e.g.
            ``locate("csv", "features", 2)``.
        task: the spec's `data.task`, when it fixes one.
        training: the training split, when this reads a validation or test file
            (which must use the training split's categories, classes, vocabulary).
    """

    path: Path | None
    name: str
    base_dir: Path
    allow_outside: bool
    locate: Callable[..., Location]
    task: str | None = None
    training: RawData | None = None

    @property
    def file(self) -> Path:
        """The file or folder of a :class:`FileSource` (resolved before reading)."""
        if self.path is None:
            raise ValueError("this source reads no file named by `path` or a split file")
        return self.path


class DataSource(StrictModel):
    """A kind of data source: the options under its key in `data:`."""

    kind: ClassVar[str]
    """The key that names this kind under `data:`, e.g. ``csv``."""
    summary: ClassVar[str]
    """One line on the kind, shown as the description of its key in the JSON Schema."""

    def file_references(self) -> list[FileReference]:
        """The files these options name, each with its path below the kind's key."""
        return []

    def read(self, request: SourceRequest) -> RawData:
        """Read the examples (one split's, when split files are given)."""
        raise NotImplementedError(f"the {self.kind} source has no reader")


class FileSource(DataSource):
    """A source that reads one file or folder: `path`, or a split file that replaces it."""

    reads: ClassVar[Literal["file", "folder"]] = "file"
    """What `path` and the split files (`train:`, `validation:`, `test:`) name."""

    path: str | None = None
    """The file, relative to the spec's folder (optional when `train:` names the file)."""

    def file_references(self) -> list[FileReference]:
        return [] if self.path is None else [FileReference(("path",), self.path)]


class SequenceOptions(StrictModel):
    """How variable-length sequences are cut or padded to one length (pad value 0)."""

    max_length: int | None = Field(default=None, gt=0)
    """Length every sequence is cut or padded to; default: the longest sequence."""
    padding: Literal["pre", "post"] = "post"
    """Where padding zeros go in a short sequence: before (`pre`) or after (`post`) it."""
    truncating: Literal["pre", "post"] = "post"
    """Which end of a long sequence is cut off: the beginning (`pre`) or the end (`post`)."""


class BuiltinSource(RootModel[BuiltinName]):
    """A scikit-learn data set shipped with the package, by name (no download)."""

    kind: ClassVar[str] = "builtin"
    summary: ClassVar[str] = "A scikit-learn data set shipped with the package (no download)."

    def file_references(self) -> list[FileReference]:
        """None: the data ship with scikit-learn."""
        return []

    def read(self, request: SourceRequest) -> RawData:
        """Load the named data set."""
        from compiler.data.builtin import load_builtin

        return load_builtin(self.root)


class CsvSource(FileSource):
    """A CSV file with a header row; one example per row."""

    kind: ClassVar[str] = "csv"
    summary: ClassVar[str] = "A CSV file with a header row."

    path: str | None = None
    """CSV file, relative to the spec's folder (optional when `train:` names the file)."""
    target: str | list[str]
    """Column(s) to predict; several columns give several outputs."""
    features: list[str] | None = None
    """Columns fed to the model, in order; default: every column except the targets."""
    categorical: list[str] = []
    """Feature columns holding categories; each is one-hot encoded."""
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    """Field separator."""
    input: str = "features"
    """Name of the data input that holds the feature vector."""

    def read(self, request: SourceRequest) -> RawData:
        from compiler.data.readers.csv_reader import read_csv

        self._check_columns(request.locate)
        categories = request.training.metadata["categories"] if request.training else None
        return read_csv(request.file, self, request.name, categories=categories, task=request.task)

    def _check_columns(self, locate: Callable[..., Location]) -> None:
        """Mistakes that need no file: a target among the features, a column listed twice."""
        targets = [self.target] if isinstance(self.target, str) else list(self.target)
        features = list(self.features or [])
        for index, name in enumerate(features):
            where = locate("csv", "features", index)
            if name in targets:
                raise DataError(
                    f"column '{name}' is both a target and a feature: the model would read the "
                    "answer from its input; remove it from `features`",
                    where,
                )
            if name in features[:index]:
                raise DataError(f"column '{name}' is listed twice in `features`", where)
        for index, name in enumerate(targets):
            if name in targets[:index]:
                raise DataError(
                    f"column '{name}' is listed twice as a target", locate("csv", "target", index)
                )


class NpzSource(FileSource):
    """A NumPy ``.npz`` archive holding named arrays, one example per leading index."""

    kind: ClassVar[str] = "npz"
    summary: ClassVar[str] = "A NumPy .npz archive."

    path: str | None = None
    """The .npz file, relative to the spec's folder."""
    inputs: str | dict[str, str]
    """Array key of the single input, or {data input name: array key}."""
    targets: str | dict[str, str]
    """Array key of the single target, or {data target name: array key}."""

    def read(self, request: SourceRequest) -> RawData:
        from compiler.data.readers.arrays import read_npz

        return read_npz(request.file, self.inputs, self.targets, request.name)


class NpySource(DataSource):
    """One NumPy ``.npy`` file per array (for example ``x.npy`` and ``y.npy``)."""

    kind: ClassVar[str] = "npy"
    summary: ClassVar[str] = "A set of NumPy .npy files."

    inputs: str | dict[str, str]
    """The .npy file of the single input, or {data input name: .npy file}."""
    targets: str | dict[str, str]
    """The .npy file of the single target, or {data target name: .npy file}."""

    def file_references(self) -> list[FileReference]:
        references = []
        for role, files in (("inputs", self.inputs), ("targets", self.targets)):
            if isinstance(files, str):  # one .npy file, or {name: .npy file}
                references.append(FileReference((role,), files))
            else:
                references.extend(FileReference((role, name), file) for name, file in files.items())
        return references

    def read(self, request: SourceRequest) -> RawData:
        from compiler.data.files import resolve_data_path, shown
        from compiler.data.readers.arrays import named, read_npy

        def resolve(role: str, files: str | dict[str, str]) -> dict[str, Path]:
            return {
                name: resolve_data_path(
                    file,
                    request.base_dir,
                    request.locate("npy", role, *([] if isinstance(files, str) else [name])),
                    allow_outside=request.allow_outside,
                )
                for name, file in named(files).items()
            }

        return read_npy(resolve("inputs", self.inputs), resolve("targets", self.targets),
                        lambda p: shown(p, request.base_dir))


class ImageFolderSource(FileSource):
    """A folder with one subfolder per class; labels come from the subfolder names."""

    kind: ClassVar[str] = "images"
    summary: ClassVar[str] = "A folder of images, one subfolder per class."
    reads: ClassVar[Literal["file", "folder"]] = "folder"

    path: str | None = None
    """The folder, relative to the spec's folder."""
    size: tuple[int, int]
    """[height, width] every image is resized to."""
    color: Literal["rgb", "grayscale"] = "rgb"
    """Channels: rgb gives 3, grayscale gives 1. Pixels are scaled to [0, 1]."""
    input: str = "image"
    """Name of the data input that holds the images."""

    def read(self, request: SourceRequest) -> RawData:
        from compiler.data.readers.images import read_image_folder

        return read_image_folder(
            request.file,
            tuple(self.size),
            self.color,
            self.input,
            request.name,
            class_names=request.training.class_names if request.training else None,
        )


class TFRecordFeature(StrictModel):
    """One feature of a ``tf.train.Example``: a fixed shape and a type."""

    shape: list[int] = []
    """Shape of one example's value; [] for a scalar."""
    dtype: Literal["float32", "int64", "string"] = "float32"
    """Stored type of the feature."""


class TFRecordSource(FileSource):
    """A TFRecord file of serialised ``tf.train.Example`` records."""

    kind: ClassVar[str] = "tfrecord"
    summary: ClassVar[str] = "A TFRecord file of tf.train.Example records."

    path: str | None = None
    """The .tfrecord file, relative to the spec's folder."""
    features: dict[str, TFRecordFeature]
    """Every feature to read, by its name in the records."""
    target: str | list[str]
    """Feature(s) to predict; the other features are inputs."""

    def read(self, request: SourceRequest) -> RawData:
        from compiler.data.readers.tfrecord import read_tfrecord

        targets = [self.target] if isinstance(self.target, str) else list(self.target)
        return read_tfrecord(request.file, self.features, targets, request.name)


class TextSource(FileSource, SequenceOptions):
    """A UTF-8 text file read as characters."""

    kind: ClassVar[str] = "text"
    summary: ClassVar[str] = "A text file read as characters."

    path: str | None = None
    """The text file, relative to the spec's folder."""
    mode: Literal["next_char", "labeled_lines"] = "next_char"
    """`next_char`: windows of `max_length` characters, each predicting the character
    after it (input `chars`, target `next_char`). `labeled_lines`: one example per line,
    written `label<TAB>text` (input `text`, target `label`)."""
    step: int = Field(default=1, gt=0)
    """`next_char` only: characters between the starts of two windows."""

    def read(self, request: SourceRequest) -> RawData:
        from compiler.data.readers.text import read_text

        return read_text(request.file, self, request.name, request.training)


class YoloFolderSource(FileSource, DetectionOptions):
    """A folder of images in the YOLO text format: beside each image a `class cx cy w h` file."""

    kind: ClassVar[str] = "yolo"
    summary: ClassVar[str] = "A folder of images with YOLO label files (object detection)."
    reads: ClassVar[Literal["file", "folder"]] = "folder"

    path: str | None = None
    """The folder, relative to the spec's folder."""
    size: tuple[int, int]
    """[height, width] every image is resized to (normalised boxes stay where they are)."""
    color: Literal["rgb", "grayscale"] = "rgb"
    """Channels: rgb gives 3, grayscale gives 1. Pixels are scaled to [0, 1]."""
    classes: list[str] | None = None
    """Class names in index order; default: the folder's classes.txt, else the numbers."""
    input: str = "image"
    """Name of the data input that holds the images."""

    def read(self, request: SourceRequest) -> RawData:
        from compiler.data.readers.yolo_folder import class_names_of, read_yolo_folder

        names = (request.training.class_names if request.training else
                 class_names_of(request.file, request.name, self.classes))
        return read_yolo_folder(request.file, tuple(self.size), self.color, self.input,
                                request.name, names)


class GenerateSource(DataSource, SequenceOptions, DetectionOptions):
    """A synthetic task, generated deterministically from a seed (no download)."""

    kind: ClassVar[str] = "generate"
    summary: ClassVar[str] = "A generated synthetic task."

    task: TaskName
    """Which task; see the data section of the README for the names each produces."""
    samples: int = Field(default=5000, gt=0, le=2_000_000)
    """Number of examples."""
    length: int | None = Field(default=None, gt=0)
    """Sequence length (`adding`, `tagging`, `char_text` windows) or the longest
    sequence (`parity`) or the most digits of each operand (`addition`)."""
    seed: int = 0
    """Seed of the generator: the same seed gives the same examples."""
    size: int | None = Field(default=None, gt=0, le=1024)
    """`shapes`: side of the square canvas in pixels (default 96)."""

    def read(self, request: SourceRequest) -> RawData:
        from compiler.data.generated import generate

        try:
            return generate(self)
        except ValueError as err:
            raise DataError(str(err), request.locate("generate")) from None


Source = BuiltinSource | DataSource
"""The options of one source kind (every kind but `builtin` takes a mapping)."""

SOURCES: dict[str, type[BuiltinSource] | type[DataSource]] = {
    cls.kind: cls
    for cls in (
        BuiltinSource,
        CsvSource,
        NpzSource,
        NpySource,
        ImageFolderSource,
        TFRecordSource,
        TextSource,
        GenerateSource,
        YoloFolderSource,
    )
}
"""Every source kind a `data:` section may name, by its key, in the order listed to users."""
