"""Schema of the `data:` section: where examples come from and how they are split.

Pure pydantic, no TensorFlow: ``nncompile validate`` imports this module and
must start fast. A `data:` section names exactly one source kind::

    data: {builtin: digits, split: {validation: 0.2, test: 0.2}}
    data: {csv: {path: data/houses.csv, target: price, categorical: [city]}, split: auto}
    data: {npz: {path: x.npz, inputs: {image: x}, targets: y}}
    data: {npy: {inputs: {image: x.npy}, targets: y.npy}}
    data: {images: {path: photos/, size: [32, 32], color: rgb}}
    data: {tfrecord: {path: train.tfrecord, features: {x: {shape: [4]}, y: {dtype: int64}},
                      target: y}}
    data: {text: {path: corpus.txt, mode: next_char, max_length: 40}}
    data: {generate: {task: adding, samples: 5000, length: 50, seed: 1}}

Split files replace the source's ``path`` (``train: a.csv, validation: b.csv``);
splits without a file are empty unless ``split`` gives them a fraction of the
training file. Without split files, ``split`` defaults to ``auto``: the rule of
thumb of the deep-learning notes (see :func:`compiler.data.splits.auto_fractions`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from compiler.spec.base import StrictModel

BuiltinName = Literal["digits", "iris", "wine", "breast_cancer", "diabetes"]
TaskName = Literal[
    "adding", "dates", "addition", "parity", "tagging", "digit_pairs", "char_text"
]
TaskKind = Literal["classification", "binary", "regression", "sequence_labeling", "seq2seq"]
SOURCE_KINDS = ("builtin", "csv", "npz", "npy", "images", "tfrecord", "text", "generate")


class SequenceOptions(StrictModel):
    """How variable-length sequences are cut or padded to one length (pad value 0)."""

    max_length: int | None = Field(default=None, gt=0)
    """Length every sequence is cut or padded to; default: the longest sequence."""
    padding: Literal["pre", "post"] = "post"
    """Where padding zeros go in a short sequence: before (`pre`) or after (`post`) it."""
    truncating: Literal["pre", "post"] = "post"
    """Which end of a long sequence is cut off: the beginning (`pre`) or the end (`post`)."""


class CsvSource(StrictModel):
    """A CSV file with a header row; one example per row."""

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


class NpzSource(StrictModel):
    """A NumPy ``.npz`` archive holding named arrays, one example per leading index."""

    path: str | None = None
    """The .npz file, relative to the spec's folder."""
    inputs: str | dict[str, str]
    """Array key of the single input, or {data input name: array key}."""
    targets: str | dict[str, str]
    """Array key of the single target, or {data target name: array key}."""


class NpySource(StrictModel):
    """One NumPy ``.npy`` file per array (for example ``x.npy`` and ``y.npy``)."""

    inputs: str | dict[str, str]
    """The .npy file of the single input, or {data input name: .npy file}."""
    targets: str | dict[str, str]
    """The .npy file of the single target, or {data target name: .npy file}."""


class ImageFolderSource(StrictModel):
    """A folder with one subfolder per class; labels come from the subfolder names."""

    path: str | None = None
    """The folder, relative to the spec's folder."""
    size: tuple[int, int]
    """[height, width] every image is resized to."""
    color: Literal["rgb", "grayscale"] = "rgb"
    """Channels: rgb gives 3, grayscale gives 1. Pixels are scaled to [0, 1]."""
    input: str = "image"
    """Name of the data input that holds the images."""


class TFRecordFeature(StrictModel):
    """One feature of a ``tf.train.Example``: a fixed shape and a type."""

    shape: list[int] = []
    """Shape of one example's value; [] for a scalar."""
    dtype: Literal["float32", "int64", "string"] = "float32"
    """Stored type of the feature."""


class TFRecordSource(StrictModel):
    """A TFRecord file of serialised ``tf.train.Example`` records."""

    path: str | None = None
    """The .tfrecord file, relative to the spec's folder."""
    features: dict[str, TFRecordFeature]
    """Every feature to read, by its name in the records."""
    target: str | list[str]
    """Feature(s) to predict; the other features are inputs."""


class TextSource(SequenceOptions):
    """A UTF-8 text file read as characters."""

    path: str | None = None
    """The text file, relative to the spec's folder."""
    mode: Literal["next_char", "labeled_lines"] = "next_char"
    """`next_char`: windows of `max_length` characters, each predicting the character
    after it (input `chars`, target `next_char`). `labeled_lines`: one example per line,
    written `label<TAB>text` (input `text`, target `label`)."""
    step: int = Field(default=1, gt=0)
    """`next_char` only: characters between the starts of two windows."""


