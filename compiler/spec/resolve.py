"""Resolving a loaded spec: ``extends:``, ``--set`` overrides and variables.

Each step works on the position-carrying tree from :mod:`compiler.spec.loader`
so that every later error still points at the line the value came from.
Blocks are expanded afterwards by :mod:`compiler.spec.blocks`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.errors import Location, Problem, SpecError, UsageError
from compiler.spec.expressions import (
    FAILED,
    ExpressionError,
    FailedVariable,
    evaluate_value,
    is_expression,
    kind_of,
)
from compiler.spec.loader import (
    Mark,
    PosDict,
    PosList,
    child_mark,
    copy_tree,
    load_yaml_file,
    parse_yaml_text,
)

MAX_EXTENDS_DEPTH = 8
# Sections whose strings are left alone here: block bodies are substituted when a
# block is used (with its parameters), `vars` are resolved on their own, and a
# `description` is free text, where "$5" or "$index" is just text.
_DEFERRED_SECTIONS = ("blocks", "vars", "description")


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
        """One problem per position: a value that failed to resolve is not also mistyped."""
        seen, out = set(), []
        for problem in self.items:
            loc = problem.location
            key = (loc.file, loc.line, loc.col, loc.path) if loc.line is not None else id(problem)
            if key not in seen:
                seen.add(key)
                out.append(problem)
        return out


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


# --------------------------------------------------------------------------- extends


def load_with_extends(path: Path, *, allow_outside: bool = False) -> PosDict:
    """Load a spec and merge the chain of specs it ``extends:`` (child wins)."""
    root_dir = path.resolve().parent
    tree = _load_chain(path, root_dir, allow_outside, seen=[])
    # Validation checks the spec's other file references (`training.init_from`)
    # against the same rule; the tree carries the flag there.
    tree.allow_outside = allow_outside
    return tree


def _load_chain(path: Path, root_dir: Path, allow_outside: bool, seen: list[Path]) -> PosDict:
    display = _display(path)
    tree = load_yaml_file(path, display)
    if not isinstance(tree, PosDict):
        raise SpecError(Problem(
            f"a spec must be a mapping of sections (name:, inputs:, layers:, ...), "
            f"got {kind_of(tree)}", getattr(tree, "mark", Mark(display, 1, 1)).location()))
    if "extends" not in tree:
        return tree
    mark = tree.value_marks.get("extends")
    parent_ref = tree.pop("extends")
    if not isinstance(parent_ref, str) or not parent_ref.strip():
        raise SpecError(Problem("`extends` must be the path of another spec file",
                                mark.location("extends")))
    if len(seen) >= MAX_EXTENDS_DEPTH:
        raise SpecError(Problem(f"`extends` chain is deeper than {MAX_EXTENDS_DEPTH} files",
                                mark.location("extends")))
    parent = resolve_reference(parent_ref, path.parent, root_dir, allow_outside,
                               mark.location("extends"))
    if parent.resolve() in seen or parent.resolve() == path.resolve():
        raise SpecError(Problem(f"`extends` forms a cycle through '{parent_ref}'",
                                mark.location("extends")))
    base = _load_chain(parent, root_dir, allow_outside, seen + [path.resolve()])
    return deep_merge(base, tree)


def resolve_reference(ref: str, here: Path, root_dir: Path, allow_outside: bool,
                      location: Location) -> Path:
    """A file reference from a spec, kept inside the spec's folder unless allowed."""
    candidate = (here / ref).resolve()
    if not allow_outside:
        try:
            candidate.relative_to(root_dir)
        except ValueError:
            raise SpecError(Problem(
                f"'{ref}' is outside the spec's folder {root_dir}; file references stay under "
                "it unless you pass --allow-outside", location)) from None
    if not candidate.is_file():
        raise SpecError(Problem(f"no such file '{ref}' (looked for {candidate})", location))
    return candidate


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# Mappings that hold one choice named by their only key (`optimizer: {adam: {...}}`):
# a spec naming another choice than the one it extends replaces it, since merging
# would give two (`{adam: ..., sgd: ...}`).
_CHOICE_PATHS = {
    ("training", "optimizer"),
    ("training", "schedule"),
    ("training", "schedule", "warmup", "then"),
    ("training", "loss"),
}
# The data sources, of which `data:` holds exactly one: a spec naming a source
# replaces the one it extends (`data: {npz: ...}` onto `data: {builtin: digits}`).
_DATA_SOURCE_KEYS = ("builtin", "csv", "npz", "npy", "images", "tfrecord", "text", "generate")


