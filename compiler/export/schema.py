"""Schema of the `export:` section: which formats to write, with their options.

Two YAML forms are accepted, and may be mixed in one list::

    export: [saved_model, tflite, keras]
    export: [saved_model, {tflite: {quantize: int8, tolerance: 0.2}}]

Pure pydantic: this module imports no TensorFlow, so `nncompile validate`
stays fast.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, RootModel, model_validator

from compiler.data.files import FileReference
from compiler.spec.base import StrictModel

ExportFormat = Literal["saved_model", "tflite", "keras"]
Quantization = Literal["dynamic", "float16", "int8"]

EXPORT_FORMATS: tuple[str, ...] = ("saved_model", "tflite", "keras")

# Largest accepted difference between TFLite and Keras outputs, relative to
# max(1, peak |Keras output|). Quantised models trade accuracy for size, so
# each mode gets its own default; a spec may tighten or loosen it.
DEFAULT_TOLERANCE: dict[str | None, float] = {
    None: 1e-4,
    "float16": 1e-2,
    "dynamic": 0.1,
    "int8": 0.25,
}


class SavedModelOptions(StrictModel):
    """Options of the SavedModel export (none yet; the mapping form is accepted)."""


class KerasOptions(StrictModel):
    """Options of the `.keras` export (none yet; the mapping form is accepted)."""


class TfliteOptions(StrictModel):
    """Options of the TFLite (LiteRT) flatbuffer export."""

    quantize: Quantization | None = None
    """Post-training quantisation: dynamic (int8 weights), float16, or int8 (full integer)."""

    allow_select_ops: bool = False
    """Allow TensorFlow (Flex) ops LiteRT lacks; apps then need the Flex delegate."""

    tolerance: float | None = Field(default=None, gt=0)
    """Largest accepted |TFLite - Keras| / max(1, peak |Keras|); default depends on `quantize`."""

    def effective_tolerance(self) -> float:
        """The tolerance in force: the one given, or the default for the quantisation mode."""
        return self.tolerance if self.tolerance is not None else DEFAULT_TOLERANCE[self.quantize]


class ExportItem(StrictModel):
    """One entry of the list: exactly one format, with its options."""

    saved_model: SavedModelOptions | None = None
    """A SavedModel folder with a `serving_default` signature."""

    tflite: TfliteOptions | None = None
    """A LiteRT flatbuffer, builtin ops only unless `allow_select_ops`."""

    keras: KerasOptions | None = None
    """The native `.keras` zip file."""

    @model_validator(mode="after")
    def _exactly_one_format(self) -> ExportItem:
        named = [name for name in EXPORT_FORMATS if getattr(self, name) is not None]
        if len(named) != 1:
            raise ValueError(f"each entry must name exactly one format, got {named}")
        return self

    @property
    def format(self) -> str:
        """The format this entry asks for."""
        return next(name for name in EXPORT_FORMATS if getattr(self, name) is not None)


def _expand_shorthand(value: object) -> object:
    # `tflite` is short for `{tflite: {}}`; an unknown word becomes an unknown
    # key, so the error names it (with a did-you-mean) like any other typo.
    if isinstance(value, str):
        return {value: {}}
    if isinstance(value, dict):
        return {key: ({} if options is None else options) for key, options in value.items()}
    return value


class ExportSpec(
    RootModel[
        list[
            Annotated[
                ExportItem,
                BeforeValidator(
                    _expand_shorthand, json_schema_input_type=ExportFormat | ExportItem
                ),
            ]
        ]
    ]
):
    """The list of formats a trained model is exported to, in the order given."""

    @model_validator(mode="after")
    def _no_format_twice(self) -> ExportSpec:
        seen: set[str] = set()
        for item in self.root:
            if item.format in seen:
                raise ValueError(f"format '{item.format}' is listed twice")
            seen.add(item.format)
        return self

    def formats(self) -> list[str]:
        """The format names, in the order listed."""
        return [item.format for item in self.root]

    def file_references(self) -> list[FileReference]:
        """None: exports are written into the model's folder, not read from the spec's."""
        return []

    def options(self, fmt: str) -> StrictModel:
        """The options of format `fmt` (defaults when listed without options)."""
        for item in self.root:
            if item.format == fmt:
                return getattr(item, fmt)
        return {"saved_model": SavedModelOptions, "tflite": TfliteOptions, "keras": KerasOptions}[
            fmt
        ]()
