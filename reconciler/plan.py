"""Turn desired resources, live projections and state into an ordered plan. Pure: no I/O.

Each identity is classified three ways (desired in git, last applied in state, live): a new
resource is created, a changed one updated (or enabled / disabled / replaced / upgraded as the
schema's annotations say), one deleted out of band re-created, one gone from the manifests but in
state removed (an *orphan*), and a live object that is neither desired nor in state is reported
as unmanaged and never touched. A desired resource found live (by remote id or natural key)
that state does not record under that remote id is *adopted*: an operation with no API call
that only records it, so every desired resource matched live is in state after apply, even
when nothing differs (a create whose answer was lost, an apply killed before it recorded, a
document claiming an object that exists). Operations are ordered by the dependency graph: references
(``x-reference``) and the objects a field names (``x-depends-on``) first, removals in reverse;
among independent operations, by the order each kind declares (``x-order``). Kinds declared
``x-check`` are smoke checks: never read live, planned when what they reference changes.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.diff import (
    FieldRules,
    canonical_json,
    compare,
    fingerprint,
    for_state,
    masked,
)
from reconciler.errors import PlanError
from reconciler.model import (
    MUTATING_ACTIONS,
    ON_REMOVE_DEACTIVATE,
    ON_REMOVE_DELETE,
    ON_REMOVE_KEEP,
    Action,
    Change,
    Drain,
    LiveResource,
    Operation,
    Plan,
    Reason,
    Resource,
    ResourceId,
    SourcePosition,
)
from reconciler.state.model import State, StateEntry, now

RulesFor = Callable[[str, str], FieldRules]  # (provider type, kind) -> rules
Describe = Callable[[Operation], tuple[str, ...]]


@dataclass(frozen=True)
class Removals:
    """What the providers declare about removing their objects (``providers.base.Drains``).

    ``drained`` maps a provider instance to the kinds whose removal first stops new runs and
    waits for running ones; ``runs_from`` maps it to the instance reporting those runs ("" or
    absent: none, so the removal cannot wait).
    """

    drained: Mapping[str, frozenset[str]] = field(default_factory=dict)
    runs_from: Mapping[str, str] = field(default_factory=dict)
    ambiguous: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # several reporters
    destroy: bool = False  # ``destroy``: every removal deletes, whatever lifecycle.on_remove says
    force_unprotected: bool = False  # ``destroy --force-unprotected``: prevent_destroy too
    # ``--allow-remove-all``: a plan may remove every managed resource (destroy always may)
    allow_remove_all: bool = False


NO_REMOVALS = Removals()


def make_plan(
    desired: Sequence[Resource],
    live: Sequence[LiveResource],
    state: State,
    rules_for: RulesFor,
    describe: Mapping[str, Describe] | None = None,
    targets: Collection[ResourceId] = (),
    removals: Removals = NO_REMOVALS,
) -> Plan:
    """The ordered plan; PlanError when it would break ``prevent_destroy`` or names no target.

    With ``targets``, only their operations and those they depend on (every target counts).
    """
    wanted = {r.id: r for r in desired}
    found = {item.id: item for item in live if item.managed}
    operations: list[Operation] = []
    for rid in sorted(wanted):
        resource = wanted[rid]
        if not rules_for(resource.provider_type, rid.kind).check:
            operations.extend(_operations_for(resource, found.get(rid), state, rules_for))
    for rid in sorted(state.entries):
        if rid not in wanted and rid in found:
            operations.append(
                removal_operation(rid, state.entries[rid], found[rid], rules_for, removals)
            )
    operations.extend(_checks(wanted, operations, state, rules_for))
    operations = _with_dependencies(operations, wanted, state, rules_for)
    if targets:
        operations = _targeted(operations, targets, wanted, state)
    if not removals.destroy and not removals.allow_remove_all:
        _refuse_removing_everything(operations, wanted, state, rules_for)
    if not removals.force_unprotected:
        _refuse_destroying_protected(operations, state, removals.destroy)
    order = {op.id: rules_for(_provider_type(op, state), op.id.kind).order for op in operations}
    ordered = _topological(operations, order)
    if describe:
        ordered = [_described(op, describe) for op in ordered]
    unmanaged = tuple(sorted((item for item in live if not item.managed), key=lambda item: item.id))
    return Plan(
        operations=tuple(ordered),
        unmanaged=unmanaged,
        state_serial=state.serial,
        state_lineage=state.lineage,
        live_fingerprint=live_fingerprint(live),
        created_at=now(),
    )


def _described(op: Operation, describe: Mapping[str, Describe]) -> Operation:
    """The operation with the API steps its provider will take (an adoption takes none)."""
    if op.action is Action.ADOPT:
        return op
    return replace(op, steps=tuple(describe[op.id.provider](op)))


def live_fingerprint(live: Iterable[LiveResource]) -> str:
    """A digest of everything read live; a saved plan is stale when it no longer matches."""
    return fingerprint((str(item.id), item.remote_id, item.spec) for item in live)


def forgotten(
    desired: Sequence[Resource], live: Sequence[LiveResource], state: State
) -> list[ResourceId]:
    """State entries with nothing left to manage: gone from the manifests and from the platform."""
    wanted = {r.id for r in desired}
    seen = {item.id for item in live if item.managed}
    return [rid for rid in sorted(state.entries) if rid not in wanted and rid not in seen]


# --- removals ----------------------------------------------------------------------------------


def removal_operation(
    rid: ResourceId, entry: StateEntry, live: LiveResource, rules_for: RulesFor,
    removals: Removals = NO_REMOVALS,
) -> Operation:
    """What removing a managed object from the manifests does, by its ``lifecycle.on_remove``
    (recorded in state): delete it (draining its runs first where its provider declares so),
    only deactivate it, or keep it as it is and stop managing it."""
    drains = rid.kind in removals.drained.get(rid.provider, frozenset())
    mode = ON_REMOVE_DELETE if removals.destroy else entry.on_remove
    if mode == ON_REMOVE_KEEP:
        return Operation(Action.FORGET, rid, None, live, reason=Reason.REMOVED_KEEP,
                         removal=ON_REMOVE_KEEP)
    if mode == ON_REMOVE_DEACTIVATE:
        why = Reason.REMOVED_DEACTIVATE
        if drains:  # the provider's own way to stop it (e.g. an automation and its schedule)
            return Operation(Action.DISABLE, rid, None, live, reason=why,
                             removal=ON_REMOVE_DEACTIVATE)
        deactivated = _deactivated(rid, entry, live, rules_for(entry.provider_type, rid.kind))
        if deactivated is None:
            return Operation(Action.FORGET, rid, None, live, removal=ON_REMOVE_KEEP,
                             reason=Reason.REMOVED_NO_SWITCH)
        resource, change = deactivated
        if change.before == change.after:
            return Operation(Action.FORGET, rid, None, live, removal=ON_REMOVE_KEEP,
                             reason=Reason.REMOVED_ALREADY_OFF)
        return Operation(Action.DISABLE, rid, resource, live, (change,), reason=why,
                         removal=ON_REMOVE_DEACTIVATE)
    drain = None
    if drains and rid.provider in removals.ambiguous:
        names = ", ".join(removals.ambiguous[rid.provider])
        raise PlanError(f"{rid}: its removal waits for its runs, but several providers report "
                        f"them ({names}); keep one in the project file")
    if drains:
        drain = Drain(entry.drain_timeout, removals.runs_from.get(rid.provider, ""))
    reason = Reason.DESTROY if removals.destroy else Reason.ORPHAN
    return Operation(Action.REMOVE, rid, None, live, reason=reason, removal=ON_REMOVE_DELETE,
                     drain=drain)


def _deactivated(
    rid: ResourceId, entry: StateEntry, live: LiveResource, rules: FieldRules
) -> tuple[Resource, Change] | None:
    """The live object with its on/off field (``x-toggle``) turned off, as a desired resource
    the provider can apply; None when the kind has no such field."""
    for name in sorted(rules.toggles):
        off = [value for value, action in rules.toggles[name].items()
               if action == Action.DISABLE.value]
        if not off:
            continue
        value: Any = {"true": True, "false": False}.get(off[0], off[0])
        spec = {**live.spec, name: value}
        file, _, line = entry.source.rpartition(":")
        source = SourcePosition(file or "state", int(line) if line.isdigit() else 0, 0)
        resource = Resource(rid, entry.provider_type, spec, source)
        return resource, Change((name,), live.spec.get(name), value)
    return None


# --- one resource ------------------------------------------------------------------------------


def _operations_for(
    resource: Resource, live: LiveResource | None, state: State, rules_for: RulesFor
) -> list[Operation]:
    rules = rules_for(resource.provider_type, resource.id.kind)
    entry = state.entries.get(resource.id)
    if live is None:
        reason = Reason.DELETED_OUT_OF_BAND if entry is not None else Reason.NEW
        secret_roots = {str(path[0]) for path in rules.sensitive if path}
        changes = tuple(
            Change((key,), None, value, sensitive=key in secret_roots)
            for key, value in _shown(resource, rules)
        )
        return [Operation(Action.CREATE, resource.id, resource, None, changes, reason=reason)]
    result = compare(
        resource.spec,
        live.spec,
        entry.spec if entry is not None else None,
        rules,
        resource.lifecycle,
        state.salt,
    )
    operations = []
    unfinished = entry is not None and entry.partial and entry.remote_id == live.remote_id
    if result.changed:
        action = _action_for(result.changes, resource, rules)
        # what differs is what the failed apply did not get to, not a change in git or drift
        reason = Reason.UNFINISHED if unfinished else result.reason
        operations.append(
            Operation(action, resource.id, resource, live, result.changes, reason=reason)
        )
    for flag, listed in sorted(rules.upgrades.items()):
        if resource.spec.get(flag) is True and live.upgradable:
            upgrade = tuple(Change((listed, c), "behind", "latest") for c in live.upgradable)
            operations.append(
                Operation(Action.UPGRADE, resource.id, resource, live, upgrade,
                          reason=Reason.UPGRADABLE)
            )
            break  # one upgrade operation: the provider upgrades what it reported
    if not operations and (entry is None or entry.remote_id != live.remote_id or unfinished):
        # an unfinished entry whose object now matches is recorded as applied, no API call
        operations.append(adoption(resource, live, entry is not None,
                                   Reason.UNFINISHED if unfinished else None))
    return operations


def adoption(resource: Resource, live: LiveResource, in_state: bool,
             reason: Reason | None = None) -> Operation:
    """Record ``live`` in state as ``resource``: no API call, nothing on the platform changes."""
    if reason is None and in_state:
        reason = Reason.ADOPT_OTHER_REMOTE_ID
    elif reason is None:
        reason = Reason.ADOPT_NOT_IN_STATE if live.observed else Reason.ADOPT_CLAIM
    return Operation(Action.ADOPT, resource.id, resource, live, reason=reason)


def _shown(resource: Resource, rules: FieldRules) -> list[tuple[str, Any]]:
    """Top-level fields a create shows: masked as every output is, no desired-only flags."""
    return sorted((masked(resource.spec, rules) or {}).items())


def _action_for(changes: Sequence[Change], resource: Resource, rules: FieldRules) -> Action:
    """replace when a replace-on-change field moved; enable/disable when only a toggle moved."""
    fields = {str(change.path[0]) for change in changes if change.path}
    if fields & rules.replace_on_change:
        return Action.REPLACE
    if len(fields) == 1:
        (name,) = fields
        if name in rules.toggles:
            value = resource.spec.get(name)
            key = str(value).lower() if isinstance(value, bool) else str(value)
            toggled = rules.toggles[name].get(key)
            if toggled in (Action.ENABLE.value, Action.DISABLE.value):
                return Action(toggled)
    return Action.UPDATE


def _checks(
    wanted: Mapping[ResourceId, Resource],
    operations: Sequence[Operation],
    state: State,
    rules_for: RulesFor,
) -> list[Operation]:
    """A check runs when its automation changes in this plan, or the check itself is new/changed."""
    mutated = {op.id for op in operations if op.action in MUTATING_ACTIONS}
    checks = []
    for rid in sorted(wanted):
        check = wanted[rid]
        rules = rules_for(check.provider_type, rid.kind)
        if not rules.check:
            continue
        targets = _references(check.spec, rid.provider, rules)
        entry = state.entries.get(rid)
        if entry is None:
            reason = Reason.NEW_CHECK
        elif canonical_json(for_state(check.spec, rules, state.salt)) != canonical_json(entry.spec):
            reason = Reason.CHECK_CHANGED
        elif any(t in mutated for t in targets):
            reason = Reason.AUTOMATION_CHANGED
        else:
            continue
        checks.append(Operation(Action.CHECK, rid, check, None, reason=reason))
    return checks


# --- dependencies ------------------------------------------------------------------------------


def _references(spec: Mapping[str, Any], provider: str, rules: FieldRules) -> list[ResourceId]:
    """Identities a spec names through ``x-reference`` fields."""
    found = []
    for name, kind in rules.references.items():
        value = spec.get(name)
        if isinstance(value, str) and value:
            found.append(ResourceId(provider, kind, value))
    return found


def _named(spec: Mapping[str, Any], name: str) -> list[str]:
    """The values a spec field names: a string or each string of a list."""
    value = spec.get(name)
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return []


def _with_dependencies(
    operations: list[Operation],
    wanted: Mapping[ResourceId, Resource],
    state: State,
    rules_for: RulesFor,
) -> list[Operation]:
    """Fill ``depends_on``.

    References (``x-reference``) go first. A field marked ``x-depends-on`` (an automation's
    connection ids) waits for the operations that create or change the objects it names, and
    removing such an object waits for every operation on what named it live (so it is detached
    or removed first). Removals also wait for what still points at them by reference.
    """
    planned = {op.id for op in operations}
    rules_of = {op.id: rules_for(_provider_type(op, state), op.id.kind) for op in operations}
    # (provider, kind, field, value) -> operations on the object with that value, live and wanted
    kept: dict[tuple[str, str, str, str], list[ResourceId]] = {}
    removed: dict[tuple[str, str, str, str], list[ResourceId]] = {}
    wanted_fields = {target for rules in rules_of.values() for target in rules.depends_on.values()}
    for op in operations:
        for kind, name in wanted_fields:
            if op.id.kind != kind:
                continue
            if op.action is Action.REMOVE:
                spec = op.live.spec if op.live else {}
                into = removed
            else:
                spec = op.resource.spec if op.resource else {}
                into = kept
            for value in _named(spec, name):
                into.setdefault((op.id.provider, kind, name, value), []).append(op.id)

    referrers: dict[ResourceId, list[ResourceId]] = {}
    for op in operations:
        rules = rules_of[op.id]
        if op.action is Action.REMOVE:
            spec = op.live.spec if op.live else {}
            for ref in _references(spec, op.id.provider, rules):
                referrers.setdefault(ref, []).append(op.id)
        # what this object names live must outlive this operation
        live_spec = op.live.spec if op.live else {}
        for name, (kind, target) in rules.depends_on.items():
            for value in _named(live_spec, name):
                for gone in removed.get((op.id.provider, kind, target, value), ()):
                    referrers.setdefault(gone, []).append(op.id)

    result = []
    for op in operations:
        deps: list[ResourceId] = []
        if op.action is Action.ADOPT:
            pass  # recording waits for nothing
        elif op.action is Action.REMOVE:
            deps.extend(r for r in referrers.get(op.id, ()) if r != op.id)
        else:
            rules = rules_of[op.id]
            spec = op.resource.spec if op.resource else {}
            deps.extend(r for r in _references(spec, op.id.provider, rules) if r in planned)
            for name, (kind, target) in rules.depends_on.items():
                for value in _named(spec, name):
                    deps.extend(kept.get((op.id.provider, kind, target, value), ()))
        unique = tuple(dict.fromkeys(d for d in deps if d != op.id))
        result.append(replace(op, depends_on=unique))
    return result


def _provider_type(op: Operation, state: State) -> str:
    if op.resource is not None:
        return op.resource.provider_type
    entry = state.entries.get(op.id)
    return entry.provider_type if entry else ""


def check_targets(
    targets: Collection[ResourceId], wanted: Collection[ResourceId], state: State
) -> None:
    """PlanError naming each target that is neither declared nor in state (known before
    anything live is read, so a typo costs no reads)."""
    unknown = [t for t in targets if t not in wanted and t not in state.entries]
    if unknown:
        known = sorted({*wanted, *state.entries})
        shown = ", ".join(str(r) for r in known[:5]) + (", …" if len(known) > 5 else "")
        raise PlanError(
            "; ".join(f"--target {t}: no such resource in the manifests or state" for t in unknown)
            + f" (known: {shown or 'none'})"
        )


def _targeted(
    operations: list[Operation],
    targets: Collection[ResourceId],
    wanted: Mapping[ResourceId, Resource],
    state: State,
) -> list[Operation]:
    """Only the targets' operations and those they depend on (transitively)."""
    check_targets(targets, wanted, state)
    by_id: dict[ResourceId, list[Operation]] = {}
    for op in operations:
        by_id.setdefault(op.id, []).append(op)
    keep: set[ResourceId] = set()
    stack = list(targets)
    while stack:
        rid = stack.pop()
        if rid in keep:
            continue
        keep.add(rid)
        for op in by_id.get(rid, ()):
            stack.extend(op.depends_on)
    return [op for op in operations if op.id in keep]


