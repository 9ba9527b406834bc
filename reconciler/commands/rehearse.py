"""``reconciler rehearse [PLANFILE]`` and ``plan --rehearse``: apply to a sandbox copy first."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli import AppContext, pass_app
from reconciler.commands.engine import (
    FORMATS,
    _project,
    _report_of,
    _run,
    allow_remove_all_option,
    deadline_option,
    emit,
    format_option,
)
from reconciler.errors import EXIT_CHANGES, ReconcilerError
from reconciler.saved_plan import SavedPlan, read_saved_plan

if TYPE_CHECKING:
    from reconciler.config import Project
    from reconciler.engine import Assessment
    from reconciler.model import ResourceId
    from reconciler.rehearse import Rehearsal
    from reconciler.render.rehearsal import RehearsalView


class RehearsalFailedError(ReconcilerError):
    """The rehearsal found operations that would fail, or a result that would not converge."""


async def assess_and_rehearse(
    project: Project,
    report: Callable[[str], None],
    targets: Collection[ResourceId] = (),
    *,
    saved: SavedPlan | None = None,
    plan_file: Path | None = None,
    parallelism: int = 8,
    allow_remove_all: bool = False,
) -> tuple[Assessment, Rehearsal]:
    """Plan against production (reads only), then rehearse that plan on sandbox copies."""
    from reconciler.engine import (
        Engine,
        state_backend,
        verify_saved_plan,
    )
    from reconciler.rehearse import rehearse

    backend = state_backend(project)
    allowed = allow_remove_all or (saved is not None and saved.allow_remove_all)
    async with Engine(project, progress=report) as engine:
        assessment = await engine.assess(backend.read(), targets=targets,
                                         allow_remove_all=allowed)
        if saved is not None:
            verify_saved_plan(saved, assessment, str(plan_file))
        rehearsal = await rehearse(
            project, engine, assessment, parallelism=parallelism, progress=report
        )
    return assessment, rehearsal


def view_of(rehearsal: Rehearsal, assessment: Assessment) -> RehearsalView:
    """What the renderers show of a rehearsal of this assessment's plan."""
    from reconciler.render.rehearsal import build_view

    return build_view(rehearsal, _report_of(assessment))


def verdict_markdown(view: RehearsalView) -> str:
    """The rehearsal's section of a pull request comment."""
    from reconciler.render.rehearsal import rehearsal_markdown

    return rehearsal_markdown(view)


def fail_unless_ok(view: RehearsalView) -> None:
    """Exit 1 (after the report was printed) when the rehearsal failed."""
    if not view.ok:
        raise RehearsalFailedError(
            "the rehearsal failed: fix what it names before applying to production "
            "(production was not changed)"
        )


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
@allow_remove_all_option
@deadline_option
@pass_app
def rehearse_command(
    app: AppContext,
    plan_file: Path | None,
    detailed_exitcode: bool,
    fmt: str,
    parallelism: int,
    allow_remove_all: bool,
    deadline: float | None,
) -> None:
    """Apply the plan (or a saved one) to a private sandbox copy and say what would fail.

    Production is only read; the copy is deleted afterwards. Exit 0 when the rehearsal went
    through and converged, 1 when it would fail, 2 (with --detailed-exitcode) for changes that
    rehearse clean.
    """
    project = _project(app)
    saved = read_saved_plan(plan_file) if plan_file else None
    assessment, rehearsal = _run(
        lambda report: assess_and_rehearse(
            project, report, saved=saved, plan_file=plan_file, parallelism=parallelism,
            allow_remove_all=allow_remove_all,
        ),
        deadline,
    )
    view = view_of(rehearsal, assessment)
    emit(_report_of(assessment), fmt, app, project, rehearsal=view)
    fail_unless_ok(view)
    if detailed_exitcode and assessment.plan.has_changes:
        sys.exit(EXIT_CHANGES)


COMMANDS = [rehearse_command]
