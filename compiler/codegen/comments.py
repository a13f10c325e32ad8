"""The spec's own comments, found again by line: YAML loaders drop them, the file keeps them.

A comment belongs to a layer when it ends the layer's line or stands on the
lines right above it (a blank line ends the run), which is how people comment
a YAML list.
"""

from __future__ import annotations

from pathlib import Path

from compiler.spec.loader import Mark


class SourceComments:
    """Comments of the spec files, looked up by a value's :class:`Mark`."""

    def __init__(self) -> None:
        self.files: dict[str, list[str]] = {}
        self.used: set[tuple[str, int]] = set()

    def lines(self, file: str) -> list[str]:
        if file not in self.files:
            try:
                self.files[file] = Path(file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self.files[file] = []
        return self.files[file]

    def around(self, mark: Mark | None) -> list[str]:
        """The comment lines above ``mark``'s line and its trailing comment, once each."""
        if mark is None or not mark.file:
            return []
        lines = self.lines(mark.file)
        if not 0 < mark.line <= len(lines):
            return []
        found: list[str] = []
        index = mark.line - 2
        while index >= 0 and lines[index].strip().startswith("#"):
            found.insert(0, (mark.file, index + 1))
            index -= 1
        trailing = _trailing(lines[mark.line - 1])
        out = []
        for key in found:
            if key not in self.used:
                self.used.add(key)
                out.append(lines[key[1] - 1].strip().lstrip("#").rstrip())
        key = (mark.file, mark.line)
        if trailing and key not in self.used:
            self.used.add(key)
            out.append(" " + trailing)
        return [text[1:] if text.startswith(" ") else text for text in out]


def _trailing(line: str) -> str:
    """The ``# comment`` ending a YAML line (a ``#`` inside quotes is text)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[index + 1:].strip()
    return ""
