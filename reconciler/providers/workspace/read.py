"""Read a workspace with the fewest requests and project it into spec shape.

Requests: the automation list (page size 1000, usually one page), then per automation,
concurrently, its code connections (of the latest stage), its schedule and its triggers. The
automation list already carries each automation's latest version, so no per-automation GET is
needed.

The API has no call that lists or reads a connection. What it shows of one is what an
automation's code connections say (id and connector), so a ``Connection`` document *claims* a
connection: the live side of a claimed connection is the claim itself, with the connector the
automations show where any does (a different connector is an error: the API cannot change it);
the plan adopts a new claim into state with no call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from reconciler.errors import ProviderError
from reconciler.model import LiveResource, Resource, ResourceId
from reconciler.providers.http import ApiClient, run_concurrently
from reconciler.providers.matching import Matcher
from reconciler.providers.workspace import calls

KINDS = ("Automation", "Schedule", "Trigger", "Connection")


@dataclass
class AutomationDetail:
    """What the per-automation reads found."""

    automation: dict[str, Any]
    connections: list[dict[str, Any]] = field(default_factory=list)
    schedule: dict[str, Any] | None = None
    triggers: list[dict[str, Any]] = field(default_factory=list)


def latest_stage(automation: Mapping[str, Any]) -> str:
    """``DRAFT`` or ``PUBLISHED``: the stage of the automation's latest version."""
    return "PUBLISHED" if calls.is_published_version(automation.get("version", "")) else "DRAFT"


async def code_connections(client: ApiClient, automation_id: str, stage: str) -> list[dict]:
    """The connections attached to one stage of an automation."""
    body = await client.call("GET", calls.path("extract_connections"),
                             params={"filter": f'stage = "{stage}"'},
                             automation_id=automation_id)
    return list(body.get("connections") or [])


async def get_schedule(client: ApiClient, automation_id: str) -> dict[str, Any] | None:
    """The automation's schedule, or None when it has none (the API answers NOT_FOUND)."""
    try:
        return await client.call("GET", calls.path("schedule"), automation_id=automation_id)
    except ProviderError as exc:
        if exc.status == 404:
            return None
        raise


async def list_automations(client: ApiClient) -> list[dict[str, Any]]:
    """Every automation that is not deleted (latest version of each)."""
    return await client.list_by_token(calls.path("list_automations"), items_key="automations",
                                      page_size=calls.MAX_PAGE_SIZE)


async def find_automation(client: ApiClient, display_name: str) -> dict[str, Any] | None:
    """The live automation with this display name (the natural key), if any."""
    for automation in await list_automations(client):
        if automation.get("display_name") == display_name:
            return automation
    return None


async def read_details(client: ApiClient) -> list[AutomationDetail]:
    """Every automation with its code connections, schedule and triggers."""
    details = [AutomationDetail(a) for a in await list_automations(client)]

    async def fill_connections(detail: AutomationDetail) -> None:
        automation_id = calls.automation_id_of(detail.automation["name"])
        detail.connections = await code_connections(
            client, automation_id, latest_stage(detail.automation)
        )

    async def fill_schedule(detail: AutomationDetail) -> None:
        automation_id = calls.automation_id_of(detail.automation["name"])
        detail.schedule = await get_schedule(client, automation_id)

    async def fill_triggers(detail: AutomationDetail) -> None:
        detail.triggers = await client.list_by_token(
            calls.path("triggers"), items_key="triggers", page_size=calls.MAX_PAGE_SIZE,
            automation_id=calls.automation_id_of(detail.automation["name"]),
        )

    # Twice the parallelism keeps every slot busy while a finished job hands over to the next.
    await run_concurrently(
        (
            partial(fill, detail)
            for detail in details
            for fill in (fill_connections, fill_schedule, fill_triggers)
        ),
        workers=2 * client.parallelism,
    )
    return details


