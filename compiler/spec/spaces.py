"""Search spaces: a value in a spec that `nncompile tune` samples instead of a fixed one.

Any value of a spec may be a space::

    units: {choice: [32, 64, 128]}              one of the options
    rate: {uniform: [0.1, 0.5]}                 a number in [low, high]
    learning_rate: {log_uniform: [1e-5, 1e-2]}  a number, evenly spread over decades
    repeat: {int: [1, 4]}                       a whole number; `step:` and `log:` optional

An option of a ``choice`` may hold spaces of its own, which exist only when
that option is chosen (a conditional space: `momentum` only for SGD)::

    optimizer:
      choice:
        - adam: {learning_rate: {log_uniform: [1e-4, 1e-2]}}
        - sgd: {learning_rate: {log_uniform: [1e-3, 1e-1]}, momentum: {uniform: [0.5, 0.95]}}

Spaces are taken out of the tree before variables are evaluated (a variable
may be a space, `$var` uses then follow it) and each is replaced by a stand-in
value (its first option, or its low end), so that resolve and validate check
the rest of the spec as usual. :func:`refuse_spaces` turns them into located
errors for the verbs that need one fixed model (`build`, `train`, ...);
:func:`load_search_spec` is what `validate` and `tune` read a spec with: it also
validates the spec with every option of every choice and with both ends of every
range. A trial's spec is :func:`fill_template` with one value per space, then the
ordinary resolve and validate. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.errors import Problem, SpecError
from compiler.spec.loader import Mark, PosDict, PosList, child_mark, copy_tree
from compiler.spec.located import Problems, format_path, show_value

SPACE_KINDS = ("choice", "uniform", "log_uniform", "int")
_EXTRA_KEYS = {"int": ("step", "log")}
# Sections that are not model values: `tune:` configures the search itself.
_NOT_SEARCHED = ("tune", "nncompile", "name")

MAX_SPACES = 256
"""Spaces in one spec, nested ones included (a search over more is not a search)."""
MAX_OPTIONS = 1000
"""Options of one ``choice``."""
MAX_NESTING = 4
"""Choices inside choices, at most this deep."""
MAX_INT_VALUES = 1_000_000
"""Values an ``int`` space may span (a grid lists them)."""
MAX_VARIANTS = 64
"""Fixed specs `validate` checks per spec (every choice option, both range ends)."""


@dataclass(frozen=True)
class Space:
    """One search space as written in the spec.

    Attributes:
        kind: ``choice``, ``uniform``, ``log_uniform`` or ``int``.
        path: where it is in the tree (inside the option of its parent choice
            for a nested space, relative to that option).
        name: the parameter name a study records: the dotted path, with the
            parent choice's option for a nested space (``training.optimizer[sgd].momentum``).
        mark: where it was written.
        options: a choice's options, as written (nested spaces still inside).
        labels: a choice's option labels (the values themselves for plain
            values, the key of a one-key mapping, else ``option <i>``).
        nested: for each option of a choice, the spaces inside it.
        low, high, step, log: a range's bounds (ints for ``int``).
    """

    kind: str
    path: tuple
    name: str
    mark: Mark | None
    options: tuple = ()
    labels: tuple = ()
    nested: tuple[tuple[Space, ...], ...] = ()
    low: float = 0.0
    high: float = 0.0
    step: int | None = None
    log: bool = False
    first: Any = field(default=None, compare=False, repr=False)
    """A choice's first option with its nested spaces at their stand-ins."""

    def describe(self) -> str:
        """The space in spec words: ``choice of 32, 64, 128``, ``log_uniform in [1e-05, 0.01]``."""
        if self.kind == "choice":
            return "choice of " + ", ".join(show_value(label, 30) for label in self.labels)
        text = f"{self.kind} in [{self.low:g}, {self.high:g}]"
        if self.step not in (None, 1):
            text += f" step {self.step}"
        return text + (" (log scale)" if self.log and self.kind == "int" else "")

    def where(self) -> str:
        """``file:line:col`` of the space (empty when unknown)."""
        return self.mark.location().prefix() if self.mark else ""

    def stand_in(self) -> Any:
        """The value validation sees in the space's place: its first option or low end."""
        return self.first if self.kind == "choice" else self.low

    def grid_values(self, points: int) -> list:
        """Values for a grid search: every option, every int, else ``points`` spread values."""
        if self.kind == "choice":
            return list(self.labels)
        if self.kind == "int":
            return list(range(int(self.low), int(self.high) + 1, self.step or 1))
        if points == 1:
            return [self.low]
        if self.kind == "log_uniform":
            a, b = math.log(self.low), math.log(self.high)
            return [math.exp(a + (b - a) * i / (points - 1)) for i in range(points)]
        return [self.low + (self.high - self.low) * i / (points - 1) for i in range(points)]

    def walk(self) -> Iterator[Space]:
        """This space and every space nested in its options."""
        yield self
        for group in self.nested:
            for inner in group:
                yield from inner.walk()


