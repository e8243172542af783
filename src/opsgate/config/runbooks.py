"""The catalog's `runbooks:` block and the runbook files it names.

    runbooks: {path: ./runbooks}          # relative to the catalog file

Each `*.md` file in that folder (and below) is one runbook: YAML front matter between `---` lines,
then Markdown. The file name (without `.md`) is its id in links.

    ---
    title: Web returns 5xx errors
    tags: [5xx, errors, load-balancer]
    services: [web]
    owner: team-platform
    commands:                  # chat lines offered as buttons; each must be a valid line
      - alarms env=prod
      - rollback service=web env=prod
    url: https://wiki.example.com/web-5xx   # optional: where it lives; else its opsgate page
    ---

Problems are reported like the catalog's, as `<file>:<line> <key>: <message>`, all at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationError

# models.py imports this module at its end, once the types used here exist.
from opsgate.config.models import Name, Text, _matching, _Strict
from opsgate.config.problems import Problems, render
from opsgate.config.shape import ValidSections, describe_error
from opsgate.config.yaml_source import parse_document, read_catalog_file
from opsgate.core.parser import parse_line
from opsgate.core.runbooks import MAX_LIMIT, RUNBOOK_SEARCH
from opsgate.domain.catalog import Command
from opsgate.domain.runbook import Runbook
from opsgate.errors import ConfigError, ParseError

MAX_RUNBOOK_BYTES = 256 * 1024
MAX_RUNBOOKS = 2000
_SLUG = r"[a-z0-9][a-z0-9-]*"
_FENCES = ("---", "...")
_FRONT_MATTER_KEYS = "title, tags, services, commands, owner, url"

Tag = Annotated[_matching(r"^[a-z0-9][a-z0-9._-]*$", "must be lowercase letters, digits, '.', '_' and '-'", "5xx"),
                StringConstraints(max_length=40)]
HttpsUrl = _matching(r"^https://\S+$", "must be an https:// URL", "https://wiki.example.com/runbooks/web-5xx")


class RunbooksModel(_Strict):
    """Where the runbooks are: a folder of Markdown files with front matter."""

    path: Text = Field(description="Folder of `*.md` runbooks, relative to the catalog file.", examples=["./runbooks"])


class RunbookModel(_Strict):
    """A runbook's front matter."""

    title: Text = Field(max_length=200)
    tags: list[Tag] = Field([], max_length=20, description="Lowercase words people search for (at most 40 characters each).")
    services: list[Name] = Field([], max_length=20, description="Services the runbook is about.")
    commands: list[Text] = Field([], max_length=10, description="Chat lines offered as buttons, e.g. 'alarms env=prod'.")
    owner: str = Field("", max_length=100, description="The team that keeps it current.")
    url: HttpsUrl | None = Field(None, description="Where it lives (wiki, repository); default: its opsgate page.")


def validate_runbook_search(settings: dict[str, Any]) -> list[str]:
    """The `runbook-search` action kind: a `query` template and an optional `limit`."""
    problems = [f"{key}: unknown key; the runbook-search action accepts kind, query, limit"
                for key in settings if key not in ("query", "limit")]
    query = settings.get("query")
    if not isinstance(query, str) or not query.strip():
        problems.append('query: is required: a text template, e.g. "{words}"')
    limit = settings.get("limit", 1)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        problems.append(f"limit: must be a whole number from 1 to {MAX_LIMIT} (got {limit!r})")
    return problems


