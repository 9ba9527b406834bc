"""Serve the sandbox on 127.0.0.1 with uvicorn: in the foreground (``sandbox serve``) or in a
background thread (tests and benchmarks), plus a small client for the admin routes.
"""

from __future__ import annotations

import functools
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple, Self

import httpx
import uvicorn

from reconciler import contract
from reconciler.sandbox.app import create_app
from reconciler.sandbox.faults import Faults


class LoggedRequest(NamedTuple):
    """One entry of the request log."""

    method: str
    path: str  # the route template, e.g. /api/v1/.../automations/{automation_id}:publish
    status: int  # 0 when the connection was dropped by an injected reset


def bind_loopback(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0 picks a free one, without a race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted sockets inherit this; without it small responses wait ~40 ms for delayed ACKs
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    return sock


def run_server(sock: socket.socket, db_path: Path, faults: Faults | None = None,
               log_level: str = "warning") -> None:
    """Serve on an already bound socket until interrupted (the ``sandbox serve`` command)."""
    app = create_app(db_path, faults=faults)
    config = uvicorn.Config(app, log_level=log_level, lifespan="off",
                            timeout_graceful_shutdown=2)
    uvicorn.Server(config).run(sockets=[sock])


def loopback_client(**options: Any) -> httpx.Client:
    """An httpx client for a loopback server, sharing one TLS context per process.

    httpx loads the CA bundle into a new TLS context for every client, plain HTTP or not
    (about 20 ms): servers and tests that make a client each would spend most of their time
    there.
    """
    return httpx.Client(verify=_tls(), **options)


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


class LoopbackServer:
    """An ASGI app served by uvicorn on a free loopback port in a background thread."""

    def __init__(self, app: Any, name: str = "server") -> None:
        self.app = app
        self._socket = bind_loopback()
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="critical", lifespan="off",
                                timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"{name}-{self.port}", daemon=True)

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{self._thread.name} did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SandboxServer(LoopbackServer):
    """The sandbox on a free loopback port in a background thread, with admin helpers."""

    def __init__(self, db_path: Path, faults: Faults | None = None) -> None:
        self.db_path = Path(db_path)
        contract.import_checks()  # before the server's thread starts checking requests
        super().__init__(create_app(self.db_path, faults=faults), name="sandbox")
        self._admin = loopback_client(base_url=self.url, timeout=10.0)

    def stop(self) -> None:
        super().stop()
        self._admin.close()
        self.app.state.store.close()

    # admin helpers -------------------------------------------------------------------------

    def admin(self, method: str, path: str, json: Any = None) -> httpx.Response:
        """Call an admin route (``path`` below ``/_sandbox``); raises on an error answer."""
        response = self._admin.request(method, f"/_sandbox/{path.lstrip('/')}", json=json)
        if response.status_code >= 400:
            raise ValueError(response.json().get("error", response.text))
        return response

    def requests(self, since: int = 0) -> list[LoggedRequest]:
        """Platform requests served (from entry ``since`` on): (method, path template, status)."""
        entries = self.admin("GET", f"requests?since={since}").json()["requests"]
        return [LoggedRequest(e["method"], e["path"], e["status"]) for e in entries]

    def clear_requests(self) -> None:
        self.admin("DELETE", "requests")

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Replace the faults (see reconciler.sandbox.faults.Faults for the names)."""
        return self.admin("PUT", "faults", json=settings).json()["faults"]

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def edit(self, target: str, key: str, *, delete: bool = False, bump_version: bool = False,
             **fields: Any) -> dict[str, Any]:
        """An out-of-band edit, e.g. ``edit("workspace.schedule", "nightly", enabled=False)``."""
        body = {"target": target, "key": key, "set": fields, "delete": delete,
                "bump_version": bump_version}
        return self.admin("POST", "edit", json=body).json()["edited"]

    def seed(self, world: dict[str, Any]) -> dict[str, int]:
        """Add a world document's objects (see reconciler.sandbox.world)."""
        return self.admin("POST", "seed", json=world).json()["added"]

    def set_settings(self, **values: Any) -> dict[str, Any]:
        """Change world settings (see reconciler.sandbox.settings), e.g.
        ``set_settings(first_publish_activation="unspecified")``."""
        return self.admin("PUT", "settings", json=values).json()["settings"]

    def violations(self) -> list[dict[str, Any]]:
        """The contract violations this sandbox recorded (see reconciler.sandbox.strict)."""
        return list(self.admin("GET", "violations").json()["violations"])

    def take_violations(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The violations recorded (of one kind), forgotten at once: for tests that provoke
        them on purpose."""
        query = f"?kind={kind}" if kind else ""
        return list(self.admin("DELETE", f"violations{query}").json()["violations"])

    def reset(self) -> None:
        """Default world and settings, no faults, empty request log."""
        self.admin("POST", "reset")
        self.clear_faults()
        self.clear_requests()
