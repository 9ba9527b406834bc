"""Read a plan document (``plan --out``, ``--format json``) back into the view renderers read.

``reconciler show PLANFILE`` renders a saved plan in any format without reading live state or
the manifests: everything shown is in the file, secrets already masked when it was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import PlanError
from reconciler.model import (
    Action,
    Change,
    LiveResource,
    Operation,
    Plan,
    Reason,
    ResourceId,
    RunFailure,
)
from reconciler.render.json import FORMAT_VERSION
from reconciler.render.report import PlanReport, ResourceChange


def report_from_document(document: Any, source: str) -> PlanReport:
    """The report a plan document was rendered from; PlanError when it is not one."""
    if not isinstance(document, Mapping) or "resource_changes" not in document:
        raise PlanError(f"{source}: not a plan written by `reconciler plan --out`")
    version = str(document.get("format_version", ""))
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise PlanError(
            f"{source}: plan format {version or '(none)'} is not readable by this version "
            f"(format {FORMAT_VERSION}); make the plan again with this reconciler"
        )
    try:
        return _report(document)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanError(
            f"{source}: the saved plan is damaged ({type(exc).__name__}: {exc})"
        ) from None


def _report(document: Mapping[str, Any]) -> PlanReport:
    changes = tuple(_change(item) for item in document["resource_changes"])
    unmanaged = tuple(
        (ResourceId.parse(item["address"]), str(item["remote_id"]))
        for item in document.get("unmanaged") or ()
    )
    state = document.get("state") or {}
    plan = Plan(
        operations=tuple(
            Operation(c.action, c.id, None, None, c.changes, c.depends_on, c.steps,
                      c.reason if isinstance(c.reason, Reason) else Reason.NONE)
            for c in changes
        ),
        unmanaged=tuple(
            LiveResource(rid, remote_id, {}, managed=False) for rid, remote_id in unmanaged
        ),
        state_serial=int(state.get("serial") or 0),
        state_lineage=str(state.get("lineage") or ""),
        live_fingerprint=str(document.get("live_fingerprint") or ""),
        created_at=str(document.get("created_at") or ""),
        refreshed=document.get("refreshed") is not False,
    )
    failed = tuple(
        RunFailure(
            ResourceId.parse(item["address"]),
            str(item["run_id"]),
            str(item["status"]),
            str(item["created_at"]),
            str(item.get("reason") or ""),
        )
        for item in document.get("failed_runs") or ()
    )
    title = str(document.get("kind") or "plan").capitalize()
    since = str(document.get("failed_runs_since") or "")
    return PlanReport(changes, unmanaged, plan, title, failed, since)


def _change(item: Mapping[str, Any]) -> ResourceChange:
    source = item.get("source") or {}
    return ResourceChange(
        id=ResourceId.parse(item["address"]),
        action=Action(item["actions"][0]),
        reason=_reason(str(item.get("reason") or "")),
        file=str(source.get("file") or ""),
        line=int(source.get("line") or 0),
        changes=tuple(
            Change(tuple(c["path"]), c.get("before"), c.get("after"), bool(c.get("sensitive")))
            for c in item.get("changes") or ()
        ),
        before=item.get("before"),
        after=item.get("after"),
        steps=tuple(str(step) for step in item.get("steps") or ()),
        depends_on=tuple(ResourceId.parse(d) for d in item.get("depends_on") or ()),
    )


def _reason(text: str) -> Reason | str:
    """The planner's reason, or the text as written: a plan saved by another version of
    reconciler may carry a reason this one does not know, and is still shown."""
    try:
        return Reason(text)
    except ValueError:
        return text
