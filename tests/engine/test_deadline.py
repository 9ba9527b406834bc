"""``--deadline`` on plan, apply and drift: the whole command, every call and wait, is bounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.sandbox.server import LoopbackServer

from .test_end_to_end import make_project, run


async def never_answers(request: Request) -> Response:
    await asyncio.sleep(30)
    return JSONResponse({})


@pytest.fixture
def silent_server() -> Iterator[LoopbackServer]:
    app = Starlette(routes=[Route("/{rest:path}", never_answers, methods=["GET", "POST"])])
    with LoopbackServer(app) as running:
        yield running


@pytest.fixture(autouse=True)
def sandbox_token(monkeypatch):
    monkeypatch.setenv("SANDBOX_TOKEN", "sandbox")


@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"], ["drift"]])
def test_deadline_bounds_the_whole_command(tmp_path, silent_server, command):
    project = make_project(tmp_path, silent_server)
    started = time.monotonic()
    result = run(project, *command, "--deadline", "1s")
    assert time.monotonic() - started < 4
    assert result.exit_code == 1, result.output
    assert "--deadline 1s" in result.stderr and "Traceback" not in result.output


def test_deadline_must_be_a_duration(tmp_path, silent_server):
    project = make_project(tmp_path, silent_server)
    result = run(project, "plan", "--deadline", "soon")
    assert result.exit_code != 0
    assert "expected a duration such as 90s, 10m or 1h, got 'soon'" in result.output
