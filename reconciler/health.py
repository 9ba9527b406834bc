"""Run health of managed objects, from a provider instance that manages runs.

Two questions the reports ask: what was the last run of each managed automation (``status``),
and which of them failed within the last ``since`` (``drift``). The runs API cannot filter by
automation, so both page through runs and match each run's object (``Run.automation_id``) to
the remote ids the caller knows; paging stops early once the API is seen to answer newest first
and the pages are past what is asked. Only the typed run records are read here: the provider
reads its platform's answers into them and declares which statuses mean a run failed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Collection, Mapping
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from reconciler.config import Project, ProviderConfig
from reconciler.errors import ConfigError
from reconciler.model import ResourceId, RunFailure
from reconciler.run_records import Run, RunEvent, RunList, RunSteps

DEFAULT_SINCE = timedelta(hours=24)
PAGE_SIZE = 1000
MAX_RUNS_SCANNED = 20_000  # bounds a status report on a platform with a very long history


@runtime_checkable
class RunManager(Protocol):
    """What a provider that manages runs offers beyond the Provider protocol (run commands,
    run health); such a provider also declares whose runs they are (``RunsReporter.runs_of``).

    Every answer is a typed run record (``run_records``): the provider reads its platform's
    answers into them, and an answer of the wrong shape is a ProviderError naming the call.
"""

    async def list_runs(
        self, status: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> RunList: ...

    def iter_runs(
        self, status: str | None = None, page_size: int = PAGE_SIZE
    ) -> AsyncGenerator[Run, None]: ...

    async def get_run(self, run_id: str) -> Run: ...

    async def cancel_run(self, run_id: str) -> Run: ...

    def failed_statuses(self) -> Collection[str]:
        """The run statuses that mean a run failed, as ``list_runs`` filters on them."""
        ...

    def retry_modes(self) -> Mapping[str, bool]:
        """How the platform starts a failed run again, the first its default, each with
        whether it starts from a step the caller names."""
        ...

    async def retry_run(
        self, run_id: str, mode: str = "from_failed", step_key: str | None = None
    ) -> Run: ...

    async def run_steps(self, run_id: str) -> RunSteps: ...

    def stream_events(self, run_id: str) -> AsyncGenerator[RunEvent, None]: ...


def runs_provider_config(project: Project, name: str | None = None) -> ProviderConfig | None:
    """The project's instance that manages runs: by name, or the only one; None when none does.

    Which provider types manage runs is what they declare (``RunManager`` and
    ``RunsReporter.runs_of``). Several instances and no name is a ConfigError listing them, so
    the user can pick one.
    """
    if name is not None:
        config = project.providers.get(name)
        if config is None:
            raise ConfigError(f"{project.file}: no provider named {name!r}")
        if not manages_runs(config.type):
            wanted = " or ".join(repr(t) for t in run_manager_types()) or "none installed"
            raise ConfigError(
                f"{config.position}: provider {name!r} is of type {config.type!r}, "
                f"not {wanted}"
            )
        return config
    found = [c for c in project.providers.values() if manages_runs(c.type)]
    if len(found) > 1:
        names = ", ".join(sorted(c.name for c in found))
        raise ConfigError(
            f"{project.file}: several providers manage runs ({names}); pick one with --provider"
        )
    return found[0] if found else None


def manages_runs(provider_type: str) -> bool:
    """True when the provider type declares run management (``RunManager``, ``runs_of``)."""
    from reconciler.providers.registry import provider_class, provider_types

    if provider_type not in provider_types():
        return False
    cls = provider_class(provider_type)
    return bool(getattr(cls, "runs_of", None)) and issubclass(cls, RunManager)


def run_manager_types() -> list[str]:
    """The installed provider types that manage runs, sorted."""
    from reconciler.providers.registry import provider_types

    return sorted(t for t in provider_types() if manages_runs(t))


async def last_runs(
    runs: RunManager, automation_ids: Mapping[str, ResourceId]
) -> dict[ResourceId, Run]:
    """The newest run of each automation (keyed by remote id in ``automation_ids``)."""
    newest: dict[ResourceId, Run] = {}
    if not automation_ids:
        return newest
    wanted = len(set(automation_ids.values()))
    async with aclosing(_scan(runs, None)) as scan:
        async for run, newest_first in scan:
            rid = automation_ids.get(run.automation_id)
            if rid is not None and _later(run, newest.get(rid)):
                newest[rid] = run
            if newest_first and len(newest) == wanted:
                break
    return newest


async def failed_runs_since(
    runs: RunManager,
    automation_ids: Mapping[str, ResourceId],
    since: timedelta = DEFAULT_SINCE,
    *,
    now: datetime | None = None,
) -> list[RunFailure]:
    """Failed runs of the given automations created within ``since`` of now, oldest first.

    ``automation_ids`` maps each managed object's remote id to its identity; the engine's
    drift report passes the objects with runs it manages.
    """
    cutoff = (now or datetime.now(UTC)) - since
    found: list[RunFailure] = []
    if not automation_ids:
        return found
    for status in runs.failed_statuses():
        async with aclosing(_scan(runs, status)) as scan:
            async for run, newest_first in scan:
                created = _timestamp(run)
                if created is not None and created < cutoff:
                    if newest_first:
                        break  # the rest is older still
                    continue
                rid = automation_ids.get(run.automation_id)
                if rid is not None:
                    found.append(
                        RunFailure(rid, run.id, run.status, run.created_at, error_text(run.error))
                    )
    return sorted(found, key=lambda f: f.created_at)


def parse_since(text: str) -> timedelta:
    """``--since`` as a duration such as ``24h``, ``90m`` or ``7d``."""
    from reconciler.durations import parse_duration

    cleaned = text.strip().lower()
    if cleaned.endswith("d") and cleaned[:-1].isdigit():
        return timedelta(days=int(cleaned[:-1]))
    return timedelta(seconds=parse_duration(cleaned))


async def _scan(
    runs: RunManager, status: str | None
) -> AsyncGenerator[tuple[Run, bool], None]:
    """Runs in the API's order, each with whether the order seen so far is newest first."""
    newest_first = True
    previous: datetime | None = None
    scanned = 0
    async with aclosing(runs.iter_runs(status, PAGE_SIZE)) as pages:
        async for run in pages:
            created = _timestamp(run)
            if previous is not None and created is not None and created > previous:
                newest_first = False
            previous = created or previous
            yield run, newest_first
            scanned += 1
            if scanned >= MAX_RUNS_SCANNED:
                return


def _timestamp(run: Run) -> datetime | None:
    if not run.created_at:
        return None
    try:
        value = datetime.fromisoformat(run.created_at)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _later(run: Run, other: Run | None) -> bool:
    if other is None:
        return True
    mine, theirs = _timestamp(run), _timestamp(other)
    return mine is not None and (theirs is None or mine > theirs)


def error_text(error: Any) -> str:
    """A run or step ``error`` (object or string) as one line."""
    if not error:
        return ""
    if isinstance(error, Mapping):
        message = error.get("message") or error.get("detail")
        return str(message) if message else json.dumps(error, sort_keys=True, default=str)
    return str(error)
