"""The fault suite: a small project against the loopback sandbox, and the comparison of what
state records with what the platform holds, entry by entry.

Every module here is marked ``faults`` (``pytest -m faults`` runs only them; CI runs all).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import anyio
import httpx
import pytest

from reconciler.apply import ApplyOutcome, StateRecorder, execute_plan
from reconciler.config import load_project
from reconciler.engine import Engine, load_desired, rules_for, state_backend

AUTOMATIONS = 4  # workspace automations; each of the first two has a schedule and a trigger


@pytest.fixture(autouse=True)
def sandbox_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_TOKEN", "sandbox")
    monkeypatch.setenv("NO_COLOR", "1")


def small_project(folder: Path, url: str) -> Path:
    """A project of four workspace automations (two with a schedule and a trigger) and two
    Outlit automations: small enough for many trials, every kind of create in it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reconciler.yaml").write_text(
        "version: 1\n"
        "manifests: [manifests/]\n"
        "providers:\n"
        "  studio:\n"
        "    type: workspace\n"
        f"    base_url: {url}\n"
        "    token: ${env:SANDBOX_TOKEN}\n"
        "    organization_id: org_demo\n"
        "    workspace_id: ws_ops\n"
        "    max_retries: 1\n"
        "  growth:\n"
        "    type: outlit\n"
        f"    base_url: {url}\n"
        "    token: ${env:SANDBOX_TOKEN}\n"
        "    max_retries: 1\n"
    )
    manifests = folder / "manifests"
    manifests.mkdir(exist_ok=True)
    documents = []
    for i in range(AUTOMATIONS):
        documents.append(
            "kind: Automation\n"
            f"metadata: {{name: auto-{i}, provider: studio}}\n"
            f"spec: {{display_name: Auto {i}, code: 'def run(inputs, tools): return {i}'}}\n"
        )
    for i in range(2):
        documents.append(
            "kind: Schedule\n"
            f"metadata: {{name: auto-{i}, provider: studio}}\n"
            f"spec: {{automation: auto-{i}, cron: '0 {i + 1} * * *'}}\n"
        )
        documents.append(
            "kind: Trigger\n"
            f"metadata: {{name: hook-{i}, provider: studio}}\n"
            f"spec: {{automation: auto-{i}, phase: main, type: webhook}}\n"
        )
    for i in range(2):
        documents.append(
            "kind: Automation\n"
            f"metadata: {{name: nudge-{i}, provider: growth}}\n"
            f"spec: {{name: Nudge {i}, trigger: {{type: signal, signal: trial-expiring}},\n"
            "       signals: [trial-expiring], destinations: [slack-growth]}\n"
        )
    text = "---\n".join("apiVersion: reconciler/v1\n" + d for d in documents)
    (manifests / "world.yaml").write_text(text)
    return folder


def live_and_state(project_dir: Path):
    """(managed live objects by identity, unmanaged live objects, state) as reconciler sees them."""
    project = load_project(project_dir)
    state = state_backend(project).read()

    async def read():
        async with Engine(project) as engine:
            return await engine.read_live(load_desired(project), state)

    live = anyio.run(read)
    managed = {item.id: item for item in live if item.managed}
    return managed, [item for item in live if not item.managed], state


def assert_state_matches_platform(project_dir: Path) -> None:
    """Every desired resource exists once on the platform and state records it under the
    remote id the platform has, entry by entry; nothing is left unmanaged or doubled."""
    project = load_project(project_dir)
    desired = {r.id for r in load_desired(project) if r.id.kind != "Check"}
    managed, unmanaged, state = live_and_state(project_dir)
    assert unmanaged == [], [str(item.id) for item in unmanaged]
    assert set(managed) == desired, sorted(map(str, desired ^ set(managed)))
    recorded = {rid: entry.remote_id for rid, entry in state.entries.items()}
    platform = {rid: item.remote_id for rid, item in managed.items()}
    assert recorded == platform
    keys = Counter((item.id.provider, item.id.kind, item.id.name) for item in managed.values())
    assert max(keys.values()) == 1


def apply_in_process(project_dir: Path, transport: httpx.AsyncBaseTransport | None = None,
                     parallelism: int = 4) -> ApplyOutcome:
    """``apply --auto-approve`` through the engine, every provider over ``transport``."""
    project = load_project(project_dir)
    backend = state_backend(project)

    async def work() -> ApplyOutcome:
        transport_for = (lambda _name: transport) if transport is not None else None
        async with Engine(project, transport_for=transport_for) as engine:
            assessment = await engine.assess(backend.read())
            recorder = StateRecorder(assessment.state, backend, rules_for)
            recorder.forget(assessment.forget)
            plan = assessment.plan
            providers = {op.id.provider: engine.provider(op.id.provider)
                         for op in plan.operations}
            return await execute_plan(plan, providers, assessment.desired, recorder,
                                      parallelism=parallelism)

    with backend.lock(0):
        return anyio.run(work)
