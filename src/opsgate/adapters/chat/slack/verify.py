"""Is this HTTP request from Slack? Checked on the raw bytes before anything parses them.

`v0=` + HMAC-SHA256(signing secret, `v0:{timestamp}:{body}`) must match X-Slack-Signature, and the
timestamp must be within 5 minutes of now (an old signed request replayed is refused). Each
refusal says which check failed; it never says what the right signature would have been.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

MAX_AGE_S = 300


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    reason: str  # for the person reading the response and the audit log


class RequestGuard:
    def __init__(self, signing_secret: str, *, now: Callable[[], float] = time.time, max_age_s: int = MAX_AGE_S) -> None:
        self._secret = signing_secret.encode()
        self._now = now
        self.max_age_s = max_age_s

    def refusal(self, body: bytes, headers: Mapping[str, str]) -> Refusal | None:
        timestamp = headers.get("x-slack-request-timestamp")
        signature = headers.get("x-slack-signature")
        if not timestamp or not signature:
            return Refusal(401, "missing X-Slack-Request-Timestamp or X-Slack-Signature: not a signed Slack request")
        if not timestamp.isdigit():
            return Refusal(401, "X-Slack-Request-Timestamp is not a Unix time")
        age = self._now() - int(timestamp)
        if abs(age) > self.max_age_s:
            return Refusal(401, f"the request timestamp is {int(abs(age))} s {'old' if age > 0 else 'in the future'}; "
                                f"requests older than {self.max_age_s // 60} minutes are refused (replay)")
        if not hmac.compare_digest(self._signature(timestamp, body), signature.encode("utf-8", "replace")):
            return Refusal(401, "the signature does not match the body: not signed with this app's signing secret, "
                                "or changed on the way")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return Refusal(400, "the body is not UTF-8")
        return None

    def _signature(self, timestamp: str, body: bytes) -> bytes:
        # Over the raw bytes (slack_sdk's SignatureVerifier decodes them first, and fails on non-UTF-8).
        digest = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return f"v0={digest}".encode()


def claimed_ids(body: bytes) -> dict[str, str]:
    """The team and user a refused body claims to come from: for the audit log, marked as claims
    (nothing in a refused body is trusted). Best effort; never raises."""
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), max_num_fields=100).items()}
        if "payload" in form:
            payload = json.loads(form["payload"])
            user, team = payload.get("user") or {}, payload.get("team") or {}
            claimed = {"user": user.get("id", ""), "team": team.get("id", "") if isinstance(team, dict) else ""}
        elif form:
            claimed = {"user": form.get("user_id", ""), "team": form.get("team_id", "")}
        else:
            event_body = json.loads(body)
            claimed = {"user": (event_body.get("event") or {}).get("user", ""), "team": event_body.get("team_id", "")}
    except Exception:
        return {}
    return {f"claimed_{k}": str(v)[:64] for k, v in claimed.items() if v}
