"""The Slack app manifest: paste it at api.slack.com/apps → Create New App → From a manifest."""

from __future__ import annotations

from typing import Any

from opsgate.adapters.chat.slack.app import COMMAND

BOT_SCOPES = (
    "commands",  # /ops
    "chat:write",  # approval requests, outcomes, in-place updates
    "chat:write.public",  # post in public channels without being invited first
    "app_mentions:read",  # @opsgate deploy ...
    "im:history",  # direct messages to the bot
    "usergroups:read",  # roles from Slack user groups
    "channels:manage",  # incident channels: create them, invite responders
    "groups:write",  # ... when they are private
    "channels:history",  # read a message pinned (📌) in an incident channel
    "groups:history",  # ... in a private one
    "reactions:read",  # the 📌 reactions (reaction_added)
    "files:write",  # charts in the thread of an alarm's message
)
EVENTS = ("app_mention", "message.im", "reaction_added")


def manifest(base_url: str | None, *, name: str = "opsgate", socket_mode: bool = False) -> dict[str, Any]:
    """HTTP mode needs the public base URL (Slack posts to <base_url>/slack/events)."""
    if not socket_mode and not base_url:
        raise ValueError("HTTP mode needs the public base URL; or use Socket Mode")
    events_url = f"{(base_url or '').rstrip('/')}/slack/events"
    # should_escape: mentions in the command text arrive as <@U…|name>, immutable ids (incident roles)
    command: dict[str, Any] = {"command": COMMAND, "description": "Run an opsgate command (try: help)",
                               "usage_hint": "help | deploy service=web env=prod | approve r-…", "should_escape": True}
    interactivity: dict[str, Any] = {"is_enabled": True}
    events: dict[str, Any] = {"bot_events": list(EVENTS)}
    if not socket_mode:
        command["url"] = events_url
        interactivity["request_url"] = events_url
        events["request_url"] = events_url
    return {
        "display_information": {"name": name, "description": "Guarded ChatOps for AWS: declared commands, "
                                "approvals and an audit log", "background_color": "#1d3557"},
        "features": {
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [command],
            "app_home": {"messages_tab_enabled": True, "messages_tab_read_only_enabled": False},
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
