"""Expanding the layer list: chains, blocks and names.

The result is a flat list of layer entries in graph order where every entry
has an explicit ``name`` and explicit ``inputs`` — the builder then needs no
knowledge of chains or blocks. Each entry keeps the positions of the lines it
came from, and remembers which block instance it belongs to so a whole block
can be applied again with shared weights (``apply: {layer: tower, ...}``).

A block is a small named graph with parameters::

    blocks:
      conv_bn:
        params: {filters: null, stride: 1}      # null: must be given
        layers:
          - conv2d: {filters: $filters, kernel: 3, strides: $stride, padding: same}
          - batch_norm: {}
          - activation: relu
    layers:
      - conv_bn: {filters: 64, name: stem}
      - conv_bn: {filters: 128, repeat: 3}     # three instances, chained

Inside a block, ``inputs:`` may name the block's inputs (``in`` by default)
and the block's own layers; the instance's output is its last layer (or the
layer named by ``output:``). A block with several outputs lists them::

    blocks:
      residual:
        outputs: [res, skip]          # the instance's name alone stands for `res`
        layers: [...]
    layers:
      - residual: {repeat: 4, name: wave}
      - add: {inputs: ["wave_*.skip"]}   # wave_1.skip, ..., wave_4.skip

From outside, ``instance.name`` reaches any layer of an instance by the name it
has in the block (``down_1.conv2``, and ``outer.inner.conv`` through nested
blocks), and ``*`` in a reference matches several names, in the order they were
made. Inside a block, ``shape(in)`` is the static shape of a block input (batch
axis first), so that ``filters: ${shape(in)[-1] * 4}`` needs no parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from compiler.errors import did_you_mean
from compiler.layers import canonical_type
from compiler.spec.expressions import (
    FAILED,
    SHAPE_ORACLE,
    ExpressionError,
    FailedVariable,
    comma_split_hint,
    is_expression,
)
from compiler.spec.loader import Mark, PosDict, PosList, copy_tree
from compiler.spec.located import Problems, format_path, locate, show_value
from compiler.spec.variables import substitute

MAX_BLOCK_DEPTH = 8
MAX_LAYERS = 5000
MAX_REPEAT = 256
USE_KEYS = ("name", "inputs", "repeat", "trainable")
MAX_NAME_CHARS = 100
# What Keras accepts in a layer name (anything but '/') narrowed to names that
# are safe as parts of file and TensorFlow scope names: no paths, no spaces.
_LAYER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a layer or block instance name, or None when it can."""
    if not name:
        return "a layer name cannot be empty (leave `name:` out for an automatic one)"
    if len(name) > MAX_NAME_CHARS:
        return f"a layer name is at most {MAX_NAME_CHARS} characters, got {len(name)}"
    if not _LAYER_NAME.fullmatch(name):
        return (f"layer name '{name}' may only use letters, digits, _ - and . (no '/', spaces "
                "or paths) and must start with a letter, digit or _")
    return None


@dataclass
class Entry:
    """One flat layer entry: ``{type: params}`` plus where it came from."""

    type: str
    params: Any  # a dict after expansion, or the user's scalar shorthand
    name: str
    inputs: list[str]
    source: Any  # the PosDict of the params (for positions); may be the entry itself
    path: tuple  # dotted path of the params in the file, e.g. ('layers', 3, 'dense')
    context: str = ""  # "in block instance 'x' (layers[2])"
    instance: str | None = None  # innermost block instance this entry belongs to
    mark: Mark | None = None

    def where(self, *sub) -> tuple[Mark | None, str]:
        """Position and display path of a parameter of this entry."""
        path = format_path(self.path + tuple(sub))
        if self.context:
            path = f"{path} ({self.context})"
        mark = locate(self.source, sub) if sub and isinstance(self.source, dict) else None
        return mark or self.mark, path


@dataclass
class Instance:
    """A block instance: its inputs, its entries in order and its output."""

    name: str
    block: str
    inputs: list[str]
    entries: list[str]
    output: str
    local_inputs: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    """The block's named outputs (``outputs:``) → their flat names, in order."""
    # The block's parameters as this instance received them (defaults filled in);
    # kept for `nncompile codegen`, which writes a block as a function of them.
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class Expansion:
    """The layer list flattened: entries in graph order, block instances, top-level names."""

    entries: list[Entry]
    instances: dict[str, Instance]
    names: dict[str, str]  # top-level name as written → flat name (instances → their output)


