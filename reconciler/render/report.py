"""The view renderers read: masked, positioned, counted. Built once from a Plan."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.diff import FieldRules, masked
from reconciler.model import Action, Change, Operation, Plan, Reason, ResourceId, RunFailure
from reconciler.state.model import State

SUMMARY_ORDER = (
    Action.CREATE,
    Action.UPDATE,
    Action.ENABLE,
    Action.DISABLE,
    Action.UPGRADE,
    Action.REPLACE,
    Action.REMOVE,
    Action.FORGET,
    Action.CHECK,
    Action.ADOPT,
)
ALWAYS_COUNTED = {Action.CREATE, Action.UPDATE, Action.REPLACE, Action.REMOVE}
VERBS = {
    Action.CREATE: "created",
    Action.UPDATE: "updated in place",
    Action.ENABLE: "enabled",
    Action.DISABLE: "disabled",
    Action.UPGRADE: "upgraded",
    Action.REPLACE: "replaced (removed, then created)",
    Action.REMOVE: "removed",
    Action.FORGET: "no longer managed (left as it is, dropped from state)",
    Action.CHECK: "checked (smoke run)",
    Action.ADOPT: "adopted into state (no API call)",
}
NOT_REFRESHED = (
    "Live state was not read (--refresh=false): the manifests were compared with the state of "
    "the last apply, so changes made on the platforms since then are not shown."
)
NO_CHANGES = "No changes. Live state matches the manifests."
NO_CHANGES_UNREFRESHED = "No changes. The manifests match the last applied state."
SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.ENABLE: ">",
    Action.DISABLE: "<",
    Action.UPGRADE: "^",
    Action.REPLACE: "-/+",
    Action.REMOVE: "-",
    Action.FORGET: ".",
    Action.CHECK: "?",
    Action.ADOPT: "=",
}


@dataclass(frozen=True)
class ResourceChange:
    """One operation as shown to people and machines: secrets already masked."""

    id: ResourceId
    action: Action
    reason: Reason | str  # str: a reason a newer reconciler wrote into a saved plan
    file: str
    line: int
    changes: tuple[Change, ...]
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    steps: tuple[str, ...]
    depends_on: tuple[ResourceId, ...]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else ""


@dataclass(frozen=True)
class PlanReport:
    """What renderers render: the changes, the unmanaged objects, the plan's fingerprints.

    Drift reports also carry the failed runs of managed automations within ``since``.
    """

    changes: tuple[ResourceChange, ...]
    unmanaged: tuple[tuple[ResourceId, str], ...]
    plan: Plan
    title: str = "Plan"
    failed_runs: tuple[RunFailure, ...] = ()
    since: str = ""  # set on drift reports, e.g. "24h"

    @property
    def no_changes(self) -> str:
        """What to say when there is nothing to do (true to what was compared)."""
        return NO_CHANGES if self.plan.refreshed else NO_CHANGES_UNREFRESHED

    def failed_runs_heading(self) -> str:
        count = len(self.failed_runs)
        return f"{count} failed run(s) of managed automations in the last {self.since}:"

    def counts(self) -> Counter[Action]:
        return Counter(change.action for change in self.changes)

    def summary(self) -> str:
        """``Plan: 1 to create, 0 to update, 0 to replace, 0 to remove.``"""
        counts = self.counts()
        parts = [
            f"{counts[action]} to {action.value}"
            for action in SUMMARY_ORDER
            if action in ALWAYS_COUNTED or counts[action]
        ]
        return f"{self.title}: {', '.join(parts)}."


def build_report(
    plan: Plan,
    rules_for: Callable[[str, str], FieldRules],
    state: State | None = None,
    title: str = "Plan",
) -> PlanReport:
    """Mask before/after through each kind's rules and attach where each resource is declared."""
    changes = tuple(_view(op, rules_for, state) for op in plan.operations)
    unmanaged = tuple((item.id, item.remote_id) for item in plan.unmanaged)
    return PlanReport(changes, unmanaged, plan, title)


