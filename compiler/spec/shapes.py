"""Shapes without TensorFlow: each layer's output shape and weight count, in graph order.

Every layer type states its shape rule (:meth:`LayerSpec.infer_output_shape`)
and its exact weight count (:meth:`LayerSpec.count_params`); this module runs
them over the flat entries from the spec's inputs on, so that `validate` finds
the shape mismatches `build` finds (each layer type's ``check_shapes``, the
same check the builder runs before Keras sees the tensors) and says each
output's shape and the model's parameter count. A layer type whose rule says
"unknown" (None) leaves what follows it unknown; nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from compiler.layers.base import ShapeProblem

_REF = re.compile(r"^(?P<base>.+?)(\[(?P<index>\d+)\])?$")

Shape = tuple  # batch axis first; a size not known is None


def show_shape(shape: Any) -> str:
    """``(None, 8, 8, 3)``; several outputs joined by commas; ``?`` when unknown."""
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(show_shape(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


@dataclass
class ShapeReport:
    """What the shape rules found: each entry's output shape(s) and weight count."""

    shapes: dict[str, Any] = field(default_factory=dict)
    """Flat name → a tuple, a list of tuples (several outputs) or None (not known)."""
    params: dict[str, int | None] = field(default_factory=dict)
    """Flat name → the weights Keras creates for it (0 for a shared layer), None if unknown."""
    problems: list[tuple[Any, str]] = field(default_factory=list)
    """``(entry, message)`` for each layer whose inputs cannot work."""
    located: list[Any] = field(default_factory=list)
    """The same as located problems (``compiler.errors.Problem``), for `validate` to report."""

    def shape_of(self, ref: str) -> Any:
        """The shape of ``name`` or ``name[i]``; None when it is not known."""
        return _pick(self.shapes, ref)[0]

    def output_problem(self, ref: str) -> str | None:
        """Why ``name[i]`` names no output of ``name`` (the words `build` uses), or None."""
        problem = _pick(self.shapes, ref)[1]
        return problem and problem.replace("; '", ", so '", 1)

    def total_params(self, used: set[str]) -> int | None:
        """Weights of the layers in ``used``, or None when one count is not known."""
        total = 0
        for name in used:
            count = self.params.get(name)
            if count is None:
                return None
            total += count
        return total


def _pick(shapes: dict[str, Any], ref: str) -> tuple[Any, str | None]:
    """``(shape, problem)`` of a reference ``name`` or ``name[i]``."""
    match = _REF.match(ref) if isinstance(ref, str) else None
    if match is None:
        return None, None  # not a name: validation says so
    base, index = match.group("base"), match.group("index")
    value = shapes.get(base)
    if value is None:
        return None, None
    several = isinstance(value, list)
    if index is None:
        return (value[0] if several else value), None
    count = len(value) if several else 1
    if int(index) >= count:
        return None, (f"'{base}' has {count} output(s); '{ref}' does not exist (outputs are "
                      "numbered from 0; set return_state/return_attention_scores for more)")
    return (value[int(index)] if several else value), None


def layer_shape(layer: Any, shapes: list[Shape], sources: list[str]) -> tuple[Any, str | None]:
    """A layer's output shape for known input shapes, or the reason they cannot work."""
    try:
        problem = layer.check_shapes(shapes, sources)
    except (IndexError, KeyError, TypeError, ValueError, ZeroDivisionError):
        return None, None  # a check that cannot read these shapes; build says more
    if problem:
        return None, problem
    try:
        return layer.infer_output_shape(shapes), None
    except ShapeProblem as err:
        return None, str(err)
    except (IndexError, KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError):
        return None, None


def _count(layer: Any, shapes: list[Shape]) -> int | None:
    try:
        return layer.count_params(shapes)
    except (IndexError, KeyError, TypeError, ValueError, AttributeError):
        return None


