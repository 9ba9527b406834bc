"""Run health: last run per automation and failed runs within a window, from automation-runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.config import load_project
from reconciler.health import failed_runs_since, last_runs, parse_since
from reconciler.model import ResourceId
from reconciler.providers.registry import open_provider

DIGEST = ResourceId("studio", "Automation", "digest")
REPORT = ResourceId("studio", "Automation", "report")


def ago(**delta: float) -> str:
    moment = datetime.now(UTC) - timedelta(**delta)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


@pytest.fixture
def history(seed_runs):
    seed_runs(
        {
            "automationId": "a-digest",
            "status": "failed",
            "createdAt": ago(hours=1),
            "error": "quota exceeded",
        },
        {"automationId": "a-digest", "status": "failed", "createdAt": ago(days=3)},
        {"automationId": "a-digest", "status": "succeeded", "createdAt": ago(hours=5)},
        {"automationId": "a-report", "status": "succeeded", "createdAt": ago(minutes=5)},
        {"automationId": "not-ours", "status": "failed", "createdAt": ago(minutes=1)},
    )


@pytest.fixture
async def runs_api(runs_project):
    provider = open_provider(load_project(runs_project.root).providers["runs"])
    yield provider
    await provider.aclose()


MANAGED = {"a-digest": DIGEST, "a-report": REPORT}


@pytest.mark.anyio
async def test_failed_runs_within_the_window_of_managed_automations_only(history, runs_api):
    found = await failed_runs_since(runs_api, MANAGED, timedelta(hours=24))
    assert [(f.id, f.status) for f in found] == [(DIGEST, "failed")]
    assert "quota exceeded" in found[0].describe()
    assert found[0].to_json()["id"] == "studio/Automation/digest"

    week = await failed_runs_since(runs_api, MANAGED, parse_since("7d"))
    assert len(week) == 2 and week[0].created_at < week[1].created_at


@pytest.mark.anyio
async def test_last_run_of_each_managed_automation(history, runs_api):
    newest = await last_runs(runs_api, MANAGED)
    assert newest[DIGEST].status == "failed"
    assert newest[REPORT].status == "succeeded"


@pytest.mark.anyio
async def test_paging_reads_past_the_first_page(history, runs_api):
    seen = [run.id async for run in runs_api.iter_runs(page_size=2)]
    assert len(seen) == len(set(seen)) == 5


def test_since_accepts_hours_minutes_and_days():
    assert parse_since("24h") == timedelta(hours=24)
    assert parse_since("90m") == timedelta(minutes=90)
    assert parse_since("7d") == timedelta(days=7)


@pytest.mark.anyio
async def test_a_failed_run_is_the_same_noun_the_drift_report_renders(history, runs_api):
    from reconciler.model import RunFailure
    from reconciler.render.report import RunFailure as Rendered

    (found,) = await failed_runs_since(runs_api, MANAGED, timedelta(hours=24))
    assert Rendered is RunFailure and isinstance(found, RunFailure)
    assert found.reason == "quota exceeded"  # the platform's error, already one line


@pytest.mark.anyio
async def test_the_failed_statuses_are_the_ones_the_provider_declares(seed_runs, runs_api,
                                                                     monkeypatch):
    seed_runs(
        {"automationId": "a-digest", "status": "failed", "createdAt": ago(hours=2)},
        {"automationId": "a-report", "status": "cancelled", "createdAt": ago(hours=1)},
        {"automationId": "a-report", "status": "succeeded", "createdAt": ago(minutes=9)},
    )
    assert [f.status for f in await failed_runs_since(runs_api, MANAGED)] == ["failed"]
    # a platform that counts a cancelled run as failed says so; run health asks for both
    monkeypatch.setattr(runs_api, "failed_statuses", lambda: ("failed", "cancelled"))
    found = await failed_runs_since(runs_api, MANAGED)
    assert [(f.id, f.status) for f in found] == [(DIGEST, "failed"), (REPORT, "cancelled")]
