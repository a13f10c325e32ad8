"""Safe YAML loading with a source position for every node.

The spec is untrusted input. We never let PyYAML construct Python objects:
we read its *event* stream and build plain dicts, lists and scalars ourselves,
so no tag can name a Python callable. On top of that:

- any explicit tag (``!!python/object/apply``, ``!!str``, ``!custom``) is refused;
- duplicate keys are errors;
- alias expansion, file size, nesting depth and node count are bounded, so an
  alias bomb or a deeply nested file fails fast instead of eating memory;
- empty, multi-document and non-UTF-8 files get clear errors.

Scalars follow YAML 1.2's core schema (``1e-3`` is a float; ``yes``/``no``/``on``
are strings, not booleans), which is what people writing specs expect.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compiler.errors import Location, Problem, SpecError

MAX_FILE_BYTES = 1024 * 1024  # a 50-layer network is a few KiB
MAX_DEPTH = 64
MAX_NODES = 200_000  # after alias expansion
MAX_SCALAR_CHARS = 65_536


@dataclass(frozen=True)
class Mark:
    """A 1-based position in a source file."""

    file: str
    line: int
    col: int

    def location(self, path: str | None = None) -> Location:
        return Location(self.file, self.line, self.col, path)


class PosDict(dict):
    """A dict that remembers where it, its keys and its values came from."""

    def __init__(self, *args, mark: Mark | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.mark = mark
        self.key_marks: dict[Any, Mark] = {}
        self.value_marks: dict[Any, Mark] = {}


class PosList(list):
    """A list that remembers where it and its items came from."""

    def __init__(self, *args, mark: Mark | None = None):
        super().__init__(*args)
        self.mark = mark
        self.item_marks: list[Mark | None] = [None] * len(self)


def child_mark(container: Any, key: Any) -> Mark | None:
    """Position of ``container[key]``, or None when it was made by the resolver."""
    if isinstance(container, PosDict):
        return container.value_marks.get(key) or container.key_marks.get(key)
    if isinstance(container, PosList) and isinstance(key, int) and 0 <= key < len(container):
        marks = container.item_marks
        return marks[key] if key < len(marks) else None
    return None


def _to_mark(file: str, yaml_mark) -> Mark:
    return Mark(file, yaml_mark.line + 1, yaml_mark.column + 1)


_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_HEX = re.compile(r"^0x[0-9a-fA-F_]+$")
_OCT = re.compile(r"^0o[0-7_]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN = re.compile(r"^\.(nan|NaN|NAN)$")


def resolve_plain_scalar(text: str) -> Any:
    """Type of an unquoted scalar under YAML 1.2's core schema."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        return int(text.replace("_", ""))
    if _HEX.match(text):
        return int(text[2:].replace("_", ""), 16)
    if _OCT.match(text):
        return int(text[2:].replace("_", ""), 8)
    if _FLOAT.match(text):
        return float(text.replace("_", ""))
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text


def _size(node: Any) -> int:
    if isinstance(node, dict):
        return 1 + sum(_size(v) for v in node.values())
    if isinstance(node, list):
        return 1 + sum(_size(v) for v in node)
    return 1


class _Composer:
    """Builds PosDict/PosList/scalars from PyYAML events, enforcing the limits."""

    def __init__(self, file: str):
        self.file = file
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.nodes = 0

    def fail(self, message: str, yaml_mark) -> SpecError:
        loc = _to_mark(self.file, yaml_mark).location() if yaml_mark else Location(self.file)
        return SpecError(Problem(message, loc))

    def count(self, n: int, yaml_mark) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            raise self.fail(
                f"the spec expands to more than {MAX_NODES} YAML nodes "
                "(an alias bomb, or a file far larger than a network needs)",
                yaml_mark,
            )

    def compose(self, events) -> Any:
        # stack entries: [container, pending_key, pending_key_mark, anchor, depth]
        stack: list[list] = []
        root: Any = None
        have_root = False

        def attach(value: Any, mark: Mark, yaml_mark) -> None:
            nonlocal root, have_root
            if not stack:
                root, have_root = value, True
                return
            top = stack[-1]
            container = top[0]
            if isinstance(container, PosList):
                container.append(value)
                container.item_marks.append(mark)
            elif top[1] is _NO_KEY:
                if isinstance(value, (dict, list)):
                    raise self.fail("a mapping key must be a plain value, not a list or mapping",
                                    yaml_mark)
                top[1], top[2] = value, mark
            else:
                key, key_mark = top[1], top[2]
                if key in container:
                    first = container.key_marks[key]
                    raise SpecError(Problem(
                        f"duplicate key '{key}' (first defined at line {first.line})",
                        key_mark.location()))
                container[key] = value
                container.key_marks[key] = key_mark
                container.value_marks[key] = mark
                top[1] = _NO_KEY

        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self.fail("the file holds several YAML documents ('---'); "
                                    "a spec is one document", event.start_mark)
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent,
                                  yaml.DocumentEndEvent)):
                continue
            yaml_mark = event.start_mark
            mark = _to_mark(self.file, yaml_mark)
            tag = getattr(event, "tag", None)
            if isinstance(event, yaml.ScalarEvent):
                if tag is not None:
                    raise self.fail(
                        f"YAML tags are not allowed in a spec (found '{tag}'); "
                        "write plain values instead", yaml_mark)
                if len(event.value) > MAX_SCALAR_CHARS:
                    raise self.fail(f"a value longer than {MAX_SCALAR_CHARS} characters", yaml_mark)
                value = event.value if event.style else resolve_plain_scalar(event.value)
                self.count(1, yaml_mark)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1)
                attach(value, mark, yaml_mark)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if tag is not None:
                    raise self.fail(
                        f"YAML tags are not allowed in a spec (found '{tag}'); "
                        "write plain values instead", yaml_mark)
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(f"the spec is nested deeper than {MAX_DEPTH} levels", yaml_mark)
                self.count(1, yaml_mark)
                container = (PosDict(mark=mark) if isinstance(event, yaml.MappingStartEvent)
                             else PosList(mark=mark))
                stack.append([container, _NO_KEY, None, event.anchor, mark, yaml_mark])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                container, _, _, anchor, mark, start_yaml_mark = stack.pop()
                if anchor:
                    self.anchors[anchor] = (container, _size(container))
                attach(container, mark, start_yaml_mark)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in self.anchors:
                    raise self.fail(f"unknown alias '*{event.anchor}'", yaml_mark)
                value, size = self.anchors[event.anchor]
                self.count(size, yaml_mark)
                attach(_copy(value), mark, yaml_mark)
        if not have_root:
            raise SpecError(Problem("the spec file is empty", Location(self.file, 1, 1)))
        return root


