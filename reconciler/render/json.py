"""Machine-readable plan, documented in docs/plan-json.md. Bump FORMAT_VERSION on any change
that is not a pure addition."""

from __future__ import annotations

from typing import Any

from reconciler import __version__
from reconciler.json_text import dumps
from reconciler.render.report import SUMMARY_ORDER, PlanReport, ResourceChange

FORMAT_VERSION = "1.2"


def plan_document(report: PlanReport) -> dict[str, Any]:
    """The plan as a JSON-ready dict (also the saved plan file written by ``plan --out``)."""
    counts = report.counts()
    plan = report.plan
    document = {
        "format_version": FORMAT_VERSION,
        "reconciler_version": __version__,
        "kind": report.title.lower(),
        "created_at": plan.created_at,
        "state": {"lineage": plan.state_lineage, "serial": plan.state_serial},
        "live_fingerprint": plan.live_fingerprint,
        "has_changes": plan.has_changes,
        "summary": {action.value: counts[action] for action in SUMMARY_ORDER},
        "resource_changes": [_change(change) for change in report.changes],
        "unmanaged": [
            {
                "address": str(rid),
                "provider": rid.provider,
                "kind": rid.kind,
                "name": rid.name,
                "remote_id": remote_id,
            }
            for rid, remote_id in report.unmanaged
        ],
    }
    if not plan.refreshed:
        document["refreshed"] = False  # plan --refresh=false: live state was not read
    if report.since:
        document["failed_runs_since"] = report.since
        document["failed_runs"] = [
            {
                "address": str(failure.id),
                "run_id": failure.run_id,
                "status": failure.status,
                "created_at": failure.created_at,
                "reason": failure.reason,
            }
            for failure in report.failed_runs
        ]
    return document


def render_json(report: PlanReport) -> str:
    """Indented, key-sorted JSON with a trailing newline."""
    return dumps(plan_document(report), what="the plan", indent=2, sort_keys=True,
                 default=str) + "\n"


def _change(change: ResourceChange) -> dict[str, Any]:
    return {
        "address": str(change.id),
        "provider": change.id.provider,
        "kind": change.id.kind,
        "name": change.id.name,
        "actions": [change.action.value],
        "reason": change.reason,
        "source": {"file": change.file, "line": change.line} if change.file else None,
        "before": change.before,
        "after": change.after,
        "changes": [
            {"path": list(c.path), "before": c.before, "after": c.after, "sensitive": c.sensitive}
            for c in change.changes
        ],
        "depends_on": [str(d) for d in change.depends_on],
        "steps": list(change.steps),
    }
