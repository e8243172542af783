"""Who is asking: chat identities are immutable platform ids, never display names."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Actor:
    """The sender of a request as the chat platform reports it."""

    platform: str  # "slack", "console", "schedule", ...
    user_id: str  # immutable id (Slack U…/W…); the only thing that identifies
    display_name: str = ""  # shown in messages and the audit log, never trusted


@dataclass(frozen=True, slots=True)
class Person:
    """A person from the catalog, with the roles and permissions that apply to them."""

    id: str
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)

    def has_role(self, roles: frozenset[str] | tuple[str, ...]) -> bool:
        return not self.roles.isdisjoint(roles)


# Permissions a role can grant. Everything else is denied.
PERMISSIONS = {
    "approve": "approve other people's requests where the approval rule names no roles (the default approvers)",
    "break-glass": "run a mutating command during a change freeze or another person's lock, with an approval",
    "lock": "lock and unlock environments",
    "unlock-any": "remove another person's lock",
    "audit": "read the audit log in chat",
    "incident-manage": "update, assign roles in and resolve any incident, without holding one of its roles",
    "ack": "acknowledge alerts (the Ack button, `ack`)",
    "silence": "silence alerts for a while, and end silences (`silence`, `unsilence`)",
    "stats": "read opsgate's numbers: command use, refusals, approval and incident times (`stats`)",
}
