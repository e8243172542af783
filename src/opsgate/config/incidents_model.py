"""The catalog's `incidents:` section as a pydantic model (its shape; `incidents.py` checks the rest).

Kept apart from `models.py`, which imports it, so that it depends on nothing there; the person-id
and name patterns are the same strings, so problems read the same.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from opsgate.domain.incident import NAME_PLACEHOLDERS

_PersonId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9._-]*$")]
_Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")]
_Text = Annotated[str, StringConstraints(min_length=1)]
def _check_severity_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,19}", name):
        raise ValueError(f"must be letters, digits and '-' (at most 20), like 1 or p2 (got {name!r})")
    return name


_SeverityName = Annotated[str, AfterValidator(_check_severity_name), Field(examples=["1", "p2"])]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeverityModel(_Strict):
    name: _SeverityName = Field(description="What people type after sev=: letters, digits and '-', e.g. 1 or p2.")
    description: str = Field("", description="What the severity means, shown when declaring.")
    responders: list[_PersonId] = Field([], description="Person ids invited to the incident's room.")
    groups: dict[_Name, list[_Text]] = Field(
        {}, description="Platform -> group ids whose members are invited (Slack user group ids S…, never names).",
        examples=[{"slack": ["S0123ONCALL"]}])


class IncidentsModel(_Strict):
    """How incidents are run: where their rooms are, who is invited, who may declare."""

    mode: Literal["channel", "thread"] = Field(
        "channel", description="channel: a dedicated channel per incident; thread: a thread in `channel`.")
    channel: _Text | None = Field(
        None, description="The incidents channel id: declarations are announced here, and in thread mode each "
        "incident is a thread here (the bot must be a member).")
    channel_name: _Text = Field(
        "inc-{date}-{slug}", description="Name of a dedicated channel; placeholders: "
        + ", ".join("{" + name + "}" for name in NAME_PLACEHOLDERS) + ". Made lowercase, at most 80 characters.")
    private: bool = Field(False, description="Create private channels instead of public ones.")
    stakeholder_channel: _Text | None = Field(
        None, description="Channel id where declarations, status updates and resolutions are also posted.")
    severities: list[SeverityModel] | None = Field(
        None, min_length=1, description="Severities in order, most severe first; default 1 to 4.")
    declare_roles: list[_Name] = Field([], description="Roles whose members may declare; empty: every person with a role.")
    link_patterns: list[_Text] = Field(
        [], description="Accepted ticket URLs for `incident link` (full-match regexes); empty: any https:// URL.")
    declarer_is_commander: bool = Field(True, description="The person who declares is commander until someone is assigned.")
