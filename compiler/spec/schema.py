"""The spec: the schema of its top-level sections, and the validated :class:`Spec`.

:class:`SpecDocument` is the schema of a spec file's top level (the root of
the JSON Schema). :class:`Spec` is what validation returns and every later
stage reads: typed sections, the flat layer entries with their validated
parameters, and what loading was told (the file, ``--set``, ``--allow-outside``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from pydantic import BaseModel, Field

from compiler.errors import Location
from compiler.layers.params import MAX_SIZE
from compiler.spec.base import StrictModel

if TYPE_CHECKING:
    from compiler.data.files import FileReference
    from compiler.data.schema import DataSpec
    from compiler.export.schema import ExportSpec
    from compiler.layers.base import LayerSpec
    from compiler.spec.blocks import Entry, Instance
    from compiler.spec.loader import PosDict
    from compiler.training.schema import TrainingSpec

SPEC_VERSION = 1
"""The spec format version this nncompile reads (`nncompile: 1`); resolve checks it."""

# The data, training and export sections have schemas of their own, imported
# only when a spec has that section (`validate` starts faster without them).
SECTION_MODELS: dict[str, tuple[str, str]] = {
    "data": ("compiler.data.schema", "DataSpec"),
    "training": ("compiler.training.schema", "TrainingSpec"),
    "export": ("compiler.export.schema", "ExportSpec"),
    "tune": ("compiler.tune.schema", "TuneSpec"),
}


class Section(Protocol):
    """What a typed section (data, training, export) offers validation."""

    def file_references(self) -> list[FileReference]:
        """The files the section names, each with its path inside the section."""
        ...


def section_model(key: str) -> type[BaseModel]:
    """The schema class of the lazily validated top-level section ``key``."""
    import importlib

    module, name = SECTION_MODELS[key]
    return getattr(importlib.import_module(module), name)


Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]{0,99}$")]
Dim = Annotated[int, Field(gt=0, le=MAX_SIZE)] | None


class InputSpec(StrictModel):
    """One model input: `image: {shape: [8, 8, 1]}` or the shorthand `image: [8, 8, 1]`."""

    shape: Annotated[list[Dim], Field(min_length=1, max_length=8)]
    """Shape of one example, without the batch dimension; null for a variable length."""
    dtype: Literal["float32", "float16", "float64", "int32", "int64", "bool"] = "float32"
    """Element type (int32 for token ids)."""


class ExpectSpec(StrictModel):
    """Assertions checked when the model is built."""

    params: Annotated[int, Field(ge=0)] | None = None
    """Total number of parameters (trainable and not)."""
    trainable_params: Annotated[int, Field(ge=0)] | None = None
    """Number of trainable parameters."""
    output_shapes: dict[str, list[Dim]] | None = None
    """Output shape per output name, batch dimension included as null: {digit: [null, 10]}."""


class SubmodelSpec(StrictModel):
    """A model made of part of the graph, exported on its own (a VAE's decoder, an encoder)."""

    inputs: Annotated[list[str], Field(min_length=1)]
    """Layers (or spec inputs) whose outputs become its inputs, e.g. [z]; each gets an input
    of that layer's shape, and the layers before it are not part of the sub-model."""
    outputs: Annotated[list[str], Field(min_length=1)]
    """Layers whose outputs are its outputs; they must depend on its inputs only."""
    description: str | None = None
    """Free text."""


# The top level of a spec file, as written: the root of the JSON Schema (its
# docstring is what editors show). Validation checks the plain keys here in one
# pass; `vars`, `blocks` and `layers` are resolved and checked on their own, and
# `data`, `training` and `export` by their section schemas (SECTION_MODELS).
class SpecDocument(StrictModel):
    """An nncompile spec: a model's inputs, layers and outputs, its data, training and export."""

    nncompile: Literal[SPEC_VERSION] = SPEC_VERSION
    """Spec format version."""
    name: Name
    """Model name; outputs go to saved_models/<name>/."""
    description: str | None = None
    """Free text."""
    vars: dict[str, Any] = Field(default_factory=dict)
    """Variables usable in values as $name, with arithmetic: $width * 2."""
    blocks: dict[str, Any] = Field(default_factory=dict)
    """Parameterised sub-graphs used like layer types: {params:, layers:, inputs:, output:}."""
    inputs: dict[Name, InputSpec]
    """Model inputs by name."""
    layers: list[Any]
    """The layers: a list is a chain; `inputs:` on a layer makes a graph."""
    outputs: list[str] = Field(default_factory=list)
    """Names of the layers whose outputs are the model's outputs (default: the last layer)."""
    labels: list[str] | None = None
    """Class names of a classifier's output, in order."""
    expect: ExpectSpec | None = None
    """Assertions checked at build time."""
    data: Any = None
    """Where training data comes from."""
    training: Any = None
    """How to train."""
    export: Any = None
    """Formats written after training."""
    submodels: dict[Name, SubmodelSpec] = Field(default_factory=dict)
    """Parts of the graph that `nncompile export --submodel NAME` writes as models of their
    own: {decoder: {inputs: [z], outputs: [image]}}. Names may be block outputs and inner
    layers (`wave_2.skip`)."""
    tune: Any = None
    """How `nncompile tune` searches the spec's search spaces."""


SECTIONS: tuple[str, ...] = tuple(SpecDocument.model_fields)
"""The top-level keys a spec may have (besides `extends:`, which resolve consumes)."""


@dataclass(frozen=True, kw_only=True)
class Spec:
    """A validated spec. Make one with :func:`compiler.api.load_spec`.

    Everything here has been checked: the sections are typed, variables are
    substituted and blocks expanded into flat layer entries. Build it with
    :func:`compiler.api.build_model`.
    """

    name: str
    """Model name; outputs go to saved_models/<name>/."""
    inputs: dict[str, InputSpec]
    """Model inputs by name."""
    outputs: list[str]
    """The output layers' flat names (a block instance stands for its last layer);
    ``enc[1]`` names one output of a layer with several."""
    entries: list[tuple[Entry, LayerSpec]]
    """``(Entry, LayerSpec)`` pairs in graph order, blocks expanded: where each layer
    was written, its explicit name and inputs, and its validated parameters."""
    instances: dict[str, Instance] = field(default_factory=dict)
    """Block instances by name (for `apply` with shared weights)."""
    output_aliases: dict[str, str] = field(default_factory=dict)
    """{name written in `outputs:`: flat name} where they differ (a block instance's
    name stands for its last layer; `expect:` may use either)."""
    description: str | None = None
    """Free text."""
    labels: list[str] | None = None
    """Class names of a classifier's output, in order."""
    expect: ExpectSpec | None = None
    """Assertions checked at build time."""
    data: DataSpec | None = None
    """Where training data comes from."""
    training: TrainingSpec | None = None
    """How to train."""
    export: ExportSpec | None = None
    """Formats written after training."""
    tree: PosDict | None = None
    """The resolved tree with the source position of every value (for :meth:`locate`)."""
    source_path: Path | None = None
    """The spec file this was loaded from."""
    allow_outside: bool = False
    """Whether file references may leave the spec's folder (--allow-outside)."""
    overrides: tuple[str, ...] = ()
    """The `--set` overrides this spec was loaded with."""
    submodels: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    """`submodels:` by name: (its inputs, its outputs) as flat layer names."""
    shape_report: Any = None
    """The shapes and weight counts validation worked out (a
    :class:`compiler.spec.shapes.ShapeReport`), without TensorFlow."""

    @property
    def base_dir(self) -> Path:
        """The folder that relative file references in the spec resolve against."""
        return self.source_path.resolve().parent if self.source_path else Path.cwd()

    def locate(self, *path: str | int) -> Location:
        """File, line and column of a dotted path in the spec (best known)."""
        from compiler.spec.located import format_path, locate

        mark = locate(self.tree, path) if self.tree is not None else None
        shown = format_path(path) if path else None
        if mark:
            return mark.location(shown)
        return Location(str(self.source_path or ""), path=shown)

    def resolved_tree(self) -> dict:
        """The fully resolved spec as plain data (variables substituted, blocks expanded)."""
        tree = _plain(self.tree) if self.tree is not None else {}
        tree["layers"] = [{entry.type: _entry_params(entry, layer)}
                          for entry, layer in self.entries]
        tree.pop("blocks", None)
        tree.pop("vars", None)
        tree["outputs"] = list(self.outputs)
        if self.submodels:  # flat names: the resolved spec has no blocks to look them up in
            tree["submodels"] = {name: {**tree.get("submodels", {}).get(name, {}),
                                        "inputs": list(ins), "outputs": list(outs)}
                                 for name, (ins, outs) in self.submodels.items()}
        return tree


def _entry_params(entry: Entry, layer: LayerSpec) -> dict:
    """A layer's parameters, every one explicit, with name and inputs last."""
    params = _plain(layer.model_dump(exclude_none=True, exclude={"name", "inputs", "trainable"}))
    params["name"], params["inputs"] = entry.name, list(entry.inputs)
    if not layer.trainable:
        params["trainable"] = False
    return params


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, (int, float, bool)) else k: _plain(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
