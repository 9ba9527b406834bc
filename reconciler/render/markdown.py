"""Markdown for a pull request comment: a summary line, the plan in a collapsible block.

GitHub refuses comments over 65,536 characters, so the body is cut below ``LIMIT`` with a notice
saying how much was left out and how to see all of it.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.render.report import NOT_REFRESHED, PlanReport
from reconciler.render.text import render_text

LIMIT = 65_000
HEADER = "### reconciler {title}\n\n"


def render_markdown(report: PlanReport, limit: int = LIMIT) -> str:
    """A PR-comment body that always fits under ``limit`` characters."""
    title = report.title.lower()
    head = HEADER.format(title=title)
    if not report.plan.refreshed:
        head += f"> {NOT_REFRESHED}\n\n"
    runs = _failed_runs(report)
    if not report.changes:
        lead, rest = report.no_changes.split(". ", 1)  # "No changes", what was compared
        body = head + f"**{lead}.** {rest}\n"
        if report.unmanaged:
            body += f"\n{len(report.unmanaged)} unmanaged object(s) found live (never touched).\n"
        return body + runs
    limit -= len(runs)
    head += f"**{report.summary()}**\n\n"
    opening = f"<details><summary>Show {len(report.changes)} operation(s)</summary>\n\n```diff\n"
    closing = "```\n\n</details>\n"
    shown = replace(report, failed_runs=(), plan=replace(report.plan, refreshed=True))
    plan_text = _diff_coloured(render_text(shown, color=False))  # the note is in the head
    room = limit - len(head) - len(opening) - len(closing) - 200
    if len(plan_text) > room:
        cut = plan_text[:room].rsplit("\n", 1)[0] + "\n"
        left = len(plan_text) - len(cut)
        notice = (
            f"\n> Output truncated: {left} more characters not shown. "
            "Run `reconciler plan` to see the full plan.\n"
        )
        return head + opening + cut + closing + notice + runs
    return head + opening + plan_text + closing + runs


def _failed_runs(report: PlanReport) -> str:
    """A short list of failed runs (drift reports), at most twenty lines."""
    if not report.failed_runs:
        return ""
    shown = [f"- `{failure.describe()}`" for failure in report.failed_runs[:20]]
    more = len(report.failed_runs) - len(shown)
    if more:
        shown.append(f"- … and {more} more (`reconciler runs list --status failed`)")
    return f"\n**{report.failed_runs_heading()}**\n\n" + "\n".join(shown) + "\n"


# GitHub colours a ```diff block by each line's first character: + green, - red, ! orange.
_MARKS = (
    ("-/+ ", "!"),
    ("+ ", "+"),
    ("- ", "-"),
    ("~ ", "!"),
    ("> ", "!"),
    ("< ", "!"),
    ("^ ", "!"),
)


def _diff_coloured(text: str) -> str:
    """Move each line's change symbol to column 0 so a ```diff block colours it."""
    lines = []
    for line in text.splitlines():
        body = line.lstrip(" ")
        indent = line[: len(line) - len(body)]
        mark = next((m for prefix, m in _MARKS if body.startswith(prefix)), None)
        lines.append(f"{mark}{indent[1:]}{body}" if mark and indent else line)
    return "\n".join(lines) + "\n"
