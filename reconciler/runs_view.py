"""Text and JSON views of runs, run steps, events, check results and resource status.

Views never decide anything: they take what the commands fetched and turn it into text for
people (rich tables, colour only when asked) or JSON for machines. Everything goes to the
stream given, which the commands point at stdout.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reconciler.checks import CheckResult, explain
from reconciler.health import error_text
from reconciler.json_text import dumps
from reconciler.run_records import Run, RunEvent, RunSteps

if TYPE_CHECKING:
    from reconciler.project_runs import StatusRow

STATUS_STYLES = {
    "succeeded": "green",
    "finished": "green",
    "passed": "green",
    "in sync": "green",
    "failed": "red",
    "drifted": "yellow",
    "pending change": "cyan",
    "cancelled": "yellow",
    "running": "cyan",
}


def console(stream: TextIO, color: bool) -> Console:
    """A rich console that never wraps tables in logs and colours only when ``color``."""
    return Console(
        file=stream,
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        markup=False,  # platform text ("bad path [/tmp/x]") is shown as written, never parsed
        width=None if color else 200,
        soft_wrap=False,
    )


def emit_json(stream: TextIO, value: Any) -> None:
    """One JSON document (indented) on the stream."""
    stream.write(dumps(value, indent=2, sort_keys=True, default=str) + "\n")


def runs_table(out: Console, runs: Sequence[Run], total: int | None) -> None:
    """A table of runs, newest as the API gives them, with a count underneath."""
    table = _table("RUN", "AUTOMATION", "MANAGED AS", "STATUS", "TRIGGER", "CREATED", "DURATION")
    for run in runs:
        table.add_row(
            run.id,
            run.automation_id,
            run.identity or "-",
            _styled(run.status),
            run.trigger_type,
            run.created_at,
            _seconds(run.duration_seconds),
        )
    out.print(table)
    shown = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
    out.print(shown + (f" of {total}" if total is not None and total != len(runs) else ""))


def run_detail(out: Console, run: Run, steps: RunSteps | None) -> None:
    """One run's fields, then its steps as a table (errors in full)."""
    for label, value in (
        ("run", run.id),
        ("automation", run.automation_id),
        ("managed as", run.identity or ""),
        ("status", run.status),
        ("trigger", run.trigger_type),
        ("created", run.created_at),
        ("started", run.started_at),
        ("completed", run.completed_at),
    ):
        if value:
            shown = _styled(value) if label == "status" else Text(value)
            out.print(Text(f"{label + ':':<12}") + shown)
    if run.error:
        out.print(f"{'error:':<12}{error_text(run.error)}")
    if steps is None:
        return
    table = _table("STEP", "NAME", "STATUS", "DEPENDS ON", "DURATION", "ERROR")
    for step in steps.steps:
        table.add_row(
            step.key,
            step.name,
            _styled(step.status),
            ", ".join(step.depends_on),
            _seconds(step.duration_seconds),
            error_text(step.error),
        )
    out.print(table)
    counts = [
        f"{steps.completed} completed",
        f"{steps.failed} failed",
        f"{steps.running} running",
        f"{steps.pending} pending",
    ]
    out.print(", ".join(counts))


def run_line(run: Run) -> str:
    """``<id> <status>`` plus the automation (and the managed identity), for cancel and retry."""
    managed = f", managed as {run.identity}" if run.identity else ""
    return f"run {run.id} {run.status} (automation {run.automation_id}{managed})"


def event_line(event: RunEvent) -> str:
    """One event as a line: its time, kind, step, status and message when present, else its
    JSON."""
    parts = [
        part
        for part in (event.at, event.kind, event.step, event.status, event.message)
        if part
    ]
    return " ".join(parts) if parts else json.dumps(event.to_json(), sort_keys=True, default=str)


def check_results(out: Console, results: Iterable[CheckResult]) -> None:
    """Each check's verdict; the steps of a failed run underneath it."""
    for result in results:
        text = explain(result)
        head, _, rest = text.partition("\n")
        out.print(_styled("passed" if result.passed else "failed", head))
        if rest:
            out.print(rest)


def check_json(result: CheckResult) -> dict[str, Any]:
    """A check result for ``--format json``."""
    run = result.run
    return {
        "id": str(result.id),
        "passed": result.passed,
        "message": result.message,
        "run": None
        if run is None
        else {
            "run_id": run.run_id,
            "status": run.status,
            "steps": [{"name": s.name, "status": s.status, "error": s.error} for s in run.steps],
        },
    }


def status_table(out: Console, rows: Sequence[StatusRow]) -> None:
    """The status report: each managed resource's sync state beside its run health."""
    table = _table("RESOURCE", "SYNC", "HEALTH", "LAST RUN")
    for row in rows:
        table.add_row(
            str(row.id),
            _styled(row.sync),
            _styled(row.health or "-"),
            row.last_run_at or "",
        )
    out.print(table)


def _table(*headers: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def _styled(word: str, text: str | None = None) -> Text:
    """``text`` (default ``word``) coloured by the status ``word``; never parsed as markup."""
    return Text(text if text is not None else word, style=STATUS_STYLES.get(word.lower(), ""))


def _seconds(value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        return f"{float(value):.1f}s"
    except (TypeError, ValueError):
        return str(value)
