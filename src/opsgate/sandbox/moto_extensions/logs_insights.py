"""CloudWatch Logs Insights over the log events moto stores: StartQuery, GetQueryResults, StopQuery.

moto runs queries but ignores `filter`. The sandbox's subset of the query language, run over the
events of the named log groups between startTime and endTime:

  fields @timestamp, @message, @logStream, @log     which fields each result carries
  filter @message like /regex/ | like "text" | not like ... | =~ /regex/, joined by and / or
  sort @timestamp desc | asc                         newest first unless asked otherwise
  limit N

Anything else (stats, parse, dedup, ...) is refused with MalformedQueryException naming this
subset. A query finishes at once unless `hold_queries` asked the next ones to stay Running for a
number of GetQueryResults reads (how tests show that a caller gives up in time).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.logs.models import logs_backends
from moto.logs.responses import LogsResponse

from opsgate.sandbox.moto_extensions._common import aws_error, serialized

SUBSET = ("the sandbox supports: fields, filter with like / not like / =~ joined by and / or, "
          "sort @timestamp asc|desc, limit")
FIELDS = ("@timestamp", "@message", "@logStream", "@log")
DEFAULT_LIMIT = 1000  # AWS's default for StartQuery
MAX_LIMIT = 10_000


@dataclass
class _Query:
    status: str
    results: list[list[dict[str, str]]]
    reads_left: int = 0  # GetQueryResults answers Running this many more times


class InsightsBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.queries: dict[str, _Query] = {}
        self.hold_next_reads = 0  # set by `hold_queries`


insights_backends = BackendDict(InsightsBackend, "logs")


def hold_queries(reads: int, *, account_id: str, region: str) -> None:
    """Sandbox hook: queries started from now on stay Running for `reads` GetQueryResults calls."""
    insights_backends[account_id][region].hold_next_reads = reads


# -- the query subset -------------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:(?P<regex>/(?:\\.|[^/\\])*/)|(?P<text>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
                        |(?P<op>=~)|(?P<word>[@\w.]+)|(?P<other>\S))""", re.VERBOSE)


@dataclass
class _Parsed:
    fields: list[str] = field(default_factory=lambda: ["@timestamp", "@message"])
    conditions: list[list[tuple[str, bool, re.Pattern[str]]]] = field(default_factory=list)  # OR of ANDs
    newest_first: bool = True
    limit: int | None = None


def _malformed(message: str) -> Exception:
    return aws_error("MalformedQueryException", f"{message}; {SUBSET}")


def _commands(query: str) -> list[str]:
    """Split on `|` outside regex and string literals."""
    parts, current, position = [], "", 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None:  # only white space is left
            break
        if match.group("other") == "|":
            parts.append(current)
            current = ""
        else:
            current += match.group(0)
        position = match.end()
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def _condition(tokens: list[str]) -> tuple[str, bool, re.Pattern[str]]:
    """`@message like /x/`, `@message not like "x"`, `@message =~ /x/`."""
    if len(tokens) < 3 or tokens[0] not in FIELDS:
        raise _malformed(f"cannot read the filter condition `{' '.join(tokens)}`")
    negate = tokens[1].lower() == "not"
    operator, operand = (tokens[2], tokens[3:]) if negate else (tokens[1], tokens[2:])
    if operator.lower() not in ("like", "=~") or len(operand) != 1:
        raise _malformed(f"cannot read the filter condition `{' '.join(tokens)}`")
    literal = operand[0]
    if literal.startswith("/") and literal.endswith("/") and len(literal) >= 2:
        try:
            pattern = re.compile(literal[1:-1].replace("\\/", "/"))
        except re.error as err:
            raise _malformed(f"the regular expression {literal} is invalid: {err}") from None
    elif literal[:1] in "\"'" and literal[-1:] == literal[:1] and len(literal) >= 2:
        pattern = re.compile(re.escape(literal[1:-1]))
    else:
        raise _malformed(f"`like` needs a /regex/ or a \"string\", not {literal}")
    return tokens[0], negate, pattern


def _filter(text: str) -> list[list[tuple[str, bool, re.Pattern[str]]]]:
    tokens = [m.group(0).strip() for m in _TOKEN.finditer(text)]
    alternatives: list[list[tuple[str, bool, re.Pattern[str]]]] = [[]]
    current: list[str] = []
    for token in tokens + ["or"]:
        if token.lower() in ("and", "or"):
            alternatives[-1].append(_condition(current))
            current = []
            if token.lower() == "or":
                alternatives.append([])
        else:
            current.append(token)
    return [group for group in alternatives if group]


