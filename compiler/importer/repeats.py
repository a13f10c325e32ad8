"""Repeated structure found again: recurring subgraphs become a block with `repeat:`.

The entries are cut where the graph narrows to one tensor (nothing before the
cut is used after it except the entry at the cut), which splits a ResNet into
its stem layers and its bottleneck blocks, a DenseNet into its dense-block
units. Pieces of two or more layers whose layers share a name prefix
(``conv3_block2_``) and that recur with the same shape (the same layer types,
wiring, names inside and parameters, up to numbers) become one block; the
numbers that differ between its uses become the block's parameters, written as
an expression of an earlier parameter where one fits (``$filters * 4``).
Consecutive uses with equal parameters become one use with ``repeat:``.

``repeat:`` names its copies ``<name>_1``, ``<name>_2``, ...; where the model's
own names are spelled otherwise (Keras's ResNet counts ``conv2_block2``,
``conv2_block3`` after ``conv2_block1``) the copies take the spec's names, and
:attr:`Recovered.renamed` maps each Keras layer name to its new one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from compiler.codegen.solve import solve
from compiler.importer.entries import FlatEntry, FlatSpec

_NUMBER = (int, float)


@dataclass
class BlockUse:
    """One use of a block in the layer list: its arguments, name and repeat count."""

    block: str
    arguments: dict
    name: str
    repeat: int = 1
    inputs: str | None = None


@dataclass
class Block:
    """A recovered block: its parameters and its body (names local to an instance)."""

    name: str
    params: list[str]
    body: list[dict]  # {type: params} entries, values may be `$expressions`
    instances: list[str] = field(default_factory=list)


@dataclass
class Recovered:
    """The layer list with blocks: each item a :class:`FlatEntry` or a :class:`BlockUse`."""

    blocks: dict[str, Block]
    items: list[Any]
    renamed: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)
    """The last layer of each block use → the use's name, which stands for it in the spec."""


@dataclass
class _Piece:
    start: int
    stop: int  # exclusive
    source: str  # the tensor the piece takes
    prefix: str  # the shared name prefix without its `_`
    shape: tuple
    values: list  # the numbers of the piece, in shape order


def _base(ref: str) -> str:
    return ref.split("[")[0]


def _cuts(entries: list[FlatEntry], inputs: list[str], outputs: list[str]) -> list[int]:
    """Positions after which only the entry at the position is used again."""
    position = {e.name: i for i, e in enumerate(entries)}
    for name in inputs:
        position[name] = -1
    last_use: dict[str, int] = {}
    for j, entry in enumerate(entries):
        for ref in entry.inputs:
            last_use[_base(ref)] = j
        if entry.type == "apply":
            last_use[entry.params["layer"]] = len(entries)
    for ref in outputs:
        last_use[_base(ref)] = len(entries)
    cuts = []
    live: set[str] = {n for n in inputs if last_use.get(n, -1) > -1}
    for i, entry in enumerate(entries):
        if last_use.get(entry.name, -1) > i:
            live.add(entry.name)
        live = {n for n in live if last_use.get(n, -1) > i}
        if live == {entry.name}:
            cuts.append(i)
    return cuts


