"""Datallog checks: started through the real start-automation call of the loopback sandbox."""

from __future__ import annotations

import json

import pytest

from reconciler.config import load_project
from reconciler.model import ExecutionContext, Resource, ResourceId, SourcePosition
from reconciler.providers.registry import open_provider
from reconciler.sandbox.store import Store
from tests.runs.conftest import WEBHOOK_SECRET


def datallog_check(runs_project, name: str, spec: str) -> None:
    runs_project.write_manifest(
        f"{name}.yaml",
        f"""\
        apiVersion: reconciler/v1
        kind: Check
        metadata: {{name: {name}, provider: etl}}
        spec: {spec}
        """,
    )


def test_check_passes_when_datallog_returns_an_execution_id(runs_project, sandbox_server):
    datallog_check(
        runs_project,
        "load-smoke",
        f"""
          project: analytics
          automation: daily-load
          seed: {{day: "2026-11-23"}}
          webhook:
            url: https://hooks.example.com/datallog
            headers: {{Authorization: "Bearer {WEBHOOK_SECRET}"}}
        """,
    )
    result = runs_project.cli("check", "load-smoke")
    assert result.exit_code == 0, result.output
    assert "passed" in result.stdout
    assert "Automation daily-load started successfully." in result.stdout
    assert WEBHOOK_SECRET not in result.output

    as_json = runs_project.cli("check", "etl/Check/load-smoke", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    (item,) = json.loads(as_json.stdout)
    assert item["passed"] and item["id"] == "etl/Check/load-smoke"
    assert WEBHOOK_SECRET not in as_json.output

    # the body really carried the seed and the webhook with its header
    store = Store(sandbox_server.db_path)
    try:
        execution = store.get("datallog_execution", item["run"]["run_id"])
    finally:
        store.close()
    assert execution["seed"] == {"day": "2026-11-23"}
    assert execution["webhook"] == {
        "url": "https://hooks.example.com/datallog",
        "webhook_header": {"Authorization": f"Bearer {WEBHOOK_SECRET}"},
    }
    paths = [r.path for r in sandbox_server.requests() if r.method == "POST"]
    assert paths == ["/api/start-automation/{project_name}/{automation_name}"] * 2


@pytest.mark.parametrize(
    ("project", "automation", "seed", "status", "message"),
    [
        ("nowhere", "daily-load", {}, 403, "This Project does not exist. consult API"),
        ("analytics", "nothing", {}, 403, "This Automation does not exist. consult API"),
        ("dormant", "daily-load", {}, 400, "Project dormant is inactive"),
        ("analytics", "legacy-export", {}, 400, "Automation legacy-export is disabled"),
        ("analytics", "daily-load", {"plan": "none"}, 400, "User doesn't have an active plan"),
        ("analytics", "daily-load", {"balance": "insufficient"}, 400, "Insufficient balance"),
    ],
)
def test_every_refusal_reaches_the_user_word_for_word(
    runs_project, project, automation, seed, status, message
):
    datallog_check(
        runs_project,
        "refused",
        json.dumps({"project": project, "automation": automation, "seed": seed}),
    )
    result = runs_project.cli("check")
    assert result.exit_code == 1
    assert message in result.stdout
    assert str(status) in result.stdout
    assert "1 of 1 check(s) failed" in result.stderr


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("seed", "{not json", "Invalid seed JSON format"),
        ("webhook", '{"url": ', "Invalid webhook JSON format"),
    ],
)
async def test_invalid_json_strings_are_refused_with_the_platform_message(
    runs_project, field, value, message
):
    """Seed and webhook may be JSON strings on the wire; the platform validates them."""
    from reconciler.checks import run_check

    provider = open_provider(load_project(runs_project.root).providers["etl"])
    check = Resource(
        ResourceId("etl", "Check", "raw"),
        "datallog",
        {"project": "analytics", "automation": "daily-load", field: value, "timeout": "5s"},
        SourcePosition("manifests/raw.yaml", 1, 1),
    )
    try:
        result = await run_check(provider, check, ExecutionContext({}, {}))
    finally:
        await provider.aclose()
    assert not result.passed
    assert message in result.message


def test_webhook_headers_stay_out_of_plan_apply_output_and_state(runs_project):
    datallog_check(
        runs_project,
        "hooked",
        f"""
          project: analytics
          automation: daily-load
          webhook:
            url: https://hooks.example.com/datallog
            headers: {{X-Hook-Token: "{WEBHOOK_SECRET}"}}
        """,
    )
    plan = runs_project.cli("plan", "--format", "json")
    applied = runs_project.cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "check etl/Check/hooked passed" in applied.output
    state = (runs_project.root / ".reconciler" / "state.json").read_text()
    for text in (plan.output, applied.output, state):
        assert WEBHOOK_SECRET not in text


def test_webhook_header_references_resolve_only_when_the_request_is_sent(
    runs_project, sandbox_server, monkeypatch
):
    monkeypatch.setenv("HOOK_TOKEN", "resolved-hook-value-91c2")
    datallog_check(
        runs_project,
        "by-reference",
        """
          project: analytics
          automation: daily-load
          webhook:
            url: https://hooks.example.com/datallog
            headers: {X-Hook-Token: "${env:HOOK_TOKEN}"}
        """,
    )
    plan = runs_project.cli("plan", "--format", "json", "--out", "saved.json")
    applied = runs_project.cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    state = (runs_project.root / ".reconciler" / "state.json").read_text()
    saved = (runs_project.root / "saved.json").read_text()  # --out is relative to -C DIR
    for text in (plan.output, applied.output, state, saved):
        assert "resolved-hook-value-91c2" not in text

    store = Store(sandbox_server.db_path)
    try:
        (execution,) = [
            row for row in store.all("datallog_execution") if row["automation"] == "daily-load"
        ]
    finally:
        store.close()
    assert execution["webhook"]["webhook_header"] == {"X-Hook-Token": "resolved-hook-value-91c2"}


def test_a_missing_webhook_variable_fails_the_check_naming_it(runs_project, monkeypatch):
    monkeypatch.delenv("HOOK_TOKEN", raising=False)
    datallog_check(
        runs_project,
        "unset",
        """
          project: analytics
          automation: daily-load
          webhook: {url: "https://h.example.com/d", headers: {X-Hook-Token: "${env:HOOK_TOKEN}"}}
        """,
    )
    result = runs_project.cli("check", "unset")
    assert result.exit_code == 1
    assert "HOOK_TOKEN" in result.output and "manifests/unset.yaml" in result.output
    assert "Traceback" not in result.output
