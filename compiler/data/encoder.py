"""How examples are encoded for the model: one encoder for train, evaluate and predict.

:class:`InputEncoder` holds everything training fits on its data to turn
examples into the model's input arrays: the CSV feature columns in order, the
categories of each categorical column in one-hot order, the delimiter, and
the per-feature standardisation constants of each standardised input. The
training reader (:mod:`compiler.data.readers.csv_reader`) and the pipeline
(:func:`compiler.data.pipeline.load_data`) encode with it, so `train` and
`evaluate` (which reads the spec's data again) do; `predict` rebuilds it from
the model folder's metadata.json and encodes its input file with the same
code, so a row reaches the model as the same array in every verb.

Serialised form (metadata.json's ``preprocessing``, also
:attr:`compiler.data.bundle.DataBundle.metadata`), keys as they have always been:

- ``columns``: the CSV feature columns, in training order (CSV sources only);
- ``categories``: {column: its categories in one-hot order} for each
  categorical feature column, plus the classes of each text target column;
- ``categorical``: the categorical feature columns, in column order;
- ``feature_names``: the model's features, one per numeric column and
  ``column=category`` per one-hot column, in the order of the input's last axis;
- ``delimiter``: the CSV field separator;
- ``standardization``: {data input name: {``mean``: [...], ``std``: [...]}},
  per feature (the input's last axis), fitted on the training split only;
  one-hot columns and features that never vary have mean 0 and std 1. Present
  when the spec standardises (``data: {standardize: true}``);
- ``inputs``: {model input name: data input name}.

Other keys (``task``, ``class_names``, ``vocabulary``, ``targets``, ...) are
kept as they are, so a round trip through :meth:`InputEncoder.from_metadata`
and :meth:`InputEncoder.to_metadata` gives the same dict. Folders written
before ``columns`` was recorded are read too: the columns follow from
``feature_names`` and ``categories``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from compiler.data.readers.csv_cells import Rows, parse_numbers
from compiler.errors import DataError, Location

if TYPE_CHECKING:
    from compiler.data.raw import RawData

# The keys of metadata.json's `preprocessing` the encoder reads and writes: those
# of a CSV source (other sources keep theirs as facts, such as a built-in data
# set's `feature_names`), then those of every source.
CSV_KEYS = ("columns", "categories", "categorical", "feature_names", "delimiter")
OWN_KEYS = ("standardization", "inputs")


@dataclass
class InputEncoder:
    """What training fitted to encode examples, and the code that encodes them.

    Attributes:
        columns: the CSV feature columns, in training order (None: the data
            are not a CSV).
        categories: {categorical feature column: its categories, in one-hot
            order}, fixed by the training file.
        delimiter: the CSV field separator.
        standardization: {data input name: (mean, std)}, float32 per feature
            (last axis), fitted on the training split.
        inputs: {model input name: data input name}.
        missing: why the encoding is unknown although training used one (the
            training data cannot be read); None when it is known or training
            used none.
        standardized: whether training standardised the inputs.
        target_categories: the classes of a CSV's text target columns, in
            index order (kept for metadata.json; inputs do not use them).
        facts: the other keys of the serialised form, kept as they were.
    """

    columns: list[str] | None = None
    categories: dict[str, list[str]] = field(default_factory=dict)
    delimiter: str = ","
    standardization: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    missing: str | None = None
    standardized: bool = False
    target_categories: dict[str, list[str]] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    # ---------------------------------------------------------------- building

    @classmethod
    def unknown(cls, why: str, standardized: bool) -> InputEncoder:
        """An encoder for a model whose training data cannot be read (``why``).

        Rows are read as numbers; a model trained on ``standardized`` inputs
        refuses to encode any (:meth:`encode_file`), since their constants are lost.
        """
        return cls(missing=why, standardized=standardized)

    @classmethod
    def fit_csv(
        cls,
        columns: Iterable[str],
        categorical: Iterable[str],
        delimiter: str,
        cells: Callable[[str], list[str]],
        categories: dict[str, list[str]] | None = None,
    ) -> InputEncoder:
        """The encoder of a CSV's feature ``columns``, fitted on the training file.

        Args:
            columns: the feature columns, in the order the model sees them.
            categorical: the columns holding categories.
            delimiter: the field separator.
            cells: a column's stripped cells in the training file.
            categories: categories fixed by an earlier file (the training
                file, when this one is a validation or test file); a column
                without them gets its cells' distinct values, sorted.
        """
        fixed, categorical = categories or {}, set(categorical)
        columns = list(columns)
        return cls(
            columns=columns,
            categories={
                name: list(fixed[name]) if name in fixed else sorted(set(cells(name)))
                for name in columns
                if name in categorical
            },
            delimiter=delimiter,
        )

    def fit_standardization(self, train: RawData) -> InputEncoder:
        """This encoder with the standardisation constants of ``train``'s inputs.

        Mean and standard deviation of each float input, per feature (last
        axis), fitted on the training split only, so validation and test
        scores are not flattered by statistics of the examples they measure.
        A feature that never varies, or that the reader exempts (a one-hot
        column, ``RawData.no_standardize``), gets mean 0 and std 1.
        """
        constants = {}
        for name, array in train.inputs.items():
            if array.dtype.kind != "f":
                continue
            axes = tuple(range(array.ndim - 1))
            mean = array.mean(axis=axes, dtype=np.float64)
            std = array.std(axis=axes, dtype=np.float64)
            exempt = train.no_standardize.get(name)
            if exempt is not None:
                mean[exempt], std[exempt] = 0.0, 1.0
            std[std == 0] = 1.0
            constants[name] = (mean.astype(np.float32), std.astype(np.float32))
        return replace(self, standardization=constants, standardized=True)

    # ----------------------------------------------------------- serialising

    @classmethod
    def from_metadata(cls, meta: dict, delimiter: str = ",") -> InputEncoder:
        """Read the serialised form (metadata.json's ``preprocessing``; see the module).

        Args:
            meta: the ``preprocessing`` dict.
            delimiter: the separator when ``meta`` names none.
        """
        categories = {
            str(k): [str(v) for v in values] for k, values in (meta.get("categories") or {}).items()
        }
        columns = meta.get("columns")
        # Only a CSV source records its categories; other sources have no columns.
        if columns is None and "categories" in meta and meta.get("feature_names") is not None:
            columns = _columns_from_feature_names(meta["feature_names"], categories)
        columns = [str(c) for c in columns] if columns is not None else None
        standardization = {
            str(name): (np.asarray(c["mean"], "float32"), np.asarray(c["std"], "float32"))
            for name, c in (meta.get("standardization") or {}).items()
        }
        return cls(
            columns=columns,
            categories={k: v for k, v in categories.items() if columns and k in columns},
            delimiter=str(meta.get("delimiter") or delimiter),
            standardization=standardization,
            inputs={str(k): str(v) for k, v in (meta.get("inputs") or {}).items()},
            standardized="standardization" in meta,
            target_categories={
                k: v for k, v in categories.items() if columns is not None and k not in columns
            },
            facts={
                k: v
                for k, v in meta.items()
                if k not in OWN_KEYS and (columns is None or k not in CSV_KEYS)
            },
        )

    def to_metadata(self) -> dict[str, Any]:
        """The serialised form: plain JSON types, the keys described in the module."""
        meta = dict(self.facts)
        if self.columns is not None:
            meta.update(
                columns=list(self.columns),
                categorical=[c for c in self.columns if c in self.categories],
                feature_names=self.feature_names(),
                delimiter=self.delimiter,
                categories={**self.categories, **self.target_categories},
            )
        if self.standardized:
            meta["standardization"] = {
                name: {"mean": mean.tolist(), "std": std.tolist()}
                for name, (mean, std) in self.standardization.items()
            }
        if self.inputs:
            meta["inputs"] = dict(self.inputs)
        return meta

    # ------------------------------------------------------------- the CSV

    def feature_names(self) -> list[str]:
        """The features of the CSV input, in order: a column, or ``column=category``."""
        names: list[str] = []
        for column in self.columns or []:
            if column in self.categories:
                names.extend(f"{column}={value}" for value in self.categories[column])
            else:
                names.append(column)
        return names

    def width(self) -> int:
        """Number of model features a CSV row becomes (categories one-hot)."""
        return len(self.feature_names())

    def one_hot_mask(self) -> np.ndarray:
        """Which features of the CSV input are one-hot columns (left alone by standardisation)."""
        mask: list[bool] = []
        for column in self.columns or []:
            if column in self.categories:
                mask.extend([True] * len(self.categories[column]))
            else:
                mask.append(False)
        return np.array(mask, dtype=bool)

    def encode_table(
        self,
        body: Rows,
        positions: list[int],
        shown_name: str,
        *,
        known_from: str = "the training data",
        hint: str = "",
    ) -> np.ndarray:
        """Encode CSV rows: one float32 row per example, the training columns in order.

        Numbers as they are, each categorical column one-hot in the order of
        its categories. Read column by column, so the first error is the first
        bad row of the first bad column.

        Args:
            body: the example rows.
            positions: where each of :attr:`columns` is in a row.
            shown_name: how messages name the file.
            known_from: what fixed the categories, for the unknown-category message.
            hint: appended to the message about a numeric cell that is not a number.

        Raises:
            DataError: a cell that is not a number, not finite, too large, or
                an unknown category; each names the row and column.
        """
        blocks = []
        for name, position in zip(self.columns or [], positions, strict=True):
            path = f"column '{name}'"
            if name not in self.categories:
                values = parse_numbers(body, position, shown_name, path, hint)
                blocks.append(values[:, None].astype(np.float32))
                continue
            known = self.categories[name]
            index = {value: i for i, value in enumerate(known)}
            one_hot = np.zeros((len(body), len(known)), dtype=np.float32)
            for i, (line, row) in enumerate(body):
                value = row[position].strip()
                if value not in index:
                    raise DataError(
                        f"category {value!r} does not occur in {known_from}; "
                        f"known: {', '.join(known)}",
                        Location(shown_name, line, position + 1, path),
                    )
                one_hot[i, index[value]] = 1.0
            blocks.append(one_hot)
        return np.concatenate(blocks, axis=1)

    def encode_csv_file(self, path: Path) -> np.ndarray:
        """Read a CSV of examples to predict as the model's feature matrix (not standardised).

        See :func:`compiler.data.readers.prediction_csv.read_prediction_csv`.
        """
        from compiler.data.readers.prediction_csv import read_prediction_csv

        return read_prediction_csv(path, self)

    def encode_csv_chunks(self, path: Path, rows: int | None) -> Iterator[np.ndarray]:
        """:meth:`encode_csv_file` ``rows`` examples at a time, read as they are consumed.

        See :func:`compiler.data.readers.prediction_csv.prediction_csv_chunks`.
        """
        from compiler.data.readers.prediction_csv import prediction_csv_chunks

        return prediction_csv_chunks(path, self, rows)

    # ------------------------------------------------------ standardisation

    def standardize(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``(x - mean) / std`` with the training constants, for each input that has them.

        Args:
            inputs: {model input name: array}, mapped to data input names by
                :attr:`inputs`; data input names while that map is empty (the
                pipeline standardises before it matches names).

        Returns:
            The same dict with standardised float32 arrays; an input without
            constants (token ids, say) is returned as it is.
        """
        out = dict(inputs)
        for name, array in inputs.items():
            data_name = self.inputs.get(name, name)
            if data_name not in self.standardization and len(inputs) == 1 == len(
                self.standardization
            ):
                data_name = next(iter(self.standardization))
            if data_name not in self.standardization:
                continue
            mean, std = self.standardization[data_name]
            if array.dtype.kind not in "biuf" or array.shape[-1:] != mean.shape[-1:]:
                continue
            if array.dtype.kind != "f":
                array = array.astype(np.float32)  # numbers written as integers
            out[name] = ((array - mean) / std).astype(np.float32)
        return out

    # ----------------------------------------------------------- serving

    def encode_file(
        self, path: str | Path, model: Any, where: str | Path | None = None
    ) -> dict[str, np.ndarray]:
        """Read a file of examples to predict as ``{model input name: array}``, encoded.

        ``.npy`` (one array, for a one-input model), ``.npz`` (one array per
        input name) or ``.csv`` (:meth:`encode_csv_file`), checked against
        ``model``'s inputs (names, shapes; a row is reshaped to its input's
        shape), then standardised as in training.

        Args:
            path: the input file.
            model: the Keras model the arrays are for.
            where: the model (folder) the encoder belongs to, named when the
                encoding itself is unknown.

        Raises:
            DataError: the model was trained on standardised inputs whose
                constants are unknown (:attr:`missing`), or the file is
                missing, unreadable, empty, holds NaN or infinite values, or
                does not fit the model's inputs.
            UsageError: the file's suffix is not .npy, .npz or .csv.
        """
        from compiler.data.readers.model_inputs import read_model_inputs

        self._check_known(where)
        return self.standardize(read_model_inputs(Path(path), model, self.encode_csv_chunks))

    def encode_batches(
        self, path: str | Path, model: Any, rows: int, where: str | Path | None = None
    ) -> Iterator[dict[str, np.ndarray]]:
        """:meth:`encode_file` ``rows`` examples at a time, read as they are consumed.

        A ``.csv`` is read chunk by chunk and a ``.npy`` memory-mapped, so
        memory holds one batch, not the file; a ``.npz`` is loaded whole. Each
        batch is encoded by the code :meth:`encode_file` runs, and an error
        names its place in the file (a CSV cell by its row).

        Raises:
            DataError, UsageError: as :meth:`encode_file`; the unknown encoding
                at once, the others when the batch holding the problem is read.
        """
        from compiler.data.readers.model_inputs import model_input_batches

        self._check_known(where)
        batches = model_input_batches(Path(path), model, self.encode_csv_chunks, rows)
        return (self.standardize(batch) for batch in batches)

    def _check_known(self, where: str | Path | None) -> None:
        if self.missing and self.standardized:
            raise DataError(
                "the model was trained on standardised inputs, but their constants are not in "
                "the model folder's metadata.json and the training data cannot be read to "
                f"recover them: {self.missing}",
                Location(str(where) if where is not None else None),
            )


def _columns_from_feature_names(names: list[str], categories: dict[str, list[str]]) -> list[str]:
    """Training columns from ``feature_names`` (``city=rome`` entries are one-hot columns)."""
    columns: list[str] = []
    expanded = {
        f"{column}={value}": column for column, values in categories.items() for value in values
    }
    for name in names:
        column = expanded.get(name, name)
        if column not in columns:
            columns.append(column)
    return columns
