"""``destroy``, ``export`` and adoption of everything declared (``import --all-unmanaged``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli import AppContext, pass_app
from reconciler.commands.engine import (
    _progress,
    _project,
    _report_of,
    lock_timeout_option,
    parallelism_option,
)
from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.config import Project
    from reconciler.engine import Assessment
    from reconciler.export import Export


def project_name(project: Project) -> str:
    """What a destroy confirmation asks to type: the project's name (``name`` in the project
    file, else its folder's name)."""
    return project.name


@click.command("destroy")
@click.option("--auto-approve", is_flag=True, help="Destroy without asking (for CI).")
@click.option(
    "--force-unprotected",
    is_flag=True,
    help="Also remove resources with lifecycle.prevent_destroy (otherwise destroy refuses).",
)
@parallelism_option
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

    Every managed object is planned for deletion as if its manifest were gone (objects whose
    provider drains them wait for their runs first); lifecycle.on_remove does not apply, and a
    resource with lifecycle.prevent_destroy makes destroy refuse, removing nothing, unless
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

    import anyio  # loaded when the command runs


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




def adopt_all(project: Project, lock_timeout: float = 0.0) -> int:
    """Record every adoption the plan finds (no API call); print one line; how many."""
    import anyio  # loaded when the command runs

    from reconciler.apply import ApplyFailedError
    from reconciler.engine import apply, state_backend
    from reconciler.model import Action
    from reconciler.render.outcome import render_outcome


    _, outcome = anyio.run(
        lambda: apply(
            project,
            state_backend(project),
            approve=lambda _assessment: True,
            lock_timeout=lock_timeout,
            progress=_progress,
            actions={Action.ADOPT},
        )
    )
    if outcome is None:
        click.echo("Nothing to adopt: state records every declared object found live.")
        return 0
    if not outcome.ok:
        click.echo(render_outcome(outcome), nl=False)
        raise ApplyFailedError("some objects could not be adopted; the others were recorded")
    click.echo(f"Adopted {len(outcome.done)} object(s) into state (no API call); "
               "`reconciler plan` compares them with the manifests.")
    return len(outcome.done)


@click.command("export")
@click.option("--provider", "providers", multiple=True, metavar="NAME",
              help="Read only this provider instance (repeatable; default: all of them).")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Export only this kind (repeatable), as written in manifests.")
@click.option("-l", "--selector", metavar="TERMS",
              help="Only objects matching every KEY=VALUE or KEY!=VALUE term (keys: name, kind, "
                   "provider, spec.FIELD; values may use * and ?), e.g. name=lead-*.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write into (default: the project's first manifests folder).")
@click.option("--adopt", is_flag=True,
              help="Then record what was exported in state (as `import --all-unmanaged`).")
@lock_timeout_option
@pass_app
def export_command(
    app: AppContext,
    providers: tuple[str, ...],
    kinds: tuple[str, ...],
    selector: str | None,
    out: Path | None,
    adopt: bool,
    lock_timeout: float,
) -> None:
    """Write manifests for the live objects this project does not manage.

    One file per automation (its schedule and triggers beside it, its code in a code file),
    connections together; defaults are left out and names come from the objects' display
    names or keys. No secret is ever written: a value that cannot be read back becomes a
    ${env:NAME} reference, with a comment naming the variable. A file that exists with other
    content is never replaced (nothing is written then); an identical one is left as it is.
    """
    project = _project(app)
    export = export_files(project, providers, kinds, selector, out)
    if adopt and export is not None:
        adopt_all(_project(app), lock_timeout)


def export_files(
    project: Project,
    providers: Sequence[str],
    kinds: Sequence[str],
    selector: str | None,
    out: Path | None,
) -> Export | None:
    """Export into ``out`` and print what was written; None when there was nothing to export."""
    from reconciler.export import Selector, default_out, export_project, write_files

    chosen = Selector.parse(selector)
    folder = out if out is not None else default_out(project)
    if not folder.is_absolute():
        folder = Path.cwd() / folder
    with _progress() as report:
        import anyio  # loaded when the command runs

        export = anyio.run(lambda: export_project(
            project, providers=providers, kinds=kinds, selector=chosen, progress=report))
    for note in export.skipped:
        click.echo(f"Note: {note}", err=True)
    files = export.files()
    left_out = (f"{len(export.skipped)} unmanaged live object(s) left out (each note above "
                "says why)") if export.skipped else ""
    if not files:
        if left_out:  # never "nothing" when something unmanaged was found but not written
            click.echo(f"Nothing written: {left_out}; every other live object read is managed "
                       "by this project.")
        else:
            click.echo("Nothing to export: every live object read is managed by this project.")
        return None
    written, unchanged = write_files(folder, files)
    for path in written:
        click.echo(_shown(path, project.root))
    click.echo(f"Exported {len(export.documents)} document(s): {len(written)} file(s) written, "
               f"{len(unchanged)} unchanged{'; ' + left_out if left_out else ''}.", err=True)
    if not _loaded_by(project, folder):
        click.echo(f"Note: {_shown(folder, project.root)} is not among the project's manifests "
                   "paths; add it to `manifests` in reconciler.yaml to manage what was exported.",
                   err=True)
    return export


def _shown(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _loaded_by(project: Project, folder: Path) -> bool:
    """Whether the project's manifests entries take in files under ``folder``."""
    for entry in project.manifests:
        base = project.root / entry.split("*")[0]
        if folder.resolve().is_relative_to(base.resolve()):
            return True
    return False


def init_from_live(root: Path) -> None:
    """``init --from-live``: export everything live into the new project, then adopt it."""
    from reconciler.config import load_project
    from reconciler.engine import load_desired
    from reconciler.export import default_out

    project = load_project(root)
    default_out(project).mkdir(parents=True, exist_ok=True)
    if load_desired(project):
        raise ReconcilerError(
            f"{project.file}: the project already declares documents; init --from-live starts "
            "a new one (use `reconciler export --adopt` in an existing project)"
        )
    if export_files(project, (), (), None, None) is not None:
        adopt_all(load_project(root))


COMMANDS: list[click.Command] = [destroy_command, export_command]
