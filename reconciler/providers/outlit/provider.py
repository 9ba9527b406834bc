"""The ``outlit`` provider: Outlit automations (enable and the command envelope are documented).

Only ``POST /api/automations/{id}/enable`` is documented by the platform; list, get, create,
update, disable and archive follow its conventions (see docs/providers/outlit.md). Every
mutation answers a command envelope whose ``result.warnings`` are passed on to the user as
they are. Removing an automation archives it (Outlit keeps archived automations).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from reconciler.model import (
    Action,
    ExecutionContext,
    LiveResource,
    Operation,
    OperationResult,
    Resource,
    ResourceId,
)
from reconciler.providers.answers import Shape
from reconciler.providers.base import RehearsalCopy
from reconciler.providers.http import (
    ApiClient,
    RetryPolicy,
    UsesApiClient,
    bearer_auth,
    create_once,
)
from reconciler.providers.matching import Matcher
from reconciler.providers.outlit import rehearsal
from reconciler.providers.outlit.shapes import outlit_error
from reconciler.providers.runner import OperationRun, Step, labels, run_steps, send_verb_once

if TYPE_CHECKING:
    import httpx

    from reconciler.config import ProviderConfig

DEFAULT_BASE_URL = "https://app.outlit.ai"
PATHS = {
    "list": "/api/automations",  # assumed
    "create": "/api/automations",  # assumed
    "get": "/api/automations/{id}",  # assumed
    "update": "/api/automations/{id}",  # assumed PATCH
    "enable": "/api/automations/{id}/enable",  # documented in Outlit's reference
    "disable": "/api/automations/{id}/disable",  # assumed
    "archive": "/api/automations/{id}/archive",  # assumed
    "signals": "/api/signals",  # assumed
    "destinations": "/api/destinations",  # assumed
}
MAX_LIMIT = 200
_AUTOMATION: Shape = {"id": "string", "key": "string", "signals[].key": "string",
                      "destinations[].key": "string"}
# What the adapter relies on in each answer (every item, for a list), checked as it comes in
ANSWERS: dict[str, Shape] = {
    "GET " + PATHS["list"]: _AUTOMATION,
    # a create must show what it made; the other commands' envelopes may leave it out
    "POST " + PATHS["create"]: {f"result.data.automation.{field}": kind
                                for field, kind in _AUTOMATION.items()},
    **{f"{method} {PATHS[call]}": {f"result.data.automation.{field}": kind.rstrip("?") + "?"
                                   for field, kind in _AUTOMATION.items()}
       for method, call in (("PATCH", "update"), ("POST", "enable"), ("POST", "disable"))},
    "GET " + PATHS["get"]: {f"data.automation.{field}": kind
                            for field, kind in _AUTOMATION.items()},
}
# spec field -> request/response field
WIRE = {"name": "name", "description": "description", "trigger": "triggerJson",
        "audience_filter": "audienceFilterJson", "signals": "signalKeys",
        "destinations": "destinationKeys"}


def automation_body(spec: Mapping[str, Any], fields: Sequence[str] = tuple(WIRE)) -> dict:
    """What a create (with ``key``) or an update sends for the given spec fields."""
    body: dict[str, Any] = {}
    for name in fields:
        value = spec.get(name)
        if name in ("signals", "destinations"):
            value = sorted(value or [])
        elif name in ("trigger", "audience_filter"):
            value = dict(value or {})
        body[WIRE[name]] = value if value is not None else ""
    return body


def project_automation(automation: Mapping[str, Any]) -> dict[str, Any]:
    """Spec shape of an automation: the inverse of ``automation_body`` plus ``key``/``enabled``."""

    def as_object(value: Any) -> dict[str, Any]:
        return dict(value) if isinstance(value, Mapping) else {}

    return {
        "key": automation["key"],
        "name": automation.get("name") or "",
        "description": automation.get("description") or "",
        "trigger": as_object(automation.get("triggerJson")),
        "audience_filter": as_object(automation.get("audienceFilterJson")),
        "signals": sorted(s["key"] for s in automation.get("signals") or []),
        "destinations": sorted(d["key"] for d in automation.get("destinations") or []),
        "enabled": bool(automation.get("enabled")),
    }


@dataclass
class _Run(OperationRun):
    latest: dict[str, Any] = field(default_factory=dict)  # the automation as last answered


class OutlitProvider(UsesApiClient):
    """Automations of one Outlit account."""

    type_name: ClassVar[str] = "outlit"
    kinds: ClassVar[frozenset[str]] = frozenset({"Automation"})

    def __init__(self, config: ProviderConfig, *, transport: httpx.AsyncBaseTransport | None = None,
                 retry: RetryPolicy | None = None) -> None:
        self.config = config
        self.client = ApiClient(config, platform="outlit", auth=bearer_auth(config),
                                error_parser=outlit_error, transport=transport,
                                default_base_url=DEFAULT_BASE_URL, retry=retry)
        self.client.answers = ANSWERS

    async def list_automations(self) -> list[dict[str, Any]]:
        """Every automation that is not archived."""
        return await self.client.list_by_cursor(
            PATHS["list"], limit=MAX_LIMIT, params={"includeArchived": "false"},
            items=lambda body: (body.get("data") or {}).get("automations") or [],
            next_cursor=lambda body: (body.get("data") or {}).get("nextCursor"),
        )

    async def read(
        self, desired: Sequence[Resource], known: Mapping[ResourceId, str]
    ) -> list[LiveResource]:
        """Every non-archived automation, matched by id from state, then by ``key``."""
        automations = await self.list_automations()
        matcher = Matcher(self.config.name, "Automation", desired, known, "key")
        matches = matcher.match_all([(a["id"], a["key"]) for a in automations])
        return [LiveResource(rid, a["id"], project_automation(a), a, managed)
                for a, (rid, managed, _) in zip(automations, matches, strict=True)]

    async def rehearsal_copy(
        self, live: Sequence[LiveResource], desired: Sequence[Resource]
    ) -> RehearsalCopy:
        """The live automations with every signal and destination (two list reads)."""
        signals = await self.client.call("GET", PATHS["signals"])
        destinations = await self.client.call("GET", PATHS["destinations"])
        return rehearsal.copy_world(
            live,
            (signals.get("data") or {}).get("signals") or [],
            (destinations.get("data") or {}).get("destinations") or [],
        )

    def describe(self, operation: Operation) -> tuple[str, ...]:
        """The API steps ``execute`` will take (no I/O)."""
        return labels(self._steps(operation))

    async def execute(self, operation: Operation, context: ExecutionContext) -> OperationResult:
        """Run the steps; every warning the platform returns is passed on."""
        remote_id = operation.live.remote_id if operation.live else None
        run = _Run(self.client, operation, self.type_name, remote_id,
                   on_created=context.created)
        return await run_steps(run, self._steps(operation))

    # steps ---------------------------------------------------------------------------------

    def _steps(self, op: Operation) -> list[Step[_Run]]:
        spec = dict(op.resource.spec) if op.resource else {}
        live = dict(op.live.spec) if op.live else {}
        wants_enabled = bool(spec.get("enabled", True))
        word = "enable" if wants_enabled else "disable"
        read_back: Step[_Run] = (f"read back; POST {word} if enabled differs", self._read_back)
        if op.action is Action.REMOVE:
            return [("POST archive", self._command("archive"))]
        if op.action is Action.REPLACE:
            return [("POST archive (old key)", self._command("archive")),
                    *self._create_steps(wants_enabled), read_back]
        if op.action is Action.CREATE:
            return [*self._create_steps(wants_enabled), read_back]
        if op.action in (Action.ENABLE, Action.DISABLE):
            return [(f"POST {op.action.value}", self._command(op.action.value)), read_back]
        changed = [f for f in WIRE if automation_body(spec, [f]) != automation_body(live, [f])]
        steps: list[Step[_Run]] = []
        if changed:
            steps.append((f"PATCH automation ({', '.join(WIRE[f] for f in changed)})",
                          self._update(changed)))
        if wants_enabled != bool(live.get("enabled")):
            steps.append((f"POST {word}", self._command(word)))
        return [*steps, read_back] if steps else steps

    def _create_steps(self, enable: bool) -> list[Step[_Run]]:
        steps: list[Step[_Run]] = [("POST automations (created disabled)", self._create)]
        if enable:
            steps.append(("POST enable", self._command("enable")))
        return steps

    async def _read_back(self, run: _Run) -> None:
        """Compare the automation the last answer showed with the spec; set ``enabled`` through
        its call if it still differs; name a field that differs after that."""
        assert run.op.resource is not None
        spec = run.op.resource.spec
        got = run.latest or await self._get(run)
        wanted = project_automation({**automation_body(spec), "key": spec["key"],
                                     "enabled": bool(spec.get("enabled", True)),
                                     "signals": [{"key": k} for k in spec.get("signals", [])],
                                     "destinations": [{"key": k}
                                                      for k in spec.get("destinations", [])]})
        now = project_automation(got)
        if now["enabled"] != wanted["enabled"] and "enabled" not in run.setters:
            await self._command("enable" if wanted["enabled"] else "disable")(run)
            now = project_automation(run.latest or await self._get(run))
        # whole paths: a nested ``spec.trigger.x`` does not leave all of ``trigger`` alone
        ignored = {p.split(".", 1)[1] for p in run.op.resource.lifecycle.ignore_changes
                   if p.startswith("spec.")}
        run.converge(wanted, now, wanted, ignored)

    async def _get(self, run: _Run) -> dict[str, Any]:
        body = await self.client.call("GET", PATHS["get"], id=run.remote_id)
        return dict((body.get("data") or {}).get("automation") or {})

    def _keep(self, run: _Run, envelope: Mapping[str, Any]) -> dict[str, Any]:
        """Collect the envelope's warnings and return (and remember) its automation."""
        result = envelope.get("result") or {}
        run.warnings.extend(str(w) for w in result.get("warnings") or [])
        automation = dict(((result.get("data") or {}).get("automation")) or {})
        run.latest = automation
        return automation

    async def _create(self, run: _Run) -> None:
        assert run.op.resource is not None
        spec = run.op.resource.spec
        body = {"key": spec["key"], **automation_body(spec)}

        async def send() -> dict[str, Any]:
            envelope = await self.client.call("POST", PATHS["create"], json=body,
                                              idempotent=False)
            return self._keep(run, envelope)

        async def find() -> dict[str, Any] | None:
            return next((a for a in await self.list_automations() if a["key"] == body["key"]),
                        None)

        run.did("POST /api/automations", (*WIRE, "key"))
        created = await create_once(send, find)
        run.latest = dict(created)
        run.created(created["id"], project_automation(created))

    def _update(self, fields: list[str]) -> Callable[[_Run], Awaitable[None]]:
        async def step(run: _Run) -> None:
            assert run.op.resource is not None
            run.did("PATCH /api/automations/{id}", fields)
            envelope = await self.client.call("PATCH", PATHS["update"], id=run.remote_id,
                                              json=automation_body(run.op.resource.spec, fields))
            self._keep(run, envelope)

        return step

    def _command(self, command: str) -> Callable[[_Run], Awaitable[None]]:
        async def step(run: _Run) -> None:
            if command != "archive":
                run.did(f"POST /api/automations/{{id}}/{command}", ("enabled",))
            # the archive of a replace targets the old object; later steps the new one
            async def send() -> None:
                envelope = await self.client.call("POST", PATHS[command], id=run.remote_id,
                                                  idempotent=False)
                self._keep(run, envelope)

            async def took_effect() -> bool:
                # the answer was lost: read back rather than fail or send it twice
                found = run.latest = await self._get(run)
                return {"enable": found.get("enabled") is True,
                        "disable": found.get("enabled") is False,
                        "archive": found.get("archivedAt") is not None}[command]

            await send_verb_once(send, took_effect)

        return step
