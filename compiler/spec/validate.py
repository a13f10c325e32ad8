"""Validation: the resolved tree → a typed :class:`Spec`, with every problem located.

All problems in a file are collected and raised together, each as
``file:line:col: dotted.path: message``. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from compiler.errors import Problem, did_you_mean
from compiler.layers import LAYER_TYPES, layer_class
from compiler.layers.base import MAX_MODEL_PARAMS
from compiler.spec.blocks import Entry, expand_layers
from compiler.spec.expressions import comma_split_hint, is_expression
from compiler.spec.loader import PosDict
from compiler.spec.resolve import (
    Problems,
    format_path,
    locate,
    resolve_variables,
    show_value,
    substitute,
)
from compiler.spec.schema import SECTION_MODELS, Spec, section_model

_TOP_KEYS = tuple(Spec.model_fields)
_REF = re.compile(r"^(?P<base>[^\[\]]+)(\[(?P<index>\d+)\])?$")
_CODE_TYPES = {"lambda", "python", "eval", "exec", "code", "function", "custom", "tfoplambda"}


def validate_tree(tree: PosDict, source: Path | None = None, *,
                  allow_outside: bool | None = None) -> Spec:
    """Validate a loaded and ``extends``-merged spec tree; raise SpecError with all problems.

    ``allow_outside`` (default: what :func:`load_with_extends` was told) lets
    file references such as ``training.init_from.model`` leave the spec's folder.
    """
    if allow_outside is None:
        allow_outside = bool(getattr(tree, "allow_outside", False))
    problems = Problems()
    fallback = str(source) if source else ""
    for key in list(tree.keys()):
        if key not in _TOP_KEYS:
            problems.add(f"unknown section '{key}'{did_you_mean(key, _TOP_KEYS)} "
                         f"(sections: {', '.join(_TOP_KEYS)})",
                         locate(tree, (key,), key=True), str(key), fallback)
    version = tree.get("nncompile", 1)
    if version != 1:
        problems.add(f"this nncompile reads spec format version 1; the spec says "
                     f"{show_value(version)}",
                     locate(tree, ("nncompile",)), "nncompile", fallback)
        problems.raise_if_any()

    variables = resolve_variables(tree, problems)
    substitute(tree, variables, (), tree, problems)
    _normalise_inputs(tree)
    raw_inputs = tree.get("inputs")
    input_names = ([k for k in raw_inputs if isinstance(k, str)]
                   if isinstance(raw_inputs, dict) else [])
    if not input_names and (raw_inputs is None or isinstance(raw_inputs, dict)):
        problems.add("the spec needs `inputs:`, e.g. inputs: {image: {shape: [28, 28, 1]}}",
                     locate(tree, ("inputs",)), "inputs", fallback)
    expansion = expand_layers(tree, variables, problems, input_names, set(LAYER_TYPES))
    layers = [_validate_entry(entry, problems) for entry in expansion.entries]

    # Every other section goes through pydantic in one pass; layers/blocks/vars were handled.
    sections = {k: v for k, v in tree.items() if k in _TOP_KEYS}
    sections["layers"], sections["blocks"], sections["vars"] = [], {}, {}
    if isinstance(sections.get("outputs"), str):  # `outputs: y` is `outputs: [y]`
        sections["outputs"] = [sections["outputs"]]
    lazy = {key: sections.pop(key) for key in SECTION_MODELS if sections.get(key) is not None}
    spec = None
    try:
        spec = Spec.model_validate(sections)
    except ValidationError as err:
        for problem in pydantic_problems(err, tree, (), sections):
            problems.items.append(problem)
    checked = {}
    for key, raw in lazy.items():
        try:
            checked[key] = section_model(key).model_validate(raw)
        except ValidationError as err:
            problems.items.extend(pydantic_problems(err, tree, (key,), raw, section_model(key),
                                                    at=(key,), mark=locate(tree, (key,))))

    _check_param_budget(expansion.entries, layers, problems)
    outputs = _resolve_outputs(tree, expansion, problems)
    _check_apply_targets(expansion, layers, problems)
    if "training" in checked:
        _check_init_from(checked["training"], tree, source, allow_outside, problems)
    if "data" in checked:
        _check_data_paths(checked["data"], tree, source, allow_outside, problems)
    problems.raise_if_any()
    assert spec is not None
    for key, value in checked.items():
        setattr(spec, key, value)
    spec.outputs = outputs
    # A block instance named in `outputs:` stands for its last layer; `expect:`
    # may use either name.
    raw = tree.get("outputs")
    raw = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    spec._output_aliases = {w: f for w, f in zip(raw, outputs) if isinstance(w, str) and w != f}
    spec.layers = [{e.type: e.name} for e in expansion.entries]
    spec._entries = list(zip(expansion.entries, layers))
    spec._instances = expansion.instances
    spec._tree = tree
    spec._source = source
    return spec


def _normalise_inputs(tree: PosDict) -> None:
    inputs = tree.get("inputs")
    if isinstance(inputs, dict):
        for name, value in list(inputs.items()):
            if isinstance(value, list):  # `image: [8, 8, 1]` shorthand
                shorthand = PosDict({"shape": value}, mark=getattr(value, "mark", None))
                shorthand.value_marks["shape"] = getattr(value, "mark", None)
                inputs[name] = shorthand


def _validate_entry(entry: Entry, problems: Problems) -> Any:
    kind = entry.type
    mark, display = entry.where()
    if kind not in LAYER_TYPES:
        lowered = kind.lower()
        if lowered in _CODE_TYPES:
            message = (f"layer type '{kind}' would run code from the spec; specs use nncompile's "
                       "closed set of layer types only (list them with `nncompile schema`)")
        elif any(c in kind for c in ".:/\\") or kind != kind.strip():
            message = (f"'{kind}' looks like an import path; layer types are short names from "
                       "nncompile's closed registry, e.g. dense, conv2d, lstm")
        else:
            message = (f"unknown layer type '{kind}'{did_you_mean(kind, LAYER_TYPES)}"
                       " (or a block name that is not defined under `blocks:`)")
        problems.add(message, mark, display.split(" (", 1)[0].rsplit(".", 1)[0]
                     + ("" if not entry.context else f" ({entry.context})"))
        return None
    cls = layer_class(kind)
    params = entry.params
    if params is not None and not isinstance(params, dict):
        if cls.shorthand is None:
            problems.add(f"{kind} takes a mapping of parameters, e.g. `{kind}: {{...}}`; "
                         f"got {show_value(params)}", mark, display)
            return None
        params = {cls.shorthand: params}
    data = dict(params or {})
    if problems.items and any(is_expression(v) for v in data.values()):
        # A value still written as an expression failed where it was written (a
        # block parameter at its use, a variable): that is reported already, and
        # "expected an integer, got '$a * 2'" for each copy of a block would only
        # repeat it.
        return None
    data["name"], data["inputs"] = entry.name, entry.inputs
    try:
        layer = cls.model_validate(data)
    except ValidationError as err:
        for problem in pydantic_problems(err, entry.source, entry.path, data, cls=cls,
                                         context=entry.context, mark=mark):
            problems.items.append(problem)
        return None
    count = len(entry.inputs)
    if count < cls.min_inputs or (cls.max_inputs is not None and count > cls.max_inputs):
        want = (f"{cls.min_inputs}" if cls.min_inputs == cls.max_inputs else
                f"at least {cls.min_inputs}" if cls.max_inputs is None else
                f"{cls.min_inputs} to {cls.max_inputs}")
        problems.add(f"{kind} takes {want} input(s), got {count} ({', '.join(entry.inputs)})",
                     mark, display)
    return layer


def _resolve_outputs(tree: PosDict, expansion, problems: Problems) -> list[str]:
    raw = tree.get("outputs")
    if raw is None:
        return [expansion.entries[-1].name] if expansion.entries else []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        problems.add("`outputs` is a layer name or a list of layer names",
                     locate(tree, ("outputs",)), "outputs")
        return []
    out = []
    for i, ref in enumerate(raw):
        if not isinstance(ref, str):
            problems.add(f"an output is a layer name, got {show_value(ref)}",
                         locate(tree, ("outputs", i)), f"outputs[{i}]")
            continue
        match = _REF.match(ref)
        if match is None and "[" in ref:
            problems.add(f"cannot read the output '{ref}': write a layer name, or name[i] "
                         "(i = 0, 1, ...) for one output of a layer with several",
                         locate(tree, ("outputs", i)), f"outputs[{i}]")
            continue
        base = match.group("base") if match else ref
        if base not in expansion.names:
            problems.add(f"unknown layer '{ref}'{did_you_mean(base, expansion.names)}",
                         locate(tree, ("outputs", i)), f"outputs[{i}]")
            continue
        flat = expansion.names[base]
        out.append(flat + (f"[{match.group('index')}]" if match and match.group("index") else ""))
    return out


def _check_param_budget(entries: list[Entry], layers: list[Any], problems: Problems) -> None:
    """Refuse, before any TensorFlow, a model that has too many weights whatever its shapes.

    Sizes that depend on input shapes count as 1 here (a lower bound); the
    builder checks the full count, layer by layer, before Keras allocates it.
    """
    total = 0
    for entry, layer in zip(entries, layers, strict=True):
        if layer is None:
            continue
        estimate = layer.estimate_params(None)
        total += estimate
        if total > MAX_MODEL_PARAMS:
            mark, display = entry.where()
            if estimate == total:
                message = f"this {entry.type} has at least {estimate:,} parameters"
            else:
                message = (f"this {entry.type} has at least {estimate:,} parameters, which takes "
                           f"the model to {total:,} or more")
            problems.add(f"{message}; a model may have at most {MAX_MODEL_PARAMS:,}",
                         mark, display)
            return


def _check_apply_targets(expansion, layers, problems: Problems) -> None:
    known = {e.name for e in expansion.entries} | set(expansion.instances)
    for entry, layer in zip(expansion.entries, layers):
        if entry.type == "apply" and layer is not None and layer.layer not in known:
            mark, display = entry.where("layer")
            problems.add(f"no layer or block instance named '{layer.layer}' to apply"
                         f"{did_you_mean(layer.layer, known)}", mark, display)


DATA_SOURCES = ("csv", "npz", "npy", "images", "tfrecord", "text")


def _check_data_paths(data: Any, tree: PosDict, source: Path | None, allow_outside: bool,
                      problems: Problems) -> None:
    """Data files stay under the spec's folder (checked again when they are read).

    Only where they point is checked here, not whether they exist yet: a spec
    can be validated before its data is at hand.
    """
    if data is None or allow_outside:
        return
    base = (source.resolve().parent if source is not None else Path.cwd().resolve())
    references = []
    for kind in DATA_SOURCES:
        found = getattr(data, kind, None)
        if found is not None and isinstance(getattr(found, "path", None), str):
            references.append(((kind, "path"), found.path))
    npy = getattr(data, "npy", None)
    for role in ("inputs", "targets") if npy is not None else ():
        files = getattr(npy, role, None)  # one .npy file, or {name: .npy file}
        if isinstance(files, str):
            references.append((("npy", role), files))
        elif isinstance(files, dict):
            references.extend((("npy", role, key), ref) for key, ref in files.items()
                              if isinstance(ref, str))
    for split in ("train", "validation", "test"):
        if isinstance(getattr(data, split, None), str):
            references.append(((split,), getattr(data, split)))
    for where, ref in references:
        if not (base / ref).resolve().is_relative_to(base):
            problems.add(f"data file '{ref}' is outside the spec's folder {base}; move it there, "
                         "or pass --allow-outside if you trust this spec",
                         locate(tree, ("data", *where)), format_path(("data", *where)))


def _check_init_from(training: Any, tree: PosDict, source: Path | None, allow_outside: bool,
                     problems: Problems) -> None:
    """`training.init_from.model` stays under the spec's folder, like every file reference.

    One more place is allowed: ``saved_models/`` of the working folder, where
    `nncompile train` writes the models one fine-tunes from. The file is looked
    up as training will (the working folder first, then the spec's folder); it
    need not exist yet when a spec is only validated.
    """
    init = getattr(training, "init_from", None)
    if init is None or allow_outside or not isinstance(getattr(init, "model", None), str):
        return
    base = (source.resolve().parent if source is not None else Path.cwd().resolve())
    ref = Path(init.model)
    if ref.is_absolute() or ref.exists():
        candidate = ref.resolve()
    else:
        candidate = (base / ref).resolve()
    trained = (Path.cwd() / "saved_models").resolve()
    if not (candidate.is_relative_to(base) or candidate.is_relative_to(trained)):
        problems.add(f"model file '{init.model}' is outside the spec's folder {base} and "
                     f"{trained}; move it there, or pass --allow-outside if you trust this spec",
                     locate(tree, ("training", "init_from", "model")), "training.init_from.model")


# --------------------------------------------------------------------------- pydantic → problems


def pydantic_problems(err: ValidationError, source: Any, prefix: tuple, data: Any,
                      cls: type[BaseModel] | None = None, context: str = "",
                      mark=None, at: tuple = ()) -> list[Problem]:
    """Turn pydantic errors into located problems, merging union alternatives.

    `data` is what was validated (by `cls`); it sits at path `at` in `source`,
    and `prefix` is put before each error's path when it is shown.
    """
    grouped: dict[tuple, list[dict]] = {}
    for error in err.errors(include_url=False):
        path = _real_path(error, data)
        grouped.setdefault(path, []).append(error)
    problems = []
    for path, errors in grouped.items():
        display = format_path(prefix + path)
        if context:
            display = f"{display} ({context})"
        key_error = any(e["type"] == "extra_forbidden" for e in errors)
        where = locate(source, at + path, key=key_error) if isinstance(source, dict) else None
        where = where or mark
        message = _message(errors, path, data, cls)
        loc = where.location(display) if where else None
        problems.append(Problem(message, loc) if loc else Problem(f"{display}: {message}"))
    return problems


def _real_path(error: dict, data: Any) -> tuple:
    """The error's location in the user's data, without pydantic's union-member tags."""
    path: list = []
    node = data
    loc = list(error["loc"])
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, (list, tuple)) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif last and error["type"] == "missing":
            path.append(part)
    return tuple(path)