def _refuse_removing_everything(
    operations: Sequence[Operation],
    wanted: Mapping[ResourceId, Resource],
    state: State,
    rules_for: RulesFor,
) -> None:
    """A plan that would stop managing every managed resource while the manifests declare
    nothing is refused: that is what an empty manifests folder, ``manifests: []`` or a wrong
    path looks like, not a wish. (Manifests that declare other resources in their place, such
    as a rename of each, are a wish.)"""
    managed = [rid for rid, entry in state.entries.items()
               if not rules_for(entry.provider_type, rid.kind).check]
    if not managed or any(not rules_for(resource.provider_type, rid.kind).check
                          for rid, resource in wanted.items()):
        return
    # whatever lifecycle.on_remove makes of it (delete, deactivate, keep): any operation on a
    # managed resource the manifests no longer declare
    going = any(op.id in state.entries and op.id not in wanted for op in operations)
    if not going:
        return
    raise PlanError(
        f"plan refused: it would remove {_all_of(len(managed))}, because the "
        "manifests declare nothing: is the manifests folder empty, or does the project "
        "file's `manifests` point at nothing? Nothing was changed. If "
        "removing everything is what you want, pass --allow-remove-all (or run "
        "`reconciler destroy`)."
    )


def _all_of(count: int) -> str:
    return "the only managed resource" if count == 1 else f"all {count} managed resources"