_NO_KEY = object()


def _copy(value: Any) -> Any:
    """Deep copy keeping positions (an alias gets its own copy so edits stay local)."""
    if isinstance(value, PosDict):
        out = PosDict(mark=value.mark)
        for k, v in value.items():
            out[k] = _copy(v)
        out.key_marks = dict(value.key_marks)
        out.value_marks = dict(value.value_marks)
        return out
    if isinstance(value, PosList):
        out = PosList((_copy(v) for v in value), mark=value.mark)
        out.item_marks = list(value.item_marks)
        return out
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


copy_tree = _copy


# libyaml's parser (when PyYAML has it) emits the same events with positions, faster.
_EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml_text(text: str, file: str) -> Any:
    """Parse YAML text into PosDict/PosList/scalars; raises SpecError on any problem."""
    composer = _Composer(file)
    try:
        return composer.compose(yaml.parse(text, Loader=_EVENT_LOADER))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message = err.problem or "invalid YAML"
        if err.context:
            message = f"{err.context}: {message}" if err.problem else err.context
        if err.context and "flow" in err.context:
            # `inputs: [enc, enc[1]]`: in a [...] or {...} list, brackets, braces and
            # commas end or open values unless the text is quoted.
            message += ("; inside [...] or {...}, quote a value that holds brackets, braces "
                        'or commas, e.g. "enc[1]" or "min($a, $b)"')
        loc = _to_mark(file, mark).location() if mark else Location(file)
        raise SpecError(Problem(f"invalid YAML: {message}", loc)) from None
    except yaml.YAMLError as err:
        raise SpecError(Problem(f"invalid YAML: {err}", Location(file))) from None
    except RecursionError:
        raise SpecError(Problem("the spec is nested too deeply", Location(file))) from None


def read_spec_text(path: Path, display: str | None = None) -> str:
    """Read a spec file as UTF-8 text, with the size bound checked before reading it all."""
    display = display or str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SpecError(Problem(f"no such spec file '{display}'", Location(display))) from None
    except OSError as err:
        raise SpecError(Problem(f"cannot read the spec: {err.strerror}",
                                Location(display))) from None
    if path.is_dir():
        raise SpecError(Problem("is a folder, not a spec file", Location(display)))
    if size > MAX_FILE_BYTES:
        raise SpecError(Problem(
            f"the spec file is {size:,} bytes; specs are limited to {MAX_FILE_BYTES:,} bytes",
            Location(display)))
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(Problem(f"the spec file is larger than {MAX_FILE_BYTES:,} bytes",
                                Location(display)))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise SpecError(Problem(
            f"the spec is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "save it as UTF-8", Location(display, line, col))) from None
    if "\x00" in text:
        raise SpecError(Problem("the spec contains NUL bytes; is it a binary file?",
                                Location(display)))
    return text


def load_yaml_file(path: Path, display: str | None = None) -> Any:
    """Load one spec file into a position-carrying tree."""
    display = display or str(path)
    text = read_spec_text(path, display)
    if not text.strip():
        raise SpecError(Problem("the spec file is empty", Location(display, 1, 1)))
    tree = parse_yaml_text(text, display)
    if tree is None:
        raise SpecError(Problem("the spec file is empty", Location(display, 1, 1)))
    return tree
