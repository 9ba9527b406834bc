"""Runs seen from a project: checks on demand, run health beside sync state, filtered run lists.

These join what the engine knows (desired resources, state, a fresh plan) with what the runs
APIs report. The engine's own modules stay unaware of runs; the commands call in here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from reconciler.checks import CheckResult, run_check
from reconciler.config import Project
from reconciler.errors import ConfigError
from reconciler.health import (
    DEFAULT_SINCE,
    PAGE_SIZE,
    RunManager,
    failed_runs_since,
    last_runs,
    runs_provider_config,
)
from reconciler.model import (
    DRIFT_REASONS,
    MUTATING_ACTIONS,
    Action,
    ExecutionContext,
    Operation,
    Plan,
    Resource,
    ResourceId,
    RunFailure,
)
from reconciler.run_records import Run, RunList
from reconciler.state.model import State

Progress = Callable[[str], None]
IN_SYNC, DRIFTED, PENDING = "in sync", "drifted", "pending change"


@dataclass(frozen=True)
class StatusRow:
    """One managed resource in ``reconciler status``."""

    id: ResourceId
    sync: str  # in sync | drifted | pending change
    health: str | None  # the last run's status; None where no runs are reported
    last_run_id: str | None = None
    last_run_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form of ``status --format json``."""
        return {
            "id": str(self.id),
            "sync": self.sync,
            "health": self.health,
            "last_run_id": self.last_run_id,
            "last_run_at": self.last_run_at,
        }


async def run_project_checks(
    project: Project, names: Sequence[str], progress: Progress | None = None
) -> list[CheckResult]:
    """Run the project's checks (all, or those named) one after another."""
    from reconciler.engine import Engine, is_check, load_desired, state_backend

    desired = load_desired(project)
    checks = _select_checks(
        [r for r in desired if is_check(r.provider_type, r.id.kind)], names, project
    )
    state = state_backend(project).read()
    results = []
    async with Engine(project) as engine:
        for check in checks:
            provider = engine.provider(check.id.provider)
            context = ExecutionContext(
                remote_ids=state.remote_ids(check.id.provider),
                desired={r.id: r for r in desired if r.id.provider == check.id.provider},
            )
            results.append(await run_check(provider, check, context, progress))
    return results


async def project_status(
    project: Project, runs_provider: str | None = None, progress: Progress | None = None
) -> list[StatusRow]:
    """Each managed resource's sync state (from a fresh plan) and last run status."""
    from reconciler.engine import Engine, state_backend

    state = state_backend(project).read()
    async with Engine(project, progress=progress) as engine:
        assessment = await engine.assess(state, allow_remove_all=True)  # a report: refuse nothing
        sync = sync_states(assessment.plan, assessment.desired, state)
        runs: Mapping[ResourceId, Run] = {}
        manager = _runs_manager(engine.provider, project, runs_provider)
        automations = objects_with_runs(project, state, manager)
        if manager is not None and automations:
            if progress:
                progress(f"reading the last runs of {len(automations)} automations")
            runs = await last_runs(manager, automations)
    rows = []
    for rid, state_word in sorted(sync.items()):
        run = runs.get(rid)
        rows.append(
            StatusRow(
                rid,
                state_word,
                run.status if run else None,
                run.id if run else None,
                run.created_at if run else None,
            )
        )
    return rows


async def project_failed_runs(
    project: Project,
    state: State,
    provider_for: Callable[[str], object],
    since: timedelta = DEFAULT_SINCE,
    runs_provider: str | None = None,
) -> list[RunFailure]:
    """Failed runs of the project's managed objects with runs within ``since``.

    For the drift report. ``provider_for`` opens a provider instance by name (the engine's
    ``Engine.provider``, so its open instances are reused). An empty list when the project has
    no instance that manages runs or manages no object with runs.
    """
    manager = _runs_manager(provider_for, project, runs_provider)
    automations = objects_with_runs(project, state, manager)
    if manager is None or not automations:
        return []
    return await failed_runs_since(manager, automations, since)


def sync_states(
    plan: Plan, desired: Sequence[Resource], state: State
) -> dict[ResourceId, str]:
    """``in sync``, ``drifted`` or ``pending change`` for every desired or managed resource.

    Checks are left out: they are runs, not objects with a live side.
    """
    from reconciler.engine import is_check

    words = {r.id: IN_SYNC for r in desired if not is_check(r.provider_type, r.id.kind)}
    words.update(
        (rid, IN_SYNC)
        for rid, entry in state.entries.items()
        if not is_check(entry.provider_type, rid.kind)
    )
    for op in plan.operations:
        if op.action not in MUTATING_ACTIONS or op.action is Action.CHECK:
            continue
        if words.get(op.id) != DRIFTED:
            words[op.id] = _sync_word(op)
    return words