def _bound(value: Any) -> str:
    """A limit as people read it: 100,000,000 rather than 100000000."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    return str(value)


def _describe(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    table = {
        "int_parsing": "an integer", "int_type": "an integer", "int_from_float": "an integer",
        "float_parsing": "a number", "float_type": "a number",
        "bool_parsing": "true or false", "bool_type": "true or false",
        "string_type": "text", "dict_type": "a mapping", "list_type": "a list",
        "tuple_type": "a list", "model_type": "a mapping", "model_attributes_type": "a mapping",
        "none_required": "null",
    }
    if kind in table:
        return table[kind]
    if kind == "greater_than":
        return f"a number > {_bound(ctx.get('gt'))}"
    if kind == "greater_than_equal":
        return f"a number ≥ {_bound(ctx.get('ge'))}"
    if kind == "less_than":
        return f"a number < {_bound(ctx.get('lt'))}"
    if kind == "less_than_equal":
        return f"a number ≤ {_bound(ctx.get('le'))}"
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return f"a list of at least {least} item{'s' if least != 1 else ''}"
    if kind == "too_long":
        most = ctx.get("max_length")
        return f"a list of at most {most} item{'s' if most != 1 else ''}"
    if kind == "string_pattern_mismatch":
        return "a name of letters, digits, _ . - starting with a letter"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"][0].lower() + error["msg"][1:]


def _message(errors: list[dict], path: tuple, data: Any, cls) -> str:
    first = errors[0]
    if first["type"] == "missing":
        return f"missing required key '{path[-1]}'" if path else "missing required value"
    if first["type"] == "extra_forbidden":
        # The key pydantic names; the user's path may stop short of it when a
        # shorthand (`tflitee` for `{tflitee: {}}`) was expanded.
        key = first["loc"][-1] if first["loc"] else (path[-1] if path else "?")
        inside = path[:-1] if path and path[-1] == key else path
        known = _known_fields(cls, inside) if cls else []
        if key in _KERAS_SHAPE_KEYS and "shape" not in known:
            return (f"unknown key '{key}': shapes are given once, under `inputs:`, e.g. "
                    "inputs: {x: {shape: [28, 28, 1]}}; layers take theirs from their inputs")
        if re.fullmatch(r"[\w.\s-]*\)", str(key)):
            return (f"unknown key '{key}': the end of a Python tuple? YAML has no tuples; "
                    "write a list in brackets, e.g. [3, 3]")
        if comma_split_hint(key, key=True):
            return f"unknown key '{key}'{comma_split_hint(key, key=True)}"
        hint = did_you_mean(str(key), known) if known else ""
        tail = f" (accepted: {', '.join(known)})" if known and not hint else ""
        return f"unknown key '{key}'{hint}{tail}"
    value = first.get("input")
    if first["type"] == "value_error":
        return str((first.get("ctx") or {}).get("error", first["msg"]))
    wanted = []
    for error in errors:
        text = _describe(error)
        if text not in wanted:
            wanted.append(text)
    hint = _value_hint(value)
    if first["type"] == "literal_error" and isinstance(value, str) and not hint:
        options = re.findall(r"'([^']*)'", str((first.get("ctx") or {}).get("expected", "")))
        hint = did_you_mean(value, options)
    return f"expected {' or '.join(wanted)}, got {show_value(value)}{hint}"


_KERAS_SHAPE_KEYS = {"input_shape", "input_dim", "batch_input_shape", "batch_shape"}
_TUPLE = re.compile(r"^\(\s*([^()]*?)\s*,?\s*\)$")
# `scale: 1/255`, `units: 64 * 2`: arithmetic on numbers, read by YAML as text.
_ARITHMETIC = re.compile(r"^[\d\s.eE+\-*/%()]+$")
_OPERATOR = re.compile(r"[\d.)]\s*(\*\*|//|[-+*/%])\s*[\d.(]")


def _value_hint(value: Any) -> str:
    """What a Python habit in a YAML value was meant to say."""
    if not isinstance(value, str):
        return ""
    match = _TUPLE.match(value.strip())
    if match and match.group(1):
        items = [part.strip() for part in match.group(1).split(",") if part.strip()]
        return f" (YAML has no tuples: write [{', '.join(items)}])"
    if value.lstrip().startswith("("):
        return " (YAML has no tuples: write a list in brackets, e.g. [3, 3])"
    if comma_split_hint(value):
        return comma_split_hint(value)
    if value.strip() in ("None", "none", "NONE", "nil", "Nil"):
        return " (YAML writes no value as null or ~)"
    if _ARITHMETIC.match(value) and _OPERATOR.search(value):
        return (f" (arithmetic is an expression: write \"${{{value.strip()}}}\", or the "
                "number itself)")
    return ""


def _known_fields(cls, path: tuple) -> list[str]:
    for part in path:  # down to the model that holds the unknown key
        cls = _inner_model(cls, part)
    if cls is None or "root" in cls.model_fields:
        return []
    names = list(cls.model_fields)
    return [n for n in names if n not in ("name", "inputs")] + [
        n for n in ("name", "inputs") if n in names
    ]


def _inner_model(cls, part) -> type[BaseModel] | None:
    """The model class found under field (or list index) `part` of `cls`, if any."""
    if cls is None:
        return None
    if isinstance(part, int) and "root" not in cls.model_fields:
        return cls  # a list field's item model was found with the field
    key = "root" if isinstance(part, int) else part
    field = cls.model_fields.get(key)
    return _first_model(field.annotation) if field is not None else None


def _first_model(annotation) -> type[BaseModel] | None:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None
