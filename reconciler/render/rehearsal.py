"""A rehearsal's verdicts in every output format, shown after the plan they rehearse.

Each ``rehearsal_<format>`` turns the one view (``RehearsalView``) into text; the command puts it
after the plan in the same format (a ``rehearsal`` key in JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from reconciler.model import ResourceId
from reconciler.rehearse import Rehearsal, Verdict
from reconciler.render.report import PlanReport

COLOURS = {
    Verdict.SUCCEEDS: "green",
    Verdict.FAILS: "red",
    Verdict.BLOCKED: "yellow",
    Verdict.NOT_REHEARSED: "blue",
}
WIDTH = max(len(v.value) for v in Verdict)


@dataclass(frozen=True)
class VerdictLine:
    """One operation's verdict, placed at the manifest line of its resource."""

    id: ResourceId
    action: str
    verdict: Verdict
    detail: str
    blocked_by: ResourceId | None
    file: str
    line: int


@dataclass(frozen=True)
class RehearsalView:
    """What the renderers read of a rehearsal."""

    lines: tuple[VerdictLine, ...]
    ok: bool
    converged: bool | None
    leftover: tuple[tuple[ResourceId, str], ...]  # (id, action) a re-plan still wanted
    not_rehearsed: tuple[str, ...]
    notes: tuple[str, ...]

    def count(self, verdict: Verdict) -> int:
        return sum(1 for line in self.lines if line.verdict is verdict)

    def summary(self) -> str:
        """``Rehearsal passed: 5 would succeed, 0 would fail, 0 blocked, 1 not rehearsed.``"""
        word = "passed" if self.ok else "failed"
        counts = ", ".join(f"{self.count(v)} {v.value}" for v in Verdict)
        return f"Rehearsal {word}: {counts}."

    def convergence(self) -> str:
        if self.converged is None:
            return "Convergence was not checked: an operation would fail."
        if self.converged:
            return "Converged: a plan against the rehearsed world shows no changes."
        wanted = ", ".join(f"{action} {rid}" for rid, action in self.leftover)
        return f"Would not converge: a plan against the rehearsed world still wants {wanted}."


def build_view(rehearsal: Rehearsal, report: PlanReport) -> RehearsalView:
    """Place each verdict at its resource's manifest line, taken from the plan's report."""
    where = {change.id: (change.file, change.line) for change in report.changes}
    lines = tuple(
        VerdictLine(
            id=v.operation.id,
            action=v.operation.action.value,
            verdict=v.verdict,
            detail=v.detail,
            blocked_by=v.blocked_by,
            file=where.get(v.operation.id, ("", 0))[0],
            line=where.get(v.operation.id, ("", 0))[1],
        )
        for v in rehearsal.verdicts
    )
    return RehearsalView(
        lines=lines,
        ok=rehearsal.ok,
        converged=rehearsal.converged,
        leftover=tuple((op.id, op.action.value) for op in rehearsal.leftover),
        not_rehearsed=tuple(rehearsal.not_rehearsed),
        notes=tuple(rehearsal.notes),
    )


def rehearsal_text(view: RehearsalView, color: bool = False) -> str:
    """The verdicts for a terminal or a CI log."""
    out = ["", "Rehearsal on a private sandbox copy (production was only read):", ""]
    for line in view.lines:
        word = line.verdict.value.ljust(WIDTH)
        if color:
            word = click.style(word, fg=COLOURS[line.verdict], bold=True)
        tail = f": {line.detail}" if line.detail and line.verdict is not Verdict.SUCCEEDS else ""
        out.append(f"  {word}  {line.action} {line.id}{tail}")
    out += ["", view.convergence()]
    if view.not_rehearsed:
        out += ["", "Not rehearsed:"]
        out += [f"  - {text}" for text in view.not_rehearsed]
    out += [f"Note: {text}." for text in view.notes]
    out += ["", view.summary()]
    return "\n".join(out) + "\n"


def rehearsal_markdown(view: RehearsalView) -> str:
    """A section for a pull request comment or a job summary."""
    mark = "✅" if view.ok else "❌"
    out = ["", f"#### Rehearsal {mark}", "", f"**{view.summary()}** {view.convergence()}", ""]
    shown = [line for line in view.lines if line.verdict is not Verdict.SUCCEEDS]
    if shown:
        out += ["| operation | verdict | why |", "|---|---|---|"]
        for line in shown:
            out.append(f"| `{line.action} {line.id}` | {line.verdict.value} | "
                       f"{_cell(line.detail)} |")
        out.append("")
    if view.not_rehearsed or view.notes:
        out += ["<details><summary>What was not rehearsed</summary>", ""]
        out += [f"- {_cell(text)}" for text in (*view.not_rehearsed, *view.notes)]
        out += ["", "</details>", ""]
    return "\n".join(out)


def document(view: RehearsalView) -> dict[str, Any]:
    """The ``rehearsal`` key of the JSON plan (docs/plan-json.md)."""
    return {
        "ok": view.ok,
        "converged": view.converged,
        "summary": {v.name.lower(): view.count(v) for v in Verdict},
        "operations": [
            {
                "address": str(line.id),
                "action": line.action,
                "verdict": line.verdict.name.lower(),
                "detail": line.detail,
                "blocked_by": str(line.blocked_by) if line.blocked_by else None,
            }
            for line in view.lines
        ],
        "leftover": [{"address": str(rid), "action": action} for rid, action in view.leftover],
        "not_rehearsed": list(view.not_rehearsed),
        "notes": list(view.notes),
    }


def rehearsal_annotations(view: RehearsalView, base: str = "") -> str:
    """GitHub ``::error`` annotations at the manifest line of each operation that would fail."""
    from reconciler.render.github import annotation

    lines = []
    for line in view.lines:
        if line.verdict in (Verdict.FAILS, Verdict.BLOCKED):
            file = f"{base}/{line.file}" if base and line.file else line.file
            message = f"{line.action} {line.id} {line.verdict.value}: {line.detail}"
            lines.append(annotation("error", "reconciler rehearsal", message, file, line.line))
    return "".join(f"{text}\n" for text in lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
