"""A drift report in every format: two labelled groups (changed on the platforms; changed in
git and not yet applied), then unmanaged objects and failed runs. Renderers decide nothing: what
counts as drift and the exit code come with the report."""

from __future__ import annotations

from typing import Any

from reconciler.json_text import dumps
from reconciler.render.github import annotation
from reconciler.render.json import plan_document
from reconciler.render.markdown import (
    LIMIT,
    NOTICE_ROOM,
    by_provider,
    failed_runs_section,
    joined,
    sections_within,
    size,
    truncation_notice,
    unmanaged_section,
)
from reconciler.render.report import (
    DRIFT_HEADING,
    NO_DRIFT,
    PLATFORM_HEADING,
    REMEDIES,
    UNAPPLIED_HEADING,
    DriftReport,
    ResourceChange,
)
from reconciler.render.text import render_extras, render_operations


def found(change: ResourceChange) -> str:
    """A report's comment on a difference: where it comes from and what apply would do."""
    why = f" ({change.reason})" if change.reason else ""
    return f"{change.id}{why}: apply would {REMEDIES[change.action]}"


def _groups(report: DriftReport) -> list[tuple[str, str, tuple[ResourceChange, ...]]]:
    """(heading, note, changes) for both groups, always both, in this order."""
    return [
        (PLATFORM_HEADING, "", report.platform),
        (UNAPPLIED_HEADING, report.unapplied_note(), report.unapplied),
    ]


def drift_text(report: DriftReport, color: bool = False) -> str:
    """The report for a terminal or a CI log."""
    lines = [DRIFT_HEADING, ""]
    for heading, note, changes in _groups(report):
        tail = f" ({note})" if note and changes else ""
        lines.append(f"{heading}: {len(changes) or 'none'}{tail}")
        if changes:
            lines.append("")
            lines.append(render_operations(changes, color, describe=found))
        else:
            lines.append("")
    lines.append(report.summary() if report.platform or report.unapplied else NO_DRIFT)
    lines.extend(render_extras(report.listed))  # unmanaged objects and failed runs
    return "\n".join(lines) + "\n"


def drift_markdown(report: DriftReport, limit: int = LIMIT) -> str:
    """A job summary or issue body that always fits under ``limit``."""
    head = "### reconciler drift\n"
    lead = report.summary() if report.platform or report.unapplied else NO_DRIFT
    extras = (unmanaged_section(report.listed), failed_runs_section(report.listed))
    tail = [part for part in extras if part]
    parts = [head, f"**{lead}** Nothing was changed.\n"]
    budget = limit - size(joined([*parts, *tail])) - NOTICE_ROOM
    left_out = 0
    for heading, note, changes in _groups(report):
        tail_note = f" ({note})" if note and changes else ""
        title = f"**{heading}: {len(changes) or 'none'}**{tail_note}\n"
        parts.append(title)
        budget -= size(title) + 1
        if not changes:
            continue
        if left_out:  # the first group already filled the body
            left_out += size(render_operations(changes, describe=found))
            continue
        sections, cut = sections_within(by_provider(changes), budget, describe=found)
        parts.extend(sections)
        budget -= sum(size(s) + 1 for s in sections)
        left_out += cut
    notice = [truncation_notice(left_out, "", "report")] if left_out else []
    return joined([*parts, *notice, *tail])


def drift_document(report: DriftReport) -> dict[str, Any]:
    """The plan document with ``"kind": "drift"``, plus (format 1.2) each change's ``group``
    and a ``drift`` object saying what counted towards the exit code."""
    document = plan_document(report.listed)
    groups = ["platform"] * len(report.platform) + ["unapplied"] * len(report.unapplied)
    for change, group in zip(document["resource_changes"], groups, strict=True):
        change["group"] = group
    document["drift"] = {
        "drifted": report.drifted,
        "platform": len(report.platform),
        "unapplied": len(report.unapplied),
        "include_unapplied": report.include_unapplied,
    }
    return document


def drift_json(report: DriftReport) -> str:
    """Indented, key-sorted JSON with a trailing newline."""
    return dumps(drift_document(report), what="the drift report", indent=2, sort_keys=True,
                 default=str) + "\n"


def drift_github(report: DriftReport, base: str = "") -> tuple[str, str]:
    """(stdout: annotations then the text report, markdown for the step summary): a warning
    per platform drift, a notice per change not yet applied, a warning per failed run."""
    lines = []
    for level, label, changes in (
        ("warning", "drift", report.platform),
        ("notice", "not yet applied", report.unapplied),
    ):
        for change in changes:
            fields = ", ".join(c.dotted for c in change.changes[:10])
            message = found(change) + (f"; fields: {fields}" if fields else "")
            file = f"{base}/{change.file}" if base and change.file else change.file
            lines.append(annotation(level, f"reconciler {label}", message, file, change.line))
    for failure in report.listed.failed_runs:
        lines.append(annotation("warning", "reconciler failed run", failure.describe()))
    text = "\n".join(lines) + ("\n" if lines else "") + drift_text(report)
    return text, drift_markdown(report)
