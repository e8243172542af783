"""Message and Reply → Block Kit: the text, its buttons, and links (AWS console, request page).

Text is escaped (`&`, `<`, `>`), so a parameter value such as `<!channel>` is shown, never acted
on. A button's value is the chat line it stands for; its action id names the verb, which is how
the app knows Deny must ask for a reason first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from opsgate.domain.message import Button, Link, Mention

ACTION_PREFIX = "opsgate."
SECTION_CHARS = 3000  # Block Kit's limit for one section's text
LINK_ELEMENT_CHARS = 2900  # a context element's text: Block Kit allows 3,000
LINKS = 40  # links shown under one message at most
MESSAGE_CHARS = 12000  # beyond this, the end is cut (Slack allows 40,000, nobody reads that)
_STYLES = {"primary", "danger"}
_SLACK_ID = re.compile(r"[UWS][A-Z0-9]{2,31}")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def action_id(button: Button) -> str:
    return ACTION_PREFIX + button.command.split(maxsplit=1)[0]


def action_verb(action_id_: str) -> str:
    return action_id_.removeprefix(ACTION_PREFIX)


def fallback_text(text: str, mentions: Sequence[Mention] = ()) -> str:
    """The `text` of a message: notifications and screen readers show it."""
    named = mention_markup(mentions)
    return (named + " " if named else "") + escape(_cut(text))


def mention_markup(mentions: Sequence[Mention]) -> str:
    """`<@U…>` for people, `<!subteam^S…>` for user groups; ids that are not plain Slack ids are
    left out, so a mention can never turn into `<!channel>`."""
    return " ".join(f"<!subteam^{m.id}>" if m.group else f"<@{m.id}>" for m in mentions if _SLACK_ID.fullmatch(m.id))


def blocks(text: str, buttons: Sequence[Button] = (), links: Sequence[Link] = (),
           mentions: Sequence[Mention] = ()) -> list[dict[str, Any]]:
    named = mention_markup(mentions)
    out: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": named}}] if named else []
    out += [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in _sections(escape(_cut(text)))]
    out += _link_blocks(links)
    if buttons:
        out.append({"type": "actions", "elements": [_button(b) for b in buttons]})
    return out


def _link_blocks(links: Sequence[Link]) -> list[dict[str, Any]]:
    """Links in context blocks, within Block Kit's limits (an element's text, elements per block)."""
    shown = [f"<{link.url}|{escape(link.label)}>" for link in links[:LINKS] if len(link.url) < LINK_ELEMENT_CHARS // 2]
    elements: list[str] = []
    for markup in shown:
        if elements and len(elements[-1]) + 5 + len(markup) <= LINK_ELEMENT_CHARS:
            elements[-1] += "  ·  " + markup
        else:
            elements.append(markup)
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text} for text in elements[i:i + 10]]}
            for i in range(0, len(elements), 10)]


def _button(button: Button) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": button.label[:75]},
        "action_id": action_id(button),
        "value": button.command,
    }
    if button.style in _STYLES:
        element["style"] = button.style
    return element


def _sections(shown: str) -> list[str]:
    """Escaped text in pieces of at most SECTION_CHARS, split between lines where it can be and
    never inside an entity such as `&amp;`."""
    pieces: list[str] = []
    current = ""
    for line in shown.split("\n"):
        while len(line) > SECTION_CHARS:
            cut = line.rfind("&", SECTION_CHARS - 5, SECTION_CHARS)
            cut = cut if cut > 0 else SECTION_CHARS
            pieces, current = _flush(pieces, current), ""
            pieces.append(line[:cut])
            line = line[cut:]
        if current and len(current) + 1 + len(line) > SECTION_CHARS:
            pieces, current = _flush(pieces, current), ""
        current = f"{current}\n{line}" if current else line
    pieces = _flush(pieces, current)
    return pieces or [" "]


def _flush(pieces: list[str], current: str) -> list[str]:
    return pieces + [current] if current.strip() else pieces


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + "\n… (cut; the request page has it all)"
