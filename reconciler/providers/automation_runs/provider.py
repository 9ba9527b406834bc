"""The ``automation-runs`` provider: runs of automations, for health reports and the runs commands.

It manages no manifest kind (``read`` returns nothing); what it offers is run management over the
documented automation runs API: list, get, cancel, retry, steps and the events stream. Every path
is in ``PATHS``. Documented: the six calls, their query and body fields, 422 ``{"detail": [{"loc",
"msg", "type"}]}``. Assumed (the reference is silent): the run status words, the event stream format
(``text/event-stream``, one JSON object per ``data:`` line, closed once the run is terminal),
404 ``{"detail": "Run not found"}`` and 409 ``{"detail"}``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from reconciler.errors import ProviderError
from reconciler.providers.answers import Shape
from reconciler.providers.automation_runs.records import (
    read_event,
    read_run,
    read_run_list,
    read_steps,
)
from reconciler.providers.automation_runs.shapes import detail_error
from reconciler.providers.http import (
    MAX_EVENT_BYTES,
    ApiClient,
    api_key_auth,
    bearer_auth,
    strict_json,
)
from reconciler.providers.runs_only import ManagesNothing
from reconciler.run_records import Run, RunEvent, RunList, RunSteps

if TYPE_CHECKING:
    import httpx

    from reconciler.config import ProviderConfig

BASE = "/api/v1/automation-runs"
PATHS = {
    "list": BASE,
    "get": BASE + "/{run_id}",
    "cancel": BASE + "/{run_id}/cancel",
    "retry": BASE + "/{run_id}/retry",
    "steps": BASE + "/{run_id}/steps",
    "events": BASE + "/{run_id}/events",
}
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
FAILED_STATUSES = ("failed",)
IN_FLIGHT_STATUSES = ("pending", "queued", "running")  # assumed (not documented): the others
RETRY_MODES = ("from_failed", "from_step", "full")  # the first is the API's default
MAX_PAGE = 1000  # the API's ceiling for ``limit``
# What the adapter relies on in each answer, checked as it comes in
ANSWERS: dict[str, Shape] = {
    "GET " + PATHS["list"]: {"items[]": "object?", "total": "integer?"},
}


class AutomationRunsProvider(ManagesNothing):
    """Run management for one automation runs API instance."""

    type_name: ClassVar[str] = "automation-runs"
    kinds: ClassVar[frozenset[str]] = frozenset()
    # the runs it reports are of workspace automations (``automationId`` is their id)
    runs_of: ClassVar[frozenset[str]] = frozenset({"workspace"})

    def __init__(
        self, config: ProviderConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        # the API takes an X-API-Key or an ``authorization`` header; the project file says which
        use_token = "token" in config.settings and "api_key" not in config.settings
        auth = bearer_auth(config) if use_token else api_key_auth(config)
        self.client = ApiClient(
            config,
            platform=self.type_name,
            auth=auth,
            error_parser=detail_error,
            transport=transport,
        )
        self.client.answers = ANSWERS

    # -- run management ------------------------------------------------------------------------

    async def list_runs(
        self, status: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> RunList:
        """One page of runs, optionally of one status; the API validates limit and offset."""
        params = {"status": status, "limit": limit, "offset": offset}
        body = await self.client.call("GET", PATHS["list"], params=params)
        return read_run_list(list(body.get("items") or ()), int(body.get("total") or 0),
                             "runs list", offset or 0)

    async def iter_runs(
        self, status: str | None = None, page_size: int = MAX_PAGE
    ) -> AsyncGenerator[Run, None]:
        """Every run (of one status), page by page, in the API's order."""
        offset = 0
        while True:
            page = await self.list_runs(status, page_size, offset)
            for item in page.items:
                yield item
            offset += len(page.items)
            if not page.items or offset >= (page.total or 0):
                return

    async def in_flight_runs(self, remote_ids: Collection[str]) -> Mapping[str, Sequence[str]]:
        """Automation id -> ids of its runs that have not ended, for the given automations.

        The API filters by status only, so each non-terminal status is listed and matched on
        ``automationId`` here; a run seen twice (it moved on between pages) counts once.
        """
        wanted = set(remote_ids)
        found: dict[str, list[str]] = {}
        if not wanted:
            return found
        for status in IN_FLIGHT_STATUSES:
            async for run in self.iter_runs(status):
                owner, run_id = run.automation_id, run.id
                if owner in wanted and run_id and run_id not in found.get(owner, ()):
                    found.setdefault(owner, []).append(run_id)
        return found

    async def get_run(self, run_id: str) -> Run:
        """One run."""
        return read_run(await self.client.call("GET", PATHS["get"], run_id=run_id),
                        f"run {run_id}")

    async def cancel_run(self, run_id: str) -> Run:
        """Cancel a run that has not ended; 409 with the platform's reason otherwise."""
        answer = await self.client.call("POST", PATHS["cancel"], run_id=run_id)
        return read_run(answer, f"cancelling run {run_id}")

    def failed_statuses(self) -> Collection[str]:
        """The statuses of a run that failed, as the API filters on them."""
        return FAILED_STATUSES

    def retry_modes(self) -> Mapping[str, bool]:
        """How the API starts a failed run again (the first is its default), each with whether
        it starts from a step the caller names (``stepKey``)."""
        return {mode: mode == "from_step" for mode in RETRY_MODES}

    async def retry_run(
        self, run_id: str, mode: str = "from_failed", step_key: str | None = None
    ) -> Run:
        """Retry a failed run from its failed step, from ``step_key``, or in full."""
        body: dict[str, Any] = {"mode": mode}
        if step_key is not None:
            body["stepKey"] = step_key
        answer = await self.client.call("POST", PATHS["retry"], run_id=run_id, json=body)
        return read_run(answer, f"retrying run {run_id}")

    async def run_steps(self, run_id: str) -> RunSteps:
        """The run's steps with their counts."""
        answer = await self.client.call("GET", PATHS["steps"], run_id=run_id)
        return read_steps(answer, f"run {run_id} steps")

    async def stream_events(self, run_id: str) -> AsyncGenerator[RunEvent, None]:
        """Each event of the run as the server sends it, until the stream ends with the run.

        A run-level event with a terminal status also ends it, so a server that keeps the
        connection open after the run ended does not hang the caller.
        """
        async with self.client.stream_lines("GET", PATHS["events"], run_id=run_id) as lines:
            async for event in _server_sent_events(lines, self.client, "GET " + PATHS["events"]):
                yield read_event(event)
                if event.get("type") == "run" and event.get("status") in TERMINAL_STATUSES:
                    return


