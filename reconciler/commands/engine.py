"""``plan``, ``apply``, ``drift``, ``state list|show|rm|unlock|rebind|migrate``, ``import``.

Each parses, calls, renders and exits."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler import json_text
from reconciler.cli import AppContext, BooleanValue, pass_app
from reconciler.commands.ci import (
    check_comment_environment,
    comment_option,
    full_plan_option,
    post_comment,
    post_failed_plan,
)
from reconciler.errors import EXIT_CHANGES, PlanError, ReconcilerError, StateError
from reconciler.masking import mask
from reconciler.model import ResourceId

if TYPE_CHECKING:
    from reconciler.config import Project
    from reconciler.engine import Assessment
    from reconciler.model import RunFailure
    from reconciler.render.rehearsal import RehearsalView
    from reconciler.render.report import DriftReport, PlanReport
    from reconciler.selector import Selector

T = TypeVar("T")
FC = TypeVar("FC", bound=Callable[..., Any])
FORMATS = ["text", "json", "markdown", "github"]
DEFAULT_LOCK_TIMEOUT = 0.0


def format_option(choices: list[str]) -> Callable[[FC], FC]:
    """``--format`` with the given choices, text by default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default="text",
        show_default=True,
        help="Output format.",
    )


parallelism_option = click.option(
    "--parallelism",
    type=click.IntRange(1, 256),
    default=8,
    show_default=True,
    help="Operations run at the same time (dependencies always respected).",
)

allow_remove_all_option = click.option(
    "--allow-remove-all",
    is_flag=True,
    help="Allow a plan that removes every managed resource (refused otherwise: that is what "
    "an empty manifests folder looks like).",
)

lock_timeout_option = click.option(
    "--lock-timeout",
    type=float,
    default=DEFAULT_LOCK_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the state lock held by another run (0: fail at once).",
)


