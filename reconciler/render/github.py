"""GitHub Actions output: one ``::warning`` annotation per change at its manifest line (a
``::notice`` for an adoption, which changes nothing on the platform), and the
markdown plan for the job summary (the caller appends it to ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from reconciler.model import Action
from reconciler.render.markdown import render_markdown
from reconciler.render.report import VERBS, PlanReport
from reconciler.render.text import render_text


def render_github(report: PlanReport, base: str = "") -> tuple[str, str]:
    """(stdout text: annotations then the plain plan, markdown for the step summary).

    ``base`` is the project folder relative to the repository root, put before each file path.
    """
    lines = []
    for change in report.changes:
        fields = ", ".join(c.dotted for c in change.changes[:10])
        message = f"{change.id} will be {VERBS[change.action]}"
        if change.reason:
            message += f" ({change.reason})"
        if fields:
            message += f": {fields}"
        file = f"{base}/{change.file}" if base and change.file else change.file
        # an adoption changes nothing on the platform: a notice, not a warning
        level = "notice" if change.action is Action.ADOPT else "warning"
        lines.append(annotation(level, "reconciler " + change.action.value, message,
                                file, change.line))
    for failure in report.failed_runs:
        lines.append(f"::warning title=reconciler failed run::{_data(failure.describe())}")
    text = "\n".join(lines) + ("\n" if lines else "") + render_text(report, color=False)
    return text, render_markdown(report)


def annotation(level: str, title: str, message: str, file: str = "", line: int = 0) -> str:
    """One workflow command, e.g. ``::warning file=a.yaml,line=3,title=…::message``."""
    props = f"title={_prop(title)}"
    if file:
        props = f"file={_prop(file)},line={line}," + props
    return f"::{level} {props}::{_data(message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