def project(
    provider: str,
    details: Sequence[AutomationDetail],
    desired: Sequence[Resource],
    known: Mapping[ResourceId, str],
) -> list[LiveResource]:
    """Match every live object to an identity and project it into spec shape."""
    live: list[LiveResource] = []
    matcher = Matcher(provider, "Automation", desired, known, "display_name")
    ids = [calls.automation_id_of(d.automation["name"]) for d in details]
    matches = matcher.match_all([(i, d.automation.get("display_name", ""))
                                 for i, d in zip(ids, details, strict=True)])
    names: dict[str, str] = {}
    for automation_id, detail, (rid, managed, resource) in zip(ids, details, matches, strict=True):
        names[automation_id] = rid.name
        spec = calls.project_automation(detail.automation, detail.connections,
                                        resource.spec if resource else None)
        live.append(LiveResource(rid, automation_id, spec, detail.automation, managed,
                                 calls.upgradable(detail.connections)))

    with_schedule = [(i, d) for i, d in zip(ids, details, strict=True) if d.schedule is not None]
    matcher = Matcher(provider, "Schedule", desired, known, "automation")
    matches = matcher.match_all([(i, names[i]) for i, _ in with_schedule])
    for (automation_id, detail), (rid, managed, _) in zip(with_schedule, matches, strict=True):
        assert detail.schedule is not None
        spec = calls.project_schedule(detail.schedule, names[automation_id])
        live.append(LiveResource(rid, automation_id, spec, detail.schedule, managed))

    triggers = [(i, t) for i, d in zip(ids, details, strict=True) for t in d.triggers]
    matcher = Matcher(provider, "Trigger", desired, known, "trigger_id")
    matches = matcher.match_all([(trigger_remote_id(i, t["trigger_id"]), t["trigger_id"])
                                 for i, t in triggers])
    for (automation_id, trigger), (rid, managed, _) in zip(triggers, matches, strict=True):
        spec = calls.project_trigger(trigger, names[automation_id])
        live.append(LiveResource(rid, trigger_remote_id(automation_id, trigger["trigger_id"]),
                                 spec, trigger, managed))

    live.extend(project_connections(provider, details, desired, known))
    return live


def project_connections(
    provider: str,
    details: Sequence[AutomationDetail],
    desired: Sequence[Resource],
    known: Mapping[ResourceId, str],
) -> list[LiveResource]:
    """Every claimed connection (desired or in state) and those automations show unclaimed.

    A claim stands for the connection it names (the API cannot read one), so the plan adopts a
    claim state does not record yet: it records it with no call. A claim whose ``connector``
    differs from what an automation shows is a ProviderError naming the document.
    """
    seen: dict[str, tuple[str, list[str]]] = {}  # id -> (connector, display names using it)
    for detail in details:
        for connection in detail.connections:
            connection_id = str(connection.get("connection_id") or "")
            if connection_id:
                connector, users = seen.setdefault(
                    connection_id, (str(connection.get("connector") or ""), []))
                users.append(str(detail.automation.get("display_name", "")))
    mine = {r.id: r for r in desired if r.id.kind == "Connection" and r.id.provider == provider}
    claimed = {r.spec.get("connection_id"): r for r in mine.values()}
    _refuse_other_connectors(claimed, seen)
    in_state = {remote: rid for rid, remote in known.items()
                if rid.kind == "Connection" and rid.provider == provider}
    ids = list(dict.fromkeys([*in_state, *(str(i) for i in claimed if i), *seen]))
    matcher = Matcher(provider, "Connection", desired, known, "connection_id")
    live = []
    for connection_id, (rid, managed, resource) in zip(
        ids, matcher.match_all([(i, i) for i in ids]), strict=True
    ):
        connector, users = seen.get(connection_id, ("", []))
        observed = bool(connector)
        if not connector:  # nobody shows it: the claim (or what state recorded) stands
            wanted = resource or mine.get(rid)
            connector = str(wanted.spec.get("connector", "")) if wanted else ""
        raw = {"connection_id": connection_id, "connector": connector,
               "used_by": sorted(set(users))}
        live.append(LiveResource(rid, connection_id,
                                 calls.project_connection(connection_id, connector), raw, managed,
                                 observed=observed))
    return live


def _refuse_other_connectors(claimed: Mapping[Any, Resource],
                             seen: Mapping[str, tuple[str, list[str]]]) -> None:
    problems = []
    for connection_id, resource in claimed.items():
        connector, users = seen.get(str(connection_id), ("", []))
        wanted = resource.spec.get("connector")
        if connector and wanted and connector != wanted:
            problems.append(
                f"{resource.source.file}:{resource.source.line}: {resource.id}: connection "
                f"{connection_id} is a {connector} connection (as automation "
                f"{', '.join(sorted(set(users)))} shows), not {wanted}; the API cannot change "
                "a connection's connector: fix the manifest, or make the connection in the "
                "platform")
    if problems:
        raise ProviderError("\n".join(problems), platform="workspace")


def trigger_remote_id(automation_id: str, trigger_id: str) -> str:
    """A trigger's remote id: its automation's id and its own id (triggers live under one)."""
    return f"{automation_id}/{trigger_id}"


def split_trigger_remote_id(remote_id: str) -> tuple[str, str]:
    """(automation id, trigger id) of a trigger's remote id."""
    automation_id, _, trigger_id = remote_id.partition("/")
    return automation_id, trigger_id