def _refuse_destroying_protected(
    operations: Sequence[Operation], state: State, destroy: bool = False
) -> None:
    """prevent_destroy: a plan that would remove or replace such a resource is refused."""
    problems = []
    for op in operations:
        if op.action is Action.REMOVE:
            entry = state.entries.get(op.id)
            if entry is not None and entry.prevent_destroy:
                where = entry.source or "state"
                if destroy:
                    problems.append(
                        f"{where}: {op.id} has lifecycle.prevent_destroy; destroy leaves "
                        "nothing half done, so it removes nothing (pass --force-unprotected "
                        "to remove protected resources too)"
                    )
                    continue
                problems.append(
                    f"{where}: {op.id} has lifecycle.prevent_destroy but its manifest is gone "
                    "(the plan would remove it); restore the document or clear prevent_destroy"
                )
        elif op.action is Action.REPLACE and op.resource and op.resource.lifecycle.prevent_destroy:
            fields = ", ".join(sorted({c.dotted for c in op.changes}))
            problems.append(
                f"{op.resource.source.file}:{op.resource.source.line}: {op.id} has "
                f"lifecycle.prevent_destroy but changing {fields} replaces it (remove, then create)"
            )
    if problems:
        raise PlanError("plan refused:\n  " + "\n  ".join(problems))


