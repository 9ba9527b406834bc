"""What ``plan --comment`` adds to a plan: post it on the pull or merge request it was made for."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.cli import AppContext
    from reconciler.config import Project
    from reconciler.render.report import PlanReport

# where each forge's CI checks out the repository
REPOSITORY_ROOTS = {"github": "GITHUB_WORKSPACE", "gitlab": "CI_PROJECT_DIR"}

comment_option = click.option(
    "--comment",
    "forge",
    type=click.Choice(["github", "gitlab"]),
    help="Also post the plan on the pull request (github) or merge request (gitlab) this CI "
    "job runs for, editing the comment an earlier run posted.",
)
full_plan_option = click.option(
    "--full-plan-url",
    metavar="URL",
    default="",
    help="Link shown when the comment had to be cut (default: this CI run's page).",
)


def post_comment(
    app: AppContext,
    project: Project,
    report: PlanReport,
    forge: str,
    full_plan: str,
    verdict: str = "",
) -> None:
    """Create or edit this project's plan comment (with a rehearsal's ``verdict`` when given);
    say which on stderr."""
    from reconciler.comment import post_plan

    posted = post_plan(
        report, forge, project_key(app, project, forge), os.environ, _notify, full_plan,
        verdict=verdict,
    )
    click.echo(f"{posted.action.capitalize()} the plan comment on {posted.where}.", err=True)


def check_comment_environment(forge: str) -> None:
    """Refuse ``--comment`` at once when this job could not post it, before any read."""
    from reconciler.comment import check_environment

    check_environment(forge, os.environ)


def post_failed_plan(app: AppContext, forge: str) -> None:
    """Tell the request the plan failed, so an earlier plan is not taken for this one."""
    from reconciler.comment import post_failure
    from reconciler.config import find_project

    try:
        root = find_project(app.directory).parent
        post_failure(forge, _key(app, root, forge), os.environ, _notify)
    except ReconcilerError as exc:  # the plan's own error is the one to report
        click.echo(f"Warning: could not mark the plan comment as failed: {exc.message}", err=True)


def project_key(app: AppContext, project: Project, forge: str) -> str:
    """The project folder relative to the repository root: what the comment's marker names."""
    return _key(app, project.root, forge)


def _key(app: AppContext, root: Path, forge: str) -> str:
    top = os.environ.get(REPOSITORY_ROOTS[forge]) or str(app.started_in)
    top_path = Path(top).resolve()
    here = root.resolve()
    if here.is_relative_to(top_path):
        return here.relative_to(top_path).as_posix()
    return here.name


def _notify(line: str) -> None:
    click.echo(line, err=True)
