"""`nncompile codegen`: a spec → a plain Keras 3 Python module.

The spec is built as `nncompile build` builds it; the module is then written
from two sources: the built model's graph (every layer's class and the
arguments that differ from its defaults, every call with its inputs) and the
spec's structure (a block becomes a Python function of the parameters its
instances differ in, a run of repeated instances a loop, the spec's comments
comments). So the module builds the very model `nncompile build` builds:
the same layers, names, weight order and initialisers.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from compiler.codegen.comments import SourceComments
from compiler.codegen.functional import Call, TensorRef, read_model
from compiler.codegen.objects import Imports, call_source, value_source
from compiler.codegen.solve import solve
from compiler.codegen.structure import Item, SpecStructure
from compiler.spec.blocks import Instance
from compiler.spec.schema import Spec

_RESERVED = {"x", "i", "name", "keras", "layers", "custom_layers", "model", "outputs",
             "input", "print", "range", "list", "dict", "type", "id", "len", "min", "max",
             "compile_model", "build_model", "main"}
_OPS_MODULE = "keras.src.ops."
LINE_LENGTH = 100


def python_name(text: str, taken: set[str], suffix: str = "") -> str:
    """A fresh identifier for ``text`` (``1x1`` → ``x1x1``, ``in`` → ``in_``)."""
    base = re.sub(r"\W", "_", text) + suffix
    if not base or base[0].isdigit():
        base = "x" + base
    if keyword.iskeyword(base) or base in _RESERVED:
        base += "_"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


@dataclass
class Stmt:
    """One statement of a scope: it makes ``out`` from ``ins`` (tensor keys)."""

    out: Any
    ins: list
    render: Any  # (names: dict key → variable) → list of source lines
    comments: list[str] = field(default_factory=list)
    aliases: list = field(default_factory=list)  # keys written into the same variable as ``out``


class ModuleWriter(SpecStructure):
    """Writes the module of one spec (see the module docstring)."""

    def __init__(self, spec: Spec, model: Any, builder: Any, *, functions: bool = True):
        import keras

        super().__init__(spec, read_model(keras.saving.serialize_keras_object(model)), builder)
        self.model = model
        self.imports = Imports()
        self.comments = SourceComments()
        self.functions: dict[str, tuple | None] = {}  # block → (function, params, defaults)
        self.function_sources: list[str] = []
        self.shared = {s.layer for e, s in spec.entries if e.type == "apply"}
        self.use_functions = functions  # False: every block's layers written out inline

    def several_outputs(self, key: tuple) -> bool:
        layer = self.model.get_layer(key[0]) if key[0] not in self.spec.inputs else None
        if layer is None:
            return False
        nodes = layer._inbound_nodes
        return key[1] < len(nodes) and len(nodes[key[1]].outputs) > 1

    def arg_source(self, value: Any, names: dict) -> str:
        if isinstance(value, TensorRef):
            key = (value.layer, value.node)
            var = names[key]
            return f"{var}[{value.index}]" if self.several_outputs(key) else var
        if isinstance(value, list):
            return "[" + ", ".join(self.arg_source(v, names) for v in value) + "]"
        if isinstance(value, dict) and not ("class_name" in value and "config" in value):
            return "{" + ", ".join(f"{k!r}: {self.arg_source(v, names)}"
                                   for k, v in value.items()) + "}"
        return value_source(value, self.imports)

    def call_arguments(self, call: Call) -> tuple[list, dict]:
        """A call's arguments without the masks Keras adds to a call by itself."""
        kwargs = dict(call.kwargs)
        mask = kwargs.get("mask")
        refs = [mask] if isinstance(mask, TensorRef) else (
            mask if isinstance(mask, list) else [])
        if refs and all(isinstance(r, TensorRef) and self.is_op(r.layer) for r in refs):
            del kwargs["mask"]
        if "mask" in kwargs and kwargs["mask"] is None:
            del kwargs["mask"]
        if kwargs.get("training") is False:  # what Keras records for any symbolic call
            del kwargs["training"]
        return call.args, kwargs

    def is_op(self, layer_name: str) -> bool:
        layer = self.graph.layers.get(layer_name)
        return bool(layer and str(layer.obj.get("module", "")).startswith(_OPS_MODULE))

    def call_stmt(self, group: list[Call], arguments: list[dict],
                  prefixes: list[str] | None) -> Stmt | None:
        """One layer call, its constructor arguments solved over every instance."""
        first = group[0]
        layer = first.layer
        if self.is_op(layer.name):
            return None  # a mask Keras computes by itself again
        args, kwargs = self.call_arguments(first)
        obj = layer.obj
        extra: dict[str, str] = {}
        if prefixes is not None:
            locals_ = {c.layer.name[len(p) + 1:] for c, p in zip(group, prefixes, strict=True)}
            if len(locals_) != 1 or not all(c.layer.name.startswith(p + "_")
                                            for c, p in zip(group, prefixes, strict=True)):
                raise _NoFunction()
            extra["name"] = f'f"{{name}}_{locals_.pop()}"'
            configs = [c.layer.config for c in group]
            for key in configs[0]:
                if key == "name":
                    continue
                values = [c.get(key) for c in configs]
                if all(v == values[0] for v in values):
                    continue
                found = solve(values, arguments, lambda v: value_source(v, self.imports))
                if found is None:
                    raise _NoFunction()
                extra[key] = found
        ins = [(r.layer, r.node) for r in _tensors((args, kwargs))]
        several_calls = len(layer.calls) > 1
        is_first = first.node == 0
        out = (layer.name, first.node)

        def render(names: dict) -> list[str]:
            call_args = [self.arg_source(a, names) for a in args]
            call_args += [f"{k}={self.arg_source(v, names)}" for k, v in kwargs.items()]
            target = names[out]
            constructor = call_source(obj, self.imports, extra=extra, last=("name",))
            if not several_calls:
                return [f"{target} = {constructor}({', '.join(call_args)})"]
            layer_var = names[("layer", layer.name)]
            lines = []
            if is_first:
                lines.append(f"{layer_var} = {constructor}")
            lines.append(f"{target} = {layer_var}({', '.join(call_args)})")
            return lines

        return Stmt(out, ins, render)

    def scope_stmts(self, groups: list[list[Item]], arguments: list[dict],
                    prefixes: list[str] | None) -> list[Stmt]:
        """The statements of aligned item lists (one per instance; one list at the top)."""
        lengths = {len(g) for g in groups}
        if len(lengths) != 1:
            if prefixes is None:
                raise _NoFunction()
            return self.optional_stmts(groups, arguments, prefixes)
        stmts: list[Stmt] = []
        for position in range(lengths.pop()):
            stmts += self.item_stmts([g[position] for g in groups], arguments, prefixes)
        return stmts

    def item_stmts(self, items: list[Item], arguments: list[dict],
                   prefixes: list[str] | None) -> list[Stmt]:
        """The statement(s) of one item as every instance (or the top level) has it."""
        kinds = {(it.kind, it.block, it.base) for it in items}
        if len(kinds) != 1:
            raise _NoFunction()
        item = items[0]
        comments = item.notes + self.comments.around(item.mark)
        if item.kind == "call":
            stmt = self.call_stmt([it.call for it in items], arguments, prefixes)
        else:
            try:
                stmt = self.run_stmt(items, arguments, prefixes)
            except _Inline:  # at the top level: the instances' layers, written out
                inline = self.expand_inline([member_item for member in item.members
                                             for member_item in self.items(member.name)])
                return self.scope_stmts([inline], arguments, None)
        if stmt is None:
            return []
        stmt.comments = comments + stmt.comments
        return [stmt]

    def optional_stmts(self, groups: list[list[Item]], arguments: list[dict],
                       prefixes: list[str]) -> list[Stmt]:
        """A block whose instances lack some layers (`repeat: 0` on them): an ``if``.

        One instance must hold every item; the others hold a part of them, in
        the same order. A run of consecutive items that the same instances lack
        must be a chain, so that where it is absent its output is its input
        (what `repeat: 0` means), and which instances have it must follow from
        their parameters (``stride > 1``). Every call must take the same inputs
        in every instance, the run's input standing for its output where the
        run is absent; otherwise there is no one function (the layers are then
        written out inline).
        """
        keys = [[_item_key(it, p) for it in g] for g, p in zip(groups, prefixes, strict=True)]
        full = max(range(len(groups)), key=lambda g: len(groups[g]))
        where: list[dict] = []  # per instance: item key → position
        for ks in keys:
            positions = {k: i for i, k in enumerate(ks)}
            if len(positions) != len(ks) or not set(ks) <= set(keys[full]):
                raise _NoFunction()
            order = [positions[k] for k in keys[full] if k in positions]
            if order != sorted(order):
                raise _NoFunction()
            where.append(positions)
        runs: list[tuple[list[int], tuple]] = []  # (positions in the full instance, presence)
        for position, key in enumerate(keys[full]):
            presence = tuple(key in w for w in where)
            if runs and not all(presence) and runs[-1][1] == presence:
                runs[-1][0].append(position)
            else:
                runs.append(([position], presence))
        stmts: list[Stmt] = []
        passed: list[dict] = [{} for _ in groups]  # per instance: absent output → its input
        for positions, presence in runs:
            present = [g for g in range(len(groups)) if presence[g]]
            inner: list[Stmt] = []
            for position in positions:
                key = keys[full][position]
                items = [(g, groups[g][where[g][key]]) for g in present]
                self.check_inputs(items, prefixes, passed, full)
                inner += self.item_stmts([it for _, it in items], [arguments[g] for g in present],
                                         [prefixes[g] for g in present])
            if all(presence):
                stmts += inner
                continue
            condition = solve_condition(list(presence), arguments,
                                        lambda v: value_source(v, self.imports),
                                        self.repeat_parameters(prefixes[0]))
            if condition is None or not inner or len(inner[0].ins) != 1 or any(
                    s.ins != [before.out] for before, s in zip(inner, inner[1:], strict=False)):
                raise _NoFunction()
            first = present[0]
            source = self.local(inner[0].ins[0], prefixes[first])
            output = self.local(inner[-1].out, prefixes[first])
            for g in range(len(groups)):
                if not presence[g]:
                    passed[g][output] = passed[g].get(source, source)
            stmts.append(_conditional(condition, inner))
        return stmts

    def repeat_parameters(self, instance: str) -> list[str]:
        """The parameters the `repeat:` values of the instance's block name, in order."""
        block = self.spec.instances[instance].block
        raw = ((self.spec.tree or {}).get("blocks") or {}).get(block) or {}
        found: list[str] = []
        for item in raw.get("layers") or [] if isinstance(raw, dict) else []:
            for params in (item.values() if isinstance(item, dict) else []):
                repeat = params.get("repeat") if isinstance(params, dict) else None
                for name in re.findall(r"\$(\w+)", str(repeat or "")):
                    if name not in found:
                        found.append(name)
        return found

    def local(self, key: tuple, prefix: str) -> tuple:
        """A tensor key as an instance sees it: its input, one of its layers, or outside."""
        inst = self.spec.instances[prefix]
        inputs = [tuple(self.entry_key[n]) for n in inst.inputs]
        if tuple(key) in inputs:
            return ("input", inputs.index(tuple(key)))
        if key[0].startswith(prefix + "_"):
            return ("layer", key[0][len(prefix) + 1:], key[1])
        return ("outer", tuple(key))

    def check_inputs(self, items: list[tuple[int, Item]], prefixes: list[str],
                     passed: list[dict], full: int) -> None:
        """Aligned calls take the same inputs in every instance (see :meth:`optional_stmts`)."""
        if items[0][1].kind != "call":
            return
        refs = {g: [self.local((r.layer, r.node), prefixes[g])
                    for r in _tensors(self.call_arguments(item.call))] for g, item in items}
        for g, seen in refs.items():
            if [passed[g].get(r, r) for r in refs[full]] != seen:
                raise _NoFunction()

    def run_stmt(self, items: list[Item], arguments: list[dict],
                 prefixes: list[str] | None) -> Stmt:
        item = items[0]
        function = self.function(item.block)
        counts = [len(it.members) for it in items]
        literal = repr
        if function is None:
            raise _NoFunction() if prefixes is not None else _Inline()
        fn_name, params, defaults = function
        count = solve(counts, arguments, literal) if prefixes is not None else repr(counts[0])
        if count is None:
            raise _NoFunction()
        call_values: dict[str, str] = {}
        for param in params:
            values = [it.members[0].arguments.get(param) for it in items]
            if any(m.arguments.get(param) != it.members[0].arguments.get(param)
                   for it in items for m in it.members):
                raise _NoFunction() if prefixes is not None else _Inline()
            found = solve(values, arguments, lambda v: value_source(v, self.imports))
            if found is None:
                raise _NoFunction()
            if param in defaults and found == value_source(defaults[param], self.imports):
                continue
            call_values[param] = found
        numbered = {it.numbered for it in items}
        base = item.base
        if prefixes is None:
            one = f'"{base}"'
            many = f'f"{base}_{{i + 1}}"'
        else:
            one = f'f"{{name}}_{base}"'
            many = f'f"{{name}}_{base}_{{i + 1}}"'
        inputs = [tuple(self.entry_key[n]) for n in item.members[0].inputs]
        out = tuple(self.entry_key[item.members[-1].output])
        looped = numbered != {False} or prefixes is not None and len(set(counts)) > 1
        if looped and len(inputs) != 1:
            raise _NoFunction() if prefixes is not None else _Inline()
        keywords = ", ".join(f"{k}={v}" for k, v in call_values.items())
        keywords = (keywords + ", " if keywords else "")

        def render(names: dict) -> list[str]:
            target = names[out]
            if not looped:
                args = ", ".join(names[k] for k in inputs)
                return [f"{target} = {fn_name}({args}, {keywords}name={one})"]
            name_src = many if numbered == {True} else f"{one} if {count} == 1 else {many}"
            lines = []
            if names[inputs[0]] != target:
                lines.append(f"{target} = {names[inputs[0]]}")
            lines.append(f"for i in range({count}):")
            lines.append(f"    {target} = {fn_name}({target}, {keywords}name={name_src})")
            return lines

        return Stmt(out, inputs, render)

    def function(self, block: str) -> tuple | None:
        """The Python function of a block, written on first use; None when it cannot be one."""
        if block in self.functions:
            return self.functions[block]
        self.functions[block] = None
        if not self.use_functions:
            return None
        instances = [i for i in self.spec.instances.values() if i.block == block and i.entries]
        if not instances or any(i.name in self.shared for i in instances):
            return None
        try:
            source, params, defaults = self.function_source(block, instances)
        except _NoFunction:
            return None
        self.function_sources.append(source)
        self.functions[block] = (python_name(block, set(), ""), params, defaults)
        return self.functions[block]

    def function_source(self, block: str,
                        instances: list[Instance]) -> tuple[str, list[str], dict]:
        groups = [self.items(i.name) for i in instances]
        # The instance with the most items first: its layers name every statement
        # (the others may lack some; see optional_stmts).
        order = sorted(range(len(instances)), key=lambda g: -len(groups[g]))
        instances, groups = [instances[g] for g in order], [groups[g] for g in order]
        arguments = [{k: v for k, v in i.arguments.items() if _scalar(v)} for i in instances]
        prefixes = [i.name for i in instances]
        stmts = self.scope_stmts(groups, arguments, prefixes)
        first = instances[0]
        for inst in instances:
            keys = [tuple(self.entry_key[n]) for n in inst.inputs]
            out = self.entry_key.get(inst.output)
            if out is None or len(keys) != len(first.inputs):
                raise _NoFunction()
        input_keys = [tuple(self.entry_key[n]) for n in first.inputs]
        out_key = tuple(self.entry_key[first.output])
        declared = list(first.arguments)
        body_text = "\n".join(line for s in stmts for line in _dry_render(s))
        params = [p for p in declared if re.search(rf"\b{re.escape(p)}\b", body_text)]
        raw = (self.spec.tree or {}).get("blocks", {}).get(block, {})
        raw_params = raw.get("params") if isinstance(raw, dict) else None
        defaults = {p: v for p, v in (raw_params or {}).items()
                    if p in params and _scalar(v) and not (isinstance(v, str) and "$" in v)}
        params = [p for p in params if p not in defaults] + [p for p in params if p in defaults]
        taken = set(params) | {"name", "x"}
        input_names = []
        for local, key in zip(first.local_inputs or ["in"], input_keys, strict=False):
            input_names.append((key, python_name("inputs" if local == "in" else local, taken)))
        if len({k for k, _ in input_names}) != len(input_names):
            raise _NoFunction()
        names = self.assign_names(stmts, dict(input_names), [out_key], taken, first.name + "_")
        mark = getattr((self.spec.tree or {}).get("blocks"), "key_marks", {}).get(block)
        doc = self.comments.around(mark)
        description = raw.get("description") if isinstance(raw, dict) else None
        signature = ", ".join([n for _, n in input_names]
                              + [p if p not in defaults
                                 else f"{p}={value_source(defaults[p], self.imports)}"
                                 for p in params] + ["*", "name"])
        fn = python_name(block, set(), "")
        lines = [f"def {fn}({signature}):"]
        # The block's description, then its comment lines as written (a drawing stays one).
        wrapped = (wrap_text(_doc(" ".join(str(description).split())), LINE_LENGTH - 10)
                   if description else [])
        for line in doc:
            wrapped += wrap_text(_doc(line.rstrip()) if line.strip() else "", LINE_LENGTH - 10)
        while wrapped and not wrapped[-1]:
            wrapped.pop()
        wrapped = wrapped or [f"The `{block}` block of the spec."]
        if len(wrapped) == 1:
            lines.append(f'    """{wrapped[0]}"""')
        else:
            lines += [f'    """{wrapped[0]}'] + [f"    {w}" for w in wrapped[1:]] + ['    """']
        lines += self.render(stmts, names, "    ")
        lines.append(f"    return {names[out_key]}")
        return "\n".join(lines), params, defaults

    def assign_names(self, stmts: list[Stmt], fixed: dict, keep: list, taken: set[str],
                     prefix: str = "") -> dict:
        """Variables for the tensors of a scope: ``x`` for a chain, a name where it is reused.

        In a block function (``prefix`` its first instance's name and ``_``) names
        are the layers' names inside the block, and the returned tensor may be ``x``.
        """
        names: dict = dict(fixed)
        uses: dict = {}
        for index, stmt in enumerate(stmts):
            for key in stmt.ins:
                uses.setdefault(key, []).append(index)
        for index, stmt in enumerate(stmts):
            if stmt.out in names:
                continue
            consumers = uses.get(stmt.out, [])
            chained = len(consumers) == 1 and consumers[0] == index + 1 and stmt.out not in keep
            returned = bool(prefix) and index == len(stmts) - 1 and not consumers
            if chained or returned:
                names[stmt.out] = "x"
            else:
                layer = stmt.out[0][len(prefix):] if stmt.out[0].startswith(prefix) else stmt.out[0]
                names[stmt.out] = python_name(layer if stmt.out[1] == 0
                                              else f"{layer}_{stmt.out[1]}", taken)
            for key in stmt.aliases:
                names[key] = names[stmt.out]
            for layer in [key[0] for key in [stmt.out, *stmt.aliases]]:
                if ("layer", layer) not in names:
                    local = layer[len(prefix):] if layer.startswith(prefix) else layer
                    names[("layer", layer)] = python_name(local, taken, "_layer")
        return names

    def render(self, stmts: list[Stmt], names: dict, indent: str) -> list[str]:
        lines: list[str] = []
        width = LINE_LENGTH - len(indent) - 2
        for stmt in stmts:
            for comment in stmt.comments:
                if len(comment) > width:  # ruff's limit holds for comments too
                    comment = " ".join(comment.split())
                lines += [f"{indent}# {part}".rstrip() for part in wrap_text(comment, width)]
            lines += [indent + line for line in stmt.render(names)]
        return lines

    def build_model_source(self) -> str:
        top = self.items(None)
        stmts = self.scope_stmts([self.expand_inline(top)], [{}], None)
        taken = {python_name(b, set()) for b in self.functions}
        fixed = {}
        lines = []
        for name, input_spec in self.spec.inputs.items():
            var = python_name(name, taken)
            fixed[(name, 0)] = var
            shape = tuple(input_spec.shape)
            dtype = f', dtype="{input_spec.dtype}"' if input_spec.dtype != "float32" else ""
            lines.append(f'    {var} = keras.Input(shape={shape!r}{dtype}, name="{name}")')
        outputs = [(r.layer, r.node) for r in self.graph.outputs]
        names = self.assign_names(stmts, fixed, outputs, taken)
        lines += self.render(stmts, names, "    ")
        ins = [fixed[(n, 0)] for n in self.spec.inputs]
        outs = [self.arg_source(r, names) for r in self.graph.outputs]
        ins_src = ins[0] if len(ins) == 1 else "[" + ", ".join(ins) + "]"
        outs_src = (outs[0] if not self.graph.several_outputs else "[" + ", ".join(outs) + "]")
        lines.append(f'    return keras.Model({ins_src}, {outs_src}, name="{self.spec.name}")')
        return "\n".join(lines)

    def expand_inline(self, items: list[Item]) -> list[Item]:
        """Top-level items, the runs of blocks that cannot be functions written out."""
        out: list[Item] = []
        for item in items:
            if item.kind == "run" and self.function(item.block) is None:
                notes = self.comments.around(item.mark)
                for member in item.members:
                    inner = self.expand_inline(self.items(member.name))
                    if inner:
                        inner[0].notes = notes + [f"block `{item.block}`: {member.name}"] + \
                            inner[0].notes
                        notes = []
                    out.extend(inner)
            else:
                out.append(item)
        return out


