"""``reconciler rehearse [PLANFILE]`` and ``plan --rehearse``: apply to a sandbox copy first."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli import AppContext, pass_app
from reconciler.commands.engine import (
    FORMATS,
    _project,
    _report_of,
    _run,
    emit,
    format_option,
    read_saved_plan,
)
from reconciler.errors import EXIT_CHANGES, ReconcilerError

if TYPE_CHECKING:
    from reconciler.config import Project
    from reconciler.engine import Assessment
    from reconciler.model import ResourceId
    from reconciler.rehearse import Rehearsal


class RehearsalFailedError(ReconcilerError):
    """The rehearsal found operations that would fail, or a result that would not converge."""


async def assess_and_rehearse(
    project: Project,
    report: Callable[[str], None],
    target: ResourceId | None = None,
    *,
    saved: dict | None = None,
    plan_file: Path | None = None,
    parallelism: int = 8,
) -> tuple[Assessment, Rehearsal]:
    """Plan against production (reads only), then rehearse that plan on sandbox copies."""
    from reconciler.engine import Engine, state_backend, verify_saved_plan
    from reconciler.rehearse import rehearse

    backend = state_backend(project)
    async with Engine(project, progress=report) as engine:
        assessment = await engine.assess(backend.read(), target=target)
        if saved is not None:
            verify_saved_plan(saved, assessment, str(plan_file))
        rehearsal = await rehearse(
            project, engine, assessment, parallelism=parallelism, progress=report
        )
    return assessment, rehearsal


def show_and_exit(
    app: AppContext,
    project: Project,
    assessment: Assessment,
    rehearsal: Rehearsal,
    fmt: str,
    detailed_exitcode: bool,
) -> None:
    """Print the plan and the verdicts; exit 1 when the rehearsal failed, else 2 for changes
    with ``--detailed-exitcode``."""
    from reconciler.render.rehearsal import build_view

    report = _report_of(assessment)
    view = build_view(rehearsal, report)
    emit(report, fmt, app, project, rehearsal=view)
    if not view.ok:
        raise RehearsalFailedError(
            "the rehearsal failed: fix what it names before applying to production "
            "(production was not changed)"
        )
    if detailed_exitcode and assessment.plan.has_changes:
        sys.exit(EXIT_CHANGES)


@click.command("rehearse")
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes that rehearse clean (0 none, 1 failure).",
)
@format_option(FORMATS)
@click.option(
    "--parallelism",
    type=click.IntRange(1, 256),
    default=8,
    show_default=True,
    help="Operations rehearsed at the same time (dependencies always respected).",
)
@pass_app
def rehearse_command(
    app: AppContext, plan_file: Path | None, detailed_exitcode: bool, fmt: str, parallelism: int
) -> None:
    """Apply the plan (or a saved one) to a private sandbox copy and say what would fail.

    Production is only read. The copy is deleted afterwards.
    """
    project = _project(app)
    saved = read_saved_plan(plan_file) if plan_file else None
    assessment, rehearsal = _run(
        lambda report: assess_and_rehearse(
            project, report, saved=saved, plan_file=plan_file, parallelism=parallelism
        )
    )
    show_and_exit(app, project, assessment, rehearsal, fmt, detailed_exitcode)


COMMANDS = [rehearse_command]