async def _server_sent_events(
    lines: AsyncIterator[str], client: ApiClient | None = None, call: str = "the event stream"
) -> AsyncIterator[Mapping[str, Any]]:
    """Parse ``text/event-stream``: ``data:`` lines joined until a blank line, as JSON; an
    event above ``MAX_EVENT_BYTES`` is a ProviderError naming the call."""
    data: list[str] = []
    size = 0
    event_name = ""
    async for raw in lines:
        line = raw.rstrip("\r")
        if not line:
            if data:
                yield _event(event_name, "\n".join(data))
            data, event_name, size = [], "", 0
        elif line.startswith(":"):
            continue  # comment / keep-alive
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
            size += len(data[-1]) + 1
            if size > MAX_EVENT_BYTES:
                platform = client.platform if client else AutomationRunsProvider.type_name
                raise ProviderError(
                    f"{client.name if client else platform}: {call} streamed an event of more "
                    f"than {MAX_EVENT_BYTES // (1024 * 1024)} MiB; stopped reading it",
                    platform=platform, call=call)
        elif line.startswith("event:"):
            event_name = line[6:].strip()
    if data:
        yield _event(event_name, "\n".join(data))


def _event(name: str, data: str) -> Mapping[str, Any]:
    """One event's JSON object; data that is not JSON (or holds a number JSON cannot carry,
    which no output could write) is kept as text under ``data``."""
    try:
        value = strict_json(data.encode())
    except (ValueError, RecursionError):
        value = {"data": data}
    if not isinstance(value, dict):
        value = {"data": value}
    if name and "event" not in value:
        value = {"event": name, **value}
    return value

