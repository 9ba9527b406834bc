"""A platform that differs from our sandbox where the contract allows it to: the sandbox app
behind a middleware that rewrites its answers (extra fields, unknown enum values, missing
optional fields, calls that do not do what one might guess)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from reconciler.sandbox.app import create_app

# (method, path, query string, parsed JSON answer) -> the answer to send instead
Rewrite = Callable[[str, str, str, Any], Any]


class Rewriting:
    """ASGI middleware: each JSON answer passes through ``rewrite`` before it is sent."""

    def __init__(self, app: Any, rewrite: Rewrite) -> None:
        self.app = app
        self.rewrite = rewrite

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def buffered(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            if parsed is not None:
                query = scope.get("query_string", b"").decode()
                body = json.dumps(self.rewrite(scope["method"], scope["path"], query,
                                               parsed)).encode()
            headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)


def rewriting_transport(db: Path, rewrite: Rewrite) -> tuple[httpx.AsyncBaseTransport, Any]:
    """An in-process transport to a fresh sandbox whose answers ``rewrite`` changes, and the
    sandbox app itself (for its store)."""
    app = create_app(db, in_process=True)
    return httpx.ASGITransport(app=Rewriting(app, rewrite)), app
