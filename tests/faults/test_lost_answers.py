"""Answers lost on the way back: the platform acted, reconciler never heard. A re-run must find
every such object, record it in state, and from then on manage it like any other."""

from __future__ import annotations

import httpx
import pytest

from tests.faults.conftest import (
    apply_in_process,
    assert_state_matches_platform,
    live_and_state,
    small_project,
)

pytestmark = pytest.mark.faults

READ_ONLY_POSTS = (":countConnectionUsage", ":traceConnectionUsage")


class DropAnswers(httpx.AsyncHTTPTransport):
    """Delivers every request; the answer of every ``every``-th change is lost after the
    server acted on it (a reset on the way back)."""

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every = every
        self.changes = 0
        self.dropped: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        path = request.url.path
        if request.method == "GET" or path.endswith(READ_ONLY_POSTS):
            return response
        self.changes += 1
        if self.changes % self.every:
            return response
        await response.aread()
        self.dropped.append(f"{request.method} {path}")
        raise httpx.ReadError("connection reset by peer")


def display_names(project_dir) -> list[str]:
    managed, unmanaged, _ = live_and_state(project_dir)
    return sorted(
        str(item.spec.get("display_name"))
        for item in [*managed.values(), *unmanaged]
        if item.id.provider == "studio" and item.id.kind == "Automation"
    )


@pytest.mark.parametrize("every", [2, 3])
def test_state_is_complete_after_lost_answers_and_a_rerun(tmp_path, sandbox_server, every):
    project = small_project(tmp_path / "project", sandbox_server.url)
    transport = DropAnswers(every)
    apply_in_process(project, transport)
    assert transport.dropped  # the trial did lose answers

    again = apply_in_process(project)
    assert again.ok, again.failed
    assert_state_matches_platform(project)
    assert apply_in_process(project).done == []  # converged: nothing left to do or record


def test_an_object_found_after_a_lost_answer_is_managed_like_any_other(tmp_path, sandbox_server):
    project = small_project(tmp_path / "project", sandbox_server.url)
    apply_in_process(project, DropAnswers(2))
    assert apply_in_process(project).ok

    world = project / "manifests" / "world.yaml"
    world.write_text(world.read_text().replace("display_name: Auto 0,", "display_name: Auto 0b,"))
    renamed = apply_in_process(project)
    assert renamed.ok, renamed.failed
    assert display_names(project) == ["Auto 0b", "Auto 1", "Auto 2", "Auto 3"]

    # remove the other workspace automations' documents: each goes from the platform too
    kept = [d for d in world.read_text().split("---\n") if "auto-0" in d or "growth" in d]
    world.write_text("---\n".join(kept))
    removed = apply_in_process(project)
    assert removed.ok, removed.failed
    assert display_names(project) == ["Auto 0b"]
    assert_state_matches_platform(project)
