"""Schema of the `data:` section: where examples come from and how they are split.

Pure pydantic, no TensorFlow: ``nncompile validate`` imports this module and
must start fast. A `data:` section names exactly one source kind of the
registry (:mod:`compiler.data.source_registry`, where each kind's options and
reader are defined)::

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

from pydantic import Field, create_model, model_validator

from compiler.data.files import FileReference
from compiler.data.source_registry import (  # noqa: F401 - readers import the options from here
    SOURCES,
    BuiltinName,
    BuiltinSource,
    CsvSource,
    DataSource,
    FileSource,
    GenerateSource,
    ImageFolderSource,
    NpySource,
    NpzSource,
    SequenceOptions,
    Source,
    TaskName,
    TextSource,
    TFRecordFeature,
    TFRecordSource,
)
from compiler.spec.base import StrictModel

TaskKind = Literal["classification", "binary", "regression", "sequence_labeling", "seq2seq"]


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


# One optional field per source kind, in the registry's order (they come first,
# as users read them in messages: "accepted: builtin, csv, ...").
_DataSources = create_model(
    "DataSources",
    __base__=StrictModel,
    __module__=__name__,
    __doc__="The source kinds of `data:`, of which a spec gives exactly one.",
    **{kind: (cls | None, Field(default=None, description=cls.summary))
       for kind, cls in SOURCES.items()},
)


# The fields of _DataSources are the source kinds (`data.csv`, ...), of which
# exactly one is given: `kind` names it and `source` holds its options. The
# docstring is the section's description in the JSON Schema, for users.
class DataSpec(_DataSources):
    """Where the examples come from, how they are split, batched and prepared."""

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
        given = [kind for kind in SOURCES if getattr(self, kind) is not None]
        if not given:
            raise ValueError(
                "no data source: give exactly one of " + ", ".join(SOURCES)
            )
        if len(given) > 1:
            raise ValueError(
                f"give exactly one data source, got {len(given)}: {', '.join(given)}; "
                "split files go under `train:`, `validation:` and `test:`"
            )
        kind = given[0]
        source = getattr(self, kind)
        if not isinstance(source, FileSource) and self.split_files():
            raise ValueError(
                f"`train:`, `validation:` and `test:` files do not apply to a `{kind}` source; "
                "use `split:` fractions instead"
            )
        if isinstance(source, FileSource) and source.path is None and not self.train:
            raise ValueError(f"`{kind}` needs a `path` (or a `train:` file)")
        return self

    @property
    def kind(self) -> str:
        """The name of the one source kind given (for example ``"csv"``)."""
        return next(kind for kind in SOURCES if getattr(self, kind) is not None)

    @property
    def source(self) -> Source:
        """The options of the one source given (a :class:`BuiltinSource` for `builtin`)."""
        return getattr(self, self.kind)

    def split_files(self) -> dict[str, str]:
        """The split files given, {split name: file}."""
        named = {"train": self.train, "validation": self.validation, "test": self.test}
        return {name: path for name, path in named.items() if path is not None}

    def file_references(self) -> list[FileReference]:
        """Every file this section names: the source's, then the split files."""
        references = [FileReference((self.kind, *ref.where), ref.reference, ref.kind)
                      for ref in self.source.file_references()]
        references.extend(FileReference((split,), file)
                          for split, file in self.split_files().items())
        return references
