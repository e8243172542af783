"""The `runbooks:` block and the runbook files: front matter checked with `file:line key: message`,
linked command lines linted against the catalog, oversized and odd files refused, all at once."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from opsgate.config import load_catalog
from opsgate.config.runbooks import MAX_RUNBOOK_BYTES, validate_runbook_search
from opsgate.errors import ConfigError
from opsgate.wiring import action_validators

CATALOG = """\
version: 1
runbooks: {path: runbooks}
environments:
  - {name: dev, account: "111111111111", region: eu-west-1}
  - {name: prod, account: "222222222222", region: eu-west-1}
people:
  - {id: alice, name: Alice, identities: {console: alice}}
roles:
  - {name: dev, members: [alice]}
commands:
  - name: rollback
    summary: Roll back
    class: mutate
    roles: [dev]
    parameters:
      - {name: service, type: enum, values: [web, api]}
      - {name: env, type: environment}
    action: {kind: builtin, operation: echo, message: "rolled {service} back in {env}"}
  - name: runbook
    summary: Find runbooks
    class: read
    roles: [dev]
    parameters: [{name: words, type: string, greedy: true}]
    action: {kind: runbook-search, query: "{words}"}
"""

GOOD = """\
---
title: Web returns 5xx
tags: [5xx, errors]
services: [web]
owner: team-web
commands:
  - rollback service=web env=prod
  - help
---
# Web returns 5xx

The load balancer answers with errors.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def books(tmp_path) -> Path:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (tmp_path / "opsgate.yaml").write_text(CATALOG)
    return folder


def load(books: Path):
    return load_catalog(books.parent / "opsgate.yaml", action_validators=action_validators())