@dataclass(frozen=True)
class SearchSpace:
    """The spaces of a spec and the tree they were taken from.

    Attributes:
        spaces: the top-level spaces, in the order written.
        template: the tree (after ``extends:`` and ``--set``) with the spaces
            in it, as written; :func:`fill_template` gives a fixed tree from it.
    """

    spaces: tuple[Space, ...] = ()
    template: PosDict | None = field(default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self.spaces)

    def all(self) -> list[Space]:
        """Every space, nested ones after their choice."""
        return [s for top in self.spaces for s in top.walk()]

    def fingerprint(self) -> str:
        """A short hash of the spaces: a study resumes only with the same ones."""
        text = json.dumps([(s.name, s.kind, [str(x) for x in s.labels], s.low, s.high,
                            s.step, s.log) for s in self.all()], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def lines(self) -> list[str]:
        """One line per space: ``name: description (file:line:col)``."""
        return [f"{s.name}: {s.describe()}" + (f" ({s.where()})" if s.where() else "")
                for s in self.all()]


# --------------------------------------------------------------------------- finding


def is_space(value: Any) -> bool:
    """Whether a value is written as a search space: ``{choice|uniform|log_uniform|int: [...]}``.

    The list is what tells a space apart from a one-key choice of the spec
    itself (``kernel_initializer: {uniform: {minval: -1}}`` is an initialiser).
    """
    return (isinstance(value, dict)
            and sum(1 for k in SPACE_KINDS if isinstance(value.get(k), list)) >= 1)


def take_spaces(tree: PosDict, problems: Problems) -> SearchSpace:
    """Find the spaces in ``tree``, check them, and put a stand-in value in each one's place.

    Problems with a space itself (bounds, options, nesting, count) are added to
    ``problems``, located where the space is written.

    Returns:
        The spaces, with a copy of the tree as written (empty when there are none).
    """
    if not isinstance(tree, dict):
        return SearchSpace()
    finder = _Finder(problems, str(getattr(tree.mark, "file", "") or ""))
    template = None
    found: list[Space] = []
    for key in list(tree.keys()):
        if key in _NOT_SEARCHED:
            continue
        if template is None and _holds_space(tree[key]):
            template = copy_tree(tree)
        tree[key] = finder.replace(tree[key], (key,), tree, key, found)
    if finder.count > MAX_SPACES:
        problems.add(f"the spec has {finder.count} search spaces; a spec may have at most "
                     f"{MAX_SPACES}", found[MAX_SPACES - 1].mark if len(found) >= MAX_SPACES
                     else None, None)
    return SearchSpace(tuple(found), template) if found else SearchSpace()


def _holds_space(node: Any) -> bool:
    if is_space(node):
        return True
    if isinstance(node, dict):
        return any(_holds_space(v) for v in node.values())
    if isinstance(node, list):
        return any(_holds_space(v) for v in node)
    return False


class _Finder:
    """Walks a tree, checks each space and replaces it by its stand-in."""

    def __init__(self, problems: Problems, file: str):
        self.problems = problems
        self.file = file
        self.count = 0

    def replace(self, node: Any, path: tuple, parent: Any, key: Any, found: list[Space],
                prefix: str = "", depth: int = 0) -> Any:
        mark = child_mark(parent, key) or getattr(node, "mark", None)
        if is_space(node):
            space = self.read(node, path, mark, prefix, depth)
            if space is None:
                return None
            found.append(space)
            return copy_tree(space.stand_in())
        if isinstance(node, dict):
            for k in list(node.keys()):
                node[k] = self.replace(node[k], path + (k,), node, k, found, prefix, depth)
        elif isinstance(node, list):
            for i in range(len(node)):
                node[i] = self.replace(node[i], path + (i,), node, i, found, prefix, depth)
        return node

    def fail(self, message: str, mark: Mark | None, name: str) -> None:
        self.problems.add(message, mark, name, self.file)

    def read(self, node: dict, path: tuple, mark: Mark | None, prefix: str,
             depth: int) -> Space | None:
        self.count += 1
        name = _space_name(prefix, path)
        kinds = [k for k in SPACE_KINDS if k in node]
        if len(kinds) > 1:
            self.fail(f"a search space has one kind; this one names {', '.join(kinds)}",
                      mark, name)
            return None
        kind = kinds[0]
        extra = [k for k in node if k != kind and k not in _EXTRA_KEYS.get(kind, ())]
        if extra:
            allowed = _EXTRA_KEYS.get(kind, ())
            takes = f"takes only {', '.join(allowed)} besides `{kind}`" if allowed else \
                f"takes no other keys besides `{kind}`"
            self.fail(f"a `{kind}` search space {takes}; got {', '.join(map(str, extra))}",
                      mark, name)
            return None
        values = node[kind]
        if kind == "choice":
            return self.read_choice(values, path, mark, name, depth)
        return self.read_range(kind, node, values, path, mark, name)

    def read_choice(self, options: list, path: tuple, mark: Mark | None, name: str,
                    depth: int) -> Space | None:
        if not options:
            self.fail("a `choice` needs at least one option, e.g. {choice: [32, 64]}", mark, name)
            return None
        if len(options) > MAX_OPTIONS:
            self.fail(f"a `choice` has at most {MAX_OPTIONS} options, got {len(options)}",
                      mark, name)
            return None
        labels = _labels(options)
        nested: list[tuple[Space, ...]] = []
        first = options[0]
        for i, option in enumerate(options):
            inner: list[Space] = []
            if _holds_space(option):
                if depth + 1 >= MAX_NESTING:
                    self.fail(f"search spaces are nested in choices at most {MAX_NESTING} deep",
                              _item_mark(options, i) or mark, name)
                    return None
                # The options keep their nested spaces written out (a trial fills them
                # in); a copy with stand-ins finds them and gives option 0's stand-in.
                holder = PosList([copy_tree(option)])
                holder.item_marks = [_item_mark(options, i)]
                fixed = self.replace(holder[0], (), holder, 0, inner, f"{name}[{labels[i]}]",
                                     depth + 1)
                if i == 0:
                    first = fixed
            nested.append(tuple(inner))
        return Space("choice", path, name, mark, options=tuple(options), labels=tuple(labels),
                     nested=tuple(nested), first=first)

    def read_range(self, kind: str, node: dict, values: list, path: tuple, mark: Mark | None,
                   name: str) -> Space | None:
        example = {"uniform": "{uniform: [0.1, 0.5]}", "log_uniform": "{log_uniform: [1e-5, 1e-2]}",
                   "int": "{int: [1, 4]}"}[kind]
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(values) != 2 or len(numbers) != 2 or not all(math.isfinite(v) for v in numbers):
            self.fail(f"`{kind}` takes [low, high], two finite numbers, e.g. {example}; got "
                      f"{show_value(values)}", mark, name)
            return None
        low, high = numbers
        if kind == "int" and not all(isinstance(v, int) for v in numbers):
            self.fail(f"`int` takes whole-number bounds, got {show_value(values)}", mark, name)
            return None
        if not low < high:
            self.fail(f"`{kind}` needs low < high, got [{low:g}, {high:g}]", mark, name)
            return None
        step, log = node.get("step", 1), node.get("log", False)
        if kind == "log_uniform" and low <= 0:
            self.fail(f"`log_uniform` needs a positive low end (a log scale has no 0), got "
                      f"{low:g}; e.g. {example}", mark, name)
            return None
        if kind == "int":
            if not isinstance(step, int) or isinstance(step, bool) or step < 1:
                self.fail(f"`step` is a positive whole number, got {show_value(step)}", mark, name)
                return None
            if not isinstance(log, bool):
                self.fail(f"`log` is true or false, got {show_value(log)}", mark, name)
                return None
            if log and low < 1:
                self.fail(f"an `int` space with `log: true` needs low >= 1, got {low}", mark, name)
                return None
            if log and step != 1:
                self.fail("an `int` space takes `log: true` or a `step`, not both", mark, name)
                return None
            if (high - low) // step + 1 > MAX_INT_VALUES:
                self.fail(f"an `int` space spans at most {MAX_INT_VALUES:,} values", mark, name)
                return None
            if (high - low) % step:
                self.fail(f"`int` [{low}, {high}] with step {step}: high - low must be a multiple "
                          f"of the step (e.g. [{low}, {high - (high - low) % step}])", mark, name)
                return None
            return Space(kind, path, name, mark, low=low, high=high, step=step, log=log)
        return Space(kind, path, name, mark, low=float(low), high=float(high),
                     log=kind == "log_uniform")


def _space_name(prefix: str, path: tuple) -> str:
    """``layers[1].dense.units``; inside option ``sgd`` of a choice: ``<choice>[sgd].momentum``."""
    if prefix and path and isinstance(path[0], str) and prefix.endswith(f"[{path[0]}]"):
        path = path[1:]  # `{sgd: {momentum: ...}}`: the label says sgd already
    tail = format_path(path)
    if not prefix:
        return tail
    return prefix + (tail if not tail or tail.startswith("[") else "." + tail)


def _item_mark(items: Any, i: int) -> Mark | None:
    return child_mark(items, i)


def _labels(options: Sequence[Any]) -> list:
    """A label per option: plain values stand for themselves, ``{adam: ...}`` is ``adam``."""
    labels: list = []
    for i, option in enumerate(options):
        if option is None or isinstance(option, (bool, int, float, str)):
            labels.append(option)
        elif isinstance(option, dict) and len(option) == 1 and isinstance(next(iter(option)), str):
            labels.append(next(iter(option)))
        else:
            labels.append(f"option {i}")
    if len(set(map(repr, labels))) != len(labels):  # two options with one label
        labels = [f"option {i}" if not isinstance(x, (int, float, str)) or
                  [repr(y) for y in labels].count(repr(x)) > 1 else x
                  for i, x in enumerate(labels)]
    return labels


# --------------------------------------------------------------------------- filling in

Pick = Callable[[Space], Any]
"""A value for a space: a choice's option index, a range's number."""


def fill_template(search: SearchSpace, pick: Pick) -> tuple[PosDict, dict[str, Any]]:
    """A fixed tree: ``search.template`` with every space replaced by ``pick``'s value.

    Nested spaces are filled only inside the options chosen, so their values
    appear only when their condition holds.

    Returns:
        The tree, and ``{space name: value}`` of every space that got a value
        (a choice by its option's label).
    """
    assert search.template is not None
    tree = copy_tree(search.template)
    chosen: dict[str, Any] = {}
    by_path = {space.path: space for space in search.spaces}
    _fill(tree, (), by_path, pick, chosen, top=True)
    return tree, chosen


def _fill(node: Any, path: tuple, spaces: dict[tuple, Space], pick: Pick,
          chosen: dict[str, Any], top: bool = False) -> Any:
    if path in spaces and is_space(node):
        return _value_of(spaces[path], pick, chosen)
    if isinstance(node, dict):
        for k in list(node.keys()):
            if not (top and k in _NOT_SEARCHED):
                node[k] = _fill(node[k], path + (k,), spaces, pick, chosen)
    elif isinstance(node, list):
        for i in range(len(node)):
            node[i] = _fill(node[i], path + (i,), spaces, pick, chosen)
    return node


def _value_of(space: Space, pick: Pick, chosen: dict[str, Any]) -> Any:
    value = pick(space)
    if space.kind != "choice":
        chosen[space.name] = value
        return value
    index = int(value)
    chosen[space.name] = space.labels[index]
    option = copy_tree(space.options[index])
    inner = {s.path: s for s in space.nested[index]}
    if not inner:
        return option
    if () in inner:  # the option is itself a space
        return _value_of(inner[()], pick, chosen)
    return _fill(option, (), inner, pick, chosen)


def variants(search: SearchSpace) -> Iterator[tuple[str, Pick]]:
    """The fixed specs `validate` checks: first options and low ends; high ends; each option.

    Yields:
        ``(what, pick)``: a phrase naming the variant, for messages, and its values.
    """
    def base(space: Space) -> Any:
        return 0 if space.kind == "choice" else space.low

    def high(space: Space) -> Any:
        return 0 if space.kind == "choice" else space.high

    yield "", base
    if any(s.kind != "choice" for s in search.all()):
        yield "with every range at its high end", high
    for space in search.all():
        if space.kind != "choice":
            continue
        for index in range(1, len(space.options)):
            def one(s: Space, target: Space = space, i: int = index) -> Any:
                return i if s is target else base(s)
            yield f"with {space.name} = {show_value(space.labels[index], 40)}", one


# --------------------------------------------------------------------------- loading


def refuse_spaces(search: SearchSpace, problems: Problems) -> None:
    """One located problem per space: the spec needs values here, not spaces."""
    for space in search.spaces:
        problems.add(f"unresolved search space ({space.describe()}): `nncompile tune` samples it; "
                     "to build or train, write one value here (or train the tune's best.yaml)",
                     space.mark, space.name)


def load_search_spec(path: str | Path, overrides: Sequence[str] = (), *,
                     allow_outside: bool = False) -> tuple[Any, SearchSpace]:
    """Load a spec that may hold search spaces, and check it with their values.

    The spec is validated with the stand-in values, then once per variant
    (:func:`variants`, at most :data:`MAX_VARIANTS`), so an option or a range end
    that makes an invalid spec is reported where the space is written.

    Returns:
        The spec validated with the stand-ins, and its search space (empty
        when the spec has none).

    Raises:
        SpecError: every problem found, in the spec or in one of its variants.
    """
    from compiler.spec.resolve import resolve_spec

    resolved = resolve_spec(Path(path), overrides, allow_outside=allow_outside)
    search = resolved.spaces
    spec, problems = _validated(resolved)
    if search and not problems:
        seen = {(str(p.location), p.message) for p in problems}
        for count, (what, pick) in enumerate(variants(search)):
            if count >= MAX_VARIANTS or not what:
                continue
            tree, _ = fill_template(search, pick)
            _, found = _validated(resolve_fixed(tree, resolved))
            for problem in found:
                key = (str(problem.location), problem.message)
                if key not in seen:
                    seen.add(key)
                    problems.append(Problem(f"{problem.message} ({what})", problem.location))
    if problems:
        raise SpecError(problems)
    return spec, search


def resolve_fixed(tree: PosDict, like: Any) -> Any:
    """Resolve a filled-in tree as the spec ``like`` (a ResolvedSpec) was resolved."""
    from compiler.spec.resolve import resolve_tree

    return resolve_tree(tree, source=like.source, allow_outside=like.allow_outside,
                        overrides=like.overrides)


def _validated(resolved: Any) -> tuple[Any, list[Problem]]:
    from compiler.spec.validate import validate_spec

    try:
        return validate_spec(resolved, allow_spaces=True), []
    except SpecError as err:
        return None, list(err.problems)
