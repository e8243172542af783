"""Problems found in a catalog file, rendered as `<file>:<line> <path>: <message>`.

A path is the position of a value in the YAML structure: mapping keys and list indices, rendered
as `commands[3].approval.count`. Lines come from the document, so checks only name paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from opsgate.errors import ConfigError

PathPart = str | int
YamlPath = tuple[PathPart, ...]


def format_path(path: Iterable[PathPart]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True, slots=True)
class Problem:
    path: YamlPath
    message: str
    line: int | None = None  # None: the line of `path` in the document


class Problems:
    """Collects every problem of one file, then renders them in file order."""

    def __init__(self, source: str, line_of: Callable[[YamlPath], int]) -> None:
        self.source = source
        self._line_of = line_of
        self._found: list[Problem] = []
        self._silenced: set[YamlPath] = set()
        self._other_files: list[str] = []  # rendered problems of files this one names (runbooks)

    def add(self, path: YamlPath, message: str, *, line: int | None = None) -> None:
        if any(path[: len(s)] == s for s in self._silenced):
            return
        self._found.append(Problem(tuple(path), message, line))

    def line_of(self, path: YamlPath) -> int:
        return self._line_of(path)

    def report_duplicates(self, entries: Iterable[tuple[YamlPath, str]], what: str) -> None:
        """Each repeated name (at its path) is a problem naming the line of the first one."""
        first: dict[str, YamlPath] = {}
        for path, name in entries:
            if name in first:
                self.add(path, f"duplicate {what} '{name}' (first declared on line {self.line_of(first[name])})")
            else:
                first[name] = path

    def include(self, rendered: list[str]) -> None:
        """Problems of another file this one names (a runbook), already rendered; listed after this file's."""
        self._other_files.extend(rendered)

    def silence(self, path: YamlPath) -> None:
        """Drop later problems at or below `path` (its value was already reported as unusable)."""
        self._silenced.add(tuple(path))

    def __bool__(self) -> bool:
        return bool(self._found or self._other_files)

    def __len__(self) -> int:
        return len(self._found) + len(self._other_files)

    def rendered(self) -> list[str]:
        located = [(p.line if p.line is not None else self._line_of(p.path), p) for p in self._found]
        located.sort(key=lambda item: item[0])  # stable: same-line problems keep discovery order
        lines: list[str] = []
        for line, problem in located:
            text = render(self.source, line, problem.path, problem.message)
            if text not in lines:
                lines.append(text)
        return lines + self._other_files

    def raise_if_any(self) -> None:
        if self:
            raise ConfigError(self.rendered())


def render(source: str, line: int | None, path: YamlPath, message: str) -> str:
    if line is None:  # the file as a whole: `opsgate.yaml: cannot be read (...)`
        return f"{source}: {message}"
    return f"{source}:{line} {format_path(path)}: {message}" if path else f"{source}:{line} {message}"


def file_problem(source: str, message: str, *, line: int | None = None) -> ConfigError:
    """A problem with the file as a whole (unreadable, not YAML, empty): nothing else is checked."""
    return ConfigError([render(source, line, (), message)])
