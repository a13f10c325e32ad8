"""The imported spec as YAML text: one line per layer, blocks first, as a person writes a spec."""

from __future__ import annotations

import json
import re
from typing import Any

from compiler.importer.entries import FlatEntry, FlatSpec
from compiler.importer.repeats import BlockUse, Recovered

# A plain YAML scalar that reads back as the same text (no number, bool, null look-alike).
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "none", "y", "n", "~"}


def scalar(value: Any) -> str:
    """A YAML scalar that safe_load reads back as ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {True: ".inf", False: "-.inf"}.get(value > 0, ".nan") if value == value \
                else ".nan"
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:  # YAML 1.1 wants 1.0e-05
            mantissa, _, exponent = text.partition("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    text = str(value)
    if text.startswith("$") and " " not in text.strip("$ ") or text.startswith("$"):
        return text if ":" not in text and "#" not in text else json.dumps(text)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def flow(value: Any) -> str:
    """A value in YAML flow style: ``{filters: 64, kernel_size: 3}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def _entry_line(type_name: str, params: dict) -> str:
    return f"- {type_name}: {flow(params)}"


def spec_text(flat: FlatSpec, recovered: Recovered, *, source: str, weights: str | None,
              total_params: int | None) -> str:
    """The spec's text (see the module docstring)."""
    renamed = dict(recovered.renamed)
    renamed.update(recovered.aliases)  # a block's last layer is named by its use
    lines = ["nncompile: 1", f"name: {scalar(flat.name)}", "description: >",
             f"  Imported from {source} by `nncompile import`."]
    if weights:
        lines.append(f"  Its weights are in {weights}: fine-tune them with training.init_from.")
    if recovered.renamed:
        lines.append(f"  {len(recovered.renamed)} layers of repeated blocks have the names "
                     "`repeat:` gives their copies.")
    lines.append("")
    if recovered.blocks:
        lines.append("blocks:")
        for block in recovered.blocks.values():
            shown = ", ".join(block.instances[:4]) + (", ..." if len(block.instances) > 4 else "")
            lines.append(f"  # {len(block.instances)} pieces of the model share this shape: "
                         f"{shown}")
            lines.append(f"  {block.name}:")
            if block.params:
                lines.append("    params: " + flow({p: None for p in block.params}))
            lines.append("    layers:")
            previous = "in"
            for item in block.body:
                (type_name, body_params), = item.items()
                body_params = dict(body_params)
                if body_params.get("inputs") == previous:
                    del body_params["inputs"]
                previous = body_params["name"]
                lines.append("      " + _entry_line(type_name, _name_last(body_params)))
        lines.append("")
    lines.append("inputs:")
    for name, spec in flat.inputs.items():
        lines.append(f"  {scalar(name)}: {flow(spec)}")
    lines.append("")
    lines.append("layers:")
    previous = next(iter(flat.inputs)) if len(flat.inputs) == 1 else None
    for item in recovered.items:
        if isinstance(item, BlockUse):
            params = dict(item.arguments)
            source_ref = _renamed_ref(item.inputs or "", renamed)
            if source_ref != previous:
                params["inputs"] = source_ref
            if item.repeat > 1:
                params["repeat"] = item.repeat
            params["name"] = item.name
            lines.append("  " + _entry_line(item.block, params))
            previous = _use_output(item)
            continue
        entry: FlatEntry = item
        params = dict(entry.params)
        if entry.type == "apply":
            params["layer"] = renamed.get(params["layer"], params["layer"])
        refs = [_renamed_ref(r, renamed) for r in entry.inputs]
        if not (len(refs) == 1 and refs[0] == previous):
            params["inputs"] = refs if len(refs) > 1 else refs[0]
        params["name"] = entry.name
        lines.append("  " + _entry_line(entry.type, params))
        previous = entry.name
    lines.append("")
    outputs = [_renamed_ref(o, renamed) for o in flat.outputs]
    lines.append(f"outputs: {flow(outputs)}")
    if total_params is not None:
        lines.append(f"expect: {{params: {total_params}}}")
    if weights:
        lines += ["", "# To fine-tune: add `data:` and", "# training:",
                  f"#   init_from: {{model: {weights}}}"]
    return "\n".join(lines) + "\n"


def _renamed_ref(ref: str, renamed: dict) -> str:
    base, bracket, index = ref.partition("[")
    return renamed.get(base, base) + bracket + index


def _name_last(params: dict) -> dict:
    out = {k: v for k, v in params.items() if k not in ("inputs", "name")}
    if "inputs" in params:
        out["inputs"] = params["inputs"]
    out["name"] = params["name"]
    return out


def _use_output(use: BlockUse) -> str:
    return use.name if use.repeat == 1 else f"{use.name}_{use.repeat}"