def _deadline_seconds(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> float | None:
    if value is None:
        return None
    from reconciler.durations import parse_duration
    from reconciler.errors import ConfigError

    try:
        seconds = parse_duration(value)
    except ConfigError:
        raise click.BadParameter(
            f"expected a duration such as 90s, 10m or 1h, got {value!r}"
        ) from None
    if seconds <= 0:
        raise click.BadParameter("must be more than 0")
    return seconds


deadline_option = click.option(
    "--deadline",
    metavar="DURATION",
    callback=_deadline_seconds,
    help="Give up when the command has run this long (e.g. 90s, 10m, 1h): every platform "
    "call, retry and wait counts.",
)


def _within(seconds: float | None, work: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    """``work`` bounded by ``--deadline``: each call knows the time left; a wait that is not a
    call (a check's polling) is cut off too, a moment later, so calls name what they waited for."""
    if seconds is None:
        return work
    label = f"--deadline {_shown(seconds)}"

    async def bounded() -> T:
        import anyio

        from reconciler.providers.http import command_deadline

        with command_deadline(seconds, label):
            with anyio.move_on_after(seconds + 1.0) as scope:
                return await work()
        assert scope.cancelled_caught
        raise ReconcilerError(f"{label} passed before the command finished")

    return bounded


def _shown(seconds: float) -> str:
    from reconciler.durations import format_duration

    return format_duration(seconds)


def _project(app: AppContext) -> Project:
    from reconciler.config import load_project

    return load_project(app.directory)


def _targets(values: tuple[str, ...]) -> tuple[ResourceId, ...]:
    """Every --target given (repeatable); a malformed one is an error naming it."""
    targets = []
    for value in values:
        try:
            targets.append(ResourceId.parse(value))
        except ValueError as exc:
            raise PlanError(f"--target {value}: {exc}") from None
    return tuple(targets)


def target_option(verb: str) -> Callable[[FC], FC]:
    """``--target``, repeatable: every one given counts."""
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="PROVIDER/KIND/NAME",
        help=f"{verb} only this resource and what it depends on (repeat for several).",
    )


def _selector(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> Selector | None:
    """-l/--selector values as one Selector (None when not given); a malformed one is a usage
    error naming it."""
    from reconciler.selector import Selector, SelectorSyntaxError

    try:
        return Selector.parse(values) or None
    except SelectorSyntaxError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


selector_option = click.option(
    "-l",
    "--selector",
    "selector",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_selector,
    help="Only resources whose metadata.labels match, and what they depend on: key=value or "
    "key!=value; repeat or separate with commas (all must hold).",
)


def _writable_file(path: Path, option: str) -> None:
    """Refuse an output file that could not be written, before any live state is read."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        problem = "is a folder"
    elif not folder.is_dir():
        problem = f"folder {folder} does not exist"
    elif not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        problem = "is not writable"
    else:
        return
    raise ReconcilerError(f"{option} {path}: {problem}; nothing was read or planned")


def _progress() -> AbstractContextManager[Callable[[str], None]]:
    from reconciler.progress import progress_line

    return progress_line(sys.stderr)


def _run(work: Callable[[Callable[[str], None]], Awaitable[T]], deadline: float | None = None) -> T:
    """Run async work with a progress callback on stderr, within ``--deadline`` if given."""
    import anyio

    with _progress() as report:
        return anyio.run(_within(deadline, lambda: work(report)))


def emit(
    report: PlanReport,
    fmt: str,
    app: AppContext,
    project: Project | None,
    rehearsal: RehearsalView | None = None,
) -> None:
    """Print a report in the chosen format (a rehearsal's verdicts after the plan); github also
    appends to the job summary."""
    from reconciler.render import rehearsal as rehearsed
    from reconciler.render.github import render_github
    from reconciler.render.json import plan_document, render_json
    from reconciler.render.markdown import render_markdown
    from reconciler.render.text import render_text

    if fmt == "json":
        if rehearsal is None:
            click.echo(render_json(report), nl=False)
        else:
            document = {**plan_document(report), "rehearsal": rehearsed.document(rehearsal)}
            click.echo(json_text.dumps(document, what="the plan", indent=2, sort_keys=True,
                                       default=str))
    elif fmt == "markdown":
        extra = rehearsed.rehearsal_markdown(rehearsal) if rehearsal else ""
        click.echo(render_markdown(report) + extra, nl=False)
    elif fmt == "github":
        base = _annotation_base(app, project)
        text, summary = render_github(report, base=base)
        if rehearsal is not None:
            text = rehearsed.rehearsal_annotations(rehearsal, base) + text
            text += rehearsed.rehearsal_text(rehearsal)
            summary += rehearsed.rehearsal_markdown(rehearsal)
        click.echo(text, nl=False)
        _append_step_summary(summary)
    else:
        text = render_text(report, color=app.color)
        if rehearsal is not None:
            text += rehearsed.rehearsal_text(rehearsal, color=app.color)
        click.echo(text, nl=False, color=app.color)


def _annotation_base(app: AppContext, project: Project | None) -> str:
    """Annotation paths are relative to where the command started (the repository root in CI)
    when the project lies inside it; otherwise relative to the project folder."""
    root = project.root if project is not None else None
    inside = root is not None and root.is_relative_to(app.started_in)
    base = root.relative_to(app.started_in).as_posix() if root and inside else ""
    return "" if base == "." else base


def _append_step_summary(summary: str) -> None:
    """Add markdown to the GitHub job summary, when there is one."""
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(mask(summary) + "\n")


def emit_drift(report: DriftReport, fmt: str, app: AppContext, project: Project) -> None:
    """Print a drift report in the chosen format; github also appends to the job summary."""
    from reconciler.render import drift as rendered

    if fmt == "json":
        click.echo(rendered.drift_json(report), nl=False)
    elif fmt == "markdown":
        click.echo(rendered.drift_markdown(report), nl=False)
    elif fmt == "github":
        text, summary = rendered.drift_github(report, base=_annotation_base(app, project))
        click.echo(text, nl=False)
        _append_step_summary(summary)
    else:
        text = rendered.drift_text(report, color=app.color)
        click.echo(text, nl=False, color=app.color)


async def _assess(
    project: Project,
    report: Callable[[str], None],
    targets: tuple[ResourceId, ...] = (),
    *,
    selector: Selector | None = None,
    refresh: bool = True,
    parallelism: int | None = None,
    allow_remove_all: bool = False,
) -> tuple[Assessment, Any]:
    from reconciler.engine import Engine, state_backend

    backend = state_backend(project)
    engine = Engine(project, progress=report, parallelism=parallelism)
    async with engine:
        assessment = await engine.assess(
            backend.read(), targets=targets, selector=selector, refresh=refresh,
            allow_remove_all=allow_remove_all,
        )
    return assessment, backend


def _report_of(assessment: Assessment, title: str = "Plan") -> PlanReport:
    from reconciler.engine import rules_for
    from reconciler.render import build_report

    return build_report(assessment.plan, rules_for, assessment.state, title)


@click.command("plan")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan (JSON, no secret values) for `reconciler apply FILE`.",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has changes (0 none, 1 error)."
)
@format_option(FORMATS)
@target_option("Plan")
@selector_option
@click.option(
    "--refresh",
    type=BooleanValue(),
    default=True,
    show_default=True,
    metavar="BOOL",
    help="--refresh=false: read nothing live and plan against the last applied state "
    "(fast, but blind to changes made on the platforms; such a plan cannot be applied).",
)
@click.option(
    "--parallelism",
    type=click.IntRange(1, 256),
    default=None,
    help="Requests in flight at once per provider instance while reading "
    "(default: each instance's `parallelism` setting, 8).",
)
@comment_option
@full_plan_option
@click.option(
    "--rehearse",
    is_flag=True,
    help="Also apply the plan to a private sandbox copy and say what would fail "
    "(production is only read; exit 1 when the rehearsal fails).",
)
@allow_remove_all_option
@deadline_option
@pass_app
def plan_command(
    app: AppContext,
    out: Path | None,
    detailed_exitcode: bool,
    fmt: str,
    targets: tuple[str, ...],
    selector: Selector | None,
    refresh: bool,
    parallelism: int | None,
    forge: str | None,
    full_plan_url: str,
    rehearse: bool,
    allow_remove_all: bool,
    deadline: float | None,
) -> None:
    """Read live state and show what apply would change."""
    from reconciler.commands import rehearse as rehearsing

    if out is not None:
        _writable_file(out, "--out")
    if forge:
        check_comment_environment(forge)
    view = None
    try:
        project = _project(app)
        wanted = _targets(targets)
        if rehearse:
            if not refresh:
                raise PlanError("--rehearse reads live state: it cannot go with --refresh=false")
            if selector:
                from reconciler.engine import load_desired, selected

                wanted = selected(load_desired(project), selector, wanted)
            assessment, rehearsal = _run(
                lambda report: rehearsing.assess_and_rehearse(
                    project, report, wanted, parallelism=parallelism or 8,
                    allow_remove_all=allow_remove_all,
                ),
                deadline,
            )
            view = rehearsing.view_of(rehearsal, assessment)
        else:
            assessment, _backend = _run(
                lambda report: _assess(
                    project,
                    report,
                    wanted,
                    selector=selector,
                    refresh=refresh,
                    parallelism=parallelism,
                    allow_remove_all=allow_remove_all,
                ),
                deadline,
            )
    except ReconcilerError:
        if forge:
            post_failed_plan(app, forge)
        raise
    report = _report_of(assessment)
    emit(report, fmt, app, project, rehearsal=view)
    if out is not None:
        from reconciler.engine import saved_plan
        from reconciler.render.json import plan_document

        document = saved_plan(plan_document(report), assessment, allow_remove_all).to_json()
        try:
            text = json_text.dumps(document, what="the plan", indent=2, sort_keys=True, default=str)
            out.write_text(mask(text) + "\n")
        except OSError as exc:
            raise ReconcilerError(f"--out {out}: cannot write the plan: {exc.strerror}") from None
        click.echo(f"Saved the plan to {out}; apply it with `reconciler apply {out}`.", err=True)
    if forge:
        verdict = rehearsing.verdict_markdown(view) if view else ""
        post_comment(app, project, report, forge, full_plan_url, verdict=verdict)
    if view is not None:
        rehearsing.fail_unless_ok(view)
    if detailed_exitcode and assessment.plan.has_changes:
        sys.exit(EXIT_CHANGES)


@click.command("apply")
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@parallelism_option
@lock_timeout_option
@target_option("Apply")
@selector_option
@allow_remove_all_option
@deadline_option
@pass_app
def apply_command(
    app: AppContext,
    plan_file: Path | None,
    auto_approve: bool,
    parallelism: int,
    lock_timeout: float,
    targets: tuple[str, ...],
    selector: Selector | None,
    allow_remove_all: bool,
    deadline: float | None,
) -> None:
    """Show the plan, ask, then apply it (or apply a plan saved with `plan --out`)."""
    import anyio

    from reconciler.apply import ApplyFailedError
    from reconciler.engine import apply, state_backend
    from reconciler.render.outcome import render_outcome, render_warnings
    from reconciler.render.text import render_text

    project = _project(app)
    from reconciler.saved_plan import read_saved_plan

    saved = read_saved_plan(plan_file) if plan_file else None
    approved = auto_approve or saved is not None

    def approve(assessment: Assessment) -> bool:
        click.echo(render_text(_report_of(assessment), color=app.color), nl=False, color=app.color)
        if assessment.plan.operations and not approved:
            _ask()
        return True

    _, outcome = anyio.run(
        _within(
            deadline,
            lambda: apply(
                project,
                state_backend(project),
                approve=approve,
                lock_timeout=lock_timeout,
                saved=saved,
                saved_source=str(plan_file),
                targets=_targets(targets),
                selector=selector,
                parallelism=parallelism,
                progress=_progress,
                allow_remove_all=allow_remove_all,
            ),
        )
    )
    if outcome is None:
        return
    click.echo(render_warnings(outcome), nl=False, err=True)
    click.echo(render_outcome(outcome), nl=False)
    if outcome.stopped:
        raise ApplyFailedError(
            f"apply stopped: {outcome.stopped}. What was recorded before is kept; "
            "run apply again once state can be written."
        )
    if not outcome.ok:
        raise ApplyFailedError(
            f"{len(outcome.failed)} operation(s) failed, {len(outcome.skipped)} skipped; "
            "everything else was applied and recorded. Fix the cause and run apply again."
        )


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _ask() -> None:
    """Confirm on a terminal; refuse to ask anywhere else (CI must pass --auto-approve)."""
    if not _stdin_is_terminal():
        raise ReconcilerError(
            "refusing to ask for approval: stdin is not a terminal; "
            "review the plan and pass --auto-approve (or apply a saved plan file)"
        )
    answer = click.prompt(
        "Apply these operations? Only 'yes' is accepted", default="", show_default=False, err=True
    )
    if answer.strip() != "yes":
        raise ReconcilerError("apply cancelled: nothing was changed")


@click.command("drift")
@format_option(FORMATS)
@click.option(
    "--since",
    default="24h",
    show_default=True,
    metavar="DURATION",
    help="Also report failed runs of managed automations this recent (e.g. 90m, 24h, 7d).",
)
@click.option(
    "--include-unapplied",
    is_flag=True,
    help="Also exit 2 for manifest changes not yet applied (listed either way).",
)
@selector_option
@deadline_option
@pass_app
def drift_command(
    app: AppContext,
    fmt: str,
    since: str,
    include_unapplied: bool,
    selector: Selector | None,
    deadline: float | None,
) -> None:
    """Report what moved on the platforms since the last apply; exit 2 when something did.

    Changes made on a platform (an edit or a deletion out of band) are drift. Manifest changes
    not yet applied are listed apart and exit 2 only with --include-unapplied. Failed runs of
    managed objects within --since are listed too (where the project has a provider that
    manages runs); they are health, not drift, and do not change the exit code. Nothing is
    changed.
    """
    from reconciler.drift import find_drift
    from reconciler.engine import rules_for
    from reconciler.health import parse_since
    from reconciler.render.report import build_drift_report

    window = parse_since(since)
    project = _project(app)
    assessment, failures = _run(
        lambda report: _assess_drift(project, report, window, selector), deadline
    )
    findings = find_drift(assessment.plan)
    drifted = findings.drifted(include_unapplied)
    report = build_drift_report(
        findings.platform,
        findings.unapplied,
        assessment.plan,
        rules_for,
        assessment.state,
        drifted=drifted,
        include_unapplied=include_unapplied,
        failed_runs=tuple(failures),
        since=since,
    )
    emit_drift(report, fmt, app, project)
    if drifted:
        sys.exit(EXIT_CHANGES)


async def _assess_drift(
    project: Project,
    report: Callable[[str], None],
    since: timedelta,
    selector: Selector | None = None,
) -> tuple[Assessment, list[RunFailure]]:
    """Refresh and compare, then read failed runs through the same open providers."""
    from reconciler.engine import Engine, state_backend
    from reconciler.project_runs import project_failed_runs

    engine = Engine(project, progress=report)
    async with engine:
        # a report changes nothing: removing everything is reported, never refused, here
        assessment = await engine.assess(state_backend(project).read(), selector=selector,
                                         allow_remove_all=True)
        failed = await project_failed_runs(project, assessment.state, engine.provider, since)
    if selector:  # the failed runs of the selected automations only
        chosen = set(selector.select(assessment.desired))
        failed = [f for f in failed if f.id in chosen]
    return assessment, failed


@click.group("state")
def state_group() -> None:
    """Inspect or edit what this project manages (the state file)."""


@state_group.command("list")
@format_option(["text", "json"])
@pass_app
def state_list(app: AppContext, fmt: str) -> None:
    """Every managed identity with its remote id."""
    from reconciler.engine import state_backend

    state = state_backend(_project(app), bound=False).read()
    if fmt == "json":
        rows = {str(rid): e.remote_id for rid, e in sorted(state.entries.items())}
        click.echo(json_text.dumps(rows, indent=2, sort_keys=True))
        return
    for rid, entry in sorted(state.entries.items()):
        click.echo(f"{rid}\t{entry.remote_id}")


@state_group.command("show")
@click.argument("identity")
@pass_app
def state_show(app: AppContext, identity: str) -> None:
    """One entry as JSON (sensitive values are only ever stored as salted hashes)."""
    from reconciler.engine import state_backend

    state = state_backend(_project(app), bound=False).read()
    entry = state.entries.get(_identity(identity))
    if entry is None:
        raise StateError(f"{identity}: not in state (see `reconciler state list`)")
    click.echo(json_text.dumps({"identity": identity, **entry.to_json()}, indent=2,
                               sort_keys=True))


@state_group.command("rm")
@click.argument("identity")
@click.option(
    "--force",
    is_flag=True,
    help="Also forget an entry with lifecycle.prevent_destroy (it becomes unmanaged).",
)
@lock_timeout_option
@pass_app
def state_rm(app: AppContext, identity: str, force: bool, lock_timeout: float) -> None:
    """Stop managing IDENTITY: forget it in state; the live object is left as it is.

    An entry with lifecycle.prevent_destroy is refused without --force: forgetting it would
    also forget its protection. Once forgotten it is unmanaged, and nothing unmanaged is ever
    removed (not even by `destroy --force-unprotected`).
    """
    from reconciler.engine import state_backend
    from reconciler.state.edits import forget

    forget(state_backend(_project(app)), _identity(identity), force=force,
           lock_timeout=lock_timeout)
    click.echo(
        f"Removed {identity} from state; the live object was not touched. While a manifest "
        "declares it, the next apply finds it by its natural key and adopts it again."
    )


@state_group.command("unlock")
@click.argument("lease_id")
@pass_app
def state_unlock(app: AppContext, lease_id: str) -> None:
    """End the state lease LEASE_ID by hand (named in the error of a run that found it held).

    Its holder, if still running, stops before its next write. A lease whose holder died also
    expires by itself after state.lease_ttl.
    """
    from reconciler.engine import state_backend
    from reconciler.state.postgres import PostgresStateBackend, describe_holder

    backend = state_backend(_project(app), bound=False)
    if not isinstance(backend, PostgresStateBackend):
        raise StateError(
            "state unlock applies to the postgres backend; the local backend's lock is "
            "released by the operating system when the process holding it ends"
        )
    ended = backend.unlock(lease_id)
    click.echo(
        f"Ended lease {ended.lease_id} on state {ended.key!r}: it was held by "
        f"{describe_holder(ended.holder)} since {ended.acquired_at.isoformat(timespec='seconds')}"
        + (" and had already expired." if ended.expired else ".")
    )


@state_group.command("rebind")
@lock_timeout_option
@pass_app
def state_rebind(app: AppContext, lock_timeout: float) -> None:
    """Bind the state to this project: its name and its provider instances' accounts.

    State records the project it belongs to, and plan, apply, drift and destroy refuse a state
    bound to another. Run this once when the project was renamed (or its folder moved, when
    reconciler.yaml sets no name), or moved to other accounts, on purpose; never to use
    another project's state. base_url is not part of the binding.
    """
    from reconciler.engine import state_backend
    from reconciler.state.edits import rebind

    project = _project(app)
    before, after = rebind(project, state_backend(project, bound=False),
                           lock_timeout=lock_timeout)
    was = before.describe() if before is not None else "no project (written before bindings)"
    click.echo(f"State is now bound to {after.describe()}; it was bound to {was}.")


@state_group.command("migrate")
@click.option(
    "--to",
    "to",
    type=click.Choice(["postgres", "local"]),
    required=True,
    help="Where to copy the state: postgres (state.url and state.key) or local (state.path).",
)
@lock_timeout_option
@pass_app
def state_migrate(app: AppContext, to: str, lock_timeout: float) -> None:
    """Copy the state, with its lineage and serial, between the local file and postgres.

    Both places come from the project file's state section (path; url and key). Then set
    state.backend to the new one.
    """
    from reconciler.engine import open_state
    from reconciler.state.model import copy_state

    project = _project(app)
    source = open_state(project, "local" if to == "postgres" else "postgres")
    target = open_state(project, to)
    state = copy_state(source, target, lock_timeout)
    click.echo(
        f"Copied {len(state.entries)} entries (lineage {state.lineage}, serial {state.serial}) "
        f"to the {to} backend."
    )
    if project.state.backend != to:
        click.echo(f"Now set `state.backend: {to}` in {project.file.name}.", err=True)


@click.command("import")
@click.argument("identity", required=False)
@click.argument("remote_id", required=False)
@click.option(
    "--all-unmanaged",
    is_flag=True,
    help="Adopt every live object a manifest declares but state does not record (no API call).",
)
@lock_timeout_option
@pass_app
def import_command(
    app: AppContext,
    identity: str | None,
    remote_id: str | None,
    all_unmanaged: bool,
    lock_timeout: float,
) -> None:
    """Adopt an existing object: record REMOTE_ID as IDENTITY (PROVIDER/KIND/NAME) in state.

    With --all-unmanaged (and no arguments), record every live object that a manifest
    declares and state does not yet record, such as what `reconciler export` wrote: the plan's
    adoptions, and nothing else.
    """
    from reconciler.engine import adopt, state_backend

    project = _project(app)
    if all_unmanaged:
        if identity or remote_id:
            raise click.UsageError("--all-unmanaged takes no IDENTITY or REMOTE_ID")
        from reconciler.commands.lifecycle import adopt_all

        adopt_all(project, lock_timeout)
        return
    if not identity or not remote_id:
        raise click.UsageError("expected IDENTITY and REMOTE_ID (or --all-unmanaged)")
    rid = _identity(identity)
    backend = state_backend(project)
    with backend.lock(lock_timeout, "reconciler import"):
        entry = _run(lambda report: adopt(project, backend, rid, remote_id, report))
    click.echo(f"Imported {rid} (remote id {entry.remote_id}); run `reconciler plan` to compare.")


def _identity(text: str) -> ResourceId:
    try:
        return ResourceId.parse(text)
    except ValueError as exc:
        raise StateError(str(exc)) from None


COMMANDS: list[click.Command] = [
    plan_command,
    apply_command,
    drift_command,
    state_group,
    import_command,
]
