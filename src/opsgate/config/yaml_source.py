"""Read the catalog file into plain Python data plus the line of every value.

PyYAML is used at node level so that we can
- remember where each value came from (problems name `file:line`),
- refuse what a reviewed catalog should not contain: duplicate keys (PyYAML keeps the last one
  silently), aliases (expansion bombs, and a reviewer should see every value where it applies),
  unusual tags, very deep nesting,
- resolve scalars the YAML 1.2 way where YAML 1.1 surprises people: `16:00` stays text instead of
  becoming 960 (base 60), dates stay text (our own parser explains bad ones), keys are taken
  literally as written (`no:` is the key "no", not False).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from opsgate.config.problems import Problem, YamlPath, file_problem

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64

_STR, _INT, _FLOAT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ, _MERGE = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:merge"
_SCALAR_TAGS = {_STR, _INT, _FLOAT, _BOOL, _NULL}

# YAML 1.1 numbers without the base-60 forms (`16:00` -> 960).
_INT_RE = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class _CatalogLoader(yaml.SafeLoader):
    """SafeLoader that turns aliases into placeholders (reported later) and caps nesting."""

    yaml_implicit_resolvers: dict = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_nodes: dict[int, tuple[Node, str]] = {}
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # type: ignore[override]
        if self.check_event(AliasEvent):
            event = self.get_event()
            placeholder = ScalarNode(_NULL, "", event.start_mark, event.end_mark)
            self.alias_nodes[id(placeholder)] = (placeholder, event.anchor)
            return placeholder
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, f"nesting is deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _keep_resolver(tag: str) -> bool:
    # Timestamps stay text (freeze windows parse their own, with better messages); `=` stays text
    # (SafeLoader has no constructor for its `value` tag); numbers get the 1.2-like regexes below.
    return tag in (_BOOL, _NULL, _MERGE)


for _first, _resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
    for _tag, _regexp in _resolvers:
        if _keep_resolver(_tag):
            _CatalogLoader.yaml_implicit_resolvers.setdefault(_first, []).append((_tag, _regexp))
_CatalogLoader.add_implicit_resolver(_INT, _INT_RE, list("-+0123456789"))
_CatalogLoader.add_implicit_resolver(_FLOAT, _FLOAT_RE, list("-+0123456789."))


@dataclass(frozen=True)
class SourceDocument:
    """The file's data as dicts/lists/scalars, where each value came from, and what was refused."""

    source: str
    data: Any
    lines: dict[YamlPath, int]
    problems: list[Problem] = field(default_factory=list)
    refused: frozenset[YamlPath] = frozenset()  # values replaced by None; nothing more to say about them

    def line_of(self, path: YamlPath) -> int:
        """Line of the value at `path`, else of its nearest ancestor (a missing key's mapping)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


def read_catalog_file(path: Path, *, max_bytes: int = MAX_FILE_BYTES, why: str = "a catalog is reviewed text") -> str:
    """The file's text; ConfigError when it cannot be read, is too large or is not UTF-8.
    `max_bytes` and `why` (it must stay smaller) serve files the catalog names too (runbooks)."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as err:
        raise file_problem(source, f"cannot be read ({err.strerror or err})") from None
    if len(raw) > max_bytes:
        raise file_problem(source, f"is larger than {max_bytes // 1024} KiB; {why}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise file_problem(source, f"is not UTF-8 text (invalid byte at offset {err.start})") from None


def parse_document(text: str, source: str) -> SourceDocument:
    """Parse one YAML document; ConfigError when there is no usable mapping at the top."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise file_problem(source, f"is larger than {MAX_FILE_BYTES // 1024} KiB; a catalog is reviewed text")
    try:
        data, root_line, builder = _build(text, source)
    except yaml.MarkedYAMLError as err:
        raise _syntax_problem(source, err) from None
    except yaml.reader.ReaderError as err:  # a control character or similar: not text YAML accepts
        line = text.count("\n", 0, err.position) + 1
        raise file_problem(source, f"is not YAML text: {err.reason} (character #x{err.character:x})", line=line) from None
    except yaml.YAMLError as err:
        raise file_problem(source, f"is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise file_problem(
            source,
            "the top level must be a mapping with keys version, environments, people, roles and commands",
            line=root_line,
        )
    return SourceDocument(source, data, builder.lines, builder.problems, frozenset(builder.refused))


def _build(text: str, source: str) -> tuple[Any, int, _DataBuilder]:
    loader = _CatalogLoader(text)
    try:
        root = loader.get_single_node()
        if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL and not root.value):
            raise file_problem(source, "is empty; expected a mapping with version, environments, people, roles and commands", line=1)
        builder = _DataBuilder(loader)
        return builder.build(root, ()), root.start_mark.line + 1, builder
    finally:
        loader.dispose()


def _syntax_problem(source: str, err: yaml.MarkedYAMLError) -> Exception:
    mark = err.problem_mark or err.context_mark
    where = f" (column {mark.column + 1})" if mark is not None else ""
    what = ", ".join(part for part in (err.context, err.problem) if part)
    if err.context_mark is not None and mark is not None and err.context_mark.line != mark.line:
        what += f" (it started on line {err.context_mark.line + 1})"
    return file_problem(source, f"YAML syntax error{where}: {what}", line=mark.line + 1 if mark is not None else None)


def _tag_allowed(node: Node) -> bool:
    if isinstance(node, MappingNode):
        return node.tag == _MAP
    if isinstance(node, SequenceNode):
        return node.tag == _SEQ
    return node.tag in _SCALAR_TAGS


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


class _DataBuilder:
    """Turns composed nodes into plain data, recording lines and refusing what YAML allows but we do not."""

    def __init__(self, loader: _CatalogLoader) -> None:
        self.loader = loader
        self.lines: dict[YamlPath, int] = {}
        self.problems: list[Problem] = []
        self.refused: set[YamlPath] = set()

    def build(self, node: Node, path: YamlPath) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        alias = self.loader.alias_nodes.get(id(node))
        if alias is not None:
            return self._refuse(path, f"YAML aliases (*{alias[1]}) are not supported; write the value out where it applies")
        if not _tag_allowed(node):
            return self._refuse(path, f"unsupported YAML tag {_short_tag(node.tag)}")
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as err:  # e.g. an int over Python's digit limit
            return self._refuse(path, f"cannot be read as {_short_tag(node.tag)}: {err}")

    def _mapping(self, node: MappingNode, path: YamlPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode) or id(key_node) in self.loader.alias_nodes:
                self.problems.append(Problem(path, "mapping keys must be plain text", key_line))
                continue
            if key_node.tag == _MERGE:
                self.problems.append(Problem(path, "YAML merge keys (<<) are not supported; write the keys out", key_line))
                continue
            key = key_node.value  # literally as written: `no:` is "no", `1:` is "1"
            child = path + (key,)
            if key in result:
                first = self.lines[child]
                self.problems.append(Problem(child, f"duplicate key '{key}' (first defined on line {first})", key_line))
                continue
            self.lines[child] = key_line  # point at `key:`, where a reader looks, not at a value below it
            result[key] = self.build(value_node, child)
        return result

    def _refuse(self, path: YamlPath, message: str) -> None:
        self.problems.append(Problem(path, message))
        self.refused.add(path)
        return None
