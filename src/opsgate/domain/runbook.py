"""Runbooks: Markdown files with front matter (title, tags, services, linked commands, owner).

Loaded and checked by `opsgate.config.runbooks`; searched by `opsgate.core.runbook_search`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

# The opsgate page of a runbook (served by `opsgate serve` when OPSGATE_BASE_URL is set).
RUNBOOK_PAGE_PATH = "/runbooks/{slug}"
SUMMARY_CHARS = 300  # the first paragraph as shown in chat

_HEADING = re.compile(r"^\s{0,3}#")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


@dataclass(frozen=True, slots=True)
class Runbook:
    slug: str  # the file name without `.md`: unique, lowercase, used in page URLs
    title: str
    body: str  # the Markdown after the front matter
    source: str  # the file, as problems name it
    tags: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()  # chat lines offered as buttons, e.g. "alarms env=prod"
    owner: str = ""
    url: str | None = None  # where the runbook lives (a wiki, the repository); else its opsgate page

    @property
    def summary(self) -> str:
        return first_paragraph(self.body)


def first_paragraph(markdown: str, limit: int = SUMMARY_CHARS) -> str:
    """The first run of text lines that is not a heading or code, joined and cut at a word."""
    lines: list[str] = []
    in_code = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            if lines:
                break
            continue
        if in_code or _HEADING.match(line):
            if lines:
                break
            continue
        if not line.strip():
            if lines:
                break
            continue
        lines.append(line.strip())
    text = " ".join(lines)
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"


def runbook_page_url(base_url: str | None, slug: str) -> str | None:
    """The runbook's opsgate page, or None without a base URL."""
    if not base_url:
        return None
    return base_url.rstrip("/") + RUNBOOK_PAGE_PATH.format(slug=quote(slug, safe=""))


def runbook_link(runbook: Runbook, base_url: str | None) -> str | None:
    """Where a reader should go: the runbook's own `url`, else its opsgate page."""
    return runbook.url or runbook_page_url(base_url, runbook.slug)
