"""``reconciler check``, ``reconciler runs ...`` and ``reconciler status``.

Commands parse options, call one function, render. Data goes to stdout (``--format json`` for
machines); progress to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import click

from reconciler.errors import CheckFailedError, ConfigError
from reconciler.run_records import Run, RunList, RunSteps

if TYPE_CHECKING:
    from types import ModuleType

    from rich.console import Console

    from reconciler.cli import AppContext
    from reconciler.config import Project
    from reconciler.health import RunManager

from reconciler.cli import pass_app

T = TypeVar("T")


class _Answer(Protocol):
    def to_json(self) -> Any: ...


R = TypeVar("R", bound=_Answer)

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output for people (text) or machines (json).",
)
provider_option = click.option(
    "--provider",
    "provider_name",
    metavar="NAME",
    help="The provider instance that manages runs (needed when the project has several).",
)


def _view() -> ModuleType:
    """The views (rich), loaded only by a command that prints one."""
    from reconciler import runs_view

    return runs_view


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run the async part of a command."""
    import anyio

    return anyio.run(work)


@asynccontextmanager
async def _run_manager(
    app: AppContext, name: str | None
) -> AsyncIterator[tuple[Project, RunManager]]:
    """Open the project's provider instance that manages runs, closing it afterwards."""
    from reconciler.config import load_project
    from reconciler.health import RunManager, run_manager_types, runs_provider_config
    from reconciler.providers.registry import open_provider

    project = load_project(app.directory)
    config = runs_provider_config(project, name)
    if config is None:
        types = run_manager_types()
        wanted = " or ".join(repr(t) for t in types) or "that manages runs"
        raise ConfigError(
            f"{project.file}: no provider of type {wanted}; add one under providers "
            f"(type: {types[0] if types else '…'}, base_url and its credentials)"
        )
    provider = open_provider(config)
    try:
        if not isinstance(provider, RunManager):
            raise ConfigError(f"{config.position}: provider {config.name!r} cannot list runs")
        yield project, provider
    finally:
        await provider.aclose()


def _out(app: AppContext) -> Console:
    return _view().console(sys.stdout, app.color)


# -- reconciler runs ---------------------------------------------------------------------------


@click.group("runs")
def runs_group() -> None:
    """List, inspect, cancel, retry and follow automation runs.

    Talks to the project's provider instance that manages runs (--provider NAME when it has
    several). Exit 1 when the platform refuses (unknown run, run already ended, bad value).
    """


@runs_group.command("list")
@click.option("--status", metavar="S", help="Only runs with this status (e.g. failed, running).")
@click.option(
    "--automation",
    metavar="A",
    help="Only runs of this object: its remote id, or the metadata.name of a managed document.",
)
@click.option("--limit", type=int, help="At most N runs (the platform's default is 100, max 1000).")
@click.option("--offset", type=int, help="Skip the first N runs.")
@provider_option
@format_option
@pass_app
def runs_list(
    app: AppContext,
    status: str | None,
    automation: str | None,
    limit: int | None,
    offset: int | None,
    provider_name: str | None,
    fmt: str,
) -> None:
    """List runs, newest first as the platform orders them, each with the managed object
    (PROVIDER/Kind/name, from state) it belongs to."""
    from reconciler.project_runs import list_project_runs, with_identities

    async def fetch(project: Project, manager: RunManager) -> RunList:
        runs = await list_project_runs(project, manager, status, automation, limit, offset)
        return RunList(tuple(with_identities(project, manager, runs.items)), runs.total)

    _fetch_and_show(
        app,
        provider_name,
        fmt,
        fetch,
        lambda page: _view().runs_table(_out(app), page.items, page.total),
    )


@runs_group.command("show")
@click.argument("run_id", metavar="ID")
@provider_option
@format_option
@pass_app
def runs_show(app: AppContext, run_id: str, provider_name: str | None, fmt: str) -> None:
    """Show one run and its steps."""
    from reconciler.project_runs import with_identities

    async def fetch(project: Project, manager: RunManager) -> RunDetail:
        run = await manager.get_run(run_id)
        steps = await manager.run_steps(run_id)
        [run] = with_identities(project, manager, [run])
        return RunDetail(run, steps)

    _fetch_and_show(
        app,
        provider_name,
        fmt,
        fetch,
        lambda found: _view().run_detail(_out(app), found.run, found.steps),
    )


@runs_group.command("cancel")
@click.argument("run_id", metavar="ID")
@provider_option
@format_option
@pass_app
def runs_cancel(app: AppContext, run_id: str, provider_name: str | None, fmt: str) -> None:
    """Cancel a run that has not ended yet."""
    from reconciler.project_runs import run_identities

    async def fetch(project: Project, manager: RunManager) -> Run:
        identify = run_identities(project, manager)  # before anything is sent
        return identify(await manager.cancel_run(run_id))

    _fetch_and_show(app, provider_name, fmt, fetch, _echo_run)