def _view(
    op: Operation, rules_for: Callable[[str, str], FieldRules], state: State | None
) -> ResourceChange:
    entry = state.entries.get(op.id) if state else None
    if op.resource is not None:
        provider_type = op.resource.provider_type
    else:
        provider_type = entry.provider_type if entry else ""
    rules = rules_for(provider_type, op.id.kind)
    if op.resource is not None:
        file, line = op.resource.source.file, op.resource.source.line
    elif entry is not None and entry.source:
        file, _, rest = entry.source.rpartition(":")
        line = int(rest) if rest.isdigit() else 0
    else:
        file, line = "", 0
    before = masked(op.live.spec, rules) if op.live is not None else None
    after = None
    if op.resource is not None and op.action is not Action.REMOVE:
        after = masked(op.resource.spec, rules)
    return ResourceChange(
        id=op.id,
        action=op.action,
        reason=op.reason,
        file=file,
        line=line,
        changes=op.changes,
        before=before,
        after=after,
        steps=op.steps,
        depends_on=op.depends_on,
    )


def show_value(value: Any, limit: int = 120) -> str:
    """A value on one line: JSON, shortened past ``limit`` characters."""
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- drift reports -----------------------------------------------------------------------------

# what apply would do about a difference, said in a report (which itself does nothing)
REMEDIES = {
    Action.CREATE: "create it",
    Action.UPDATE: "update it in place",
    Action.ENABLE: "enable it",
    Action.DISABLE: "disable it",
    Action.UPGRADE: "upgrade it",
    Action.REPLACE: "replace it (remove, then create)",
    Action.REMOVE: "remove it",
    Action.FORGET: "stop managing it (left as it is)",
    Action.CHECK: "run its check",
    Action.ADOPT: "record it in state",
}
DRIFT_HEADING = "Drift report (nothing was changed). Fields show live value -> manifest value."
PLATFORM_HEADING = "Changed on the platforms since the last apply (drift)"
UNAPPLIED_HEADING = "Changed in git, not yet applied"
NO_DRIFT = "No drift. Live state matches the last apply and the manifests."


@dataclass(frozen=True)
class DriftReport:
    """What drift renderers render: two labelled groups of differences, the failed runs.

    ``listed`` holds every difference (platform drift first) as a plan view, for the parts a
    drift report shares with a plan (unmanaged objects, failed runs, the JSON document).
    ``drifted`` is what the command decided: true when it exits 2.
    """

    listed: PlanReport
    platform: tuple[ResourceChange, ...]
    unapplied: tuple[ResourceChange, ...]
    drifted: bool
    include_unapplied: bool = False

    def unapplied_note(self) -> str:
        """Whether the second group counts towards the exit code."""
        if self.include_unapplied:
            return "counted as drift (--include-unapplied)"
        return "not drift: apply or revert them; --include-unapplied counts them"

    def summary(self) -> str:
        """``Drift: 1 changed on the platforms, 0 changed in git and not yet applied.``"""
        return (
            f"Drift: {len(self.platform)} changed on the platforms, "
            f"{len(self.unapplied)} changed in git and not yet applied."
        )


def build_drift_report(
    platform: tuple[Operation, ...],
    unapplied: tuple[Operation, ...],
    plan: Plan,
    rules_for: Callable[[str, str], FieldRules],
    state: State | None,
    *,
    drifted: bool,
    include_unapplied: bool = False,
    failed_runs: tuple[RunFailure, ...] = (),
    since: str = "",
) -> DriftReport:
    """The view of what ``reconciler.drift.find_drift`` sorted, masked like any plan view."""
    listed_plan = replace(plan, operations=(*platform, *unapplied))
    listed = replace(
        build_report(listed_plan, rules_for, state, "Drift"), failed_runs=failed_runs, since=since
    )
    cut = len(platform)  # build_report keeps the order: platform drift first
    return DriftReport(
        listed=listed,
        platform=listed.changes[:cut],
        unapplied=listed.changes[cut:],
        drifted=drifted,
        include_unapplied=include_unapplied,
    )
