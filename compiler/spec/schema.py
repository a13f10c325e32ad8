"""The top-level spec: typed sections, plus the validated layer entries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr

from compiler.errors import Location
from compiler.layers.params import MAX_SIZE
from compiler.spec.base import StrictModel

# The data, training and export sections have schemas of their own, imported
# only when a spec has that section (`validate` starts faster without them).
# Validation fills these fields with DataSpec / TrainingSpec / ExportSpec.
SECTION_MODELS: dict[str, tuple[str, str]] = {
    "data": ("compiler.data.schema", "DataSpec"),
    "training": ("compiler.training.schema", "TrainingSpec"),
    "export": ("compiler.export.schema", "ExportSpec"),
}


def section_model(key: str) -> type[StrictModel]:
    """The schema class of the lazily validated top-level section ``key``."""
    import importlib

    module, name = SECTION_MODELS[key]
    return getattr(importlib.import_module(module), name)

SPEC_VERSION = 1
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


class Spec(StrictModel):
    """A validated spec. Build it with :func:`compiler.api.build_model`."""

    nncompile: Literal[1] = 1
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

    _entries: list = PrivateAttr(default_factory=list)
    _instances: dict = PrivateAttr(default_factory=dict)
    _tree: Any = PrivateAttr(default=None)
    _source: Path | None = PrivateAttr(default=None)
    _allow_outside: bool = PrivateAttr(default=False)
    _overrides: list = PrivateAttr(default_factory=list)
    _output_aliases: dict = PrivateAttr(default_factory=dict)

    @property
    def overrides(self) -> list[str]:
        """The `--set` overrides this spec was loaded with."""
        return list(self._overrides)

    @property
    def allow_outside(self) -> bool:
        """Whether file references may leave the spec's folder (--allow-outside)."""
        return self._allow_outside

    @property
    def source_path(self) -> Path | None:
        """The spec file this was loaded from."""
        return self._source

    @property
    def base_dir(self) -> Path:
        """The folder that relative file references in the spec resolve against."""
        return self._source.resolve().parent if self._source else Path.cwd()

    @property
    def entries(self) -> list:
        """``(Entry, LayerSpec)`` pairs in graph order, blocks expanded."""
        return self._entries

    @property
    def instances(self) -> dict:
        """Block instances by name (for `apply` with shared weights)."""
        return self._instances

    def locate(self, *path) -> Location:
        """File, line and column of a dotted path in the spec (best known)."""
        from compiler.spec.resolve import format_path, locate

        mark = locate(self._tree, path) if self._tree is not None else None
        shown = format_path(path) if path else None
        return mark.location(shown) if mark else Location(str(self._source or ""), path=shown)

    def resolved_tree(self) -> dict:
        """The fully resolved spec as plain data (variables substituted, blocks expanded)."""
        tree = _plain(self._tree) if self._tree is not None else {}
        tree["layers"] = [{entry.type: _entry_params(entry, layer)} for entry, layer in self._entries]
        tree.pop("blocks", None)
        tree.pop("vars", None)
        tree["outputs"] = list(self.outputs)
        return tree


def _entry_params(entry, layer) -> dict:
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