def _item_key(item: Item, prefix: str) -> tuple:
    """What an item is inside its instance: a layer's local name, or a run of a block."""
    if item.kind == "call":
        name = item.call.layer.name
        local = name[len(prefix) + 1:] if name.startswith(prefix + "_") else name
        return ("call", local, item.call.node)
    return ("run", item.block, item.base)


def _conditional(condition: str, inner: list[Stmt]) -> Stmt:
    """``out = in`` then ``if condition:`` the chain ``inner`` (each step into ``out``)."""
    out, source = inner[-1].out, inner[0].ins[0]

    def render(names: dict) -> list[str]:
        var = names[out]
        lines = [] if var == names[source] else [f"{var} = {names[source]}"]
        lines.append(f"if {condition}:")
        for stmt in inner:
            for comment in stmt.comments:
                lines += [f"    # {part}".rstrip() for part in wrap_text(comment, LINE_LENGTH - 12)]
            lines += ["    " + line for line in stmt.render(names)]
        return lines

    return Stmt(out, [source], render, aliases=[s.out for s in inner[:-1]])


def solve_condition(present: list[bool], arguments: list[dict], literal,
                    preferred: list[str] = ()) -> str | None:
    """A condition on the block's parameters true for exactly the instances ``present``.

    The parameters in ``preferred`` (those the `repeat:` values name) are tried first.
    """
    names = [p for p in arguments[0] if all(p in a for a in arguments)]
    names = [p for p in preferred if p in names] + [p for p in names if p not in preferred]
    for name in names:
        values = [a[name] for a in arguments]
        yes = [v for v, p in zip(values, present, strict=True) if p]
        no = [v for v, p in zip(values, present, strict=True) if not p]
        if any(isinstance(v, (list, tuple, dict)) or v is None for v in values):
            continue
        if any(v == w and type(v) is type(w) for v in yes for w in no):
            continue
        if all(isinstance(v, bool) for v in values):
            return name if all(yes) else f"not {name}"
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            if max(no) < min(yes):
                return f"{name} > {literal(max(no))}"
            if min(no) > max(yes):
                return f"{name} < {literal(min(no))}"
        if len(set(map(repr, no))) == 1:
            return f"{name} != {literal(no[0])}"
        if len(set(map(repr, yes))) == 1:
            return f"{name} == {literal(yes[0])}"
    return None


class _NoFunction(Exception):
    """The instances of a block differ in a way one function cannot express."""


class _Inline(Exception):
    """A run at the top level that must be written out instead."""


def _tensors(value: Any) -> list[TensorRef]:
    found: list[TensorRef] = []

    def walk(v: Any) -> None:
        if isinstance(v, TensorRef):
            found.append(v)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(value)
    return found


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) or (
        isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value))


def _dry_render(stmt: Stmt) -> list[str]:
    class _Any(dict):
        def __missing__(self, key):
            return "v"

    return stmt.render(_Any())


def wrap_text(text: str, width: int) -> list[str]:
    """``text`` as lines of at most ``width`` characters (as it is when it fits)."""
    if len(text) <= width:
        return [text]
    text = " ".join(text.split())
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])


def _doc(text: str) -> str:
    """Text for a docstring: no closing quotes inside, backslashes kept as written."""
    return str(text).rstrip().replace('"""', "'''").replace("\\", "\\\\")
