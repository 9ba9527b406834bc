"""Terminal output in the manner of ``terraform plan``: a block per operation, a summary line."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import click

from reconciler.model import Action
from reconciler.render.report import (
    NOT_REFRESHED,
    SYMBOLS,
    VERBS,
    PlanReport,
    ResourceChange,
    show_value,
)

COLOURS = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.ENABLE: "green",
    Action.DISABLE: "yellow",
    Action.UPGRADE: "cyan",
    Action.REPLACE: "red",
    Action.REMOVE: "red",
    Action.FORGET: "magenta",
    Action.CHECK: "blue",
    Action.ADOPT: "cyan",
}


def render_text(report: PlanReport, color: bool = False) -> str:
    """The plan for a terminal or a CI log; colour only when asked."""
    lines: list[str] = []
    if not report.plan.refreshed:
        lines.extend([NOT_REFRESHED, ""])
    if not report.changes:
        lines.append(report.no_changes)
    else:
        lines.append("reconciler will perform these operations, in this order:")
        lines.append("")
        lines.append(render_operations(report.changes, color))
        lines.append(report.summary())
    lines.extend(render_extras(report))
    return "\n".join(lines) + "\n"


def render_extras(report: PlanReport) -> list[str]:
    """The lines after the operations: unmanaged objects found live, failed runs."""
    lines: list[str] = []
    if report.unmanaged:
        lines.append("")
        lines.append(f"{len(report.unmanaged)} unmanaged object(s) found live (never touched):")
        for rid, remote_id in report.unmanaged:
            lines.append(f"  {rid} (remote id {remote_id})")
    if report.failed_runs:
        lines.append("")
        lines.append(report.failed_runs_heading())
        lines.extend(f"  {failure.describe()}" for failure in report.failed_runs)
    return lines


def planned(change: ResourceChange) -> str:
    """A plan's comment on an operation: what apply will do, and why."""
    why = f" ({change.reason})" if change.reason else ""
    return f"{change.id} will be {VERBS[change.action]}{why}"


def render_operations(
    changes: Iterable[ResourceChange],
    color: bool = False,
    describe: Callable[[ResourceChange], str] = planned,
) -> str:
    """One block per operation, a blank line between blocks; ``describe`` words its comment.
    A removal that cannot wait for runs says so once after the blocks, not in every block."""
    changes, notes = _shared_notes(changes)
    blocks = ("\n".join(_block(change, color, describe)) for change in changes)
    tail = "".join(f"\n  note on removals: {note}\n" for note in notes)
    return "\n\n".join(blocks) + "\n" + tail


def _shared_notes(
    changes: Iterable[ResourceChange],
) -> tuple[list[ResourceChange], list[str]]:
    """The changes with each "cannot wait" step shortened, and those steps once each (one per
    provider type), in order of first appearance."""
    from dataclasses import replace

    from reconciler.drain import NO_WAIT, NO_WAIT_SHORT

    notes: dict[str, None] = {}
    shown: list[ResourceChange] = []
    for change in changes:
        waits = [step for step in change.steps if step.startswith(NO_WAIT)]
        if waits:
            notes.update(dict.fromkeys(waits))
            steps = tuple(NO_WAIT_SHORT if step.startswith(NO_WAIT) else step
                          for step in change.steps)
            change = replace(change, steps=steps)
        shown.append(change)
    return shown, list(notes)


def _block(
    change: ResourceChange, color: bool, describe: Callable[[ResourceChange], str]
) -> list[str]:
    symbol = SYMBOLS[change.action]
    where = f"  [{change.where}]" if change.where else ""
    head = f"{symbol} {change.id}"
    if color:
        head = click.style(head, fg=COLOURS[change.action], bold=True)
    lines = [f"  # {describe(change)}", f"  {head}{where}"]
    for field in change.changes:
        if change.action is Action.CREATE or field.before is None:
            lines.append(f"      + {field.dotted} = {show_value(field.after)}")
        elif field.after is None:
            lines.append(f"      - {field.dotted} = {show_value(field.before)}")
        else:
            lines.append(
                f"      ~ {field.dotted}: {show_value(field.before)} -> {show_value(field.after)}"
            )
    if change.steps:
        lines.append(f"      steps: {' -> '.join(change.steps)}")
    return lines
