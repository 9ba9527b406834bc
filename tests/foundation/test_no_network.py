"""Loading and validating never open a network connection: the invariant, as a test."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from reconciler import config, manifest

from .helpers import QUICKSTART, run_cli

EXAMPLES = sorted(p.parent for p in (QUICKSTART.parent).glob("*/reconciler.yaml"))


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Make every socket connection, name lookup and raw socket creation fail loudly."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise NetworkUsed(f"network used: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_loading_and_validating_an_example_opens_no_connection(
    example: Path, no_network: list[object]
) -> None:
    project = config.load_project(example)
    manifest.load_resources(project)
    result = run_cli("-C", str(example), "validate")
    assert result.exit_code == 0, result.output
    assert no_network == []


def test_the_guard_catches_a_connection(no_network: list[object]) -> None:
    with pytest.raises(NetworkUsed):
        socket.create_connection(("127.0.0.1", 9))
