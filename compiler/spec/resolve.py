"""Resolve: a loaded spec tree → one tree with nothing left to look up.

The second stage of load → resolve → validate. It merges the chain of specs
a spec ``extends:``, applies ``--set`` overrides, checks the format version
and the section names, evaluates ``vars:`` and every ``$expression``
(:mod:`compiler.spec.variables`), and expands the layer list with its blocks
into flat entries (:mod:`compiler.spec.blocks`). Each step works on the
position-carrying tree from :mod:`compiler.spec.loader`, so that every later
error still points at the line the value came from. The result, a
:class:`ResolvedSpec`, is what :mod:`compiler.spec.validate` types and checks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.errors import Location, Problem, SpecError, UsageError, did_you_mean
from compiler.layers import LAYER_TYPES
from compiler.spec.blocks import Expansion, expand_layers
from compiler.spec.expressions import kind_of
from compiler.spec.loader import (
    Mark,
    PosDict,
    PosList,
    copy_tree,
    load_yaml_file,
    parse_yaml_text,
)
from compiler.spec.located import Problems, format_path, locate, show_value
from compiler.spec.schema import SECTIONS, SPEC_VERSION
from compiler.spec.spaces import SearchSpace, take_spaces
from compiler.spec.variables import resolve_variables, substitute

MAX_EXTENDS_DEPTH = 8


@dataclass(frozen=True)
class ResolvedSpec:
    """A spec with its extends merged, overrides applied, variables and blocks resolved.

    Attributes:
        tree: the merged tree, variables substituted, input shorthands
            (``x: [4]``) written out; positions kept for every value.
        expansion: the layer list as flat entries with explicit names and
            inputs, and the block instances they came from.
        source: the spec file, or None for a tree that was not read from a file.
        allow_outside: whether file references may leave the spec's folder.
        overrides: the ``--set`` overrides that were applied.
        problems: what resolving found wrong; validation reports these together
            with its own, so a user sees every problem of a file at once.
    """

    tree: PosDict
    expansion: Expansion
    source: Path | None = None
    allow_outside: bool = False
    overrides: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    spaces: SearchSpace = SearchSpace()  # search spaces, each replaced by a stand-in in `tree`


def resolve_spec(path: Path, overrides: Sequence[str] = (), *,
                 allow_outside: bool = False) -> ResolvedSpec:
    """Read ``path`` and resolve it: ``extends:``, ``--set``, variables, blocks.

    Raises:
        SpecError: a file that cannot be read or merged, or a spec format
            version this nncompile does not read.
        UsageError: an override that cannot be applied.
    """
    tree = load_with_extends(path, allow_outside=allow_outside)
    apply_overrides(tree, list(overrides))
    return resolve_tree(tree, source=path, allow_outside=allow_outside, overrides=overrides)


def resolve_tree(tree: PosDict, *, source: Path | None = None, allow_outside: bool = False,
                 overrides: Sequence[str] = ()) -> ResolvedSpec:
    """Resolve an ``extends``-merged tree in place: version, variables, blocks."""
    problems = Problems()
    spaces = take_spaces(tree, problems)
    _check_outline(tree, problems, str(source) if source else "")
    variables = resolve_variables(tree, problems)
    substitute(tree, variables, (), tree, problems)
    _normalise_inputs(tree)
    raw_inputs = tree.get("inputs")
    input_names = ([k for k in raw_inputs if isinstance(k, str)]
                   if isinstance(raw_inputs, dict) else [])
    if not input_names and (raw_inputs is None or isinstance(raw_inputs, dict)):
        problems.add("the spec needs `inputs:`, e.g. inputs: {image: {shape: [28, 28, 1]}}",
                     locate(tree, ("inputs",)), "inputs", str(source) if source else "")
    expansion = expand_layers(tree, variables, problems, input_names, set(LAYER_TYPES))
    return ResolvedSpec(tree, expansion, source, allow_outside, tuple(overrides),
                        tuple(problems.items), spaces)


def _check_outline(tree: PosDict, problems: Problems, fallback: str) -> None:
    """Known section names, and the one spec format version there is (SPEC_VERSION)."""
    for key in list(tree.keys()):
        if key not in SECTIONS:
            problems.add(f"unknown section '{key}'{did_you_mean(key, SECTIONS)} "
                         f"(sections: {', '.join(SECTIONS)})",
                         locate(tree, (key,), key=True), str(key), fallback)
    version = tree.get("nncompile", SPEC_VERSION)
    if version != SPEC_VERSION:
        problems.add(f"this nncompile reads spec format version {SPEC_VERSION}; the spec says "
                     f"{show_value(version)}",
                     locate(tree, ("nncompile",)), "nncompile", fallback)
        problems.raise_if_any()


def _normalise_inputs(tree: PosDict) -> None:
    inputs = tree.get("inputs")
    if isinstance(inputs, dict):
        for name, value in list(inputs.items()):
            if isinstance(value, list):  # `image: [8, 8, 1]` shorthand
                shorthand = PosDict({"shape": value}, mark=getattr(value, "mark", None))
                shorthand.value_marks["shape"] = getattr(value, "mark", None)
                inputs[name] = shorthand


# --------------------------------------------------------------------------- extends


def load_with_extends(path: Path, *, allow_outside: bool = False) -> PosDict:
    """Load a spec and merge the chain of specs it ``extends:`` (child wins)."""
    root_dir = path.resolve().parent
    return _load_chain(path, root_dir, allow_outside, seen=[])


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


def _replaces_choice(path: tuple, base: dict, override: dict) -> bool:
    return (path in _CHOICE_PATHS and len(base) == 1 and len(override) == 1
            and next(iter(override)) not in base)


def deep_merge(base: Any, override: Any, path: tuple = ()) -> Any:
    """Mappings merge key by key; anything else in ``override`` replaces ``base``.

    Two kinds of mapping are replaced rather than merged, because merging them
    cannot give a valid spec: a one-key choice (`training.optimizer`,
    `training.schedule`, `training.loss`) naming another choice than the base's,
    and the data source of `data:` when the override names one (the kinds are
    those of :data:`compiler.data.source_registry.SOURCES`).
    """
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return copy_tree(override)
    if _replaces_choice(path, base, override):
        return copy_tree(override)
    merged = copy_tree(base)
    if not isinstance(merged, PosDict):
        merged = PosDict(merged)
    if path == ("data",):
        # `data:` holds exactly one source: a spec naming a source replaces the one
        # it extends (`data: {npz: ...}` onto `data: {builtin: digits}`).
        from compiler.data.source_registry import SOURCES

        if any(kind in override for kind in SOURCES):
            for kind in SOURCES:
                if kind in merged and kind not in override:
                    del merged[kind]
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
            elif (isinstance(node, list) and isinstance(part, int)
                  and -len(node) <= part < len(node)):
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
