"""Modals that ask for what a line still needs, and the line each submission stands for.

  deny     a reason                       → deny ID reason='...'
  confirm  the environment name, typed    → confirm ID TEXT
  link     a ticket / incident / PR link  → the same line again with --link URL

The modal's private metadata (kept by Slack, returned on submission) holds the request id or the
line and where to answer; it holds no tokens and grants nothing: the submission is run as a line
by the person who submitted it, through the same policy as anything they type.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from opsgate.adapters.chat.slack.blocks import escape

DENY, CONFIRM, LINK = "opsgate.deny", "opsgate.confirm", "opsgate.link"
CALLBACKS = (DENY, CONFIRM, LINK)
METADATA_CHARS = 3000  # Slack's limit for private_metadata
REASON_CHARS = 500  # the `deny` command's limit
_INPUT = "answer"  # block id and action id of each modal's one input


@dataclass(frozen=True, slots=True)
class Submitted:
    line: str
    channel: str
    thread: str | None


def deny_view(request_id: str, channel: str, thread: str | None) -> dict[str, Any]:
    return _view(DENY, "Deny request", "Deny", {"id": request_id, "channel": channel, "thread": thread},
                 f"Deny `{request_id}`? The requester and the channel see your reason.",
                 _text_input("Reason", multiline=True, max_length=REASON_CHARS))


def confirm_view(request_id: str, confirm_text: str, prompt: str, channel: str, thread: str | None) -> dict[str, Any]:
    return _view(CONFIRM, "Confirm", "Go ahead",
                 {"id": request_id, "expect": confirm_text, "channel": channel, "thread": thread},
                 escape(prompt), _text_input(f"Type {confirm_text} to go ahead", max_length=200))


def link_view(line: str, reason: str, channel: str, thread: str | None) -> dict[str, Any] | None:
    """None if the line is too long to carry in the modal (the person types --link instead)."""
    meta = {"line": line, "channel": channel, "thread": thread}
    if len(json.dumps(meta)) > METADATA_CHARS:
        return None
    element = {"type": "url_text_input", "action_id": _INPUT, "placeholder": {"type": "plain_text", "text": "https://"}}
    return _view(LINK, "Link needed", "Run it", meta, escape(reason), {"label": "Link", "element": element})


def mismatch(view: dict[str, Any]) -> dict[str, str] | None:
    """Errors to show in the modal instead of closing it: a confirmation typed differently. The
    dispatcher checks again; this only spares the person a round trip."""
    if view.get("callback_id") != CONFIRM:
        return None
    expected = _metadata(view).get("expect")
    typed = _answer(view)
    return None if typed == expected else {_INPUT: f"Type exactly {expected}"}


def submitted(view: dict[str, Any]) -> Submitted:
    meta, answer = _metadata(view), _answer(view)
    callback = view.get("callback_id")
    if callback == DENY:
        line = f"deny {meta['id']} reason={shlex.quote(answer)}"
    elif callback == CONFIRM:
        line = f"confirm {meta['id']} {shlex.quote(answer)}"
    elif callback == LINK:
        line = f"{meta['line']} --link {shlex.quote(answer)}"
    else:
        raise ValueError(f"not an opsgate modal: {callback!r}")
    return Submitted(line, meta["channel"], meta.get("thread"))


def _view(callback_id: str, title: str, submit: str, meta: dict[str, Any], intro: str,
          input_block: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": submit[:24]},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(meta),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": intro[:3000]}},
            {"type": "input", "block_id": _INPUT, **input_block},
        ],
    }


def _text_input(label: str, *, multiline: bool = False, max_length: int) -> dict[str, Any]:
    return {"label": {"type": "plain_text", "text": label[:2000]},
            "element": {"type": "plain_text_input", "action_id": _INPUT, "multiline": multiline,
                        "max_length": max_length}}


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    return json.loads(view.get("private_metadata") or "{}")


def _answer(view: dict[str, Any]) -> str:
    value = view["state"]["values"][_INPUT][_INPUT].get("value") or ""
    return value.strip()
