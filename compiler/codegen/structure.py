"""The spec's structure as `nncompile codegen` needs it: which calls each entry makes,
the nesting of block instances, and what a scope holds in order.

The built model's graph knows the calls; the expanded spec knows the entries and
the block instances they came from. This module joins the two: every call of
the graph is claimed by the entry that made it (an `apply` entry claims the
later calls of the layers it shares), and the contents of an instance (or of the
top level) are its direct entries' calls and its direct sub-instances, with
consecutive instances named ``<base>_1``, ``<base>_2``, ... gathered into a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from compiler.codegen.functional import Call, Graph
from compiler.spec.blocks import Instance
from compiler.spec.schema import Spec


@dataclass
class Item:
    """What a scope holds, in order: a layer call, or a run of block instances."""

    kind: str  # "call" or "run"
    call: Call | None = None
    block: str = ""
    base: str = ""
    members: list[Instance] = field(default_factory=list)
    numbered: bool = False
    mark: Any = None
    notes: list[str] = field(default_factory=list)  # comment lines written before it

class SpecStructure:
    """The calls of each entry and the block instances of a spec, for one built model."""

    def __init__(self, spec: Spec, graph: Graph, builder: Any):
        self.spec = spec
        self.graph = graph
        self.entry_index = {e.name: i for i, (e, _) in enumerate(spec.entries)}
        self.entries = {e.name: e for e, _ in spec.entries}
        self.claimed: dict[str, list[Call]] = {}  # entry name → its calls
        self.owner: dict[tuple, str] = {}  # (layer, node) → entry name
        self.entry_key: dict[str, Any] = {}  # entry name → its output tensor
        self._claim_calls(builder)
        self.parents = self._instance_parents()

    def _claim_calls(self, builder: Any) -> None:
        next_node: dict[str, int] = {}
        for entry, layer_spec in self.spec.entries:
            if entry.type == "apply":
                target = layer_spec.layer
                names = (self.spec.instances[target].entries if target in self.spec.instances
                         else [target])
                keras_layers = [layer.name for n in names for layer in builder.layers.get(n, [])]
            else:
                keras_layers = [layer.name for layer in builder.layers.get(entry.name, [])]
            calls = []
            for layer_name in keras_layers:
                layer = self.graph.layers.get(layer_name)
                node = next_node.get(layer_name, 0)
                if layer is None or node >= len(layer.calls):
                    continue
                next_node[layer_name] = node + 1
                calls.append(layer.calls[node])
                self.owner[(layer_name, node)] = entry.name
            self.claimed[entry.name] = calls
            tensor = builder.tensors.get(entry.name)
            if isinstance(tensor, (list, tuple)):
                tensor = tensor[0] if tensor else None
            history = getattr(tensor, "_keras_history", None)
            if history is not None:
                self.entry_key[entry.name] = (history[0].name, history[1])
        for name in self.spec.inputs:
            self.entry_key[name] = (name, 0)

    def _instance_parents(self) -> dict[str, str | None]:
        parents: dict[str, str | None] = {}
        for name, inst in self.spec.instances.items():
            best = None
            for other, candidate in self.spec.instances.items():
                if other != name and name.startswith(other + "_") and set(inst.entries) <= set(
                        candidate.entries) and (best is None or len(other) > len(best)):
                    best = other
            parents[name] = best
        return parents

    def items(self, instance: str | None) -> list[Item]:
        """The direct contents of a block instance (or of the top level), in spec order."""
        positioned: list[tuple[int, Any]] = []
        for name, inst in self.spec.instances.items():
            if self.parents[name] == instance and inst.entries:
                positioned.append((self.entry_index[inst.entries[0]], inst))
        for entry, _ in self.spec.entries:
            if entry.instance == instance:
                positioned.append((self.entry_index[entry.name], entry))
        positioned.sort(key=lambda p: p[0])
        prefix = instance + "_" if instance else ""
        out: list[Item] = []
        for _, thing in positioned:
            if isinstance(thing, Instance):
                local = thing.name[len(prefix):]
                match = re.fullmatch(r"(.+)_(\d+)", local)
                last = out[-1] if out else None
                if (match and last is not None and last.kind == "run" and last.block == thing.block
                        and last.numbered and last.base == match.group(1)
                        and int(match.group(2)) == len(last.members) + 1
                        and thing.inputs == [last.members[-1].output]
                        and _same_arguments(last.members[-1], thing)):
                    last.members.append(thing)
                    continue
                numbered = bool(match and match.group(2) == "1")
                out.append(Item("run", block=thing.block,
                                base=match.group(1) if numbered else local,
                                members=[thing], numbered=numbered,
                                mark=self.use_mark(thing, instance, local)))
            else:
                for call in self.claimed.get(thing.name, []):
                    out.append(Item("call", call=call, mark=thing.mark))
        for item in out:  # a lone `name_1` that started no run keeps its name
            if item.kind == "run" and item.numbered and len(item.members) == 1:
                item.numbered, item.base = False, item.members[0].name[len(prefix):]
        return out

    def use_mark(self, inst: Instance, parent: str | None, local: str) -> Any:
        """Where the spec uses the block (its comments are there), found by the use's name."""
        tree = self.spec.tree or {}
        items = (tree.get("layers") if parent is None else
                 ((tree.get("blocks") or {}).get(self.spec.instances[parent].block) or {}
                  ).get("layers"))
        marks = getattr(items, "item_marks", [])
        for index, item in enumerate(items or []):
            params = item.get(inst.block) if isinstance(item, dict) else None
            if not isinstance(params, dict) and inst.block not in (item or {}):
                continue
            name = params.get("name") if isinstance(params, dict) else None
            if name in (None, local) or (isinstance(name, str) and local.startswith(name + "_")):
                return marks[index] if index < len(marks) else None
        return None

    # ------------------------------------------------------------------ emission

def _same_arguments(a: Instance, b: Instance) -> bool:
    return a.arguments == b.arguments
