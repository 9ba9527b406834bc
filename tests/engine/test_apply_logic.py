"""Apply's scheduling and recording against an in-memory provider (the protocol, not a platform)."""

from __future__ import annotations

import json

import pytest

from reconciler.apply import StateRecorder, execute_plan
from reconciler.errors import Created, ProviderError, StateError
from reconciler.model import Action
from reconciler.plan import make_plan
from reconciler.state.local import LocalStateBackend

from .worlds import MemoryProvider, automation, rules_for, schedule

pytestmark = pytest.mark.anyio


async def plan_and_apply(provider, backend, desired, parallelism=4):
    state = backend.read()
    live = await provider.read([r for r in desired if r.id.kind != "Check"], state.remote_ids())
    plan = make_plan(desired, live, state, rules_for)
    recorder = StateRecorder(state, backend, rules_for)
    outcome = await execute_plan(
        plan, {"studio": provider}, desired, recorder, parallelism=parallelism
    )
    return plan, outcome


async def test_apply_then_plan_again_shows_no_changes(tmp_path):
    provider, backend = MemoryProvider(), LocalStateBackend(tmp_path / "state.json")
    desired = [automation("a"), schedule("s", "a"), automation("b")]
    _, outcome = await plan_and_apply(provider, backend, desired)
    assert outcome.ok and len(outcome.done) == 3
    assert backend.read().serial == 3  # written after every success
    plan, outcome = await plan_and_apply(provider, backend, desired)
    assert plan.operations == () and outcome.done == []
    assert len(provider.calls) == 3


async def test_failure_skips_dependents_and_independent_work_continues(tmp_path):
    provider, backend = MemoryProvider(), LocalStateBackend(tmp_path / "state.json")
    desired = [automation("a"), schedule("s", "a"), automation("b")]
    provider.fail_on.add(desired[0].id)
    _, outcome = await plan_and_apply(provider, backend, desired)
    assert [str(op.id) for op, _ in outcome.failed] == ["studio/Automation/a"]
    assert [str(op.id) for op, _ in outcome.skipped] == ["studio/Schedule/s"]
    assert [str(op.id) for op in outcome.done] == ["studio/Automation/b"]
    assert "0 done" not in outcome.summary() and "1 failed, 1 skipped" in outcome.summary()
    assert list(map(str, backend.read().entries)) == ["studio/Automation/b"]

    provider.fail_on.clear()  # the cause is fixed: a re-run converges without duplicates
    _, outcome = await plan_and_apply(provider, backend, desired)
    assert outcome.ok and sorted(str(op.id) for op in outcome.done) == [
        "studio/Automation/a",
        "studio/Schedule/s",
    ]
    assert len(provider.objects) == 3


async def test_dependencies_finish_before_dependents_start_even_in_parallel(tmp_path):
    provider, backend = MemoryProvider(), LocalStateBackend(tmp_path / "state.json")
    desired = [schedule(f"s{i}", f"a{i}") for i in range(5)]
    desired += [automation(f"a{i}") for i in range(5)]
    await plan_and_apply(provider, backend, desired, parallelism=8)
    order = provider.calls
    for i in range(5):
        assert order.index(f"create studio/Automation/a{i}") < order.index(
            f"create studio/Schedule/s{i}"
        )


async def test_orphan_is_removed_and_forgotten(tmp_path):
    provider, backend = MemoryProvider(), LocalStateBackend(tmp_path / "state.json")
    await plan_and_apply(provider, backend, [automation("a"), automation("gone")])
    plan, outcome = await plan_and_apply(provider, backend, [automation("a")])
    assert [(op.action.value, op.id.name) for op in plan.operations] == [("remove", "gone")]
    assert [rid.name for rid in backend.read().entries] == ["a"]
    assert len(provider.objects) == 1


async def test_each_success_is_durable_before_the_next_starts_and_folded_in_at_the_end(tmp_path):
    provider, backend = MemoryProvider(), LocalStateBackend(tmp_path / "state.json")
    survives_a_crash = []
    execute = provider.execute

    async def watched(op, context):
        survives_a_crash.append(sorted(r.name for r in backend.read().entries))
        return await execute(op, context)

    provider.execute = watched
    desired = [automation("a"), automation("b"), automation("c")]
    _, outcome = await plan_and_apply(provider, backend, desired, parallelism=1)
    assert outcome.ok
    assert survives_a_crash == [[], ["a"], ["a", "b"]]
    assert not backend.journal_path.exists()
    assert json.loads((tmp_path / "state.json").read_text())["serial"] == 3


