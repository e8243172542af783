"""The console chat: a terminal (line editing and history) or lines piped on standard input."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

from rich.console import Console

from opsgate.core.alert_context import context_text
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound
from opsgate.domain.message import Button, Message, Reply
from opsgate.domain.pages import PageLinks
from opsgate.ports import AlertAttachments

CHANNEL = "console"
PLATFORM = "console"


class ConsoleChat:
    """The Chat port for the console: notifications are printed as they are posted."""

    def __init__(self, console: Console, pages: PageLinks | None = None) -> None:
        self.console = console
        self.pages = pages or PageLinks()  # set once the demo's web server has its URL

    def post(self, message: Message) -> None:
        self.console.print(f"[{message.channel}] {message.text}", markup=False, highlight=False, style="cyan")
        print_buttons(self.console, message.buttons)
        page = self.pages.request(message.request_id)
        if page:
            self.console.print(f"  page: {page}", markup=False, highlight=False, style="cyan")

    def post_context(self, channel: str, message_key: str, attachments: AlertAttachments) -> None:
        """A terminal shows no image: the chart is named, the log lines are printed."""
        if attachments.chart_png:
            self.console.print(f"[{channel}]   [chart: {attachments.chart_title}]", markup=False, highlight=False,
                               style="cyan")
        text = context_text(attachments)
        if attachments.log_query_url:
            text += f"\nOpen in Logs Insights: {attachments.log_query_url}"
        if text.strip():
            self.console.print("\n".join(f"[{channel}]   {line}" for line in text.strip().split("\n")),
                               markup=False, highlight=False, style="cyan")


def print_buttons(console: Console, buttons: tuple[Button, ...]) -> None:
    """A terminal has no buttons: each shows as the line a click would send."""
    if buttons:
        shown = "  ".join(f"[{b.label}: /ops {b.command}]" for b in buttons)
        console.print("  " + shown, markup=False, highlight=False, style="cyan")


def print_reply(console: Console, reply: Reply, pages: PageLinks | None = None) -> None:
    console.print(reply.text, markup=False, highlight=False, style=None if reply.ok else "red")
    print_buttons(console, reply.buttons)
    page = pages.request(reply.request_id) if pages else None
    if page:
        console.print(f"  page: {page}", markup=False, highlight=False, style="cyan")


def read_lines(stdin: TextIO, prompt: str, history_file: Path | None) -> Iterator[str]:
    """Lines from a terminal with prompt_toolkit (editing, history), or plain lines from a pipe."""
    if stdin.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory
        from prompt_toolkit.patch_stdout import patch_stdout

        history = FileHistory(str(history_file)) if history_file else InMemoryHistory()
        session: PromptSession[str] = PromptSession(history=history)
        while True:
            try:
                with patch_stdout(raw=True):  # background notifications print above the prompt
                    line = session.prompt(prompt)
            except KeyboardInterrupt:
                continue
            except EOFError:
                return
            yield line
    else:
        for line in stdin:
            yield line.rstrip("\n")


def run_console(
    handle,
    identify,
    person: str,
    lines: Iterable[str],
    console: Console,
    *,
    echo: bool = False,
    after_line: Callable[[], None] | None = None,
    settle: Callable[[], str] | None = None,
    pages: PageLinks | None = None,
) -> int:
    """Send each line to `handle` as `person`; `:as NAME` switches person, `:wait` waits for running
    automation to finish (scripts), `:quit` ends.

    `identify(person)` returns the display name or None when the console id is not in the catalog.
    `after_line` runs after each line (background jobs, when nothing runs them in the background).
    """
    name = identify(person)
    if name is None:
        console.print(f"Note: console id `{person}` is not in the catalog; you may run only help and whoami.",
                      style="yellow", markup=False)
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if echo:
            console.print(f"{person}> {text}", markup=False, highlight=False, style="bold")
        if text in (":quit", ":q", "exit", "quit"):
            break
        if text == ":wait":
            console.print(settle() if settle else "Nothing to wait for.", style="yellow", markup=False)
            continue
        if text.startswith(":as"):
            parts = text.split()
            if len(parts) != 2:
                console.print("Usage: :as <person id>", style="red", markup=False)
                continue
            person = parts[1]
            name = identify(person)
            note = "" if name else " (not in the catalog)"
            console.print(f"Now acting as {person}{note}.", style="yellow", markup=False)
            continue
        inbound = Inbound(actor=Actor(PLATFORM, person, name or person), text=text, channel=CHANNEL)
        print_reply(console, handle(inbound), pages)
        if after_line is not None:
            after_line()
    return 0


def default_console() -> Console:
    return Console(file=sys.stdout, soft_wrap=True)