def load_runbooks(model: RunbooksModel | None, catalog_source: str, commands: Mapping[str, Command],
                  sections: ValidSections, problems: Problems) -> tuple[Runbook, ...]:
    """Every runbook of the folder, checked; each file's problems go into `problems` after the
    catalog's own. `commands`: what a linked line may run (the catalog's and opsgate's own)."""
    if model is None:
        for item in sections.of("commands"):
            if item.model.action.kind == RUNBOOK_SEARCH:
                problems.add(("commands", item.index, "action", "kind"),
                             "searches runbooks, but the catalog names none: add `runbooks: {path: ./runbooks}`")
        return ()
    folder = Path(catalog_source).parent / model.path
    if not folder.is_dir():
        problems.add(("runbooks", "path"), f"{folder} is not a folder (it is relative to the catalog file)")
        return ()
    files = sorted(f for f in folder.rglob("*.md") if not any(part.startswith(".") for part in f.relative_to(folder).parts))
    if len(files) > MAX_RUNBOOKS:
        problems.add(("runbooks", "path"), f"{folder} holds {len(files)} runbooks; at most {MAX_RUNBOOKS} are read")
        return ()
    runbooks: list[Runbook] = []
    first_of: dict[str, str] = {}
    root = folder.resolve()
    for path in files:
        runbook, found = _load_one(path, root, commands)
        if runbook is not None and runbook.slug in first_of:
            found = [render(runbook.source, 1, (), f"another runbook has the id '{runbook.slug}' "
                                                   f"({first_of[runbook.slug]}); file names are ids and must be unique")]
        elif runbook is not None:
            first_of[runbook.slug] = runbook.source
            runbooks.append(runbook)
        problems.include(found)
    return tuple(runbooks)


def _load_one(path: Path, root: Path, commands: Mapping[str, Command]) -> tuple[Runbook | None, list[str]]:
    """The runbook, or None and its problems (rendered `file:line key: message`)."""
    source = str(path)

    def refused(message: str) -> tuple[None, list[str]]:
        return None, [render(source, 1, (), message)]

    if not path.resolve().is_relative_to(root):
        return refused("links to a file outside the runbooks folder; copy the runbook in instead")
    if not re.fullmatch(_SLUG, path.stem):
        return refused(f"the file name '{path.name}' is the runbook's id in links: use lowercase letters, digits "
                       "and '-' (e.g. web-5xx.md)")
    try:
        text = read_catalog_file(path, max_bytes=MAX_RUNBOOK_BYTES, why="split it into shorter runbooks")
    except ConfigError as err:
        return None, err.problems
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return refused(f"must start with front matter: a `---` line, then {_FRONT_MATTER_KEYS}, then `---`")
    end = next((i for i, line in enumerate(lines[1:], start=1) if line.strip() in _FENCES), None)
    if end is None:
        return refused("the front matter is not closed: add a `---` line after it")
    if all(not ln.strip() or ln.lstrip().startswith("#") for ln in lines[1:end]):
        return refused(f"the front matter is empty; it needs at least a title ({_FRONT_MATTER_KEYS})")
    try:
        document = parse_document("\n" + "\n".join(lines[1:end]), source)  # "\n": keep the file's line numbers
    except ConfigError as err:
        return None, [_front_matter_wording(line) for line in err.problems]
    problems = Problems(source, document.line_of)
    for problem in document.problems:
        problems.add(problem.path, problem.message, line=problem.line)
    model, bad_keys = None, set()
    try:
        model = RunbookModel.model_validate(document.data)
    except ValidationError as err:
        for error in err.errors(include_url=False):
            where, message = describe_error(RunbookModel, error)
            problems.add(where, message)
            bad_keys.add(where[0] if where else None)
    # Linked lines are checked even when other keys have problems: every problem at once.
    linked = [] if "commands" in bad_keys else (document.data.get("commands") or [])
    for index, line in enumerate(linked):
        problem = _line_problem(line, commands)
        if problem:
            problems.add(("commands", index), problem)
    if problems or model is None:
        return None, problems.rendered()
    return Runbook(slug=path.stem, title=model.title, body="\n".join(lines[end + 1:]).strip(), source=source,
                   tags=tuple(model.tags), services=tuple(model.services), commands=tuple(model.commands),
                   owner=model.owner, url=model.url), []


def _front_matter_wording(problem: str) -> str:
    """The YAML reader speaks of a catalog; in a runbook it is the front matter."""
    if "the top level must be a mapping" in problem:
        head = problem.split(" the top level must be a mapping")[0]
        return f"{head} the front matter must be keys and values ({_FRONT_MATTER_KEYS})"
    return problem


def _line_problem(line: str, commands: Mapping[str, Command]) -> str | None:
    """Why a linked chat line would not run as a button, or None."""
    try:
        parsed = parse_line(line, commands)
    except ParseError as err:
        return f"{err.message} {err.hint}" if err.hint else err.message
    if parsed.break_glass:
        return "a button may not break glass; leave --break-glass out"
    return None
