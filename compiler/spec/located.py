"""Positions and problems in a loaded spec tree, shared by resolve and validate.

A problem is collected with the most precise position known for its dotted
path (``layers[3].dense.units``), so every stage reports mistakes where the
user wrote them, all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from compiler.errors import Location, Problem, SpecError
from compiler.spec.loader import Mark, PosDict, child_mark


@dataclass
class Problems:
    """Collects every problem in a file so they can be reported at once."""

    items: list[Problem] = field(default_factory=list)

    def add(self, message: str, mark: Mark | None, path: str | None, fallback: str = "") -> None:
        loc = mark.location(path) if mark else Location(fallback or None, path=path)
        self.items.append(Problem(message, loc))

    def raise_if_any(self) -> None:
        if self.items:
            raise SpecError(self.deduplicated())

    def deduplicated(self) -> list[Problem]:
        """One problem per position: a value that failed to resolve is not also mistyped,
        and a mistake inside a block is reported once, naming every instance it is in."""
        seen, out = set(), []
        for problem in _merge_instances(self.items):
            loc = problem.location
            key = (loc.file, loc.line, loc.col, loc.path) if loc.line is not None else id(problem)
            if key not in seen:
                seen.add(key)
                out.append(problem)
        return out


_IN_INSTANCE = re.compile(r"^(?P<path>.*) \(in (?P<names>'[^()]*'), (?P<use>[^()]*)\)$")


def _merge_instances(items: list[Problem]) -> list[Problem]:
    """Problems that differ only in the block instance they are in (``(in 's_2',
    layers[0].b)``) become one, at the line in the block, that names the instances."""
    groups: dict[tuple, list[str]] = {}
    first: dict[tuple, int] = {}
    out: list[Problem | tuple] = []
    for problem in items:
        loc = problem.location
        match = _IN_INSTANCE.match(loc.path or "") if loc.line is not None else None
        if match is None:
            out.append(problem)
            continue
        key = (loc.file, loc.line, loc.col, match.group("path"), match.group("use"),
               problem.message)
        if key not in groups:
            groups[key], first[key] = [], len(out)
            out.append(key)
        groups[key].append(match.group("names"))
    merged = []
    for item in out:
        if isinstance(item, Problem):
            merged.append(item)
            continue
        file, line, col, path, use, message = item
        names = list(dict.fromkeys(groups[item]))
        where = (f"in {names[0]}" if len(names) == 1 else
                 f"in block instances {', '.join(names)}")
        merged.append(Problem(message, Location(file, line, col, f"{path} ({where}, {use})")))
    return merged


def format_path(parts: tuple | list) -> str:
    """``('layers', 3, 'dense', 'units')`` → ``layers[3].dense.units``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def show_value(value: Any, limit: int = 80) -> str:
    """A value as the spec's author wrote it (YAML words: null, true, [1, 2], {a: 1})."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        parts, size = [], 0
        for key, item in items:
            part = (f"{key}: " if isinstance(value, dict) else "") + show_value(item, limit)
            parts.append(part)
            size += len(part) + 2
            if size > limit:
                break
        text = ", ".join(parts)
        text = f"{{{text}}}" if isinstance(value, dict) else f"[{text}]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def locate(tree: Any, path: tuple | list, *, key: bool = False) -> Mark | None:
    """The most precise known position of ``path`` inside ``tree``.

    With ``key=True`` the position of the last mapping key is preferred (for
    "unknown key" errors, which are about the key, not its value).
    """
    best = getattr(tree, "mark", None)
    node = tree
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, PosDict) and last and key and part in node.key_marks:
            return node.key_marks[part]
        mark = child_mark(node, part)
        if mark is not None:
            best = mark
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        best = getattr(node, "mark", None) or best
    return best
