"""Error types a user can catch, and the one format every problem is shown in.

Every problem carries where it came from: ``file:line:col: dotted.path: message``.
A command-line run prints all problems of a file at once and exits with 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, a 1-based line and column, and a dotted path.

    Any part may be missing (a command-line flag has no line; a data file has
    a row and a column instead of a spec path).
    """

    file: str | None = None
    line: int | None = None
    col: int | None = None
    path: str | None = None

    def prefix(self) -> str:
        parts = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.col is not None:
                    where += f":{self.col}"
            parts.append(where)
        if self.path:
            parts.append(self.path)
        return ": ".join(parts)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input."""

    message: str
    location: Location = field(default_factory=Location)

    def __str__(self) -> str:
        prefix = self.location.prefix()
        return f"{prefix}: {self.message}" if prefix else self.message


class NNCompileError(Exception):
    """Base class of every error caused by the user's input.

    Holds one or more :class:`Problem` objects; ``str()`` gives one line each.
    """

    def __init__(self, problems: str | Problem | list[Problem], location: Location | None = None):
        if isinstance(problems, str):
            problems = [Problem(problems, location or Location())]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def location(self) -> Location:
        return self.problems[0].location if self.problems else Location()


class SpecError(NNCompileError, ValueError):
    """A spec file is malformed, invalid, or describes an impossible graph."""


class DataError(NNCompileError, ValueError):
    """A data file or data section cannot be read as the spec says."""


class ModelFileError(NNCompileError, ValueError):
    """A model file given on the command line is missing, truncated or of the wrong kind."""


class TrainingError(NNCompileError):
    """Training stopped because of the run itself (for example a NaN loss)."""


class ExportError(NNCompileError):
    """A model cannot be exported in the requested format."""


class UsageError(NNCompileError):
    """A command-line flag or value is wrong (exit code 2)."""


def did_you_mean(word: str, choices) -> str:
    """Return `` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    import difflib

    # Short names differ by a larger fraction for one typo ('c3' vs 'c2').
    cutoff = 0.5 if len(str(word)) <= 4 else 0.6
    close = difflib.get_close_matches(str(word), sorted(map(str, choices)), n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ""