class _Scope:
    """Names visible while expanding one list (the top level or a block body)."""

    def __init__(self, mapping: dict[str, str], prefix: str, what: str,
                 variables: dict | None = None):
        self.mapping = dict(mapping)  # name as written → flat name
        self.prefix = prefix
        self.what = what
        self.no_input = what  # why a layer with no `inputs:` and none above has no input
        self.variables = variables or {}  # what a repeated layer's copies are substituted with


class Expander:
    def __init__(self, blocks: dict, variables: dict, root: PosDict, problems: Problems,
                 layer_types: set[str]):
        self.blocks = blocks
        self.variables = variables
        self.root = root
        self.problems = problems
        self.layer_types = layer_types
        self.entries: list[Entry] = []
        self.instances: dict[str, Instance] = {}
        self.aliases: dict[str, str] = {}
        self.taken: set[str] = set()
        self.counters: dict[str, int] = {}

    # ----------------------------------------------------------------- naming
    def auto_name(self, base: str, prefix: str) -> str:
        while True:
            self.counters[prefix + base] = self.counters.get(prefix + base, 0) + 1
            name = f"{prefix}{base}_{self.counters[prefix + base]}"
            if name not in self.taken:
                return name

    def claim(self, name: str, mark: Mark | None, path: str) -> bool:
        if name in self.taken:
            self.problems.add(f"the name '{name}' is used twice; layer names must be unique",
                              mark, path)
            return False
        self.taken.add(name)
        return True

    # ----------------------------------------------------------------- lists
    def expand_list(self, items: Any, path: tuple, scope: _Scope, previous: str | None,
                    context: str, instance: str | None, depth: int) -> str | None:
        """Expand ``items`` in order; return the flat name of the last output."""
        if not isinstance(items, list):
            self.problems.add("expected a list of layers", locate(self.root, path) if
                              not context else getattr(items, "mark", None), format_path(path))
            return previous
        for index, item in enumerate(items):
            item_path = path + (index,)
            mark = (items.item_marks[index] if isinstance(items, PosList)
                    and index < len(items.item_marks) else None) or getattr(item, "mark", None)
            if len(self.entries) > MAX_LAYERS:
                self.problems.add(f"the spec expands to more than {MAX_LAYERS} layers", mark,
                                  format_path(item_path))
                return previous
            if isinstance(item, str):  # `- flatten` shorthand for `- flatten: {}`
                item = PosDict({item: None}, mark=mark)
            if not isinstance(item, dict) or len(item) != 1:
                keys = list(item) if isinstance(item, dict) else []
                hint = (f" (got keys {keys}; put name/inputs inside the layer's mapping)"
                        if len(keys) > 1 else "")
                self.problems.add("each layer is a mapping with one key, the layer type, "
                                  f"e.g. `- dense: {{units: 10}}`{hint}", mark,
                                  _ctx(format_path(item_path), context))
                continue
            (kind, params), = item.items()
            if not isinstance(kind, str):
                self.problems.add("a layer type must be a name", mark, format_path(item_path))
                continue
            if kind in self.blocks:
                previous = self.expand_use(kind, params, item, item_path, scope, previous,
                                           context, instance, depth, mark) or previous
            elif isinstance(params, dict) and "repeat" in params:
                previous = self.repeat_layer(kind, params, item, item_path, scope, previous,
                                             context, instance, mark)
            else:
                previous = self.add_entry(kind, params, item, item_path, scope, previous,
                                          context, instance, mark) or previous
        return previous

    def resolve_refs(self, refs: Any, scope: _Scope, mark: Mark | None, path: str) -> list[str]:
        if isinstance(refs, str):
            refs = [refs]
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs) or not refs:
            self.problems.add("`inputs` must be a layer name or a list of layer names", mark, path)
            return []
        out = []
        for ref in refs:
            base, index = _split_ref(ref)
            if "*" in base and base not in scope.mapping:
                # `*` stands for any characters but a dot: `wave_*.skip` is each instance's
                # skip output, and `wave_*` the instances, not every layer inside them.
                pattern = re.compile("[^.]*".join(re.escape(p) for p in base.split("*")))
                matched = list(dict.fromkeys(
                    flat for name, flat in scope.mapping.items() if pattern.fullmatch(name)))
                if matched:
                    out.extend(flat + index for flat in matched)
                    continue
            if base in scope.mapping:
                out.append(scope.mapping[base] + index)
            else:
                self.problems.add(
                    f"unknown layer '{ref}'{did_you_mean(base, scope.mapping)}; {scope.what}",
                    mark, path)
                out.append(ref)  # keep it, so no second error says the layer has no input
        return out

    def repeat_layer(self, kind: str, params: dict, item: Any, path: tuple, scope: _Scope,
                     previous: str | None, context: str, instance: str | None,
                     mark: Mark | None) -> str | None:
        """`- conv2d: {..., repeat: 3}`: the same layer type three times in a chain."""
        repeat = params.get("repeat")
        if not _good_repeat(repeat):
            self.problems.add(_repeat_message(repeat), locate(params, ("repeat",)),
                              _ctx(format_path(path + (kind, "repeat")), context))
            return previous
        base = params.get("name")
        if repeat == 0:
            # `for _ in range(n - 1)` with n = 1, or an optional layer: none is made, and
            # what it would have given is its input (a merge of several: the layer above).
            display = _ctx(format_path(path + (kind,)), context)
            passed = previous
            if params.get("inputs") is not None:
                refs = self.resolve_refs(params["inputs"], scope, locate(params, ("inputs",)),
                                         _ctx(format_path(path + (kind, "inputs")), context))
                if len(refs) == 1:
                    passed = refs[0]
            self.skip(base, params, scope, passed, mark, display)
            return passed
        if isinstance(base, str) and repeat > 1 and name_problem(base):
            self.problems.add(name_problem(base), locate(params, ("name",)),
                              _ctx(format_path(path + (kind, "name")), context))
            return previous
        deferred = getattr(params, "deferred", False)
        for r in range(repeat):
            one = copy_tree(params)
            del one["repeat"]
            if deferred:  # each copy's own $index and $number (variables.substitute)
                variables = dict(scope.variables, index=r, number=r + 1)
                variables.pop("instance", None)
                substitute(one, variables, path + (kind,), self.root, self.problems)
            if isinstance(base, str) and repeat > 1:
                one["name"] = f"{base}{r + 1}" if base[-1:] in "_-" else f"{base}_{r + 1}"
            if r > 0:
                one.pop("inputs", None)  # later copies chain onto the one before
            previous = self.add_entry(kind, one, item, path, scope, previous, context,
                                      instance, mark) or previous
        return previous

    def block_outputs(self, block: dict, block_name: str, inner: _Scope, mark: Mark | None,
                      display: str) -> dict[str, str]:
        """A block's `outputs: [res, skip]` → their flat names in this instance."""
        wanted = block.get("outputs")
        if wanted is None:
            return {}
        if isinstance(wanted, str):
            wanted = [wanted]
        named = {}
        for name in wanted if isinstance(wanted, list) else []:
            if isinstance(name, str) and name in inner.mapping:
                named[name] = inner.mapping[name]
            else:
                self.problems.add(f"block '{block_name}' lists the output '{name}', which is "
                                  f"none of its layers{did_you_mean(str(name), inner.mapping)}",
                                  mark, display)
        return named

    def shape_oracle(self, block_inputs: dict[str, str], scope: _Scope):
        """``shape(name)`` inside a block: the static shape of a block input or earlier layer."""

        def shape(name: str) -> list:
            flat = block_inputs.get(name) or scope.mapping.get(name)
            if flat is None:
                raise ExpressionError(f"shape(): '{name}' is neither an input of the block "
                                      f"({', '.join(block_inputs)}) nor a layer above it")
            from compiler.spec.static_shapes import static_shape

            found = static_shape(self, flat)
            if found is None:
                raise ExpressionError(f"shape(): the shape of '{name}' is not known before "
                                      "building (a layer above it has no shape rule, or an "
                                      "input has a variable size there)")
            return list(found)

        return shape

    def skip(self, name: Any, params: Any, scope: _Scope, previous: str | None,
             mark: Mark | None, display: str) -> None:
        """`repeat: 0`: no layer is made; its name, if any, stands for ``previous``."""
        if isinstance(name, str) and name and not name_problem(name):
            if not self.claim(scope.prefix + name, locate(params, ("name",)) or mark, display):
                return
            if previous is not None:
                scope.mapping[name] = previous
                scope.mapping[scope.prefix + name] = previous

    def add_entry(self, kind: str, params: Any, item: Any, path: tuple, scope: _Scope,
                  previous: str | None, context: str, instance: str | None,
                  mark: Mark | None) -> str | None:
        entry_path = path + (kind,)  # as written, for messages
        kind = canonical_type(kind)  # `MaxPooling2D`, `max_pooling2d` → `max_pool2d`
        display = _ctx(format_path(entry_path), context)
        if params is None:
            params = PosDict(mark=mark)
        source = params if isinstance(params, dict) else item
        if isinstance(params, dict):
            params = copy_tree(params)
            raw_name = params.get("name")
            if raw_name is not None and not isinstance(raw_name, str):
                self.problems.add("`name` must be text", locate(params, ("name",)),
                                  _ctx(format_path(entry_path + ("name",)), context))
                raw_name = None
            elif raw_name is not None and name_problem(raw_name):
                # Reported here; the name is kept so later references do not fail too.
                self.problems.add(name_problem(raw_name), locate(params, ("name",)),
                                  _ctx(format_path(entry_path + ("name",)), context))
                raw_name = raw_name or None
            refs = params.get("inputs")
        else:
            raw_name, refs = None, None
        name = scope.prefix + raw_name if raw_name else self.auto_name(kind, scope.prefix)
        name_mark = locate(params, ("name",)) if raw_name else mark
        self.claim(name, name_mark, display)
        if refs is not None:
            inputs = self.resolve_refs(refs, scope, locate(params, ("inputs",)),
                                       _ctx(format_path(entry_path + ("inputs",)), context))
        elif previous is not None:
            inputs = [previous]
        else:
            inputs = []
            self.problems.add(f"{kind} has no input: say which with `inputs:` "
                              f"({scope.no_input})", mark, display)
        if kind == "apply" and isinstance(params, dict) and isinstance(params.get("layer"), str):
            # `apply` names the layer or block instance whose weights are shared.
            target = params["layer"]
            params["layer"] = (_instance_for(target, scope, self.instances)
                               or scope.mapping.get(target, target))
        if isinstance(params, dict):
            params["name"] = name
            params["inputs"] = inputs
        self.entries.append(Entry(kind, params, name, inputs, source, entry_path, context,
                                  instance, mark))
        scope.mapping[raw_name or name] = name
        scope.mapping[name] = name
        return name

    def expand_use(self, block_name: str, params: Any, item: Any, path: tuple, scope: _Scope,
                   previous: str | None, context: str, instance: str | None, depth: int,
                   mark: Mark | None) -> str | None:
        display = _ctx(format_path(path + (block_name,)), context)
        block = self.blocks[block_name]
        if depth >= MAX_BLOCK_DEPTH:
            self.problems.add(f"blocks are nested deeper than {MAX_BLOCK_DEPTH} "
                              "(does a block use itself?)", mark, display)
            return None
        if params is None:
            params = {}
        if not isinstance(params, dict):
            self.problems.add(f"block '{block_name}' takes a mapping of parameters", mark, display)
            return None
        declared = block.get("params") or {}
        values = {k: v for k, v in declared.items()}
        for key, value in params.items():
            if key in USE_KEYS:
                continue
            if key not in declared:
                known = ", ".join(list(declared) + list(USE_KEYS))
                hint = comma_split_hint(key, key=True)
                self.problems.add(f"block '{block_name}' has no parameter '{key}'"
                                  + (hint if hint else f"{did_you_mean(key, declared)} "
                                     f"(it takes: {known})"),
                                  locate(params, (key,), key=True), display)
                continue
            if self.problems.items and is_expression(value):
                # Still an expression after the spec was substituted: it failed, and
                # that is reported; the copies stay quiet about it.
                value = FAILED
            values[key] = value
        missing = [k for k, v in values.items() if v is None and params.get(k) is None]
        if missing:
            self.problems.add(f"block '{block_name}' needs the parameter(s) {', '.join(missing)}",
                              mark, display)
            return None
        repeat = params.get("repeat", 1)
        if not _good_repeat(repeat):
            self.problems.add(_repeat_message(repeat), locate(params, ("repeat",)), display)
            return None
        base_name = params.get("name")
        if base_name is not None and not isinstance(base_name, str):
            self.problems.add("`name` must be text", locate(params, ("name",)), display)
            base_name = None
        elif base_name is not None and name_problem(base_name):
            self.problems.add(name_problem(base_name), locate(params, ("name",)), display)
            base_name = base_name or None
        trainable = params.get("trainable")
        block_inputs = block.get("inputs") or ["in"]
        if isinstance(block_inputs, str):
            block_inputs = [block_inputs]
        if params.get("inputs") is not None:
            actual = self.resolve_refs(params["inputs"], scope, locate(params, ("inputs",)),
                                       display)
        elif previous is not None:
            actual = [previous]
        else:
            self.problems.add(f"block '{block_name}' has no input: say which with `inputs:` "
                              f"({scope.no_input})", mark, display)
            return None
        if len(actual) != len(block_inputs):
            self.problems.add(f"block '{block_name}' takes {len(block_inputs)} input(s) "
                              f"({', '.join(block_inputs)}), got {len(actual)}", mark, display)
            return None
        if repeat == 0:  # no copy: the chain goes on from the block's (first) input
            self.skip(base_name, params, scope, actual[0], mark, display)
            return actual[0]
        output = None
        for r in range(repeat):
            if base_name:
                inst = scope.prefix + (base_name if repeat == 1 else f"{base_name}_{r + 1}")
            else:
                inst = self.auto_name(block_name, scope.prefix)
            if not self.claim(inst, mark, display):
                return None
            variables = dict(scope.variables)
            variables.update(values)
            variables.update(index=r, number=r + 1, instance=inst)
            variables[SHAPE_ORACLE] = self.shape_oracle(dict(zip(block_inputs, actual,
                                                                 strict=False)), scope)
            body = copy_tree(block.get("layers"))
            inner_ctx = f"in '{inst}', {display}"
            body_path = ("blocks", block_name, "layers")
            problems_before = len(self.problems.items)
            try:
                substitute(body, variables, body_path, self.root, None)
            except FailedVariable:
                # A parameter failed at the use (reported there): the copy is left
                # out, its name standing for its input so later references resolve.
                local = base_name if (base_name and repeat == 1) else inst[len(scope.prefix):]
                scope.mapping[local] = scope.mapping[inst] = actual[0]
                output = actual[0]
                continue
            except ExpressionError as err:
                self.problems.add(f"{err} ({inner_ctx})", mark, display)
                return None
            if len(self.problems.items) > problems_before:
                return None
            inner_scope = _Scope(dict(zip(block_inputs, actual, strict=False)), inst + "_",
                                 f"inside block '{block_name}' a layer can take inputs from the "
                                 f"block's inputs ({', '.join(block_inputs)}) and layers above it",
                                 variables)
            first = len(self.entries)
            last = self.expand_list(body, body_path, inner_scope, actual[0], inner_ctx, inst,
                                    depth + 1)
            members = [e.name for e in self.entries[first:]]
            wanted = block.get("output")
            if wanted:
                last = inner_scope.mapping.get(wanted, last)
            named = self.block_outputs(block, block_name, inner_scope, mark, display)
            if named:
                last = next(iter(named.values()))
            if trainable is not None:
                for e in self.entries[first:]:
                    if isinstance(e.params, dict):
                        e.params.setdefault("trainable", trainable)
            self.instances[inst] = Instance(inst, block_name, actual, members, last or actual[0],
                                            list(block_inputs), named, arguments=dict(values))
            self.aliases[inst] = last or actual[0]
            local = base_name if (base_name and repeat == 1) else inst[len(scope.prefix):]
            scope.mapping[local] = self.aliases[inst]
            scope.mapping[inst] = self.aliases[inst]
            # `wave_2.skip`, `down_1.conv2`: the instance's layers by the names they have
            # in the block (its inputs are the caller's own names already).
            for inner, flat in inner_scope.mapping.items():
                if inner in block_inputs or inner.startswith(inst + "_"):
                    continue
                for outer in dict.fromkeys((f"{local}.{inner}", f"{inst}.{inner}")):
                    scope.mapping.setdefault(outer, flat)
            actual = [self.aliases[inst]]
            output = self.aliases[inst]
        return output