def parse(query: str) -> _Parsed:
    parsed = _Parsed()
    for command in _commands(query):
        verb, _, rest = command.partition(" ")
        verb, rest = verb.lower(), rest.strip()
        if verb == "fields":
            names = [name.strip() for name in rest.split(",")]
            unknown = [name for name in names if name not in FIELDS]
            if unknown or not names:
                raise _malformed(f"unknown fields {', '.join(unknown) or '(none)'} (known: {', '.join(FIELDS)})")
            parsed.fields = names
        elif verb == "filter":
            alternatives = _filter(rest)
            # Several filter commands must all hold: combine (a or b) and (c or d) as one OR of ANDs.
            parsed.conditions = [a + b for a in (parsed.conditions or [[]]) for b in alternatives]
        elif verb == "sort":
            words = rest.split()
            if not words or words[0] != "@timestamp" or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
                raise _malformed(f"cannot sort by `{rest}`")
            parsed.newest_first = len(words) == 1 or words[1] == "desc"
        elif verb == "limit":
            if not rest.isdigit() or not 1 <= int(rest) <= MAX_LIMIT:
                raise _malformed(f"limit must be a number from 1 to {MAX_LIMIT}")
            parsed.limit = int(rest)
        else:
            raise _malformed(f"the `{verb}` command is not supported")
    return parsed


def _matches(parsed: _Parsed, values: dict[str, str]) -> bool:
    if not parsed.conditions:
        return True
    return any(all(bool(pattern.search(values[name])) != negate for name, negate, pattern in group)
               for group in parsed.conditions)


def _timestamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


# -- the API ----------------------------------------------------------------------------------

def _body(response: LogsResponse) -> dict[str, Any]:
    return json.loads(response.body or "{}")


@serialized
def start_query(self: LogsResponse) -> str:
    body = _body(self)
    names = [n for n in [body.get("logGroupName")] + list(body.get("logGroupNames") or [])
             + list(body.get("logGroupIdentifiers") or []) if n]
    if not names:
        raise aws_error("InvalidParameterException", "Specify logGroupName, logGroupNames or logGroupIdentifiers")
    moto = logs_backends[self.current_account][self.region]
    groups = []
    for name in names:
        name = name.split(":log-group:")[-1].removesuffix(":*")  # identifiers may be ARNs
        if name not in moto.groups:
            raise aws_error("ResourceNotFoundException", f"Log group '{name}' does not exist for account ID "
                                                         f"'{self.current_account}'")
        groups.append(moto.groups[name])
    start, end = body.get("startTime"), body.get("endTime")
    if not isinstance(start, int) or not isinstance(end, int) or start > end:
        raise aws_error("InvalidParameterException", "startTime and endTime must be epoch seconds, start before end")
    parsed = parse(str(body.get("queryString") or ""))
    limit = min(parsed.limit or MAX_LIMIT, int(body.get("limit") or DEFAULT_LIMIT))
    found = []
    for group in groups:
        for stream in group.streams.values():
            for event in stream.events:
                if start * 1000 <= event.timestamp <= end * 1000:
                    values = {"@timestamp": _timestamp(event.timestamp), "@message": event.message,
                              "@logStream": stream.log_stream_name, "@log": f"{self.current_account}:{group.name}"}
                    if _matches(parsed, values):
                        found.append((event.timestamp, values))
    found.sort(key=lambda item: item[0], reverse=parsed.newest_first)
    rows = [[{"field": name, "value": values[name]} for name in parsed.fields]
            + [{"field": "@ptr", "value": uuid.uuid4().hex}] for _, values in found[:limit]]
    backend = insights_backends[self.current_account][self.region]
    query_id = str(uuid.uuid4())
    held = backend.hold_next_reads
    backend.queries[query_id] = _Query("Running" if held else "Complete", rows, reads_left=held)
    return json.dumps({"queryId": query_id})


def _named_query(response: LogsResponse) -> _Query:
    query_id = str(_body(response).get("queryId") or "")
    query = insights_backends[response.current_account][response.region].queries.get(query_id)
    if query is None:
        raise aws_error("ResourceNotFoundException", f"Query {query_id[:64]} does not exist")
    return query


@serialized
def get_query_results(self: LogsResponse) -> str:
    query = _named_query(self)
    if query.status == "Running":
        if query.reads_left > 0:
            query.reads_left -= 1
            return json.dumps({"status": "Running", "results": [], "statistics": {}})
        query.status = "Complete"
    shown = query.results if query.status == "Complete" else []
    return json.dumps({"status": query.status, "results": shown,
                       "statistics": {"recordsMatched": float(len(shown)), "recordsScanned": float(len(shown))}})


@serialized
def stop_query(self: LogsResponse) -> str:
    query = _named_query(self)
    stopped = query.status == "Running"
    if stopped:
        query.status = "Cancelled"
    return json.dumps({"success": stopped})


EXTENSIONS = {LogsResponse: {"start_query": start_query, "get_query_results": get_query_results,
                             "stop_query": stop_query}}
