"""Building: a validated :class:`Spec` → a Keras functional model.

Each entry's input shapes are checked by its layer type before Keras sees them,
so a mismatch is reported at the entry's line and names both layers. Any other
error Keras raises while wiring a layer is reported at that layer's line too.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from compiler.errors import Location, Problem, SpecError
from compiler.layers.base import MAX_MODEL_PARAMS
from compiler.spec.schema import Spec

_REF = re.compile(r"^(?P<base>.+?)(\[(?P<index>\d+)\])?$")


@dataclass
class SummaryRow:
    name: str
    type: str
    output_shape: str
    params: int


@dataclass
class BuildResult:
    """The built model and what `nncompile build` prints about it."""

    model: Any
    rows: list[SummaryRow] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    """Layers of the spec that no output depends on: Keras leaves them out of the model."""

    @property
    def total_params(self) -> int:
        return int(self.model.count_params())

    @property
    def trainable_params(self) -> int:
        return int(sum(_size(w) for w in self.model.trainable_weights))


def _size(weight) -> int:
    n = 1
    for d in weight.shape:
        n *= int(d)
    return n


def _shape_text(tensor: Any) -> str:
    if isinstance(tensor, (list, tuple)):
        return ", ".join(_shape_text(t) for t in tensor)
    return "(" + ", ".join("None" if d is None else str(d) for d in tensor.shape) + ")"


def _clean_keras_message(err: Exception) -> str:
    text = str(err).strip()
    text = re.sub(r"\s*Arguments received by .*", "", text, flags=re.S)
    text = re.sub(r"Exception encountered when calling .*?\n", "", text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    short = " ".join(lines[:3])
    return short[:400] + ("…" if len(short) > 400 else "")


def allow_deep_graph(layer_count: int) -> None:
    """Let Python recurse deeply enough for Keras to walk a graph of this many layers.

    Keras maps, saves and loads a functional graph recursively, about one
    Python frame per layer, so a 1000-layer chain exceeds Python's default
    limit of 1000. The limit is only ever raised (for the rest of the process,
    as later saving and training walk the same graph); the spec's layer count
    is bounded by validation, so the stack stays small.
    """
    needed = 1000 + 3 * layer_count
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)


def allow_deep_model_file(path) -> None:
    """:func:`allow_deep_graph` for loading a `.keras` file, sized from its config.

    Each layer's config names a ``class_name`` (nested objects too, so this
    overestimates); the count is capped so a hostile file cannot ask for an
    unbounded stack.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive, archive.open("config.json") as config:
            count = config.read(64 * 1024 * 1024).count(b'"class_name"')
    except (OSError, KeyError, zipfile.BadZipFile):
        return  # the loader reports what is wrong with the file
    allow_deep_graph(min(count, 6000))


