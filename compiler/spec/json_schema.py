"""JSON Schema of a spec, for editors (yaml-language-server) and documentation.

Top-level sections come from the pydantic models; each layer list item is
"exactly one key, a layer type, whose value follows that type's schema". Block
uses are user-defined names, so a single-key mapping with another name is
also accepted.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from compiler.layers import all_layer_classes

_COMMON = ("name", "inputs", "trainable")


def _add_aliases(cls, schema: dict[str, Any]) -> None:
    """Keras's names for a field (`kernel_size` for `kernel`) are properties too.

    pydantic lists a field under its first name only, so an editor would flag
    the other accepted names; a required field may be given under any of them.
    """
    from pydantic import AliasChoices

    properties = schema.get("properties", {})
    required = schema.get("required", [])
    either = []
    for name, field in cls.model_fields.items():
        alias = field.validation_alias
        if not isinstance(alias, AliasChoices) or name not in properties:
            continue
        others = [c for c in alias.choices if isinstance(c, str) and c != name]
        for other in others:
            properties[other] = {**properties[name],
                                 "description": f"Keras's name for `{name}`"}
        if name in required and others:
            required.remove(name)
            either.append({"anyOf": [{"required": [n]} for n in (name, *others)]})
    if either:
        schema["allOf"] = schema.get("allOf", []) + either
    if "required" in schema and not required:
        schema.pop("required")


def _layer_schema(cls, defs: dict[str, Any]) -> dict[str, Any]:
    schema = cls.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(schema.pop("$defs", {}))
    _add_aliases(cls, schema)
    inputs = schema["properties"].get("inputs")
    if inputs is not None:
        schema["properties"]["inputs"] = {"anyOf": [{"type": "string"}, inputs],
                                          "description": inputs.get("description", "")}
    schema["properties"].pop("type_name", None)
    schema["properties"]["repeat"] = {
        "type": "integer", "minimum": 0,
        "description": "Copies of this layer in a chain (name_1, name_2, ...); $index and "
                       "$number are each copy's own"}
    schema.pop("title", None)
    options: list[dict[str, Any]] = [schema, {"type": "null"}]
    if cls.shorthand:
        options.append(schema["properties"][cls.shorthand])
    description = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
    return {"anyOf": options, "description": description}


_EXPRESSION = {"type": "string", "pattern": "\\$",
               "description": "A variable or expression: $name, $width * 2"}


def _allow_expressions(node: Any) -> Any:
    """Any typed value may also be written as a `$variable` expression."""
    if isinstance(node, list):
        return [_allow_expressions(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _allow_expressions(v) for k, v in node.items()}
    if out.get("type") in ("integer", "number", "boolean") or (
            "enum" in out and "propertyNames" not in node) or "const" in out:
        return {"anyOf": [out, _EXPRESSION]}
    return out


def _bare_names(definition: dict[str, Any]) -> dict[str, Any]:
    """A one-key choice (`{adam: {...}}`) may also be given as its bare name (`adam`)."""
    if definition.get("maxProperties") == 1 and definition.get("properties"):
        names = sorted(definition["properties"])
        return {"anyOf": [definition, {"type": "string", "enum": names}],
                "description": definition.get("description", "")}
    return definition


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema of a spec (Draft 2020-12).

    Built once per process (it takes seconds: every model's schema is rebuilt
    with its field docstrings); each call returns a new copy, so a caller may
    change it without changing what the next caller gets.
    """
    return json.loads(_schema_text())


@functools.cache
def _schema_text() -> str:
    return json.dumps(_build_schema())