async def test_an_object_made_before_state_knew_it_is_adopted_without_a_call(tmp_path):
    provider, backend = MemoryProvider(), LocalStateBackend(tmp_path / "state.json")
    desired = [automation("a"), automation("b")]
    await plan_and_apply(provider, backend, desired)
    state = backend.read()
    del state.entries[desired[1].id]  # created, but the apply died before recording it
    backend.write(state.stamped())
    provider.calls.clear()

    plan, outcome = await plan_and_apply(provider, backend, desired)
    assert [(op.action.value, op.id.name) for op in plan.operations] == [("adopt", "b")]
    assert outcome.ok and provider.calls == []
    assert backend.read().entries[desired[1].id].remote_id == "r2"

    plan, _ = await plan_and_apply(provider, backend, desired[:1])  # its manifest is removed
    assert [(op.action.value, op.id.name) for op in plan.operations] == [("remove", "b")]
    assert sorted(provider.objects) == ["r1"]


class HalfCreating(MemoryProvider):
    """Makes the object of a create, then fails the operation's next step (as enable does)."""

    def __init__(self, state_path):
        super().__init__()
        self.state_path = state_path

    async def execute(self, operation, context):
        if operation.action is not Action.CREATE:
            return await super().execute(operation, context)
        made = await super().execute(operation, context)
        self.objects[made.remote_id]["spec"]["description"] = "as created"
        context.created(made.remote_id, self.objects[made.remote_id]["spec"])
        self.durable_then = LocalStateBackend(self.state_path).read().entries
        error = ProviderError(f"{operation.id}: enable refused", platform="workspace")
        error.created = Created(str(made.remote_id), {**self.objects[made.remote_id]["spec"]},
                                ("POST enable", "read back"), ("destination is disabled",))
        raise error


async def test_an_object_a_failed_create_made_is_recorded_as_unfinished(tmp_path):
    provider = HalfCreating(tmp_path / "state.json")
    backend = LocalStateBackend(tmp_path / "state.json")
    desired = [automation("a"), schedule("s", "a")]
    _, outcome = await plan_and_apply(provider, backend, desired)
    # on disk the moment the create reported it, before the step that then failed
    assert provider.durable_then[desired[0].id].partial
    [(op, error)] = outcome.failed
    assert error.startswith("studio/Automation/a: enable refused. The object was created "
                            "(remote id r1) and recorded in state as unfinished; not done: "
                            "POST enable -> read back")
    assert [str(op.id) for op, _ in outcome.skipped] == ["studio/Schedule/s"]
    assert outcome.warnings == ["studio/Automation/a: destination is disabled"]
    entry = backend.read().entries[desired[0].id]
    # the spec is the object as the platform showed it, not the desired one
    assert (entry.remote_id, entry.partial, entry.spec["description"]) == ("r1", True,
                                                                            "as created")

    plan = make_plan(desired, await provider.read(desired, backend.read().remote_ids()),
                     backend.read(), rules_for)
    assert [(op.action.value, op.id.name, op.reason.value) for op in plan.operations] == [
        ("update", "a", "left unfinished by a failed apply"), ("create", "s", "new")]


class RefusingJournal(LocalStateBackend):
    def record(self, state, changed):
        if any(entry is not None and entry.partial for entry in changed.values()):
            raise StateError("state.json: disk full")
        super().record(state, changed)


async def test_an_unfinished_object_state_cannot_record_is_said_so(tmp_path):
    provider = HalfCreating(tmp_path / "state.json")
    backend = RefusingJournal(tmp_path / "state.json")
    _, outcome = await plan_and_apply(provider, backend, [automation("a"), automation("b")],
                                      parallelism=1)
    [(_, error)] = [(op, e) for op, e in outcome.failed if op.id.name == "a"]
    assert ("The object was created (remote id r1) but could not be recorded in state: "
            "state.json: disk full") in error
    assert outcome.stopped == "state.json: disk full"  # nothing more starts unrecorded
