"""Orchestration: project -> desired resources -> providers -> live (read concurrently) -> plan.

The engine knows providers only through ``reconciler.providers.registry``; it opens one instance
per provider entry of the project that has something to manage, reads them all at once, and
hands desired, live and state to the pure planner.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from functools import cache, partial
from typing import TYPE_CHECKING, Any

import anyio

from reconciler.diff import NO_RULES, FieldRules
from reconciler.drain import describe_operation
from reconciler.errors import ConfigError
from reconciler.model import Action, LiveResource, Plan, Resource, ResourceId
from reconciler.plan import Removals, check_targets, forgotten, make_plan
from reconciler.providers.answers import SHAPE_ERRORS, unusable_answer
from reconciler.providers.registry import open_provider
from reconciler.state.model import State, StateBackend, StateEntry, open_backend

if TYPE_CHECKING:
    import httpx

    from reconciler.apply import ApplyOutcome
    from reconciler.config import Project
    from reconciler.providers.base import Provider
    from reconciler.saved_plan import SavedPlan
    from reconciler.selector import Selector

Progress = Callable[[str], None]
# a progress line for one phase of work; apply opens one to read and another to execute, so
# nothing is drawn while the approval question waits
ProgressPhase = Callable[[], AbstractContextManager[Progress]]
TransportFor = Callable[[str], "httpx.AsyncBaseTransport | None"]  # provider name -> transport


@cache
def rules_for(provider_type: str, kind: str) -> FieldRules:
    """The schema annotations of a (provider type, kind); none for an unknown pair."""
    from reconciler import schema

    try:
        return FieldRules(
            unordered=schema.unordered_paths(provider_type, kind),
            sensitive=schema.sensitive_paths(provider_type, kind),
            toggles=schema.toggle_fields(provider_type, kind),
            replace_on_change=schema.replace_fields(provider_type, kind),
            references=schema.reference_fields(provider_type, kind),
            desired_only=schema.desired_only_fields(provider_type, kind),
            depends_on=schema.dependency_fields(provider_type, kind),
            upgrades=schema.upgrade_fields(provider_type, kind),
            order=schema.kind_order(provider_type, kind),
            check=schema.is_check_kind(provider_type, kind),
        )
    except (KeyError, FileNotFoundError):
        return NO_RULES


def is_check(provider_type: str, kind: str) -> bool:
    """True for a kind its provider type declares a smoke check (``x-check``): never read live."""
    return rules_for(provider_type, kind).check


@dataclass
class Assessment:
    """Everything a plan was computed from, kept for apply and for rendering."""

    desired: list[Resource]
    live: list[LiveResource]
    state: State
    plan: Plan
    forget: list[ResourceId] = field(default_factory=list)


def state_backend(project: Project, *, bound: bool = True) -> StateBackend:
    """The project's state backend (``state.path`` is relative to the project folder).

    ``bound``: reads refuse a state that belongs to another project and bind any other to this
    one (see ``reconciler.state.binding``); only inspecting and rebinding read it unbound.
    """
    backend = open_state(project, project.state.backend)
    if not bound:
        return backend
    from reconciler.state.binding import BoundBackend, project_binding

    return BoundBackend(backend, project_binding(project))


def open_state(project: Project, backend: str) -> StateBackend:
    """The named backend with the settings of the project's ``state`` section: ``path`` for
    local; ``url``, ``key`` (default: the project folder's name) and ``lease_ttl`` for
    postgres, whichever ``backend`` the section itself names (``state migrate`` opens both)."""
    from reconciler.durations import parse_duration

    path = project.state.path
    if not path.is_absolute():
        path = project.root / path
    settings: dict[str, object] = {}
    if backend == "postgres":
        url = project.state.get("url")
        if not url:
            raise ConfigError(
                f"{project.file}: state.url is not set; add `url: ${{env:RECONCILER_STATE_URL}}` "
                "to the state section"
            )
        ttl = parse_duration(str(project.state.get("lease_ttl", "2m")))
        if ttl < 1:
            raise ConfigError(f"{project.file}: state.lease_ttl must be at least 1s")
        settings = {"url": url, "key": project.state.get("key", project.root.name),
                    "lease_ttl": ttl}
    return open_backend(backend, path, settings)


def load_desired(project: Project) -> list[Resource]:
    """Every desired resource of the project, validated, schema defaults applied."""
    from reconciler.manifest import load_resources

    return list(load_resources(project))


class Engine:
    """Open providers for a project; read, plan. Use as ``async with Engine(...) as engine``."""

    def __init__(
        self,
        project: Project,
        *,
        transport_for: TransportFor | None = None,
        progress: Progress | None = None,
        parallelism: int | None = None,
    ) -> None:
        self.project = project
        self.transport_for = transport_for
        self.progress = progress or (lambda _text: None)
        # requests in flight per provider instance; None keeps each instance's own setting
        self.parallelism = parallelism
        self.providers: dict[str, Provider] = {}

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for provider in self.providers.values():
            await provider.aclose()
        self.providers.clear()

    def provider(self, name: str) -> Provider:
        """The open provider instance for a ``providers.<name>`` entry (opened on first use)."""
        if name not in self.providers:
            config = self.project.providers.get(name)
            if config is None:
                known = ", ".join(sorted(self.project.providers)) or "none"
                raise ConfigError(
                    f"{self.project.file}: no provider named {name!r} (declared: {known})"
                )
            if self.parallelism is not None:
                config = replace(config, parallelism=self.parallelism)
            transport = self.transport_for(name) if self.transport_for else None
            self.providers[name] = open_provider(config, transport=transport)
        return self.providers[name]

    async def read_live(
        self,
        desired: Sequence[Resource],
        state: State,
        providers: Collection[str] | None = None,
    ) -> list[LiveResource]:
        """Read every provider with something to manage (or those named), concurrently."""
        names = sorted(
            {r.id.provider for r in desired if not is_check(r.provider_type, r.id.kind)}
            | {
                rid.provider
                for rid, entry in state.entries.items()
                if not is_check(entry.provider_type, rid.kind)
            }
            if providers is None
            else providers
        )
        results: dict[str, list[LiveResource]] = {}
        failures: list[BaseException] = []

        async def read_one(name: str) -> None:
            try:
                await read_provider(name)
            except Exception as exc:  # reported after the others finished, not as a group
                failures.append(exc)

        async def read_provider(name: str) -> None:
            provider = self.provider(name)
            readable = {k for k in provider.kinds if not is_check(provider.type_name, k)}
            if not readable:
                results[name] = []
                return
            mine = [r for r in desired if r.id.provider == name and r.id.kind in readable]
            known = {
                rid: entry.remote_id
                for rid, entry in state.entries.items()
                if rid.provider == name and rid.kind in readable
            }
            started = time.monotonic()
            self.progress(f"reading {name} ({provider.type_name}): {len(mine)} desired")
            try:
                results[name] = await provider.read(mine, known)
            except SHAPE_ERRORS as exc:
                raise unusable_answer(name, provider.type_name, "reading", exc) from exc
            took = time.monotonic() - started
            self.progress(f"read {name}: {len(results[name])} live objects in {took:.1f}s")

        async with anyio.create_task_group() as group:
            for name in names:
                group.start_soon(read_one, name)
        if failures:
            raise failures[0]
        return [item for name in names for item in results[name]]

    async def assess(
        self,
        state: State,
        *,
        desired: Sequence[Resource] | None = None,
        targets: Collection[ResourceId] = (),
        selector: Selector | None = None,
        refresh: bool = True,
        destroy: bool = False,
        force_unprotected: bool = False,
        allow_remove_all: bool = False,
    ) -> Assessment:
        """Load (unless given), read and plan.

        ``selector`` narrows the plan to the desired resources whose labels match (among
        ``targets`` when both are given) and what they depend on, as ``targets`` does.

        ``refresh=False`` reads nothing live and plans against the last applied state instead
        (``plan --refresh=false``). ``destroy`` plans every managed resource for deletion, as if
        no manifest declared it (``lifecycle.on_remove`` aside; ``prevent_destroy`` refuses the
        plan unless ``force_unprotected``). Otherwise a plan that would remove every managed
        resource is refused unless ``allow_remove_all``.
        """
        if destroy:
            wanted: list[Resource] = []
        else:
            wanted = list(desired) if desired is not None else load_desired(self.project)
        if selector:
            targets = selected(wanted, selector, targets)
        check_targets(targets, {resource.id for resource in wanted}, state)
        live = await self.read_live(wanted, state) if refresh else last_applied(state)
        describe = {
            name: partial(describe_operation, self.provider(name))
            for name in self._names(wanted, state)
        }
        rules = replace(removals(self.project), destroy=destroy,
                        force_unprotected=force_unprotected, allow_remove_all=allow_remove_all)
        plan = make_plan(wanted, live, state, rules_for, describe, targets, rules)
        if not refresh:
            plan = replace(plan, refreshed=False)
        return Assessment(wanted, live, state, plan, forgotten(wanted, live, state))

    def _names(self, desired: Sequence[Resource], state: State) -> set[str]:
        return {r.id.provider for r in desired} | {rid.provider for rid in state.entries}


def selected(
    desired: Sequence[Resource], selector: Selector, targets: Collection[ResourceId] = ()
) -> tuple[ResourceId, ...]:
    """The desired resources the selector picks (only among ``targets`` when any are given);
    PlanError when it picks none, so a mistyped label never passes as "no changes"."""
    from reconciler.errors import PlanError

    picked = selector.select(desired)
    if targets:
        chosen = set(picked)
        picked = [rid for rid in targets if rid in chosen]
    if not picked:
        among = " among the --target resources" if targets else " in the manifests"
        raise PlanError(f"--selector {selector}: no resource{among} has these labels")
    return tuple(picked)


def last_applied(state: State) -> list[LiveResource]:
    """What the last apply left, standing in for the live objects when nothing is read.

    Sensitive values are salted hashes in state; the diff compares those through state anyway.
    """
    return [
        LiveResource(rid, entry.remote_id, entry.spec)
        for rid, entry in sorted(state.entries.items())
        if not is_check(entry.provider_type, rid.kind)
    ]


def removals(project: Project) -> Removals:
    """What the project's provider types declare about removals: which kinds drain, and which
    instance reports the runs of each instance's objects (``providers.base``)."""
    from reconciler.providers.registry import provider_class

    classes = {name: provider_class(config.type) for name, config in project.providers.items()}
    drained: dict[str, frozenset[str]] = {}
    runs_from: dict[str, str] = {}
    ambiguous: dict[str, tuple[str, ...]] = {}
    for name, config in sorted(project.providers.items()):
        kinds = frozenset(getattr(classes[name], "drained_kinds", frozenset()))
        if not kinds:
            continue
        drained[name] = kinds
        reporters = tuple(
            other for other in sorted(classes)
            if config.type in getattr(classes[other], "runs_of", frozenset())
        )
        if len(reporters) == 1:
            runs_from[name] = reporters[0]
        elif reporters:
            ambiguous[name] = reporters
    return Removals(drained, runs_from, ambiguous)


# --- apply -------------------------------------------------------------------------------------


async def apply(
    project: Project,
    backend: StateBackend,
    *,
    approve: Callable[[Assessment], bool],
    lock_timeout: float = 0.0,
    saved: SavedPlan | None = None,
    saved_source: str = "",
    targets: Collection[ResourceId] = (),
    selector: Selector | None = None,
    parallelism: int = 8,
    progress: ProgressPhase | None = None,
    transport_for: TransportFor | None = None,
    destroy: bool = False,
    force_unprotected: bool = False,
    actions: Collection[Action] | None = None,
    allow_remove_all: bool = False,
) -> tuple[Assessment, ApplyOutcome | None]:
    """Hold the state lock, assess, ask ``approve``, then execute and record each success.

    ``destroy`` (and ``force_unprotected``) plan every managed resource for removal
    (see ``Engine.assess``); ``actions`` keeps only the operations of those actions.
    ``allow_remove_all`` (or a saved plan made with it) lets the plan remove every managed
    resource.

    ``approve`` sees the assessment (to show the plan, and to ask when there are operations)
    and returns whether to go on; nothing is written to state before it said yes. The outcome
    is None when nothing was executed (no operations, or not approved).
    """
    from reconciler.apply import StateRecorder, execute_plan

    phase: ProgressPhase = progress or (lambda: nullcontext(lambda _text: None))
    if saved is not None:
        refuse_unrefreshed(saved, saved_source)
    with backend.lock(lock_timeout, "reconciler apply") as lease:
        async with Engine(project, transport_for=transport_for) as engine:
            with phase() as report:  # the progress line ends before approval is asked
                engine.progress = report
                allowed = allow_remove_all or (saved is not None and saved.allow_remove_all)
                assessment = await engine.assess(backend.read(), targets=targets,
                                                 selector=selector, destroy=destroy,
                                                 force_unprotected=force_unprotected,
                                                 allow_remove_all=allowed)
            if saved is not None:
                verify_saved_plan(saved, assessment, saved_source)
            if actions is not None:  # e.g. only the adoptions (``import --all-unmanaged``)
                assessment.plan = replace(assessment.plan, operations=tuple(
                    op for op in assessment.plan.operations if op.action in actions))
            plan = assessment.plan
            if not approve(assessment):
                return assessment, None
            recorder = StateRecorder(assessment.state, backend, rules_for, lease)
            recorder.forget(assessment.forget)
            if not plan.operations:
                return assessment, None
            names = {op.id.provider for op in plan.operations}
            names |= {op.drain.runs_from for op in plan.operations
                      if op.drain and op.drain.runs_from}
            providers = {name: engine.provider(name) for name in names}
            with phase() as report:
                outcome = await execute_plan(
                    plan,
                    providers,
                    assessment.desired,
                    recorder,
                    parallelism=parallelism,
                    progress=report,
                )
    return assessment, outcome


# --- saved plans -------------------------------------------------------------------------------


def desired_fingerprint(desired: Sequence[Resource], salt: str) -> str:
    """A salted digest of every desired spec: a saved plan detects edited manifests without
    keeping any value (secrets included) in the file."""
    from reconciler.diff import canonical_json, salted_hash

    items = sorted((str(r.id), canonical_json(r.spec)) for r in desired)
    return salted_hash(items, salt)


def saved_plan(
    document: Mapping[str, Any], assessment: Assessment, allow_remove_all: bool = False
) -> SavedPlan:
    """The JSON plan ``document`` plus what ``apply FILE`` needs to refuse it when stale (and
    whether it was made with ``--allow-remove-all``)."""
    import secrets

    from reconciler.saved_plan import SavedPlan

    salt = secrets.token_hex(16)
    plan = assessment.plan
    return SavedPlan(
        state_lineage=plan.state_lineage,
        state_serial=plan.state_serial,
        live_fingerprint=plan.live_fingerprint,
        salt=salt,
        desired_fingerprint=desired_fingerprint(assessment.desired, salt),
        operations=tuple((str(op.id), op.action.value) for op in plan.operations),
        refreshed=plan.refreshed,
        document=document,
        allow_remove_all=allow_remove_all,
    )


def refuse_unrefreshed(saved: SavedPlan, source: str) -> None:
    """PlanError for a plan saved with --refresh=false: it can be shown, never applied (said
    before anything is read)."""
    from reconciler.errors import PlanError

    if not saved.refreshed:
        raise PlanError(
            f"{source}: made with --refresh=false, so it was never compared with live state; "
            "run `reconciler plan --out FILE` without it, then apply that file"
        )


def verify_saved_plan(saved: SavedPlan, assessment: Assessment, source: str) -> None:
    """PlanStaleError unless the saved plan matches state, live and manifests as they are now."""
    from reconciler.errors import PlanStaleError

    refuse_unrefreshed(saved, source)
    now_state = assessment.state
    reasons = []
    if saved.state_lineage != now_state.lineage:
        reasons.append("the state file is a different one (lineage changed)")
    elif saved.state_serial != now_state.serial:
        reasons.append(
            f"state changed since the plan (serial {saved.state_serial} -> {now_state.serial})"
        )
    if saved.live_fingerprint != assessment.plan.live_fingerprint:
        reasons.append("live objects changed since the plan was made")
    if saved.desired_fingerprint != desired_fingerprint(assessment.desired, saved.salt):
        reasons.append("the manifests changed since the plan was made")
    operations = tuple((str(op.id), op.action.value) for op in assessment.plan.operations)
    if not reasons and saved.operations != operations:
        reasons.append("the operations planned now differ from the saved ones")
    if reasons:
        raise PlanStaleError(
            f"{source}: saved plan is stale: {'; '.join(reasons)}. Run `reconciler plan` again."
        )


async def adopt(
    project: Project,
    backend: StateBackend,
    rid: ResourceId,
    remote_id: str,
    progress: Progress | None = None,
) -> StateEntry:
    """``import``: find REMOTE_ID live and record it in state as the desired resource ``rid``.

    The identity must already be declared in the manifests; otherwise the very next plan would
    remove what was just adopted.
    """
    from reconciler.apply import StateRecorder
    from reconciler.errors import StateError

    desired = load_desired(project)
    resource = next((r for r in desired if r.id == rid), None)
    if resource is None:
        raise StateError(
            f"{rid}: not declared in the manifests; add its document first, then import it"
        )
    state = backend.read()
    if rid in state.entries:
        raise StateError(f"{rid}: already managed (remote id {state.entries[rid].remote_id})")
    async with Engine(project, progress=progress) as engine:
        provider = engine.provider(rid.provider)
        mine = [
            r for r in desired
            if r.id.provider == rid.provider and not is_check(r.provider_type, r.id.kind)
        ]
        known = {**state.remote_ids(rid.provider), rid: remote_id}
        live = await provider.read(mine, known)
    match = next((item for item in live if item.remote_id == remote_id), None)
    if match is None:
        raise StateError(f"{rid}: provider {rid.provider} has no {rid.kind} with id {remote_id!r}")
    if match.id != rid:
        raise StateError(f"{remote_id!r} is a {match.id.kind} matched to {match.id}, not {rid}")
    recorder = StateRecorder(state, backend, rules_for)
    entry = recorder.entry_for(resource, remote_id)
    # the live object is what was "last applied": a difference with git is then a change in git
    entry.spec = recorder.entry_for(
        Resource(rid, resource.provider_type, match.spec, resource.source, resource.lifecycle),
        remote_id,
    ).spec
    state.entries[rid] = entry
    backend.record(state.stamped(), {rid: entry})
    backend.settle(state)
    return entry
