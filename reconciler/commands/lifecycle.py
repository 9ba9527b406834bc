"""``destroy``: plan every managed resource for removal, confirm by the project's name, apply."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import anyio
import click

from reconciler.cli import AppContext, pass_app
from reconciler.commands.engine import _progress, _project, _report_of, lock_timeout_option
from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.config import Project
    from reconciler.engine import Assessment


def project_name(project: Project) -> str:
    """What a destroy confirmation asks to type: the name of the project's folder."""
    return project.root.name


@click.command("destroy")
@click.option("--auto-approve", is_flag=True, help="Destroy without asking (for CI).")
@click.option(
    "--force-unprotected",
    is_flag=True,
    help="Also remove resources with lifecycle.prevent_destroy (otherwise destroy refuses).",
)
@click.option(
    "--parallelism",
    type=click.IntRange(1, 256),
    default=8,
    show_default=True,
    help="Operations run at the same time (dependencies always respected).",
)
@lock_timeout_option
@pass_app
def destroy_command(
    app: AppContext,
    auto_approve: bool,
    force_unprotected: bool,
    parallelism: int,
    lock_timeout: float,
) -> None:
    """Remove every resource this project manages, then forget it in state.

    Every managed object is planned for deletion as if its manifest were gone (workspace
    automations drain first); lifecycle.on_remove does not apply, and a resource with
    lifecycle.prevent_destroy makes destroy refuse, removing nothing, unless
    --force-unprotected. Unmanaged objects are never touched. On a terminal, destroy asks you
    to type the project's name; elsewhere it needs --auto-approve.
    """
    from reconciler.apply import ApplyFailedError
    from reconciler.engine import apply, state_backend
    from reconciler.render.outcome import render_outcome, render_warnings
    from reconciler.render.text import render_text

    project = _project(app)

    def approve(assessment: Assessment) -> bool:
        report = _report_of(assessment, title="Destroy")
        click.echo(render_text(report, color=app.color), nl=False, color=app.color)
        if assessment.plan.operations and not auto_approve:
            _confirm(project_name(project))
        return True

    _, outcome = anyio.run(
        lambda: apply(
            project,
            state_backend(project),
            approve=approve,
            lock_timeout=lock_timeout,
            parallelism=parallelism,
            progress=_progress,
            destroy=True,
            force_unprotected=force_unprotected,
        )
    )
    if outcome is None:
        return
    click.echo(render_warnings(outcome), nl=False, err=True)
    click.echo(render_outcome(outcome).replace("Apply ", "Destroy ", 1), nl=False)
    if not outcome.ok:
        raise ApplyFailedError(
            f"{len(outcome.failed)} operation(s) failed, {len(outcome.skipped)} skipped; "
            "what was removed is recorded. Fix the cause and run destroy again."
        )


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _confirm(name: str) -> None:
    """Ask for the project's name on a terminal; refuse to ask anywhere else."""
    if not _stdin_is_terminal():
        raise ReconcilerError(
            "refusing to ask for confirmation: stdin is not a terminal; "
            "review the plan and pass --auto-approve"
        )
    answer = click.prompt(
        f"Destroy every resource listed above? Type the project's name ({name}) to confirm",
        default="",
        show_default=False,
        err=True,
    )
    if answer.strip() != name:
        raise ReconcilerError("destroy cancelled: nothing was changed")


COMMANDS: list[click.Command] = [destroy_command]
