"""Rehearse a plan: apply it to a throw-away copy of production first, and say what would fail.

Production is only read, by the plan's own reads (and any read-only calls a provider needs to
make its copy). Each provider that declares the ``Rehearsable`` capability copies what it read
into a world of the embedded sandbox, one private database per provider instance, keeping the
production ids, so the plan's operations and a copy of the state address the copies unchanged.
The plan is then applied there with the same engine and adapters, its checks run there, and a
fresh plan against the rehearsed world shows whether it converged. Everything is deleted after.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.apply import ApplyOutcome, StateRecorder, execute_plan
from reconciler.config import SANDBOX_BASE_URL
from reconciler.model import MUTATING_ACTIONS, Action, Operation, ResourceId
from reconciler.providers.base import Rehearsable, RehearsalCopy
from reconciler.state.model import State, open_backend

if TYPE_CHECKING:
    from reconciler.config import Project, ProviderConfig
    from reconciler.engine import Assessment, Engine

Progress = Callable[[str], None]

CHECKS_NOTE = (
    "the sandbox does not run automation code: a rehearsed check tests invoking the automation "
    "and following its run, not what the code does"
)


RUNS_NOTE = (
    "in-flight runs are not copied: a removal that drains is rehearsed up to stopping new "
    "runs, not its wait for running ones"
)


class Verdict(StrEnum):
    """What the rehearsal found for one operation. Values are what users see."""

    SUCCEEDS = "would succeed"
    FAILS = "would fail"
    BLOCKED = "blocked"
    NOT_REHEARSED = "not rehearsed"


@dataclass(frozen=True)
class OperationVerdict:
    """One operation's verdict; ``detail`` is the platform's error, the blocker or the reason."""

    operation: Operation
    verdict: Verdict
    detail: str = ""
    blocked_by: ResourceId | None = None


@dataclass
class Rehearsal:
    """The outcome of rehearsing one plan."""

    verdicts: list[OperationVerdict] = field(default_factory=list)
    converged: bool | None = None  # None: not checked, because an operation failed
    leftover: list[Operation] = field(default_factory=list)  # what a re-plan still wants
    not_rehearsed: list[str] = field(default_factory=list)  # what the copies could not hold
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every rehearsed operation would succeed and the result converged."""
        failed = any(v.verdict in (Verdict.FAILS, Verdict.BLOCKED) for v in self.verdicts)
        return not failed and self.converged is not False

    def count(self, verdict: Verdict) -> int:
        return sum(1 for v in self.verdicts if v.verdict is verdict)


async def rehearse(
    project: Project,
    engine: Engine,
    assessment: Assessment,
    *,
    parallelism: int = 8,
    progress: Progress | None = None,
) -> Rehearsal:
    """Apply ``assessment.plan`` to sandbox copies of what ``engine`` read; never write to it."""
    report = progress or (lambda _text: None)
    plan = assessment.plan
    rehearsal = Rehearsal()
    names = sorted({op.id.provider for op in plan.operations})
    copies: dict[str, RehearsalCopy] = {}
    for name in names:
        provider = engine.provider(name)
        if isinstance(provider, Rehearsable):
            report(f"copying {name} into a rehearsal world")
            copies[name] = await provider.rehearsal_copy(
                [item for item in assessment.live if item.id.provider == name],
                [r for r in assessment.desired if r.id.provider == name],
            )
    for name in copies:
        rehearsal.not_rehearsed.extend(f"{name}: {line}" for line in copies[name].not_rehearsed)
    for name in names:
        if name not in copies:
            rehearsal.not_rehearsed.append(
                f"{name}: its provider type ({engine.provider(name).type_name}) cannot be copied "
                "into a sandbox world (it declares no rehearsal copy); its operations are not "
                "rehearsed"
            )
    if any(op.action is Action.CHECK and op.id.provider in copies for op in plan.operations):
        rehearsal.notes.append(CHECKS_NOTE)

    rehearsed = tuple(
        _without_run_wait(op, copies) for op in plan.operations if op.id.provider in copies
    )
    waits = {op.drain.runs_from for op in plan.operations
             if op.id.provider in copies and op.drain is not None and op.drain.runs_from}
    if waits - set(copies):
        rehearsal.not_rehearsed.append(RUNS_NOTE)
    with tempfile.TemporaryDirectory(prefix="reconciler-rehearsal-") as folder:
        rehearsal_project = _sandboxed(project, copies, Path(folder))
        state = _state_copy(assessment.state, set(copies))
        backend = open_backend("local", Path(folder) / "state.json")
        backend.write(state)
        from reconciler.engine import Engine, rules_for

        desired = [r for r in assessment.desired if r.id.provider in copies]
        async with Engine(rehearsal_project, progress=report) as sandbox:
            providers = {name: sandbox.provider(name) for name in copies}
            recorder = StateRecorder(backend.read(), backend, rules_for)
            outcome = await execute_plan(
                dataclasses.replace(plan, operations=rehearsed), providers, desired, recorder,
                parallelism=parallelism, progress=report,
            )
            rehearsal.verdicts = _verdicts(plan.operations, copies, outcome)
            if not outcome.failed and not outcome.skipped:
                report("planning again against the rehearsed world")
                again = await sandbox.assess(backend.read(), desired=desired)
                planned = {op.id for op in rehearsed}  # a targeted plan left the rest alone
                rehearsal.leftover = [
                    op for op in again.plan.operations
                    if op.action in MUTATING_ACTIONS and op.id in planned
                ]
                rehearsal.converged = not rehearsal.leftover
    return rehearsal


