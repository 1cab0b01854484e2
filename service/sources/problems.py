"""What is wrong with an input file, where, and why: one line each.

A file with a million bad rows must not cost a million messages: a
`ProblemList` keeps the first MAX_LISTED problems and counts the rest, and
`InterchangeError` prints one line per kept problem, each starting with the
file's path, then one line saying how many more there were.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_LISTED = 100


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, where it is and why."""

    location: str | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = [part for part in (self.location, self.column and f"column {self.column}") if part]
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class ProblemList:
    """The problems found so far: the first MAX_LISTED kept, all of them counted."""

    def __init__(self, problems: Iterable[Problem] = ()) -> None:
        self.kept: list[Problem] = []
        self.count = 0
        self.extend(problems)

    def append(self, problem: Problem) -> None:
        self.count += 1
        if len(self.kept) < MAX_LISTED:
            self.kept.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.kept)

    def __bool__(self) -> bool:
        return self.count > 0


class InterchangeError(ValueError):
    """The file could not be read or may not be imported; `problems` lists
    the reasons kept (see the module docstring), `count` says how many in all."""

    def __init__(self, path: Path, problems: Iterable[Problem]) -> None:
        listed = problems if isinstance(problems, ProblemList) else ProblemList(problems)
        self.path = path
        self.problems = tuple(listed)
        self.count = listed.count
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.path}: {problem}" for problem in self.problems]
        hidden = self.count - len(self.problems)
        if hidden:
            lines.append(f"{self.path}: {hidden} more problem(s) not listed")
        return "\n".join(lines)


def file_problem(path: Path, reason: str, column: str | None = None) -> InterchangeError:
    """An error about the file as a whole (its type, size, encoding, structure)."""
    return InterchangeError(path, [Problem(None, column, reason)])