def _replaces_choice(path: tuple, base: dict, override: dict) -> bool:
    return (path in _CHOICE_PATHS and len(base) == 1 and len(override) == 1
            and next(iter(override)) not in base)


def deep_merge(base: Any, override: Any, path: tuple = ()) -> Any:
    """Mappings merge key by key; anything else in ``override`` replaces ``base``.

    Two kinds of mapping are replaced rather than merged, because merging them
    cannot give a valid spec: a one-key choice (`training.optimizer`,
    `training.schedule`, `training.loss`) naming another choice than the base's,
    and the data source of `data:` when the override names one.
    """
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return copy_tree(override)
    if _replaces_choice(path, base, override):
        return copy_tree(override)
    merged = copy_tree(base)
    if not isinstance(merged, PosDict):
        merged = PosDict(merged)
    if path == ("data",) and any(k in override for k in _DATA_SOURCE_KEYS):
        for key in _DATA_SOURCE_KEYS:
            if key in merged and key not in override:
                del merged[key]
    for key, value in override.items():
        merged[key] = (deep_merge(merged[key], value, path + (key,)) if key in merged
                       else copy_tree(value))
        if isinstance(override, PosDict):
            if key in override.key_marks:
                merged.key_marks[key] = override.key_marks[key]
            if key in override.value_marks:
                merged.value_marks[key] = override.value_marks[key]
    if isinstance(override, PosDict) and override.mark:
        merged.mark = merged.mark or override.mark
    return merged


# --------------------------------------------------------------------------- --set


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")
_KEY_PATH = re.compile(r"[^.\[\]]+(\[-?\d+\])*(\.[^.\[\]]+(\[-?\d+\])*)*")


def parse_override_path(text: str) -> list[str | int]:
    """``layers[2].dense.units`` → ``['layers', 2, 'dense', 'units']``."""
    text = text.strip()
    if not text:
        raise ValueError("empty key path; write KEY=VALUE, e.g. --set training.epochs=5")
    if not _KEY_PATH.fullmatch(text):
        if text.startswith(".") or text.endswith(".") or ".." in text or ".[" in text:
            raise ValueError(f"the key path '{text}' has an empty part; separate keys with "
                             "single dots, e.g. training.epochs or layers[2].dense.units")
        raise ValueError(f"cannot read the key path '{text}'; write keys separated by dots "
                         "and list positions in brackets, e.g. layers[2].dense.units")
    parts: list[str | int] = []
    for match in _PATH_PART.finditer(text):
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
    return parts