class _Propagation:
    """The shape rules run entry by entry (also as the layer list is expanded)."""

    def __init__(self, entries: list[tuple[Any, Any]], instances: dict[str, Any]):
        self.by_name = {entry.name: (entry, layer) for entry, layer in entries}
        self.instances = instances
        self.report = ShapeReport()

    def inputs_of(self, entry: Any, refs: list[str], local: dict[str, Any]) -> list | None:
        shapes = []
        for ref in refs:
            shape, problem = _pick(local, ref) if ref.split("[")[0] in local else \
                _pick(self.report.shapes, ref)
            if problem:
                self.report.problems.append((entry, problem))
                return None
            if shape is None or not isinstance(shape, tuple):
                return None
            shapes.append(shape)
        return shapes

    def run(self, entry: Any, layer: Any) -> None:
        name = entry.name
        self.report.shapes[name] = None
        self.report.params[name] = None
        if layer is None:
            return
        shapes = self.inputs_of(entry, list(entry.inputs), {})
        if shapes is None:
            return
        if entry.type == "apply":
            self.report.params[name] = 0  # the weights are the shared layer's
            self.report.shapes[name] = self.apply(entry, layer.layer, shapes)
            return
        shape, problem = layer_shape(layer, shapes, list(entry.inputs))
        if problem:
            self.report.problems.append((entry, problem))
            return
        self.report.shapes[name] = shape
        self.report.params[name] = _count(layer, shapes)

    def apply(self, entry: Any, target: str, shapes: list[Shape], depth: int = 0) -> Any:
        """The output shape of a layer or block instance applied again to ``shapes``."""
        if depth > 8:
            return None
        if target in self.instances:
            instance = self.instances[target]
            if len(shapes) != len(instance.inputs):
                return None  # build says how many it takes
            local = dict(zip(instance.inputs, shapes, strict=True))
            for member in instance.entries:
                inner, inner_layer = self.by_name.get(member, (None, None))
                if inner is None or inner_layer is None:
                    return None
                args = self.inputs_of(entry, list(inner.inputs), local)
                if args is None:
                    return None
                if inner.type == "apply":
                    local[member] = self.apply(entry, inner_layer.layer, args, depth + 1)
                else:
                    local[member], problem = layer_shape(inner_layer, args, list(inner.inputs))
                    if problem:
                        self.report.problems.append((entry, f"applied again: {problem}"))
                        return None
            return _pick(local, instance.output)[0]
        found = self.by_name.get(target)
        if found is None or found[1] is None:
            return None
        inner, inner_layer = found
        if inner.type == "apply":
            return self.apply(entry, inner_layer.layer, shapes, depth + 1)
        shape, problem = layer_shape(inner_layer, shapes, list(entry.inputs))
        if problem:
            self.report.problems.append((entry, problem))
        return shape


def infer_shapes(inputs: dict[str, Shape], entries: list[tuple[Any, Any]],
                 instances: dict[str, Any] | None = None) -> ShapeReport:
    """Run every entry's shape rule in graph order.

    Args:
        inputs: Each spec input's shape, batch axis first: ``{"image": (None, 8, 8, 1)}``.
        entries: ``(Entry, LayerSpec or None)`` in graph order (None: the entry did not
            validate, and what depends on it stays unknown).
        instances: The block instances (for `apply` of a whole instance).
    """
    propagation = _Propagation(entries, instances or {})
    propagation.report.shapes.update(inputs)
    for entry, layer in entries:
        propagation.run(entry, layer)
    return propagation.report


def reaching(outputs: list[str], entries: list[tuple[Any, Any]],
             instances: dict[str, Any] | None = None) -> set[str]:
    """Names of the entries some output depends on (a shared layer counts when applied)."""
    instances = instances or {}
    by_name = {entry.name: (entry, layer) for entry, layer in entries}
    stack = [ref.split("[")[0] for ref in outputs]
    used: set[str] = set()
    while stack:
        name = stack.pop()
        if name in used or name not in by_name:
            continue
        used.add(name)
        entry, layer = by_name[name]
        stack.extend(ref.split("[")[0] for ref in entry.inputs)
        if entry.type == "apply" and layer is not None:
            target = layer.layer.split("[")[0]
            stack.extend(instances[target].entries if target in instances else [target])
    return used


def describe(spec: Any) -> str:
    """What `validate` prints under a spec's ok line: each output's shape, the weight count."""
    report = spec.shape_report
    aliases = {flat: written for written, flat in spec.output_aliases.items()}
    lines = [f"  output {aliases.get(ref, ref)}: {show_shape(report.shape_of(ref))}"
             for ref in spec.outputs]
    used = reaching(spec.outputs, spec.entries, spec.instances)
    total = report.total_params(used)
    if total is None:
        unknown = [name for name in report.params if name in used and report.params[name] is None]
        lines.append(f"  parameters: not known without building ({', '.join(unknown[:3])}"
                     f"{', ...' if len(unknown) > 3 else ''} depend on shapes nncompile "
                     "cannot work out here)")
    else:
        lines.append(f"  parameters: {total:,}")
    return "\n".join(lines)


def expect_problems(spec: Any) -> list[Any]:
    """`expect:` checked against the shapes and the count worked out here (build checks
    them too): only what is known here is compared."""
    from compiler.errors import Problem

    expect, report = spec.expect, spec.shape_report
    if expect is None:
        return []
    found = []
    total = report.total_params(reaching(spec.outputs, spec.entries, spec.instances))
    if expect.params is not None and total is not None and total != expect.params:
        found.append(Problem(
            f"the model has {total:,} parameters; the spec expects {expect.params:,} "
            f"(difference {total - expect.params:+,})", spec.locate("expect", "params")))
    by_name = dict(zip(spec.outputs, spec.outputs, strict=True))
    by_name.update(spec.output_aliases)
    for name, shape in (expect.output_shapes or {}).items():
        actual = report.shape_of(by_name[name]) if name in by_name else None
        if isinstance(actual, tuple) and None not in actual[1:] and list(actual) != list(shape):
            found.append(Problem(f"output '{name}' has shape {list(actual)}, the spec expects "
                                 f"{list(shape)}", spec.locate("expect", "output_shapes", name)))
    return found