def _numbers(value: Any, path: tuple, out: list) -> Any:
    """The value's shape with its numbers taken out (into ``out``, with their paths)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, _NUMBER):
        out.append((path, value))
        return "#"
    if isinstance(value, list):
        return tuple(_numbers(v, path + (i,), out) for i, v in enumerate(value))
    if isinstance(value, dict):
        return tuple((k, _numbers(v, path + (k,), out)) for k, v in value.items())
    return repr(value)


def _piece(entries: list[FlatEntry], start: int, stop: int, source: str) -> _Piece | None:
    names = [e.name for e in entries[start:stop]]
    prefix = os.path.commonprefix(names)
    prefix = prefix[:prefix.rfind("_") + 1] if "_" in prefix else ""
    if not prefix or len(prefix) < 2 or any(e.type == "apply" for e in entries[start:stop]):
        return None
    local = {n: n[len(prefix):] for n in names}
    if any(not v for v in local.values()):
        return None
    values: list = []
    shape = []
    for entry in entries[start:stop]:
        refs = []
        for ref in entry.inputs:
            base, _, index = ref.partition("[")
            if base == source:
                refs.append("in" + ("[" + index if index else ""))
            elif base in local:
                refs.append(local[base] + ("[" + index if index else ""))
            else:
                return None  # takes a tensor from outside the piece
        shape.append((entry.type, local[entry.name], tuple(refs),
                       _numbers(entry.params, (local[entry.name],), values)))
    return _Piece(start, stop, source, prefix[:-1], tuple(shape), values)


def _prefix(names: list[str]) -> str:
    common = os.path.commonprefix(names)
    if len(names) == 1:
        common = common[:-1]  # one name: its prefix is what comes before its last part
    return common[:common.rfind("_") + 1] if "_" in common else ""


def _spans(entries: list[FlatEntry], cuts: list[int]) -> list[tuple[int, int]]:
    """The pieces between cuts, those in a row whose names share a prefix taken together."""
    segments, previous = [], -1
    for cut in cuts:
        segments.append((previous + 1, cut + 1))
        previous = cut
    spans: list[tuple[int, int]] = []
    prefix = ""
    for start, stop in segments:
        names = [e.name for e in entries[start:stop]]
        if spans and prefix and all(n.startswith(prefix) for n in names):
            spans[-1] = (spans[-1][0], stop)
            continue
        spans.append((start, stop))
        prefix = _prefix(names)
    return spans


def recover(flat: FlatSpec, *, keep_names: bool = False) -> Recovered:
    """The entries of ``flat`` with repeated pieces as blocks (see the module docstring)."""
    entries = flat.entries
    cuts = _cuts(entries, list(flat.inputs), flat.outputs)
    pieces: list[_Piece] = []
    for start, stop in _spans(entries, cuts):
        if stop - start >= 2:
            source = (entries[start - 1].name if start > 0 else
                      (entries[start].inputs[0] if entries[start].inputs else ""))
            piece = _piece(entries, start, stop, _base(source))
            if piece is not None:
                pieces.append(piece)
    by_shape: dict[tuple, list[_Piece]] = {}
    for piece in pieces:
        by_shape.setdefault(piece.shape, []).append(piece)
    blocks: dict[str, Block] = {}
    piece_block: dict[int, tuple[Block, dict]] = {}
    for group in by_shape.values():
        if len(group) < 2:
            continue
        block_name = f"block_{len(blocks) + 1}"
        made = _block(block_name, group, entries)
        if made is None:
            continue
        block, arguments = made
        blocks[block_name] = block
        for piece, args in zip(group, arguments, strict=True):
            piece_block[piece.start] = (block, args)
    items: list[Any] = []
    renamed: dict[str, str] = {}
    aliases: dict[str, str] = {}
    index = 0
    starts = {p.start: p for p in pieces if p.start in piece_block}
    while index < len(entries):
        piece = starts.get(index)
        if piece is None:
            items.append(entries[index])
            index += 1
            continue
        block, args = piece_block[piece.start]
        run = [piece]
        while not keep_names:
            nxt = starts.get(run[-1].stop)
            if nxt is None or piece_block[nxt.start][0] is not block or \
                    piece_block[nxt.start][1] != args:
                break
            run.append(nxt)
        use = BlockUse(block.name, args, piece.prefix, len(run), piece.source)
        aliases[entries[piece.stop - 1].name] = piece.prefix
        if len(run) > 1:
            use.name = _run_name(run)
            for number, member in enumerate(run, start=1):
                new = f"{use.name}_{number}"
                for entry in entries[member.start:member.stop]:
                    renamed[entry.name] = new + entry.name[len(member.prefix):]
                aliases[entries[member.stop - 1].name] = new
        items.append(use)
        index = run[-1].stop
    return Recovered(blocks, items, {k: v for k, v in renamed.items() if k != v}, aliases)


def _run_name(run: list[_Piece]) -> str:
    """``conv2_identity`` for ``conv2_identity_1``, ``_2``; ``conv2_block`` for ``conv2_block2``."""
    names = [p.prefix for p in run]
    match = [re.fullmatch(r"(.+)_(\d+)", n) for n in names]
    if all(match) and [int(m.group(2)) for m in match] == list(range(1, len(run) + 1)) and len(
            {m.group(1) for m in match}) == 1:
        return match[0].group(1)
    common = os.path.commonprefix(names).rstrip("_0123456789") or names[0]
    return common + "s" if common in names else common


def _block(name: str, group: list[_Piece], entries: list[FlatEntry]):
    """The block of same-shaped pieces, and each piece's arguments; None if one does not fit."""
    count = len(group[0].values)
    varying = [i for i in range(count)
               if any(p.values[i] != group[0].values[i] for p in group)]
    params: list[str] = []
    arguments: list[dict] = [{} for _ in group]
    expression: dict[int, str] = {}
    for i in varying:
        path = group[0].values[i][0]
        key = str(next((part for part in reversed(path) if isinstance(part, str)), "value"))
        values = [p.values[i][1] for p in group]
        found = solve(values, arguments, repr) if params else None
        if found is not None and re.fullmatch(r"[A-Za-z_]\w*( [*/+-]{1,2} \d+)?", found):
            expression[i] = "$" + found
            continue
        param = key if key not in params else f"{key}_{len(params) + 1}"
        param = re.sub(r"\W", "_", param)
        params.append(param)
        for args, value in zip(arguments, values, strict=True):
            args[param] = value
        expression[i] = f"${param}"
    first = group[0]
    body = []
    replacements = {first.values[i][0]: expression[i] for i in varying}
    for entry in entries[first.start:first.stop]:
        local = entry.name[len(first.prefix) + 1:]
        params_out = _replace(entry.params, (local,), replacements)
        refs = []
        for ref in entry.inputs:
            base, _, index = ref.partition("[")
            refs.append(("in" if base == first.source else base[len(first.prefix) + 1:])
                        + ("[" + index if index else ""))
        params_out = dict(params_out)
        params_out["name"] = local
        params_out["inputs"] = refs if len(refs) > 1 else refs[0]
        body.append({entry.type: params_out})
    return Block(name, params, body, [p.prefix for p in group]), arguments


def _replace(value: Any, path: tuple, replacements: dict) -> Any:
    if path in replacements:
        return replacements[path]
    if isinstance(value, list):
        return [_replace(v, path + (i,), replacements) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _replace(v, path + (k,), replacements) for k, v in value.items()}
    return value