def objects_with_runs(
    project: Project, state: State, reporter: object | None
) -> dict[str, ResourceId]:
    """Remote id -> identity, for the managed objects whose runs ``reporter`` reports.

    Those are the objects of the provider types it declares (``RunsReporter.runs_of``), of the
    kinds those types declare to have runs (``HasRuns.run_kinds``); a run names its object by
    the remote id kept in state.
    """
    from reconciler.providers.registry import provider_class

    runs_of = frozenset(getattr(reporter, "runs_of", ()) or ())
    found: dict[str, ResourceId] = {}
    for rid, entry in state.entries.items():
        config = project.providers.get(rid.provider)
        if config is None or config.type not in runs_of or not entry.remote_id:
            continue
        if rid.kind in getattr(provider_class(config.type), "run_kinds", frozenset()):
            found[entry.remote_id] = rid
    return found


def with_identities(project: Project, manager: RunManager, runs: Sequence[Run]) -> list[Run]:
    """Each run with ``identity``: the managed object it belongs to (``PROVIDER/Kind/name``,
    from state), or None for a run of an object this project does not manage."""
    identify = run_identities(project, manager)
    return [identify(run) for run in runs]


def run_identities(project: Project, manager: RunManager) -> Callable[[Run], Run]:
    """Reads state now, and gives back how to name a run's managed object: a command that acts
    (cancel, retry) calls this before it sends, so a state it cannot read stops it first."""
    from reconciler.engine import state_backend

    managed = objects_with_runs(project, state_backend(project).read(), manager)
    return lambda run: run.with_identity(_identity_of(run, managed))


def _identity_of(run: Run, managed: Mapping[str, ResourceId]) -> str | None:
    rid = managed.get(run.automation_id)
    return str(rid) if rid is not None else None


async def list_project_runs(
    project: Project,
    manager: RunManager,
    status: str | None,
    automation: str | None,
    limit: int | None,
    offset: int | None,
) -> RunList:
    """A page of runs; with ``automation``, limit and offset count that automation's runs.

    ``automation`` is a managed object's metadata.name or a remote id as written.
    The API cannot filter by automation, so that case pages through runs here (total unknown).
    """
    if automation is None:
        return await manager.list_runs(status, limit, offset)
    from reconciler.engine import state_backend

    managed = objects_with_runs(project, state_backend(project).read(), manager)
    automation_id = next(
        (remote for remote, rid in managed.items() if rid.name == automation), automation
    )
    if limit is not None and not 0 <= limit <= PAGE_SIZE:
        raise ConfigError(f"--limit: expected 0 to {PAGE_SIZE}, got {limit}")
    if offset is not None and offset < 0:
        raise ConfigError(f"--offset: expected 0 or more, got {offset}")
    wanted, skip = (100 if limit is None else limit), (offset or 0)
    matched: list[Run] = []
    if wanted == 0:
        return RunList((), None)
    async for run in manager.iter_runs(status):
        if run.automation_id != automation_id:
            continue
        if skip:
            skip -= 1
            continue
        matched.append(run)
        if len(matched) >= wanted:
            break
    return RunList(tuple(matched), None)


def _sync_word(op: Operation) -> str:
    return DRIFTED if op.reason in DRIFT_REASONS else PENDING


def _runs_manager(
    provider_for: Callable[[str], object], project: Project, name: str | None
) -> RunManager | None:
    config = runs_provider_config(project, name)
    if config is None:
        return None
    provider = provider_for(config.name)
    return provider if isinstance(provider, RunManager) else None


def _select_checks(
    checks: list[Resource], names: Sequence[str], project: Project
) -> list[Resource]:
    """The checks named (by metadata.name or full identity), in the order given; all if none."""
    if not names:
        return sorted(checks, key=lambda c: c.id)
    chosen = []
    for name in names:
        found = [c for c in checks if name in (c.id.name, str(c.id))]
        if not found:
            known = ", ".join(sorted(str(c.id) for c in checks)) or "none"
            kinds = "/".join(sorted({c.id.kind for c in checks})) or "check"  # the declared kinds
            raise ConfigError(f"{project.file}: no {kinds} named {name!r} (checks: {known})")
        chosen += [c for c in found if c not in chosen]
    return chosen