def problems(books: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(books)
    return caught.value.problems


def test_a_runbook_loads_with_its_front_matter_and_body(books):
    write(books, "web-5xx.md", GOOD)
    [book] = load(books).runbooks
    assert (book.slug, book.title, book.tags, book.services, book.owner) == (
        "web-5xx", "Web returns 5xx", ("5xx", "errors"), ("web",), "team-web")
    assert book.commands == ("rollback service=web env=prod", "help")
    assert book.summary == "The load balancer answers with errors."
    assert book.source == str(books / "web-5xx.md") and book.url is None


def test_runbooks_in_subfolders_are_read_and_hidden_ones_skipped(books):
    write(books, "web/web-5xx.md", GOOD)
    write(books, ".drafts/draft.md", "not even front matter")
    assert [b.slug for b in load(books).runbooks] == ["web-5xx"]


def test_front_matter_problems_name_the_file_line_and_key(books):
    path = write(books, "web-5xx.md", """\
        ---
        title: Web returns 5xx
        tag: [5xx]
        services: [Web]
        url: http://wiki.example.com/x
        commands:
          - rolback service=web env=prod
          - rollback service=db env=prod
          - rollback service=web env=prod --break-glass "because"
        ---
        body
        """)
    found = problems(books)
    assert found[:3] + found[4:] == [
        f"{path}:3 tag: unknown key; did you mean 'tags'? allowed keys: commands, owner, services, tags, title, url",
        f"{path}:4 services[0]: must be lowercase letters, digits and '-', starting with a letter (got 'Web')",
        f"{path}:5 url: must be an https:// URL (got 'http://wiki.example.com/x')",
        f"{path}:8 commands[1]: Parameter `service`: `db` must be one of web, api.",
        f"{path}:9 commands[2]: a button may not break glass; leave --break-glass out",
    ]
    assert found[3].startswith(f"{path}:7 commands[0]: Unknown command `rolback service=web`. Did you mean `rollback`")


def test_a_missing_title_is_reported_at_the_front_matter(books):
    path = write(books, "a.md", "---\ntags: [x]\n---\nbody\n")
    assert problems(books) == [f"{path}:2 title: is required"]


@pytest.mark.parametrize(("text", "message"), [
    ("# No front matter\n", "must start with front matter: a `---` line, then title, tags, services, commands, "
                            "owner, url, then `---`"),
    ("---\ntitle: x\n", "the front matter is not closed: add a `---` line after it"),
    ("---\n# only a comment\n---\n", "the front matter is empty; it needs at least a title (title, tags, services, "
                                     "commands, owner, url)"),
    ("", "must start with front matter: a `---` line, then title, tags, services, commands, owner, url, then `---`"),
])
def test_files_without_usable_front_matter_are_refused_at_line_1(books, text, message):
    path = write(books, "a.md", text)
    assert problems(books) == [f"{path}:1 {message}"]


def test_front_matter_that_is_not_keys_and_values_says_so(books):
    path = write(books, "a.md", "---\n- title\n- tags\n---\n")
    assert problems(books) == [f"{path}:2 the front matter must be keys and values (title, tags, services, commands, "
                               "owner, url)"]


def test_yaml_traps_in_front_matter_are_refused_like_in_the_catalog(books):
    path = write(books, "a.md", "---\ntitle: &t Web\nowner: *t\ntitle: again\n---\n")
    found = problems(books)
    assert f"{path}:3 owner: YAML aliases (*t) are not supported; write the value out where it applies" in found
    assert f"{path}:4 title: duplicate key 'title' (first defined on line 2)" in found
    syntax = write(books, "b.md", "---\ntitle: [unclosed\n---\n")
    assert any(p.startswith(f"{syntax}:") and "YAML syntax error" in p for p in problems(books))


def test_an_oversized_file_is_refused(books):
    path = write(books, "big.md", "---\ntitle: big\n---\n" + "x" * MAX_RUNBOOK_BYTES)
    assert problems(books) == [f"{path}: is larger than 256 KiB; split it into shorter runbooks"]


def test_a_file_that_is_not_utf8_is_refused(books):
    path = books / "latin.md"
    path.write_bytes(b"---\ntitle: caf\xe9\n---\n")
    assert problems(books) == [f"{path}: is not UTF-8 text (invalid byte at offset 14)"]


def test_a_file_name_is_an_id_and_must_be_plain_and_unique(books):
    bad = write(books, "Web_5xx.md", GOOD)
    write(books, "a/web-5xx.md", GOOD)
    twin = write(books, "b/web-5xx.md", GOOD)
    assert problems(books) == [
        f"{bad}:1 the file name 'Web_5xx.md' is the runbook's id in links: use lowercase letters, digits and '-' "
        "(e.g. web-5xx.md)",
        f"{twin}:1 another runbook has the id 'web-5xx' ({books / 'a/web-5xx.md'}); file names are ids and must be "
        "unique",
    ]


def test_a_link_to_a_file_outside_the_folder_is_refused(books, tmp_path):
    outside = write(tmp_path / "elsewhere", "secret.md", GOOD)
    os.symlink(outside, books / "linked.md")
    assert problems(books) == [f"{books / 'linked.md'}:1 links to a file outside the runbooks folder; copy the "
                               "runbook in instead"]


def test_a_missing_folder_is_a_catalog_problem(books):
    books.rmdir()
    assert problems(books) == [f"{books.parent / 'opsgate.yaml'}:2 runbooks.path: {books} is not a folder "
                               "(it is relative to the catalog file)"]


def test_the_catalogs_problems_come_first_then_each_runbooks(books):
    (books.parent / "opsgate.yaml").write_text(CATALOG.replace("class: read", "class: reed"))
    path = write(books, "a.md", "---\ntitle: x\nowner: [a]\n---\n")
    found = problems(books)
    assert found[0].startswith(f"{books.parent / 'opsgate.yaml'}:") and "class" in found[0]
    assert found[-1] == f"{path}:3 owner: must be text"


def test_a_runbook_search_command_needs_a_runbooks_folder(books):
    (books.parent / "opsgate.yaml").write_text(CATALOG.replace("runbooks: {path: runbooks}\n", ""))
    found = problems(books)
    assert found == [f"{books.parent / 'opsgate.yaml'}:23 commands[1].action.kind: searches runbooks, but the "
                     "catalog names none: add `runbooks: {path: ./runbooks}`"]


def test_the_runbook_search_action_settings():
    assert validate_runbook_search({"query": "{words}", "limit": 3}) == []
    assert validate_runbook_search({"qurey": "{words}", "limit": 9}) == [
        "qurey: unknown key; the runbook-search action accepts kind, query, limit",
        'query: is required: a text template, e.g. "{words}"',
        "limit: must be a whole number from 1 to 5 (got 9)",
    ]
    assert validate_runbook_search({"query": "x", "limit": True}) == ["limit: must be a whole number from 1 to 5 (got True)"]


@pytest.mark.parametrize(("parameters", "problem"), [
    ("[{name: words, type: string, greedy: true}, {name: env, type: environment}]",
     "commands[1].parameters[0].greedy: a greedy parameter takes the rest of the line, so it must be the command's "
     "only parameter"),
    ("[{name: words, type: string, greedy: true, pattern: '[a-z]+'}]",
     "commands[1].parameters[0].pattern: does not apply to a greedy parameter (it is the rest of the line as typed, "
     "up to the 4000-character line limit)"),
    ("[{name: words, type: integer, greedy: true}]",
     "commands[1].parameters[0].greedy: only applies to string parameters (this one is integer)"),
])
def test_greedy_parameter_rules(books, parameters, problem):
    text = CATALOG.replace("parameters: [{name: words, type: string, greedy: true}]", f"parameters: {parameters}")
    (books.parent / "opsgate.yaml").write_text(text)
    assert any(p.endswith(problem) for p in problems(books)), problems(books)