class GenerateSource(SequenceOptions):
    """A synthetic task, generated deterministically from a seed (no download)."""

    task: TaskName
    """Which task; see the data section of the README for the names each produces."""
    samples: int = Field(default=5000, gt=0, le=2_000_000)
    """Number of examples."""
    length: int | None = Field(default=None, gt=0)
    """Sequence length (`adding`, `tagging`, `char_text` windows) or the longest
    sequence (`parity`) or the most digits of each operand (`addition`)."""
    seed: int = 0
    """Seed of the generator: the same seed gives the same examples."""


class SplitFractions(StrictModel):
    """Fractions of the examples held out for validation and test."""

    validation: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Fraction held out for validation."""
    test: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Fraction held out for the final test."""

    @model_validator(mode="after")
    def _leave_training_data(self) -> SplitFractions:
        if self.validation + self.test >= 1.0:
            raise ValueError(
                f"validation ({self.validation}) + test ({self.test}) must be below 1 "
                "so that some examples are left for training"
            )
        return self


class DataSpec(StrictModel):
    """Where the examples come from, how they are split, batched and prepared."""

    builtin: BuiltinName | None = None
    """A scikit-learn data set shipped with the package (no download)."""
    csv: CsvSource | None = None
    """A CSV file with a header row."""
    npz: NpzSource | None = None
    """A NumPy .npz archive."""
    npy: NpySource | None = None
    """A set of NumPy .npy files."""
    images: ImageFolderSource | None = None
    """A folder of images, one subfolder per class."""
    tfrecord: TFRecordSource | None = None
    """A TFRecord file of tf.train.Example records."""
    text: TextSource | None = None
    """A text file read as characters."""
    generate: GenerateSource | None = None
    """A generated synthetic task."""

    train: str | None = None
    """File with the training examples; replaces the source's `path`."""
    validation: str | None = None
    """File with the validation examples, in the same format as `train`."""
    test: str | None = None
    """File with the test examples, in the same format as `train`."""
    split: Literal["auto", "none"] | SplitFractions | None = None
    """How examples are divided: fractions, `auto` (60/20/20 below 10,000 examples,
    98/1/1 above 1,000,000, in between see the README) or `none` (all for training).
    Default: `auto`, or `none` when split files are given."""

    inputs: dict[str, str] = {}
    """{model input name: data input name} where the names differ."""
    targets: dict[str, str] = {}
    """{model output name: data target name} where the names differ."""
    task: TaskKind | None = None
    """What the targets are; default: detected (integer or text labels: classification)."""
    standardize: bool = False
    """Rescale numeric float features to mean 0, standard deviation 1, with constants
    fitted on the training split only (stored in the model's metadata)."""
    shuffle: bool = True
    """Shuffle the training examples every epoch."""
    cache: bool = True
    """Keep the prepared examples in memory after the first epoch."""
    seed: int | None = None
    """Seed for the split and the shuffling; default: the training seed, else 0."""

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        given = [kind for kind in SOURCE_KINDS if getattr(self, kind) is not None]
        if not given:
            raise ValueError(
                "no data source: give exactly one of " + ", ".join(SOURCE_KINDS)
            )
        if len(given) > 1:
            raise ValueError(
                f"give exactly one data source, got {len(given)}: {', '.join(given)}; "
                "split files go under `train:`, `validation:` and `test:`"
            )
        kind = given[0]
        if kind in ("builtin", "generate", "npy") and self.split_files():
            raise ValueError(
                f"`train:`, `validation:` and `test:` files do not apply to a `{kind}` source; "
                "use `split:` fractions instead"
            )
        source = getattr(self, kind)
        if kind not in ("builtin", "generate", "npy") and source.path is None and not self.train:
            raise ValueError(f"`{kind}` needs a `path` (or a `train:` file)")
        return self

    @property
    def kind(self) -> str:
        """The name of the one source kind given (for example ``"csv"``)."""
        return next(kind for kind in SOURCE_KINDS if getattr(self, kind) is not None)

    @property
    def source(self) -> StrictModel | str:
        """The options of the one source given (a string for `builtin`)."""
        return getattr(self, self.kind)

    def split_files(self) -> dict[str, str]:
        """The split files given, {split name: file}."""
        named = {"train": self.train, "validation": self.validation, "test": self.test}
        return {name: path for name, path in named.items() if path is not None}