class _Builder:
    def __init__(self, spec: Spec, reuse: Any = None):
        self.spec = spec
        self.reuse = reuse  # a built model whose layers (and weights) are used again
        self.tensors: dict[str, Any] = {}
        self.layers: dict[str, list[Any]] = {}
        self.layer_specs: dict[str, Any] = {}
        self.rows: list[SummaryRow] = []
        self.params = 0  # weights created so far, checked against MAX_MODEL_PARAMS

    def fail(self, entry, message: str, *sub) -> SpecError:
        mark, display = entry.where(*sub)
        loc = mark.location(display) if mark else Location(path=display)
        return SpecError(Problem(message, loc))

    def tensor(self, ref: str, entry) -> Any:
        match = _REF.match(ref)
        base, index = match.group("base"), match.group("index")
        if base not in self.tensors:
            raise self.fail(entry, f"unknown layer '{ref}'", "inputs")
        value = self.tensors[base]
        if index is None:
            if isinstance(value, (list, tuple)):
                self.check_unmerged(base, lambda message: self.fail(entry, message, "inputs"))
                return value[0]
            return value
        several = isinstance(value, (list, tuple))
        count = len(value) if several else 1
        if int(index) >= count:
            raise self.fail(entry, f"'{base}' has {count} output(s); '{ref}' does not exist "
                            "(outputs are numbered from 0; set return_state/"
                            "return_attention_scores for more)", "inputs")
        return value[int(index)] if several else value

    def build(self):
        import keras

        inputs = {name: keras.Input(shape=tuple(spec.shape), dtype=spec.dtype, name=name)
                  for name, spec in self.spec.inputs.items()}
        self.tensors.update(inputs)
        for entry, layer_spec in self.spec.entries:
            tensors = [self.tensor(ref, entry) for ref in entry.inputs]
            if entry.type == "apply":
                out = self.apply_shared(entry, layer_spec, tensors)
                params = 0
            else:
                out, params = self.add(entry, layer_spec, tensors)
            self.tensors[entry.name] = out
            self.rows.append(SummaryRow(entry.name, entry.type, _shape_text(out), params))
        outputs = [self.output(ref, i) for i, ref in enumerate(self.spec.outputs)]
        in_list = list(inputs.values())
        allow_deep_graph(len(self.spec.entries))
        try:
            model = keras.Model(inputs=in_list[0] if len(in_list) == 1 else in_list,
                                outputs=outputs[0] if len(outputs) == 1 else outputs,
                                name=self.spec.name)
        except ValueError as err:
            raise SpecError(Problem(f"cannot connect the graph: {_clean_keras_message(err)}",
                                    self.spec.locate("outputs"))) from None
        except RecursionError:
            raise SpecError(Problem(
                f"the graph is too deep for Keras to connect ({len(self.spec.entries)} layers)",
                self.spec.locate("layers"))) from None
        return model

    def output(self, ref: str, position: int = 0):
        match = _REF.match(ref)
        base, index = match.group("base"), match.group("index")
        value = self.tensors.get(base)
        if value is None:
            raise SpecError(Problem(f"unknown layer '{ref}'",
                                    self.spec.locate("outputs", position)))
        several = isinstance(value, (list, tuple))
        if index is None:
            if several:
                self.check_unmerged(base, lambda message: SpecError(
                    Problem(message, self.spec.locate("outputs", position))))
            return value[0] if several else value
        count = len(value) if several else 1
        if int(index) >= count:
            raise SpecError(Problem(
                f"'{base}' has {count} output(s), so '{ref}' does not exist (outputs are "
                f"numbered from 0; set return_state/return_attention_scores for more)",
                self.spec.locate("outputs", position)))
        return value[int(index)] if several else value

    def check_unmerged(self, base: str, error) -> None:
        """A bidirectional layer with `merge_mode: null` has no one output to stand for it."""
        spec = self.layer_specs.get(base)
        if spec is not None and spec.type_name == "bidirectional" and spec.merge_mode is None:
            raise error(f"'{base}' has merge_mode: null, so its forward and backward outputs "
                        f"stay apart: write {base}[0] (forward) and {base}[1] (backward), or "
                        "set merge_mode (concat, sum, mul, ave)")

    def add(self, entry, layer_spec, tensors):
        shapes = [tuple(t.shape) for t in tensors]
        problem = layer_spec.check_shapes(shapes, list(entry.inputs))
        if problem:
            raise self.fail(entry, problem)
        self.check_budget(entry, layer_spec.estimate_params(shapes))
        try:
            built = layer_spec.build()
        except (ValueError, TypeError) as err:
            raise self.fail(entry, f"Keras refuses the parameters of this {entry.type}: "
                            f"{_clean_keras_message(err)}") from None
        layers = [layer for layer in (built if isinstance(built, list) else [built]) if layer]
        if self.reuse is not None:
            layers = [self.reuse.get_layer(layer.name) for layer in layers]
        try:
            out = layer_spec.call(layers, tensors)
        except (ValueError, TypeError, IndexError) as err:
            given = ", ".join(_shape_text(t) + " from " + repr(r)
                              for t, r in zip(tensors, entry.inputs, strict=False))
            raise self.fail(entry, f"{entry.type} cannot take its input {given}: "
                            f"{_clean_keras_message(err)}") from None
        self.layers[entry.name] = layers
        self.layer_specs[entry.name] = layer_spec
        params = sum(int(layer.count_params()) for layer in layers)
        if self.reuse is None:
            self.params += params
        return out, params

    def check_budget(self, entry, estimate: int) -> None:
        """Refuse a layer that takes the model over MAX_MODEL_PARAMS, before Keras allocates it."""
        if self.reuse is not None:
            return  # the weights exist already
        if estimate > MAX_MODEL_PARAMS:
            raise self.fail(entry, f"this {entry.type} would have about {estimate:,} parameters; "
                            f"a model may have at most {MAX_MODEL_PARAMS:,}")
        if self.params + estimate > MAX_MODEL_PARAMS:
            raise self.fail(entry, f"with this {entry.type} ({estimate:,} parameters) the model "
                            f"would have about {self.params + estimate:,} parameters; a model may "
                            f"have at most {MAX_MODEL_PARAMS:,}")

    def apply_shared(self, entry, layer_spec, tensors):
        target = layer_spec.layer
        if target in self.spec.instances:
            return self.apply_instance(entry, self.spec.instances[target], tensors)
        if target not in self.layers:
            raise self.fail(entry, f"'{target}' has no weights to share here", "layer")
        try:
            return self.layer_specs[target].call(self.layers[target], tensors)
        except (ValueError, TypeError) as err:
            raise self.fail(entry, f"cannot apply '{target}' to this input: "
                            f"{_clean_keras_message(err)}") from None

    def apply_instance(self, entry, instance, tensors):
        if len(tensors) != len(instance.inputs):
            raise self.fail(entry, f"block instance '{instance.name}' takes "
                            f"{len(instance.inputs)} input(s), got {len(tensors)}", "inputs")
        local = dict(zip(instance.inputs, tensors, strict=True))
        members = {e.name: (e, s) for e, s in self.spec.entries if e.name in instance.entries}
        for name in instance.entries:
            inner, inner_spec = members[name]
            args = [local[r] if r in local else self.tensor(r, inner) for r in inner.inputs]
            if inner.type == "apply":
                local[name] = self.apply_shared(inner, inner_spec, args)
            else:
                try:
                    local[name] = inner_spec.call(self.layers[name], args)
                except (ValueError, TypeError) as err:
                    raise self.fail(entry, f"cannot apply '{instance.name}' to this input: "
                                    f"{_clean_keras_message(err)}") from None
        return local[instance.output]


