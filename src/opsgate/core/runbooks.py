"""The `runbook-search` action kind: a catalog command that finds runbooks.

It is declared in the catalog like any other command (roles, channels, audit), so who may search
is reviewed too:

    - name: runbook
      class: read
      parameters: [{name: words, type: string, greedy: true}]
      action: {kind: runbook-search, query: "{words}", limit: 3}

The answer shows each match's title, first paragraph, the words it matched and a link; the
commands a runbook links become buttons. A button is only the chat line: clicking it sends that
line through the dispatcher like typing it, so the policy decides it as usual.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from opsgate.core.automation import template_values
from opsgate.core.runbook_search import Hit, RunbookIndex, query_words
from opsgate.domain.catalog import ActionSpec
from opsgate.domain.message import Button
from opsgate.domain.runbook import Runbook, runbook_link
from opsgate.domain.templates import fill
from opsgate.errors import AutomationError
from opsgate.ports import PlannedCall, RunContext, RunResult

RUNBOOK_SEARCH = "runbook-search"
DEFAULT_LIMIT = 3
MAX_LIMIT = 5
MAX_BUTTONS = 6  # more is a wall of buttons; the text lists every linked command anyway
BUTTON_LABEL_CHARS = 75  # Slack's limit for a button's text
_TOPICS_SHOWN = 12


class RunbookSearch:
    """The Automation for `runbook-search` actions (it makes no calls outside opsgate)."""

    def __init__(self, runbooks: Sequence[Runbook], base_url: str | None = None) -> None:
        self.index = RunbookIndex(runbooks)
        self.base_url = base_url

    def plan(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> list[PlannedCall]:
        return [PlannedCall(api="opsgate:runbook-search", target=f"{len(self.index)} runbooks",
                            parameters={"query": _query(action, params, ctx)})]

    def run(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> RunResult:
        query = _query(action, params, ctx)
        if not query_words(query):
            raise AutomationError("Say what you are looking for: a service, an alarm or a symptom, "
                                  "e.g. `runbook web 5xx`.")
        if not len(self.index):
            raise AutomationError("No runbooks are configured: the catalog's `runbooks: {path: ...}` names their folder.")
        hits = self.index.search(query, limit=int(action.settings.get("limit", DEFAULT_LIMIT)))
        if not hits:
            return RunResult(ok=True, summary=self._nothing_found(query), output={"runbooks": []})
        return RunResult(ok=True, summary="\n\n".join(self._shown(hit) for hit in hits),
                         output={"runbooks": [hit.runbook.slug for hit in hits]}, buttons=command_buttons(hits))

    def poll(self, action: ActionSpec, params: dict[str, Any], ctx: RunContext, checkpoint: dict[str, Any]) -> RunResult:
        raise AutomationError("runbook searches finish at once; there is nothing to follow")

    def _shown(self, hit: Hit) -> str:
        book = hit.runbook
        head = f"📖 *{book.title}* — matched: {', '.join(hit.matched)}" + (f" · owner {book.owner}" if book.owner else "")
        lines = [head]
        if book.summary:
            lines.append(book.summary)
        link = runbook_link(book, self.base_url)
        lines.append(link or f"({book.source})")
        if book.commands:
            lines.append("Commands: " + " · ".join(f"`{line}`" for line in book.commands))
        return "\n".join(lines)

    def _nothing_found(self, query: str) -> str:
        topics = Counter(tag for book in self.index.runbooks for tag in (*book.tags, *book.services))
        common = ", ".join(topic for topic, _ in topics.most_common(_TOPICS_SHOWN))
        return (f"No runbook mentions {', '.join(query_words(query))}."
                + (f" The runbooks cover: {common}." if common else ""))


def command_buttons(hits: Sequence[Hit]) -> tuple[Button, ...]:
    """One button per linked command line of the hits, best runbook first, each line once."""
    lines = dict.fromkeys(line for hit in hits for line in hit.runbook.commands)
    return tuple(Button(_label(line), line) for line in list(lines)[:MAX_BUTTONS])


def _label(line: str) -> str:
    return line if len(line) <= BUTTON_LABEL_CHARS else line[: BUTTON_LABEL_CHARS - 1] + "…"


def _query(action: ActionSpec, params: dict[str, Any], ctx: RunContext) -> str:
    return str(fill(action.settings.get("query", ""), template_values(params, ctx)))