def _topological(
    operations: Sequence[Operation], order: Mapping[ResourceId, int]
) -> list[Operation]:
    """Dependencies first; among ready operations: non-removals by their kind's declared order
    (``x-order``), then removals in the reverse order."""
    nodes = list(range(len(operations)))
    index_by_id: dict[ResourceId, list[int]] = {}
    for i, op in enumerate(operations):
        index_by_id.setdefault(op.id, []).append(i)
    waiting = {i: 0 for i in nodes}
    dependents: dict[int, list[int]] = {i: [] for i in nodes}
    for i, op in enumerate(operations):
        deps = [j for d in op.depends_on for j in index_by_id.get(d, ())]
        deps.extend(j for j in index_by_id[op.id] if j < i)  # same resource: keep plan order
        for j in deps:
            dependents[j].append(i)
            waiting[i] += 1

    def key(i: int) -> tuple[int, int, str, int]:
        op = operations[i]
        rank = order.get(op.id, 1)
        if op.action is Action.REMOVE:
            return (1, -rank, str(op.id), i)
        return (0, rank, str(op.id), i)

    ready = [key(i) for i in nodes if waiting[i] == 0]
    heapq.heapify(ready)
    ordered: list[Operation] = []
    while ready:
        *_, i = heapq.heappop(ready)
        ordered.append(operations[i])
        for j in dependents[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, key(j))
    if len(ordered) != len(operations):
        stuck = ", ".join(str(operations[i].id) for i in nodes if waiting[i] > 0)
        raise PlanError(f"dependency cycle between: {stuck}")
    return ordered
