"""Block Kit rendering and the modals' lines, checked against the real parser."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsgate.adapters.chat.slack import blocks, modals
from opsgate.core.builtins import builtin_commands
from opsgate.core.parser import parse_line
from opsgate.domain.message import Button, Link

COMMANDS = builtin_commands(("dev", "prod"))


def test_text_buttons_and_links_render_as_blocks():
    rendered = blocks.blocks("Approval needed: `r-1`", (Button("Approve", "approve r-1", "primary"),
                                                        Button("Deny", "deny r-1", "danger")),
                             (Link("Request page", "https://ops.example.com/requests/r-1"),))
    assert [b["type"] for b in rendered] == ["section", "context", "actions"]
    approve, deny = rendered[2]["elements"]
    assert (approve["action_id"], approve["value"], approve["style"]) == ("opsgate.approve", "approve r-1", "primary")
    assert (deny["action_id"], deny["style"]) == ("opsgate.deny", "danger")


def test_long_text_is_split_into_sections_within_slacks_limit_and_never_inside_an_entity():
    text = "\n".join(f"line {n} " + "&" * 40 for n in range(400))
    sections = [b["text"]["text"] for b in blocks.blocks(text) if b["type"] == "section"]
    assert all(len(s) <= blocks.SECTION_CHARS for s in sections)
    assert all(not s.endswith(("&", "&a", "&am", "&amp")) for s in sections)


def test_a_single_very_long_line_is_split_too():
    sections = [b["text"]["text"] for b in blocks.blocks("x" * 7000)]
    assert [len(s) for s in sections] == [3000, 3000, 1000]


@given(st.text(min_size=1, max_size=300).filter(lambda s: s.strip() and "\x00" not in s))
def test_a_deny_reason_reaches_the_parser_exactly_as_typed(reason):
    view = modals.deny_view("r-0000abcd", "C1", None)
    line = modals.submitted(submitted_view(view, reason)).line
    try:
        parsed = parse_line(line, COMMANDS)
    except Exception as err:  # control characters are refused by the parser, with a message
        assert "control character" in str(err)
        return
    assert parsed.params == {"id": "r-0000abcd", "reason": reason.strip().translate(SMART)}


SMART = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def submitted_view(view: dict, answer: str) -> dict:
    return {**view, "state": {"values": {"answer": {"answer": {"value": answer}}}}}


def test_a_confirmation_is_checked_in_the_modal_before_it_closes():
    view = modals.confirm_view("r-0000abcd", "prod", "`cache flush` is destructive", "C1", "1.1")
    assert modals.mismatch(submitted_view(view, "dev")) == {"answer": "Type exactly prod"}
    assert modals.mismatch(submitted_view(view, "prod")) is None
    answer = modals.submitted(submitted_view(view, "prod"))
    assert (answer.line, answer.channel, answer.thread) == ("confirm r-0000abcd prod", "C1", "1.1")


def test_a_link_runs_the_same_line_again_with_it():
    view = modals.link_view("rollback web prod", "needs --link", "C1", None)
    answer = modals.submitted(submitted_view(view, "https://github.com/acme/web/pull/1"))
    assert answer.line == "rollback web prod --link https://github.com/acme/web/pull/1"


def test_a_line_too_long_for_the_modal_gets_no_modal():
    assert modals.link_view("x" * 4000, "needs --link", "C1", None) is None


@pytest.mark.parametrize("view", [modals.deny_view("r-1", "C1", None),
                                  modals.confirm_view("r-1", "prod", "p", "C1", None),
                                  modals.link_view("l", "r", "C1", None)])
def test_modals_fit_slacks_limits(view):
    assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24
    assert len(view["private_metadata"]) <= 3000 and "token" not in json.dumps(view).lower()
