"""Run health of managed automations, from an ``automation-runs`` provider instance.

Two questions the reports ask: what was the last run of each managed automation (``status``),
and which of them failed within the last ``since`` (``drift``). The runs API cannot filter by
automation, so both page through runs and match ``automationId`` to the remote ids the caller
knows; paging stops early once the API is seen to answer newest first and the pages are past
what is asked.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from reconciler.config import Project, ProviderConfig
from reconciler.errors import ConfigError
from reconciler.model import ResourceId, RunFailure

RUNS_PROVIDER_TYPE = "automation-runs"
DEFAULT_SINCE = timedelta(hours=24)
PAGE_SIZE = 1000
MAX_RUNS_SCANNED = 20_000  # bounds a status report on a platform with a very long history


@runtime_checkable
class RunManager(Protocol):
    """What an ``automation-runs`` provider offers beyond the Provider protocol."""

    async def list_runs(
        self, status: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> Any: ...

    def iter_runs(
        self, status: str | None = None, page_size: int = PAGE_SIZE
    ) -> AsyncGenerator[Mapping[str, Any], None]: ...

    async def get_run(self, run_id: str) -> Mapping[str, Any]: ...

    async def cancel_run(self, run_id: str) -> Mapping[str, Any]: ...

    async def retry_run(
        self, run_id: str, mode: str = "from_failed", step_key: str | None = None
    ) -> Mapping[str, Any]: ...

    async def run_steps(self, run_id: str) -> Mapping[str, Any]: ...

    def stream_events(self, run_id: str) -> AsyncGenerator[Mapping[str, Any], None]: ...


def runs_provider_config(project: Project, name: str | None = None) -> ProviderConfig | None:
    """The project's automation-runs instance: by name, or the only one; None when there is none.

    Several instances and no name is a ConfigError listing them, so the user can pick one.
    """
    if name is not None:
        config = project.providers.get(name)
        if config is None:
            raise ConfigError(f"{project.file}: no provider named {name!r}")
        if config.type != RUNS_PROVIDER_TYPE:
            raise ConfigError(
                f"{config.position}: provider {name!r} is of type {config.type!r}, "
                f"not {RUNS_PROVIDER_TYPE!r}"
            )
        return config
    found = [c for c in project.providers.values() if c.type == RUNS_PROVIDER_TYPE]
    if len(found) > 1:
        names = ", ".join(sorted(c.name for c in found))
        raise ConfigError(
            f"{project.file}: several {RUNS_PROVIDER_TYPE} providers ({names}); "
            "pick one with --provider"
        )
    return found[0] if found else None


async def last_runs(
    runs: RunManager, automation_ids: Mapping[str, ResourceId]
) -> dict[ResourceId, Mapping[str, Any]]:
    """The newest run of each automation (keyed by remote id in ``automation_ids``)."""
    newest: dict[ResourceId, Mapping[str, Any]] = {}
    if not automation_ids:
        return newest
    wanted = len(set(automation_ids.values()))
    async with aclosing(_scan(runs, None)) as scan:
        async for run, newest_first in scan:
            rid = automation_ids.get(str(run.get("automationId") or ""))
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

    ``automation_ids`` maps each managed automation's remote id to its identity; the engine's
    drift report passes the workspace automations it manages.
    """
    cutoff = (now or datetime.now(UTC)) - since
    found: list[RunFailure] = []
    if not automation_ids:
        return found
    async with aclosing(_scan(runs, "failed")) as scan:
        async for run, newest_first in scan:
            created = _timestamp(run)
            if created is not None and created < cutoff:
                if newest_first:
                    break  # the rest is older still
                continue
            rid = automation_ids.get(str(run.get("automationId") or ""))
            if rid is not None:
                found.append(
                    RunFailure(
                        rid,
                        str(run.get("id") or ""),
                        str(run.get("status") or ""),
                        str(run.get("createdAt") or ""),
                        error_text(run.get("error")),
                    )
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
) -> AsyncGenerator[tuple[Mapping[str, Any], bool], None]:
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


def _timestamp(run: Mapping[str, Any]) -> datetime | None:
    text = run.get("createdAt")
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _later(run: Mapping[str, Any], other: Mapping[str, Any] | None) -> bool:
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
