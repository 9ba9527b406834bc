"""Execute a plan: independent operations in parallel, dependents after what they wait for.

State is written after every successful operation, so an apply killed at any point leaves state
describing exactly what was done; the next plan picks up from there. When an operation fails,
everything that depends on it is skipped and independent work carries on; the outcome lists
done, failed and skipped operations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from reconciler.checks import explain, run_check
from reconciler.diff import FieldRules, for_state
from reconciler.drain import quiesce, wait_for_runs
from reconciler.errors import Created, ProviderError, ReconcilerError, StateError
from reconciler.model import (
    ON_REMOVE_DEACTIVATE,
    Action,
    ExecutionContext,
    Operation,
    OperationResult,
    Plan,
    Resource,
    ResourceId,
)
from reconciler.providers.answers import SHAPE_ERRORS, unusable_answer
from reconciler.state.model import Lease, State, StateBackend, StateEntry, now

if TYPE_CHECKING:
    from reconciler.providers.base import Provider

Progress = Callable[[str], None]


class ApplyFailedError(ReconcilerError):
    """Some operations failed or were skipped; the rest were applied and recorded."""


@dataclass
class ApplyOutcome:
    """What happened to each operation of the plan."""

    done: list[Operation] = field(default_factory=list)
    failed: list[tuple[Operation, str]] = field(default_factory=list)
    skipped: list[tuple[Operation, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stopped: str = ""  # why the apply stopped early (state could no longer be written)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

    def summary(self) -> str:
        """``Apply complete: 3 done, 1 failed, 2 skipped.``"""
        word = "complete" if self.ok else "incomplete"
        return (
            f"Apply {word}: {len(self.done)} done, {len(self.failed)} failed, "
            f"{len(self.skipped)} skipped."
        )


class StateRecorder:
    """Updates state after each success and makes it durable at once (one writer at a time).

    Once state cannot be written (the lease was lost, the database went away) ``halted`` says
    why, and no further operation starts: nothing is done that could not be recorded.
    """

    def __init__(
        self,
        state: State,
        backend: StateBackend,
        rules_for: Callable[[str, str], FieldRules],
        lease: Lease | None = None,
    ) -> None:
        self.state = state
        self.backend = backend
        self.rules_for = rules_for
        self.lease = lease or Lease()
        self.recorded = False
        self.halted = ""

    def ready(self) -> str:
        """"" while operations may start; otherwise why not (state can no longer be written)."""
        if not self.halted:
            try:
                self.lease.check()
            except StateError as exc:
                self.halted = exc.message
        return self.halted

    def forget(self, ids: Sequence[ResourceId]) -> None:
        """Drop entries with nothing left to manage (gone from manifests and platform)."""
        if ids:
            for rid in ids:
                self.state.entries.pop(rid, None)
            self.backend.record(self.state.stamped(), dict.fromkeys(ids))
            self.recorded = True

    def record(self, op: Operation, result: OperationResult | None) -> None:
        """Remember what was applied: remote id and the desired spec (secrets hashed)."""
        try:
            self._record(op, result)
        except StateError as exc:
            self.halted = self.halted or exc.message
            raise StateError(
                f"{exc.message} (the operation itself was carried out; the next apply finds "
                "its result again)"
            ) from None

    def record_unfinished(self, op: Operation, failure: Created) -> None:
        """Remember an object a create made before a later step failed, marked ``partial``.

        Its spec is the object as the platform showed it (the desired spec when no answer did),
        so the next plan diffs it with live and plans only what is left.
        """
        assert op.resource is not None
        try:
            entry = self.entry_for(op.resource, failure.remote_id)
            if failure.spec is not None:
                shown = Resource(op.id, op.resource.provider_type, failure.spec,
                                 op.resource.source, op.resource.lifecycle)
                entry.spec = self.entry_for(shown, failure.remote_id).spec
            entry.partial = True
            self.state.entries[op.id] = entry
            self.backend.record(self.state.stamped(), {op.id: entry})
            self.recorded = True
        except StateError as exc:
            self.halted = self.halted or exc.message
            raise

    def _record(self, op: Operation, result: OperationResult | None) -> None:
        entry: StateEntry | None = None
        if op.action is Action.REMOVE or op.removal:
            self.state.entries.pop(op.id, None)
        else:
            assert op.resource is not None
            entry = self.entry_for(op.resource, _remote_id(op, result))
            self.state.entries[op.id] = entry
        self.backend.record(self.state.stamped(), {op.id: entry})
        self.recorded = True

    def settle(self) -> None:
        """Fold what was recorded into the stored state (once the apply has ended)."""
        if self.recorded and not self.halted:
            self.backend.settle(self.state)
            self.recorded = False

    def entry_for(self, resource: Resource, remote_id: str) -> StateEntry:
        rules = self.rules_for(resource.provider_type, resource.id.kind)
        return StateEntry(
            remote_id=remote_id,
            provider_type=resource.provider_type,
            spec=for_state(resource.spec, rules, self.state.salt),
            applied_at=now(),
            source=f"{resource.source.file}:{resource.source.line}",
            prevent_destroy=resource.lifecycle.prevent_destroy,
            on_remove=resource.lifecycle.on_remove,
            drain_timeout=resource.lifecycle.drain_timeout,
        )


def _remote_id(op: Operation, result: OperationResult | None) -> str:
    if result is not None and result.remote_id:
        return result.remote_id
    return op.live.remote_id if op.live is not None else ""


async def execute_plan(
    plan: Plan,
    providers: Mapping[str, Provider],
    desired: Sequence[Resource],
    recorder: StateRecorder,
    *,
    parallelism: int = 8,
    progress: Progress | None = None,
) -> ApplyOutcome:
    """Run every operation once its dependencies succeeded; record each success in state."""
    report = progress or (lambda _text: None)
    outcome = ApplyOutcome()
    ops = list(plan.operations)
    finished = [anyio.Event() for _ in ops]
    status: list[str] = ["pending"] * len(ops)
    positions: dict[ResourceId, list[int]] = {}
    for i, op in enumerate(ops):
        positions.setdefault(op.id, []).append(i)
    limiter = anyio.CapacityLimiter(max(1, parallelism))
    desired_by_provider: dict[str, dict[ResourceId, Resource]] = {}
    for resource in desired:
        desired_by_provider.setdefault(resource.id.provider, {})[resource.id] = resource

    def waits_for(i: int) -> list[int]:
        before = [j for j in positions[ops[i].id] if j < i]
        return before + [j for dep in ops[i].depends_on for j in positions.get(dep, ())]

    async def run(i: int) -> None:
        op = ops[i]
        try:
            for j in waits_for(i):
                await finished[j].wait()
            blocked = [ops[j].id for j in waits_for(i) if status[j] != "done"]
            halted = recorder.ready()
            if halted:
                status[i] = "skipped"
                outcome.skipped.append((op, f"not started: {halted}"))
                return
            if blocked:
                status[i] = "skipped"
                outcome.skipped.append((op, f"depends on {blocked[0]}, which did not succeed"))
                report(f"skipped {op.action} {op.id}: depends on {blocked[0]}")
                return
            async with limiter:
                halted = recorder.ready()  # the wait for a slot may have been long
                if halted:
                    status[i] = "skipped"
                    outcome.skipped.append((op, f"not started: {halted}"))
                    return
                context = ExecutionContext(
                    remote_ids=recorder.state.remote_ids(op.id.provider),
                    desired=desired_by_provider.get(op.id.provider, {}),
                    created=CreateWatch(op, recorder) if op.resource is not None else None,
                )
                provider = providers[op.id.provider]
                runs = providers.get(op.drain.runs_from) if op.drain else None
                try:
                    error = await _perform(op, provider, context, recorder, outcome, report,
                                           runs)
                except ReconcilerError as exc:  # e.g. the state could not be written
                    error = exc.message
            if error:
                status[i] = "failed"
                outcome.failed.append((op, error))
                report(f"failed {op.action} {op.id}: {error}")
            else:
                status[i] = "done"
                outcome.done.append(op)
        finally:
            finished[i].set()

    try:
        async with anyio.create_task_group() as group:
            for i in range(len(ops)):
                group.start_soon(run, i)
    finally:
        outcome.stopped = recorder.halted
        recorder.settle()
    return outcome


async def _perform(
    op: Operation,
    provider: Provider,
    context: ExecutionContext,
    recorder: StateRecorder,
    outcome: ApplyOutcome,
    report: Progress,
    runs: Provider | None = None,
) -> str:
    """Carry out one operation; the error text, or "" on success (state already recorded)."""
    if op.action is Action.ADOPT:  # nothing to call: the object is there as desired
        recorder.record(op, None)
        report(f"adopted {op.id} (remote id {_remote_id(op, None)})")
        return ""
    report(f"{op.action} {op.id}…")
    if op.action is Action.FORGET:
        recorder.record(op, None)
        report(f"{op.action} {op.id}: done (the live object was not touched)")
        return ""
    if op.action is Action.CHECK:
        assert op.resource is not None
        try:
            result = await run_check(provider, op.resource, context, report)
        except ReconcilerError as exc:
            return f"the changes were applied but the check could not run: {exc.message}"
        if not result.passed:
            return "the changes were applied but the check failed: " + explain(result)
        report(explain(result))
        recorder.record(op, None)
        return ""
    try:
        stops_only = op.removal == ON_REMOVE_DEACTIVATE and op.resource is None
        if op.drain is not None or stops_only:
            outcome.warnings.extend(f"{op.id}: {w}" for w in await quiesce(op, provider, context))
            if stops_only:  # deactivated through the provider's own stop: nothing to delete
                recorder.record(op, None)
                report(f"{op.action} {op.id}: done")
                return ""
            await wait_for_runs(op, runs, report)
        done = await provider.execute(op, context)
    except Exception as exc:  # an adapter bug must not lose the state of the other operations
        message = _failure(op, provider, exc)
        # what the create made: as the error says, or as the create reported it (the error of
        # a provider that reported it may not say so)
        made = exc.created if isinstance(exc, ProviderError) else None
        watch = context.created if isinstance(context.created, CreateWatch) else None
        if made is None and watch is not None:
            made = watch.made
        if not made:
            return message
        # recorded already when the create answered, unless the failure knows a newer spec
        again = watch is None or not watch.holds(made)
        return _unfinished(op, message, made, recorder, outcome, record=again)
    outcome.warnings.extend(f"{op.id}: {warning}" for warning in done.warnings)
    recorder.record(op, done)
    report(f"{op.action} {op.id}: done")
    return ""


class CreateWatch:
    """``ExecutionContext.created`` for one operation: records the object a create made in
    state at once (marked unfinished), and remembers it in case the operation then fails."""

    def __init__(self, op: Operation, recorder: StateRecorder) -> None:
        self.op = op
        self.recorder = recorder
        self.made: Created | None = None
        self.recorded: Created | None = None  # what state holds, once its write went through

    def __call__(self, remote_id: str, spec: Mapping[str, Any] | None) -> None:
        self.made = Created(remote_id, spec)
        self.recorder.record_unfinished(self.op, self.made)
        self.recorded = self.made

    def holds(self, made: Created) -> bool:
        """True when state already has ``made`` as this watch recorded it."""
        done = self.recorded
        return done is not None and (done.remote_id, done.spec) == (made.remote_id, made.spec)


def _failure(op: Operation, provider: Provider, exc: Exception) -> str:
    """The error text of an operation that raised ``exc``."""
    if isinstance(exc, ReconcilerError):
        return exc.message
    if isinstance(exc, SHAPE_ERRORS):
        return unusable_answer(op.id.provider, provider.type_name, f"{op.action} {op.id}",
                               exc).message
    return f"internal error: {type(exc).__name__}: {exc}"


def _unfinished(op: Operation, message: str, failure: Created, recorder: StateRecorder,
                outcome: ApplyOutcome, *, record: bool = True) -> str:
    """Record the object a failed operation made (unless state holds it as it is already);
    the error saying so and what is left."""
    outcome.warnings.extend(f"{op.id}: {warning}" for warning in failure.warnings)
    left = " -> ".join(failure.left)
    try:
        if record:
            recorder.record_unfinished(op, failure)
    except StateError as exc:
        return (f"{message}. The object was created (remote id {failure.remote_id}) "
                f"but could not be recorded in state: {exc.message}; the next apply finds it "
                f"by its natural key. Not done: {left}")
    return (f"{message}. The object was created (remote id {failure.remote_id}) and "
            f"recorded in state as unfinished; not done: {left}. The next plan shows what is "
            "left")
