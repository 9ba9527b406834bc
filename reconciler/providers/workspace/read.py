"""Read a workspace with the fewest requests and project it into spec shape.

Requests: the automation list and the connection list (page size 1000, usually one page
each), then per automation, concurrently, its code connections (of the latest stage), its
schedule and its triggers. The automation list already carries each automation's latest
version, so no per-automation GET is needed.
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


async def list_connections(client: ApiClient) -> list[dict[str, Any]]:
    """Every workspace connection (assumed list endpoint)."""
    return await client.list_by_token(calls.path("list_connections"), items_key="connections",
                                      page_size=calls.MAX_PAGE_SIZE)


async def find_automation(client: ApiClient, display_name: str) -> dict[str, Any] | None:
    """The live automation with this display name (the natural key), if any."""
    for automation in await list_automations(client):
        if automation.get("display_name") == display_name:
            return automation
    return None


async def read_details(client: ApiClient) -> tuple[list[AutomationDetail], list[dict[str, Any]]]:
    """Every automation with its connections, schedule and triggers, and every connection."""
    automations: list[dict[str, Any]] = []
    connections: list[dict[str, Any]] = []

    async def load_automations() -> None:
        automations.extend(await list_automations(client))

    async def load_connections() -> None:
        connections.extend(await list_connections(client))

    await run_concurrently([load_automations, load_connections])

    details = [AutomationDetail(a) for a in automations]

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
    return details, connections


def project(
    provider: str,
    details: Sequence[AutomationDetail],
    connections: Sequence[Mapping[str, Any]],
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

    matcher = Matcher(provider, "Connection", desired, known, "connection_id")
    matches = matcher.match_all([(c["connection_id"], c["connection_id"]) for c in connections])
    for connection, (rid, managed, _) in zip(connections, matches, strict=True):
        live.append(LiveResource(rid, connection["connection_id"],
                                 calls.project_connection(connection), dict(connection), managed))
    return live


def trigger_remote_id(automation_id: str, trigger_id: str) -> str:
    """A trigger's remote id: its automation's id and its own id (triggers live under one)."""
    return f"{automation_id}/{trigger_id}"


def split_trigger_remote_id(remote_id: str) -> tuple[str, str]:
    """(automation id, trigger id) of a trigger's remote id."""
    automation_id, _, trigger_id = remote_id.partition("/")
    return automation_id, trigger_id