def decoder_entry(spec: Spec):
    """The `attention_decoder` entry of a seq2seq spec, or None."""
    return next(((e, s) for e, s in spec.entries if e.type == "attention_decoder"), None)


def build_inference_model(spec: Spec, model: Any):
    """The graph an application runs: for seq2seq, greedy decoding without teacher forcing.

    Uses the layers (and so the weights) of ``model``, the built or trained
    training graph. Returns ``(inference_model, output_names)``; for a spec
    without an `attention_decoder` that is ``(model, spec.outputs)``.
    """
    found = decoder_entry(spec)
    if found is None:
        return model, [o.split("[")[0] for o in spec.outputs]
    import keras

    entry, _ = found
    teacher = entry.inputs[1]
    if teacher not in spec.inputs:
        raise SpecError(Problem(
            f"the attention_decoder's second input must be a spec input (the teacher-forcing "
            f"tokens), got '{teacher}'", entry.where("inputs")[0].location()
            if entry.where("inputs")[0] else Location()))
    builder = _Builder(spec, reuse=model)
    inputs = {name: keras.Input(shape=tuple(s.shape), dtype=s.dtype, name=name)
              for name, s in spec.inputs.items() if name != teacher}
    builder.tensors.update(inputs)
    for e, layer_spec in spec.entries:
        if e is entry:
            decoder = model.get_layer(e.name)
            builder.tensors[e.name] = decoder([builder.tensor(e.inputs[0], e)])
            break
        if any(ref.split("[")[0] not in builder.tensors for ref in e.inputs):
            continue  # depends on the teacher-forcing input: not part of inference
        tensors = [builder.tensor(ref, e) for ref in e.inputs]
        if e.type == "apply":
            builder.tensors[e.name] = builder.apply_shared(e, layer_spec, tensors)
        else:
            builder.tensors[e.name], _ = builder.add(e, layer_spec, tensors)
    tokens, attention = builder.tensors[entry.name]
    in_list = list(inputs.values())
    inference = keras.Model(in_list[0] if len(in_list) == 1 else in_list, [tokens, attention],
                            name=f"{spec.name}_inference")
    return inference, [entry.name, f"{entry.name}_attention"]


