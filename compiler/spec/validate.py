"""Validate: a resolved spec → a typed :class:`Spec`, with every problem located.

The third stage of load → resolve → validate. It checks each flat layer entry
against its layer type's schema, the top-level keys against
:class:`SpecDocument` and the `data`, `training` and `export` sections against
their own schemas (imported only when a spec has the section), that outputs
and `apply` name existing layers, the parameter budget, and that every file a
section names stays under the spec's folder. All problems in a file are
collected, together with those resolve found, and raised at once, each as
``file:line:col: dotted.path: message``. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from compiler.data.files import outside_problem
from compiler.errors import did_you_mean
from compiler.layers import LAYER_TYPES, layer_class
from compiler.layers.base import MAX_MODEL_PARAMS
from compiler.spec.blocks import Entry, Expansion
from compiler.spec.expressions import is_expression
from compiler.spec.loader import PosDict
from compiler.spec.located import Problems, format_path, locate, show_value
from compiler.spec.pydantic_problems import pydantic_problems
from compiler.spec.resolve import ResolvedSpec
from compiler.spec.schema import (
    SECTION_MODELS,
    SECTIONS,
    Section,
    Spec,
    SpecDocument,
    section_model,
)
from compiler.spec.shapes import ShapeReport, infer_shapes
from compiler.spec.spaces import refuse_spaces

_REF = re.compile(r"^(?P<base>[^\[\]]+)(\[(?P<index>\d+)\])?$")
_CODE_TYPES = {"lambda", "python", "eval", "exec", "code", "function", "custom", "tfoplambda"}


def validate_spec(resolved: ResolvedSpec, *, allow_spaces: bool = False) -> Spec:
    """Type and check a resolved spec; raise SpecError with every problem of the file.

    A search space is a problem unless ``allow_spaces`` (see compiler.spec.spaces).

    Raises:
        SpecError: listing the problems resolve found and those found here.
    """
    problems = Problems(list(resolved.problems))
    if not allow_spaces:
        refuse_spaces(resolved.spaces, problems)
    tree, expansion = resolved.tree, resolved.expansion
    layers = [_validate_entry(entry, problems) for entry in expansion.entries]
    document = _validate_document(tree, problems)
    sections = _validate_sections(tree, problems)
    _check_param_budget(expansion.entries, layers, problems)
    outputs = _resolve_outputs(tree, expansion, problems)
    _check_apply_targets(expansion, layers, problems)
    submodels = _resolve_submodels(tree, expansion, document, problems)
    if not resolved.allow_outside:
        _check_file_references(sections, tree, resolved.source, problems)
    problems.raise_if_any()
    assert document is not None  # its problems would have been raised
    report = _shapes(tree, expansion, layers, outputs)
    # A block instance named in `outputs:` stands for its last layer; `expect:`
    # may use either name.
    written = tree.get("outputs")
    if not isinstance(written, list):
        written = [written] if isinstance(written, str) else []
    return Spec(
        name=document.name,
        description=document.description,
        inputs=document.inputs,
        outputs=outputs,
        labels=document.labels,
        expect=document.expect,
        entries=list(zip(expansion.entries, layers, strict=True)),
        instances=expansion.instances,
        output_aliases={w: f for w, f in zip(written, outputs, strict=False)
                        if isinstance(w, str) and w != f},
        data=sections.get("data"),
        training=sections.get("training"),
        export=sections.get("export"),
        tree=tree,
        source_path=resolved.source,
        allow_outside=resolved.allow_outside,
        overrides=resolved.overrides,
        submodels=submodels,
        shape_report=report,
    )


def _shapes(tree: PosDict, expansion: Expansion, layers: list[Any],
            outputs: list[str]) -> ShapeReport:
    """Every layer's shape rule, from the inputs on: the mismatches `build` would find.

    They are kept in the report (``report.located``), not raised: `nncompile validate`
    reports them, while a library caller gets them from `build`, as it always has.
    """
    inputs = {}
    raw = tree.get("inputs")
    for name, value in (raw.items() if isinstance(raw, dict) else []):
        inputs[name] = (None, *value["shape"])
    report = infer_shapes(inputs, list(zip(expansion.entries, layers, strict=True)),
                          expansion.instances)
    located = Problems()
    for entry, message in report.problems:
        mark, display = entry.where()
        located.add(message, mark, display)
    for i, ref in enumerate(outputs):
        message = report.output_problem(ref)
        if message:
            located.add(message, locate(tree, ("outputs", i)), f"outputs[{i}]")
    report.located = located.deduplicated()
    return report


def _validate_document(tree: PosDict, problems: Problems) -> SpecDocument | None:
    """The plain top-level keys in one pydantic pass (layers, blocks, vars, sections apart)."""
    fields = {k: v for k, v in tree.items() if k in SECTIONS}
    fields["layers"], fields["blocks"], fields["vars"] = [], {}, {}
    for key in SECTION_MODELS:
        fields.pop(key, None)
    if isinstance(fields.get("outputs"), str):  # `outputs: y` is `outputs: [y]`
        fields["outputs"] = [fields["outputs"]]
    try:
        return SpecDocument.model_validate(fields)
    except ValidationError as err:
        problems.items.extend(pydantic_problems(err, tree, (), fields))
        return None


def _validate_sections(tree: PosDict, problems: Problems) -> dict[str, Section]:
    """The `data`, `training` and `export` sections a spec has, each by its own schema."""
    sections: dict[str, Section] = {}
    for key in SECTION_MODELS:
        raw = tree.get(key)
        if raw is None:
            continue
        model = section_model(key)
        try:
            sections[key] = model.model_validate(raw)
        except ValidationError as err:
            problems.items.extend(pydantic_problems(err, tree, (key,), raw, model,
                                                    at=(key,), mark=locate(tree, (key,))))
    return sections


def _check_file_references(sections: dict[str, Section], tree: PosDict, source: Path | None,
                           problems: Problems) -> None:
    """Every file a section names stays under the spec's folder (see compiler.data.files).

    Where a file points is checked here, not whether it exists yet: a spec can
    be validated before its data is at hand. Readers check again when they open it.
    """
    base = source.resolve().parent if source is not None else Path.cwd().resolve()
    for key, section in sections.items():
        for reference in section.file_references():
            message = outside_problem(reference, base)
            if message is not None:
                where = (key, *reference.where)
                problems.add(message, locate(tree, where), format_path(where))


def validate_entry_quietly(entry: Entry) -> Any:
    """The validated layer of ``entry``, or None; its problems are left for validation."""
    return _validate_entry(entry, Problems())


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


def _resolve_outputs(tree: PosDict, expansion: Expansion, problems: Problems) -> list[str]:
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


def _resolve_submodels(tree: PosDict, expansion: Expansion, document: SpecDocument | None,
                       problems: Problems) -> dict[str, tuple[list[str], list[str]]]:
    """`submodels:` with their inputs and outputs as flat layer names."""
    if document is None:
        return {}
    known = dict(expansion.names)
    known.update({e.name: e.name for e in expansion.entries})
    out = {}
    for name, sub in document.submodels.items():
        flat: dict[str, list[str]] = {}
        for key in ("inputs", "outputs"):
            flat[key] = []
            for i, ref in enumerate(getattr(sub, key)):
                match = _REF.match(ref)
                base = match.group("base") if match else ref
                if base not in known:
                    problems.add(f"unknown layer '{ref}'{did_you_mean(base, known)}",
                                 locate(tree, ("submodels", name, key, i)),
                                 f"submodels.{name}.{key}[{i}]")
                    continue
                index = match.group("index") if match else None
                flat[key].append(known[base] + (f"[{index}]" if index else ""))
        out[name] = (flat["inputs"], flat["outputs"])
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


def _check_apply_targets(expansion: Expansion, layers: list[Any], problems: Problems) -> None:
    known = {e.name for e in expansion.entries} | set(expansion.instances)
    for entry, layer in zip(expansion.entries, layers, strict=True):
        if entry.type == "apply" and layer is not None and layer.layer not in known:
            mark, display = entry.where("layer")
            problems.add(f"no layer or block instance named '{layer.layer}' to apply"
                         f"{did_you_mean(layer.layer, known)}", mark, display)