def apply_overrides(tree: PosDict, overrides: list[str] | tuple[str, ...]) -> None:
    """Apply ``--set a.b=c`` overrides in place; the value is read as YAML."""
    for override in overrides:
        where = Location(f"--set {override}")
        if "=" not in override:
            raise UsageError(Problem("expected KEY=VALUE, e.g. --set training.epochs=5", where))
        key, _, raw = override.partition("=")
        try:
            path = parse_override_path(key)
        except ValueError as err:
            raise UsageError(Problem(str(err), where)) from None
        try:
            value = parse_yaml_text(raw, f"--set {key}") if raw.strip() else None
        except SpecError as err:
            raise UsageError(Problem(f"cannot read the value: {err.problems[0].message}",
                                     where)) from None
        node: Any = tree
        for i, part in enumerate(path[:-1]):
            nxt = path[i + 1]
            if isinstance(node, dict):
                if part not in node:
                    node[part] = PosList() if isinstance(nxt, int) else PosDict()
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
                node = node[part]
            else:
                raise UsageError(Problem(
                    f"'{format_path(path[: i + 1])}' does not exist in the spec", where))
        last = path[-1]
        # A problem with the value is shown at the --set that gave it, not at the
        # spec's line of the value it replaced.
        given = getattr(value, "mark", None) or Mark(f"--set {key}", 1, len(key) + 2)
        if isinstance(node, dict) and not isinstance(last, int):
            node[last] = value
            if isinstance(node, PosDict):
                node.value_marks[last] = given
        elif isinstance(node, list) and isinstance(last, int) and -len(node) <= last < len(node):
            node[last] = value
            if isinstance(node, PosList) and last < len(node.item_marks):
                node.item_marks[last] = given
        else:
            raise UsageError(Problem(f"'{format_path(path)}' does not exist in the spec", where))


# --------------------------------------------------------------------------- variables


def resolve_variables(tree: PosDict, problems: Problems) -> dict[str, Any]:
    """Evaluate ``vars:`` (which may refer to each other) and return them."""
    raw = tree.get("vars") or {}
    if not isinstance(raw, dict):
        problems.add("`vars` must be a mapping of names to values",
                      tree.value_marks.get("vars"), "vars")
        return {}
    resolved: dict[str, Any] = {}
    visiting: list[str] = []
    # A variable whose value fails is reported once, where it is written; it
    # becomes FAILED, and what uses it (other variables, layers) stays quiet.
    failures: dict[str, ExpressionError] = {}

    def value_of(name: str) -> Any:
        if name in resolved:
            return resolved[name]
        if name in visiting:
            raise ExpressionError("variables refer to each other in a cycle: "
                                  + " → ".join(visiting + [name]))
        visiting.append(name)
        try:
            value = substitute(raw[name], _LazyVars(raw, value_of), ("vars", name), tree, None)
        except FailedVariable:
            value = FAILED
        except ExpressionError as err:
            failures[name] = err
            value = FAILED
        finally:
            visiting.pop()
        resolved[name] = value
        return value

    for name in raw:
        if not isinstance(name, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            problems.add(f"variable name '{name}' must be a word (letters, digits, _)",
                         locate(tree, ("vars", name), key=True), f"vars.{name}")
            continue
        try:
            value_of(name)
        except SpecError as err:
            problems.items.extend(err.problems)
    for name, err in failures.items():
        problems.add(str(err), locate(tree, ("vars", name)), f"vars.{name}")
    return resolved


class _LazyVars(dict):
    """Variable lookup that resolves other variables on first use."""

    def __init__(self, raw: dict, value_of):
        super().__init__()
        self._raw = raw
        self._value_of = value_of

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __getitem__(self, name: str) -> Any:
        return self._value_of(name)

    def __iter__(self):
        return iter(self._raw)

    def keys(self):
        return self._raw.keys()


def substitute(node: Any, variables: dict, path: tuple, root: Any,
               problems: Problems | None) -> Any:
    """Replace every ``$expression`` string below ``node``, keeping positions.

    With ``problems`` given, errors are collected; otherwise they are raised.
    """
    if isinstance(node, dict):
        for key in list(node.keys()):
            if not path and key in _DEFERRED_SECTIONS:
                continue
            node[key] = substitute(node[key], variables, path + (key,), root, problems)
        return node
    if isinstance(node, list):
        for i, item in enumerate(node):
            node[i] = substitute(item, variables, path + (i,), root, problems)
        return node
    if is_expression(node):
        try:
            return evaluate_value(node, variables)
        except ExpressionError as err:
            if problems is None:
                raise
            if not isinstance(err, FailedVariable):  # reported where the variable is
                problems.add(str(err), locate(root, path), format_path(path))
    return node