def _verdicts(
    operations: Sequence[Operation], copies: dict[str, RehearsalCopy], outcome: ApplyOutcome
) -> list[OperationVerdict]:
    """Every operation of the plan, in plan order, with what happened to it in the rehearsal."""
    failed = {id(op): error for op, error in outcome.failed}
    skipped = {id(op): why for op, why in outcome.skipped}
    not_done = {op.id for op, _ in (*outcome.failed, *outcome.skipped)}
    verdicts = []
    for op in operations:
        if op.id.provider not in copies:
            verdicts.append(OperationVerdict(op, Verdict.NOT_REHEARSED,
                                             "its provider type cannot be copied into a sandbox"))
        elif id(op) in failed:
            verdicts.append(OperationVerdict(op, Verdict.FAILS, failed[id(op)]))
        elif id(op) in skipped:
            blocker = next((dep for dep in op.depends_on if dep in not_done), None)
            verdicts.append(OperationVerdict(op, Verdict.BLOCKED, skipped[id(op)], blocker))
        else:
            verdicts.append(OperationVerdict(op, Verdict.SUCCEEDS))
    return verdicts


def _without_run_wait(op: Operation, copies: dict[str, RehearsalCopy]) -> Operation:
    """A removal that drains waits for runs only where the copy holds them (runs are not
    copied): the stop of new runs is rehearsed, the wait is not."""
    if op.drain is None or not op.drain.runs_from or op.drain.runs_from in copies:
        return op
    return dataclasses.replace(op, drain=dataclasses.replace(op.drain, runs_from=""))


def _sandboxed(project: Project, copies: dict[str, RehearsalCopy], folder: Path) -> Project:
    """The project with each copied provider pointed at its own private sandbox world."""
    from reconciler.sandbox.store import Store
    from reconciler.sandbox.world import replace_world

    providers: dict[str, ProviderConfig] = {}
    for name, copy in copies.items():
        db = folder / f"{name}.db"
        store = Store(db)
        try:
            replace_world(store, copy.world)
        finally:
            store.close()
        providers[name] = _sandbox_config(project.providers[name], db)
    return dataclasses.replace(project, providers=providers)


def _sandbox_config(config: ProviderConfig, db: Path) -> ProviderConfig:
    """A provider entry aimed at a sandbox world, its credentials left behind."""
    from reconciler import schema

    secret = schema.sensitive_settings(config.type)
    settings = {key: value for key, value in config.settings.items() if key not in secret}
    return dataclasses.replace(config, base_url=SANDBOX_BASE_URL, sandbox_db=db,
                               settings=settings)


def _state_copy(state: State, providers: set[str]) -> State:
    """A deep copy of the state holding only the entries of the rehearsed providers."""
    copy = State.from_json(state.to_json(), "rehearsal")
    copy.entries = {rid: e for rid, e in copy.entries.items() if rid.provider in providers}
    return copy