def _build_schema() -> dict[str, Any]:
    from compiler.spec.base import attach_field_docstrings
    from compiler.spec.schema import SECTION_MODELS, SpecDocument, section_model

    for key in SECTION_MODELS:
        section_model(key)
    all_layer_classes()
    attach_field_docstrings()
    root = SpecDocument.model_json_schema(ref_template="#/$defs/{model}")
    defs: dict[str, Any] = root.pop("$defs", {})
    for key in SECTION_MODELS:  # validated lazily, so not part of Spec's own schema
        section = section_model(key).model_json_schema(ref_template="#/$defs/{model}")
        for name, definition in section.pop("$defs", {}).items():
            assert defs.get(name, definition) == definition, f"two schema definitions named {name}"
            defs[name] = definition
        defs[section.get("title", key)] = section
        root["properties"][key] = {
            "anyOf": [{"$ref": f"#/$defs/{section.get('title', key)}"}, {"type": "null"}],
            "default": None,
            "description": root["properties"][key].get("description"),
        }
    layer_items = []
    names = []
    from compiler.layers import KERAS_NAMES

    # Each layer type's parameters are one definition, which the type's own name
    # and Keras's name for it both refer to (and `blocks:` refers to the same list).
    classes = all_layer_classes()
    layer_defs = {}
    for name, cls in sorted(classes.items()):
        names.append(name)
        layer_defs[name] = f"Layer_{name}"
        defs[layer_defs[name]] = _layer_schema(cls, defs)
        layer_items.append({
            "type": "object",
            "properties": {name: {"$ref": f"#/$defs/{layer_defs[name]}",
                                  "description": defs[layer_defs[name]]["description"]}},
            "required": [name],
            "additionalProperties": False,
        })
    for alias, name in sorted(KERAS_NAMES.items()):  # Keras's names for the same types
        names.append(alias)
        layer_items.append({
            "type": "object",
            "properties": {alias: {"$ref": f"#/$defs/{layer_defs[name]}",
                                   "description": f"Keras's name for `{name}`"}},
            "required": [alias],
            "additionalProperties": False,
        })
    block_use = {
        "type": "object", "minProperties": 1, "maxProperties": 1,
        "propertyNames": {"not": {"enum": names}},
        "description": "A use of a block defined under `blocks:`",
    }
    bare = {"type": "string", "enum": names, "description": "A layer type with no parameters"}
    layer_list = {"type": "array", "items": {"anyOf": [*layer_items, block_use, bare]}}
    root["properties"]["layers"] = {**layer_list,
                                    "description": root["properties"]["layers"].get("description")}
    root["properties"]["blocks"] = {
        "type": "object",
        "description": root["properties"]["blocks"].get("description"),
        "additionalProperties": {
            "type": "object",
            "properties": {
                "params": {"type": "object",
                           "description": "Parameters and their defaults (null: required)"},
                "inputs": {"anyOf": [{"type": "string"},
                                     {"type": "array", "items": {"type": "string"}}]},
                "output": {"type": "string"},
                "outputs": {"anyOf": [{"type": "string"},
                                      {"type": "array", "items": {"type": "string"}}],
                            "description": "The block's outputs, by the names of its layers: "
                                           "`instance.name` from outside; the instance's own "
                                           "name stands for the first"},
                "description": {"type": "string"},
                "layers": {"$ref": "#/properties/layers"},
            },
            "required": ["layers"],
            "additionalProperties": False,
        },
    }
    inputs = root["properties"]["inputs"]
    for key in ("additionalProperties",):
        if isinstance(inputs.get(key), dict):
            inputs[key] = {"anyOf": [inputs[key], {"type": "array"}]}
    for pattern, value in (inputs.get("patternProperties") or {}).items():
        inputs["patternProperties"][pattern] = {"anyOf": [value, {"type": "array"}]}
    outputs = root["properties"]["outputs"]
    root["properties"]["outputs"] = {"anyOf": [{"type": "string"}, outputs],
                                     "description": outputs.get("description")}
    # A spec that `extends:` another may leave out what the base provides.
    root["properties"]["extends"] = {"type": "string",
                                     "description": "Another spec file to merge this one onto"}
    required = root.pop("required", [])
    root["if"] = {"required": ["extends"]}
    root["else"] = {"required": required}
    root["$defs"] = {name: _bare_names(d) for name, d in defs.items()}
    root = _allow_expressions(root)
    from compiler.spec.space_schema import allow_spaces

    root = allow_spaces(root)
    root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    root["title"] = "nncompile spec"
    return root
