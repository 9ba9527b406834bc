"""Copy an Outlit account, as ``read`` found it, into a world document of the embedded sandbox.

The automations come from the plan's read; signals and destinations from their two list calls
(reads only). Destinations are copied with the configuration the platform shows, which it has
already masked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model import LiveResource
from reconciler.providers.base import RehearsalCopy

NOT_REHEARSED = (
    "outlit destinations: their configuration is copied as the platform masks it, so whether a "
    "destination's credentials work is not rehearsed",
    "outlit: archived automations are not copied (a create whose key an archived automation "
    "holds is not rehearsed)",
)


def copy_world(
    live: Sequence[LiveResource],
    signals: Sequence[Mapping[str, Any]],
    destinations: Sequence[Mapping[str, Any]],
) -> RehearsalCopy:
    """A sandbox world holding the live automations (with their ids), signals and destinations."""
    world_signals = [
        {"key": s["key"], "name": s.get("name") or s["key"],
         "description": s.get("description") or "", "definition": s.get("definition") or {},
         "archived": bool(s.get("archivedAt"))}
        for s in signals
    ]
    world_destinations = [
        {"key": d["key"], "name": d.get("name") or d["key"],
         "description": d.get("description") or "", "enabled": bool(d.get("enabled")),
         "config": dict(d.get("maskedConfig") or {}), "archived": bool(d.get("archivedAt"))}
        for d in destinations
    ]
    automations = [
        {"id": item.remote_id, "key": item.spec["key"], "name": item.spec.get("name") or "",
         "description": item.spec.get("description") or "",
         "triggerJson": dict(item.spec.get("trigger") or {}),
         "audienceFilterJson": dict(item.spec.get("audience_filter") or {}),
         "signals": list(item.spec.get("signals") or []),
         "destinations": list(item.spec.get("destinations") or []),
         "enabled": bool(item.spec.get("enabled"))}
        for item in live
        if item.id.kind == "Automation"
    ]
    return RehearsalCopy(
        world={"outlit": {"signals": world_signals, "destinations": world_destinations,
                          "automations": automations}},
        not_rehearsed=NOT_REHEARSED,
    )