def build(spec: Spec, *, check_expect: bool = True) -> BuildResult:
    """Build the Keras model of ``spec`` and check its ``expect:`` assertions."""
    builder = _Builder(spec)
    model = builder.build()
    used = _reaching_outputs(spec)
    result = BuildResult(model, [r for r in builder.rows if r.name in used],
                         [r.name for r in builder.rows if r.name not in used])
    if check_expect:
        check_expectations(spec, result)
    return result


def _reaching_outputs(spec: Spec) -> set[str]:
    """Names of the entries some output depends on (a shared layer counts when applied)."""
    from compiler.spec.shapes import reaching

    return reaching(spec.outputs, spec.entries, spec.instances)


def build_model(spec: Spec, *, check_expect: bool = True):
    """The Keras functional model of ``spec`` (inputs and outputs named as in the spec)."""
    return build(spec, check_expect=check_expect).model


def _label_problems(spec: Spec, result: BuildResult) -> list[Problem]:
    """`labels:` must name as many classes as the (single) output gives."""
    labels = spec.labels
    outputs = result.model.outputs
    if not labels or len(outputs) != 1:
        return []
    shape = outputs[0].shape
    if len(shape) < 2 or shape[-1] is None:
        return []
    units = int(shape[-1])
    # One unit is a binary classifier: its two classes, or the name of the positive one.
    if len(labels) == units or (units == 1 and len(labels) == 2):
        return []
    wanted = "1 or 2 names" if units == 1 else f"{units} names, one per unit"
    return [Problem(
        f"`labels` has {len(labels)} names, but output '{spec.outputs[0]}' gives {units} "
        f"value(s) per example (shape {tuple(shape)}); give {wanted}",
        spec.locate("labels"))]


def check_expectations(spec: Spec, result: BuildResult) -> None:
    """Check `expect:` and that `labels:` fits the output; raise SpecError if not."""
    problems = _label_problems(spec, result)
    expect = spec.expect
    if expect is None:
        if problems:
            raise SpecError(problems)
        return
    if expect.params is not None and expect.params != result.total_params:
        diff = result.total_params - expect.params
        problems.append(Problem(
            f"the model has {result.total_params:,} parameters; the spec expects "
            f"{expect.params:,} (difference {diff:+,})", spec.locate("expect", "params")))
    if expect.trainable_params is not None and expect.trainable_params != result.trainable_params:
        problems.append(Problem(
            f"the model has {result.trainable_params:,} trainable parameters; the spec expects "
            f"{expect.trainable_params:,}", spec.locate("expect", "trainable_params")))
    if expect.output_shapes:
        model = result.model
        outputs = model.outputs
        by_name = dict(zip(spec.outputs, outputs, strict=False))
        for written, flat in spec.output_aliases.items():  # a block instance's name
            if flat in by_name:
                by_name[written] = by_name[flat]
        for name, shape in expect.output_shapes.items():
            if name not in by_name:
                problems.append(Problem(
                    f"'{name}' is not an output (outputs: {', '.join(spec.outputs)})",
                    spec.locate("expect", "output_shapes", name)))
                continue
            actual = [None if d is None else int(d) for d in by_name[name].shape]
            if actual != list(shape):
                problems.append(Problem(
                    f"output '{name}' has shape {actual}, the spec expects {list(shape)}",
                    spec.locate("expect", "output_shapes", name)))
    if problems:
        raise SpecError(problems)
