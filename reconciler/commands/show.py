"""``reconciler show PLANFILE``: render a saved plan in any format, reading nothing live."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli import pass_app
from reconciler.commands.engine import FORMATS, emit, format_option

if TYPE_CHECKING:
    from reconciler.cli import AppContext
    from reconciler.config import Project


@click.command("show")
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@format_option(FORMATS)
@pass_app
def show_command(app: AppContext, plan_file: Path, fmt: str) -> None:
    """Render PLAN_FILE (saved with `plan --out`) as text, json, markdown or github.

    Reads only the file: no live state, no manifests, no credentials. Secret values were
    masked when the plan was saved. `apply PLAN_FILE` still checks it against live state.
    """
    from reconciler.render.saved import report_from_document
    from reconciler.saved_plan import read_plan_document

    report = report_from_document(read_plan_document(plan_file), str(plan_file))
    emit(report, fmt, app, _project_if_any(app))
    made = report.plan.created_at or "an unknown time"
    against = ("live state and " if report.plan.refreshed else "no live state (--refresh=false), "
               "only ")
    click.echo(
        f"{plan_file}: plan made at {made} against {against}state serial "
        f"{report.plan.state_serial}; shown from the file, nothing was read now",
        err=True,
    )


def _project_if_any(app: AppContext) -> Project | None:
    """The project around the working folder, for annotation paths; None outside one."""
    from reconciler.config import load_project
    from reconciler.errors import ConfigError

    try:
        return load_project(app.directory)
    except ConfigError:
        return None


COMMANDS: list[click.Command] = [show_command]
