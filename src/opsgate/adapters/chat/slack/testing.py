"""A local stand-in for Slack, for tests and for trying opsgate without a workspace.

`LocalSlackApi` is a real HTTP server on 127.0.0.1 that answers the Web API methods opsgate uses
(point `WebClient(base_url=api.base_url)` at it), records every call, serves response URLs, and
can be told to fail the next call of a method (a 429 with Retry-After, a 500, an error). File
uploads take Slack's external flow: `files.getUploadURLExternal` hands out a URL on this server,
the bytes POSTed there (recorded as method "upload") are kept in `uploads`, and
`files.completeUploadExternal` shares only files whose bytes arrived.
`signed_headers` signs a body the way Slack does, with the real algorithm.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT_USER_ID = "UOPSGATE"
TEAM_ID = "T0ACME"


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None,
                   content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


@dataclass(frozen=True)
class ApiCall:
    method: str  # "chat.postMessage", or "response_url" for posts to a response URL
    args: dict[str, Any]
    path: str = ""
    answer: dict[str, Any] = field(default_factory=dict)  # what the local API answered
    token: str = ""  # from the Authorization header


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class LocalSlackApi:
    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.usergroups: list[dict[str, Any]] = []  # what usergroups.list answers
        self.socket_url: str | None = None  # what apps.connections.open answers
        self.uploads: dict[str, bytes] = {}  # file id → the bytes POSTed to its upload URL
        # Channels and messages, for incident rooms: conversations.create refuses a name twice
        # (name_taken); conversations.replies/history read `messages` (chat.postMessage adds its own,
        # tests add people's with `add_message`); invites of `missing_users` fail one by one.
        self.channels: dict[str, str] = {}  # name → id
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) → message
        self.missing_users: set[str] = set()
        self._file_ids = itertools.count(1)
        self._failures: dict[str, list[_Failure]] = {}
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                api._answer(self, self.rfile.read(length))

            def do_GET(self) -> None:  # noqa: N802
                api._answer(self, b"")

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="local-slack-api", daemon=True)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> LocalSlackApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/respond/{name}"

    # -- scripting and inspection ---------------------------------------------------------------

    def fail_next(self, method: str, *, status: int = 200, error: str = "ratelimited",
                  headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self._failures.setdefault(method, []).append(_Failure(status, {"ok": False, "error": error}, headers or {}))

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, check: Callable[[], Any], timeout_s: float = 10.0) -> Any:
        """Poll until `check()` is truthy (bounded); returns its value or raises AssertionError."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.01)
        raise AssertionError(f"timed out after {timeout_s} s; calls so far: {[c.method for c in self.calls]}")

    # -- answering ------------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urlsplit(handler.path)
        if parts.path.startswith("/_count/"):  # for a LocalSlackApi in another process (benchmarks)
            self._send(handler, 200, {"count": len(self.calls_to(parts.path.removeprefix("/_count/")))})
            return
        if parts.path.startswith("/upload/"):  # the external upload flow's URL: raw bytes, not arguments
            self._receive_upload(handler, parts.path, body)
            return
        args = _arguments(body, handler.headers.get("Content-Type", ""), parts.query)
        if parts.path.startswith("/respond/"):
            method = "response_url"
        else:
            method = parts.path.removeprefix("/api/")
        with self._lock:
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
            answer = failure.body if failure is not None else self._result(method, args)
            token = (handler.headers.get("Authorization") or "").removeprefix("Bearer ")
            self.calls.append(ApiCall(method, args, parts.path, answer, token))
        if failure is not None:
            self._send(handler, failure.status, failure.body, failure.headers)
            return
        self._send(handler, 200, answer)

    def _result(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER_ID, "bot_id": "B0OPSGATE", "team_id": TEAM_ID,
                    "user": "opsgate", "team": "Acme", "url": "https://acme.slack.com/"}
        if method == "chat.postMessage":
            self.messages[(str(args.get("channel")), ts)] = {"ts": ts, "text": args.get("text", ""), "bot_id": "B0OPSGATE",
                                                         **({"thread_ts": args["thread_ts"]} if args.get("thread_ts") else {})}
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": {"ts": ts}}
        if method.startswith(("conversations.", "usergroups.users.")):
            return self._conversation_result(method, args)
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "usergroups.list":
            return {"ok": True, "usergroups": self.usergroups}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._file_ids):08d}"
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = args.get("files") or []
            if not files or any(f.get("id") not in self.uploads for f in files):
                return {"ok": False, "error": "invalid_arguments"}  # completing a file whose bytes never came
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
        return {"ok": True}

    def add_message(self, channel: str, text: str, user: str, *, thread_ts: str | None = None) -> str:
        """A message a person posted just now (for a 📌 on it); returns its ts (Slack's: the epoch time)."""
        with self._lock:
            ts = f"{time.time():.6f}"
            self.messages[(channel, ts)] = {"ts": ts, "text": text, "user": user,
                                            **({"thread_ts": thread_ts} if thread_ts else {})}
            return ts

    def _conversation_result(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if method == "conversations.create":
            name = str(args.get("name") or "")
            if name in self.channels:
                return {"ok": False, "error": "name_taken"}
            self.channels[name] = f"C{len(self.channels) + 1:04d}INC"
            return {"ok": True, "channel": {"id": self.channels[name], "name": name,
                                            "is_private": str(args.get("is_private")).lower() == "true"}}
        if method == "conversations.invite":
            users = [u for u in str(args.get("users") or "").split(",") if u]
            errors = [{"user": u, "ok": False, "error": "user_not_found"} for u in users if u in self.missing_users]
            return {"ok": True, "channel": {"id": channel}, **({"errors": errors} if errors else {})}
        if method == "usergroups.users.list":
            for group in self.usergroups:
                if group.get("id") == args.get("usergroup"):
                    return {"ok": True, "users": list(group.get("users") or [])}
            return {"ok": False, "error": "no_such_subteam"}
        if method in ("conversations.replies", "conversations.history"):
            low, high = float(args.get("oldest") or 0), float(args.get("latest") or 9e12)
            found = [m for (c, _), m in sorted(self.messages.items()) if c == channel and low <= float(m["ts"]) <= high
                     and (method == "conversations.history" or args.get("ts") in (m["ts"], m.get("thread_ts")))]
            if method == "conversations.replies" and not found:
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": found}
        return {"ok": True}

    def _receive_upload(self, handler: BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        """Step two of an external upload: the file's bytes POSTed to the URL step one gave out."""
        file_id = path.removeprefix("/upload/")
        with self._lock:
            queued = self._failures.get("upload")
            failure = queued.pop(0) if queued else None
            self.calls.append(ApiCall("upload", {"file_id": file_id, "length": len(body)}, path))
            if failure is None:
                self.uploads[file_id] = body
        if failure is not None:
            self._send(handler, failure.status, failure.body, failure.headers)
            return
        self._send(handler, 200, {"ok": True, "file_id": file_id, "length": len(body)})

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


def _arguments(body: bytes, content_type: str, query: str) -> dict[str, Any]:
    args: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
    if not body:
        return args
    if "json" in content_type:
        args.update(json.loads(body))
    else:
        args.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
    for key in ("blocks", "view", "files"):  # form-encoded calls carry these as JSON text
        if isinstance(args.get(key), str):
            args[key] = json.loads(args[key])
    return args
