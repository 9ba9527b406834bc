"""The embedded sandbox: the four platforms' APIs as one ASGI app over SQLite.

``in_process_transport`` is what ``base_url: sandbox`` uses (no port); ``reconciler sandbox
serve`` serves the same app on 127.0.0.1 (see docs/sandbox.md).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from reconciler.config import DEFAULT_SANDBOX_DB

_APPS: dict[Path, object] = {}


class _InProcessTransport(httpx.ASGITransport):
    """ASGITransport that turns an injected connection reset into the error a socket gives."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionResetError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc


def app_for(db_path: Path):
    """One app (and SQLite connection) per db file in this process, so the request log and
    faults are shared by every transport opened on it."""
    from reconciler.sandbox.app import create_app

    key = Path(db_path).absolute()
    if key not in _APPS:
        _APPS[key] = create_app(key, in_process=True)
    return _APPS[key]


def in_process_transport(db_path: Path | None) -> httpx.AsyncBaseTransport:
    """An httpx transport that serves requests from the sandbox app in this process.

    ``db_path`` None means ``.reconciler/sandbox.db`` under the current folder. A new db starts
    with the default world.
    """
    return _InProcessTransport(app=app_for(Path(db_path or DEFAULT_SANDBOX_DB)))
