"""One PostgreSQL server for the whole session; each test gets its own database."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .pg_server import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        if os.environ.get("CI") == "true":  # CI must run these: fail loudly, never skip
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL state tests need a local server: {exc}")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty database on the session's server."""
    return postgres_server.create_database()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
