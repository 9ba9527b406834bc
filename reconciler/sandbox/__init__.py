"""The embedded sandbox: the four platforms' APIs as one ASGI app over SQLite.

(Implemented by the sandbox work; ``in_process_transport`` is the contract the registry uses.)
"""

from __future__ import annotations

from pathlib import Path

import httpx


def in_process_transport(db_path: Path | None) -> httpx.AsyncBaseTransport:
    """An httpx transport that serves requests from the sandbox app in this process."""
    raise NotImplementedError