@runs_group.command("retry")
@click.argument("run_id", metavar="ID")
@click.option(
    "--mode",
    metavar="MODE",
    help="How to start again, as the runs provider names it (default: its first mode, "
    "from the failed step); an unknown mode is refused, listing the modes it takes.",
)
@click.option(
    "--step", "step_key", metavar="KEY",
    help="The step to start from, for a mode that starts from a named step.",
)
@provider_option
@format_option
@pass_app
def runs_retry(
    app: AppContext,
    run_id: str,
    mode: str | None,
    step_key: str | None,
    provider_name: str | None,
    fmt: str,
) -> None:
    """Retry a failed run."""

    from reconciler.project_runs import run_identities

    async def fetch(project: Project, manager: RunManager) -> Run:
        chosen = _retry_mode(manager, mode, step_key)
        identify = run_identities(project, manager)  # before anything is sent
        return identify(await manager.retry_run(run_id, chosen, step_key))

    _fetch_and_show(app, provider_name, fmt, fetch, _echo_run)


def _retry_mode(manager: RunManager, mode: str | None, step_key: str | None) -> str:
    """The mode to send, checked against what the runs provider declares (nothing is sent
    otherwise): a usage error names the modes it takes, and which need --step."""
    modes = manager.retry_modes()
    chosen = mode if mode is not None else next(iter(modes))
    if chosen not in modes:
        raise click.UsageError(
            f"--mode {chosen!r} is not one the runs provider takes: {', '.join(modes)}"
        )
    with_step = modes[chosen]
    if with_step and not step_key:
        raise click.UsageError(f"--mode {chosen} needs --step KEY")
    if step_key and not with_step:
        steps = ", ".join(name for name, named in modes.items() if named) or "none"
        raise click.UsageError(f"--step is only used with a mode that starts from a step "
                               f"({steps})")
    return chosen


def _fetch_and_show(
    app: AppContext,
    provider_name: str | None,
    fmt: str,
    fetch: Callable[[Project, RunManager], Awaitable[R]],
    show_text: Callable[[R], None],
) -> None:
    """Ask the project's runs provider, then print the answer as JSON or as text."""

    async def work() -> R:
        async with _run_manager(app, provider_name) as (project, manager):
            return await fetch(project, manager)

    found = _run(work)
    if fmt == "json":
        _view().emit_json(sys.stdout, found.to_json())
    else:
        show_text(found)


@dataclass(frozen=True)
class RunDetail:
    """What ``runs show`` prints: the run and its steps."""

    run: Run
    steps: RunSteps

    def to_json(self) -> dict[str, Any]:
        """``{"run": ..., "steps": ...}`` as the platform answered them."""
        return {"run": self.run.to_json(), "steps": self.steps.to_json()}


def _echo_run(run: Run) -> None:
    click.echo(_view().run_line(run))


@runs_group.command("events")
@click.argument("run_id", metavar="ID")
@provider_option
@format_option
@pass_app
def runs_events(app: AppContext, run_id: str, provider_name: str | None, fmt: str) -> None:
    """Follow a run's events until it ends (json: one object per line)."""
    from reconciler.json_text import dumps

    async def work() -> None:
        async with _run_manager(app, provider_name) as (_project, manager):
            async for event in manager.stream_events(run_id):
                line = (
                    dumps(event.to_json(), sort_keys=True, default=str)
                    if fmt == "json"
                    else _view().event_line(event)
                )
                click.echo(line)

    _run(work)


# -- reconciler check --------------------------------------------------------------------------


@click.command("check")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@format_option
@pass_app
def check_command(app: AppContext, names: tuple[str, ...], fmt: str) -> None:
    """Run smoke checks now (all, or those named); exit 1 if any fails.

    NAME is a check document's metadata.name or its full PROVIDER/KIND/NAME identity. Progress
    goes to stderr; results to stdout.
    """
    from reconciler.config import load_project
    from reconciler.progress import progress_line
    from reconciler.project_runs import run_project_checks

    project = load_project(app.directory)
    with progress_line() as report:
        results = _run(lambda: run_project_checks(project, names, report))
    if fmt == "json":
        _view().emit_json(sys.stdout, [_view().check_json(r) for r in results])
    elif not results:
        click.echo("No check documents in this project.", err=True)
    else:
        _view().check_results(_out(app), results)
    failed = [r for r in results if not r.passed]
    if failed:
        raise CheckFailedError(f"{len(failed)} of {len(results)} check(s) failed")


# -- reconciler status -------------------------------------------------------------------------


@click.command("status")
@provider_option
@format_option
@pass_app
def status_command(app: AppContext, provider_name: str | None, fmt: str) -> None:
    """Each managed resource's sync state beside its health (last run status).

    Sync state: in sync, drifted (live moved since the last apply) or pending change (the
    manifests differ from what is live). Health comes from the project's provider instance
    that manages runs, for the objects whose kinds have runs.
    """
    from reconciler.config import load_project
    from reconciler.progress import progress_line
    from reconciler.project_runs import project_status

    project = load_project(app.directory)
    with progress_line() as report:
        rows = _run(lambda: project_status(project, provider_name, report))
    if fmt == "json":
        _view().emit_json(sys.stdout, [row.to_json() for row in rows])
    else:
        _view().status_table(_out(app), rows)


COMMANDS: list[click.Command] = [check_command, runs_group, status_command]