def _good_repeat(repeat: Any) -> bool:
    return (isinstance(repeat, int) and not isinstance(repeat, bool)
            and 0 <= repeat <= MAX_REPEAT)


def _repeat_message(repeat: Any) -> str:
    return (f"`repeat` must be a whole number from 0 to {MAX_REPEAT} (0 leaves the layer out), "
            f"got {show_value(repeat)}")


def _split_ref(ref: str) -> tuple[str, str]:
    """``enc[1]`` → (``enc``, ``[1]``): one output of a layer with several."""
    if ref.endswith("]") and "[" in ref:
        base, _, rest = ref.partition("[")
        if rest[:-1].isdigit():
            return base, f"[{rest}"
    return ref, ""


def _instance_for(target: str, scope: _Scope, instances: dict[str, Instance]) -> str | None:
    for candidate in (scope.prefix + target, target):
        if candidate in instances:
            return candidate
    return None


def _ctx(path: str, context: str) -> str:
    return f"{path} ({context})" if context else path


def expand_layers(tree: PosDict, variables: dict, problems: Problems, input_names: list[str],
                  layer_types: set[str]) -> Expansion:
    """Flatten ``tree['layers']`` with the spec's blocks into explicit entries."""
    blocks = tree.get("blocks") or {}
    if not isinstance(blocks, dict):
        problems.add("`blocks` must be a mapping of block names to definitions",
                      locate(tree, ("blocks",)), "blocks")
        blocks = {}
    good_blocks = {}
    for name, block in blocks.items():
        bpath = ("blocks", name)
        if name in layer_types:
            problems.add(f"block name '{name}' is a layer type; choose another name",
                         locate(tree, bpath, key=True), format_path(bpath))
            continue
        if not isinstance(block, dict):
            problems.add("a block is a mapping with `layers:` (and optional `params:`, `inputs:`, "
                         "`output:`)", locate(tree, bpath), format_path(bpath))
            continue
        unknown = [k for k in block if k not in ("params", "layers", "inputs", "output",
                                                 "outputs", "description")]
        for key in unknown:
            problems.add(f"unknown key '{key}' in a block"
                         f"{did_you_mean(key, ['params', 'layers', 'inputs', 'outputs'])}",
                         locate(tree, bpath + (key,), key=True), format_path(bpath + (key,)))
        if not isinstance(block.get("layers"), list) or not block.get("layers"):
            problems.add("a block needs a non-empty `layers:` list", locate(tree, bpath),
                         format_path(bpath))
            continue
        if block.get("params") is not None and not isinstance(block.get("params"), dict):
            problems.add("`params` maps each parameter to its default (null: required)",
                         locate(tree, bpath + ("params",)), format_path(bpath + ("params",)))
            continue
        good_blocks[name] = block
    expander = Expander(good_blocks, variables, tree, problems, layer_types)
    for name in input_names:
        expander.taken.add(name)
    scope = _Scope({n: n for n in input_names}, "",
                   "a layer can take inputs from the spec's `inputs:` and layers above it",
                   variables)
    if len(input_names) > 1:
        # Only a spec with one input feeds it to the first layer by default; with
        # several (perhaps merged in from a spec it `extends:`) say which there are.
        scope.no_input = (f"the spec has {len(input_names)} inputs "
                          f"({', '.join(input_names)}), so the first layer takes none by "
                          "default")
    previous = input_names[0] if len(input_names) == 1 else None
    layers = tree.get("layers")
    if layers is None:
        problems.add("the spec has no `layers:`", getattr(tree, "mark", None), "layers")
        return Expansion([], {}, {})
    if isinstance(layers, list) and not layers:
        problems.add("`layers` is empty: a model needs at least one layer (`- identity` "
                     "passes an input through unchanged)", locate(tree, ("layers",)), "layers")
        return Expansion([], {}, {})
    expander.expand_list(layers, ("layers",), scope, previous, "", None, 0)
    if isinstance(layers, list) and not expander.entries and not problems.items:
        problems.add("the layers expand to no layer at all (is every `repeat:` 0?); a model "
                     "needs at least one", locate(tree, ("layers",)), "layers")
    return Expansion(expander.entries, expander.instances, scope.mapping)
