from __future__ import annotations

import pytest

from reconciler.errors import PlanError
from reconciler.model import Action, Lifecycle, LiveResource, ResourceId
from reconciler.plan import Removals, make_plan
from reconciler.state.model import State, StateEntry

from .worlds import automation, check, live_of, resource, rules_for, schedule

EVERYTHING = Removals(allow_remove_all=True)  # these tests remove every resource on purpose


def actions(plan):
    return [(op.action.value, str(op.id)) for op in plan.operations]


def entry_for(res, remote_id="x", **kw):
    spec = {k: v for k, v in res.spec.items()}
    return StateEntry(
        remote_id,
        res.provider_type,
        spec,
        "2026-01-01T00:00:00Z",
        f"{res.source.file}:{res.source.line}",
        **kw,
    )


def test_new_resources_are_created_in_dependency_order():
    a = automation("digest")
    s = schedule("digest-daily", "digest")
    conn = resource("Connection", "slack", {"connection_id": "slack", "connector": "slack"})
    plan = make_plan([s, a, conn], [], State(), rules_for)
    assert actions(plan) == [
        ("create", "studio/Connection/slack"),
        ("create", "studio/Automation/digest"),
        ("create", "studio/Schedule/digest-daily"),
    ]
    assert plan.operations[2].depends_on == (ResourceId("studio", "Automation", "digest"),)


def recorded(*resources, remote_ids=None) -> State:
    """A state that records each resource under the remote id ``live_of`` gives it."""
    ids = remote_ids or {}
    return State(entries={r.id: entry_for(r, ids.get(r.id.name, f"id-{r.id.name}"))
                          for r in resources})


def test_unchanged_world_plans_nothing():
    a = automation("digest")
    plan = make_plan([a], [live_of(a)], recorded(a), rules_for)
    assert plan.operations == () and not plan.has_changes


def test_a_desired_resource_matched_live_but_not_in_state_is_adopted_with_no_api_call():
    a = automation("digest")
    plan = make_plan([a], [live_of(a)], State(), rules_for, {"studio": lambda op: ("POST x",)})
    [op] = plan.operations
    assert (op.action, op.id, op.steps, op.changes) == (Action.ADOPT, a.id, (), ())
    assert op.live is not None and op.live.remote_id == "id-digest"
    assert plan.has_changes  # apply has something to record


def test_a_state_entry_under_another_remote_id_is_adopted_again():
    a = automation("digest")
    plan = make_plan([a], [live_of(a, "id-new")], recorded(a, remote_ids={"digest": "id-gone"}),
                     rules_for)
    assert actions(plan) == [("adopt", "studio/Automation/digest")]
    assert plan.operations[0].reason == "state records another remote id"


def test_a_resource_with_changes_is_recorded_by_its_operation_not_adopted():
    a = automation("digest", description="new")
    plan = make_plan([a], [live_of(a, description="old")], State(), rules_for)
    assert actions(plan) == [("update", "studio/Automation/digest")]


def test_only_a_toggle_changing_enables_or_disables():
    a = automation("digest", activation="deactivated")
    s = schedule("daily", "digest", enabled=True)
    plan = make_plan(
        [a, s], [live_of(a, activation="active"), live_of(s, enabled=False)], State(), rules_for
    )
    assert actions(plan) == [
        ("disable", "studio/Automation/digest"),
        ("enable", "studio/Schedule/daily"),
    ]


def test_toggle_with_other_fields_is_an_update():
    a = automation("digest", activation="deactivated", description="x")
    plan = make_plan([a], [live_of(a, activation="active", description="")], State(), rules_for)
    assert actions(plan) == [("update", "studio/Automation/digest")]


def test_replace_on_change_field_forces_replace():
    t = resource(
        "Trigger",
        "hook",
        {"automation": "a", "trigger_id": "new", "phase": "main", "type": "api", "active": True},
    )
    plan = make_plan([t], [live_of(t, trigger_id="old")], State(), rules_for)
    assert actions(plan) == [("replace", "studio/Trigger/hook")]


def test_upgrade_when_asked_and_live_reports_upgradable():
    a = automation("digest", upgrade_connections=True, connections=["slack"])
    live = LiveResource(a.id, "id1", dict(live_of(a).spec), upgradable=("slack",))
    plan = make_plan([a], [live], State(), rules_for)
    assert actions(plan) == [("upgrade", "studio/Automation/digest")]
    not_asked = automation("digest", connections=["slack"])
    assert make_plan([not_asked], [live], recorded(not_asked, remote_ids={"digest": "id1"}),
                     rules_for).operations == ()


def test_orphan_in_state_is_removed_and_unmanaged_is_only_reported():
    gone = automation("old")
    state = State(entries={gone.id: entry_for(gone, "id-old")})
    stranger = LiveResource(
        ResourceId("studio", "Automation", "hand-made"), "id-x", {}, managed=False
    )
    plan = make_plan([], [live_of(gone, "id-old"), stranger], state, rules_for,
                     removals=EVERYTHING)
    assert actions(plan) == [("remove", "studio/Automation/old")]
    assert plan.operations[0].reason == "orphan"
    assert [u.id.name for u in plan.unmanaged] == ["hand-made"]


def test_removals_run_in_reverse_dependency_order():
    a, s = automation("a"), schedule("s", "a")
    state = State(entries={a.id: entry_for(a, "ra"), s.id: entry_for(s, "rs")})
    plan = make_plan([], [live_of(a, "ra"), live_of(s, "rs")], state, rules_for,
                     removals=EVERYTHING)
    assert actions(plan) == [("remove", "studio/Schedule/s"), ("remove", "studio/Automation/a")]
    assert plan.operations[1].depends_on == (s.id,)


def test_deleted_out_of_band_is_recreated_with_that_reason():
    a = automation("a")
    plan = make_plan([a], [], State(entries={a.id: entry_for(a)}), rules_for)
    assert plan.operations[0].action is Action.CREATE
    assert plan.operations[0].reason == "deleted out of band"


def test_prevent_destroy_refuses_removal_naming_file_and_line():
    a = automation("keep", line=7)
    state = State(entries={a.id: entry_for(a, "rk", prevent_destroy=True)})
    with pytest.raises(PlanError, match=r"manifests/automations.yaml:7: studio/Automation/keep"):
        make_plan([], [live_of(a, "rk")], state, rules_for, removals=EVERYTHING)


def test_prevent_destroy_refuses_replace():
    t = resource(
        "Trigger",
        "t",
        {"automation": "a", "trigger_id": "new"},
        line=3,
        lifecycle=Lifecycle(prevent_destroy=True),
    )
    with pytest.raises(PlanError, match="triggers.yaml:3"):
        make_plan([t], [live_of(t, trigger_id="old")], State(), rules_for)


def test_target_keeps_the_resource_and_its_dependencies_only():
    a, b = automation("a"), automation("b")
    s = schedule("s", "a")
    plan = make_plan([a, b, s], [], State(), rules_for, targets=[s.id])
    assert actions(plan) == [("create", "studio/Automation/a"), ("create", "studio/Schedule/s")]


def connection(name):
    return resource("Connection", name, {"connection_id": name, "connector": "http"})


def test_an_automation_waits_for_the_connections_it_uses_only():
    slack, mail = connection("slack"), connection("mail")
    a, b = automation("a", connections=["slack"]), automation("b")
    plan = make_plan([a, b, slack, mail], [], State(), rules_for)
    by_name = {op.id.name: op for op in plan.operations}
    assert by_name["a"].depends_on == (slack.id,)
    assert by_name["b"].depends_on == ()
    targeted = make_plan([a, b, slack, mail], [], State(), rules_for, targets=[a.id])
    assert actions(targeted) == [("create", "studio/Connection/slack"),
                                 ("create", "studio/Automation/a")]


def test_a_connection_is_removed_after_the_automations_that_used_it_let_go():
    slack, other = connection("slack"), automation("other", description="changed")
    a = automation("a", connections=[])
    state = State(entries={slack.id: entry_for(slack, "slack"), a.id: entry_for(a, "ra"),
                           other.id: entry_for(other, "ro")})
    live = [live_of(slack, "slack"), live_of(a, "ra", connections=["slack"]),
            live_of(other, "ro", description="")]
    plan = make_plan([a, other], live, state, rules_for)
    removal = next(op for op in plan.operations if op.action is Action.REMOVE)
    assert removal.id == slack.id and removal.depends_on == (a.id,)
    assert [str(op.id) for op in plan.operations].index(str(slack.id)) > \
        [str(op.id) for op in plan.operations].index(str(a.id))


def test_unknown_target_is_an_error():
    with pytest.raises(PlanError, match="no such resource"):
        make_plan(
            [automation("a")],
            [],
            State(),
            rules_for,
            targets=[ResourceId("studio", "Automation", "nope")],
        )


def test_check_runs_after_its_automation_changes_and_not_otherwise():
    a = automation("a", description="new")
    c = check("smoke", "a")
    state = State(entries={c.id: entry_for(c, "")})
    plan = make_plan([a, c], [live_of(a, description="old")], state, rules_for)
    assert actions(plan) == [("update", "studio/Automation/a"), ("check", "studio/Check/smoke")]
    assert plan.operations[1].depends_on == (a.id,)
    state.entries[a.id] = entry_for(automation("a"), "id-a")
    quiet = make_plan([automation("a"), c], [live_of(automation("a"))], state, rules_for)
    assert quiet.operations == ()


def test_new_check_is_planned_but_is_not_a_change():
    a, c = automation("a"), check("smoke", "a")
    plan = make_plan([a, c], [live_of(a)], recorded(a), rules_for)
    assert actions(plan) == [("check", "studio/Check/smoke")]
    assert not plan.has_changes


def test_steps_come_from_the_provider_description():
    a = automation("a")
    plan = make_plan([a], [], State(), rules_for, {"studio": lambda op: ("POST automations",)})
    assert plan.operations[0].steps == ("POST automations",)


def test_plan_carries_state_serial_lineage_and_live_fingerprint():
    a = automation("a")
    state = State(lineage="L", serial=4)
    one = make_plan([a], [live_of(a)], state, rules_for)
    two = make_plan([a], [live_of(a, description="moved")], state, rules_for)
    assert (one.state_serial, one.state_lineage) == (4, "L")
    assert one.live_fingerprint != two.live_fingerprint


def test_a_create_shows_sensitive_fields_masked():
    from reconciler.diff import SENSITIVE_MASK, FieldRules
    from reconciler.model import Resource, ResourceId, SourcePosition
    from reconciler.plan import _shown

    rules = FieldRules(sensitive=frozenset({("webhook", "headers")}), desired_only=frozenset({"x"}))
    resource = Resource(
        ResourceId("etl", "Thing", "t"),
        "datallog",
        {"webhook": {"url": "u", "headers": {"A": "s3cret"}}, "x": True, "n": 1},
        SourcePosition("m.yaml", 1, 1),
    )
    shown = dict(_shown(resource, rules))
    assert shown == {"webhook": {"url": "u", "headers": SENSITIVE_MASK}, "n": 1}


def test_removing_everything_while_declaring_nothing_is_refused_unless_allowed():
    a, s = automation("a"), schedule("s", "a")
    state = State(entries={a.id: entry_for(a, "ra"), s.id: entry_for(s, "rs")})
    live = [live_of(a, "ra"), live_of(s, "rs")]
    with pytest.raises(PlanError, match=r"would remove all 2 managed resources.*"
                       r"--allow-remove-all"):
        make_plan([], live, state, rules_for)
    assert len(make_plan([], live, state, rules_for, removals=EVERYTHING).operations) == 2
    destroy = make_plan([], live, state, rules_for, removals=Removals(destroy=True))
    assert len(destroy.operations) == 2
    # declaring something else in their place (a rename of each) is no accident
    renamed = make_plan([automation("b")], live, state, rules_for)
    assert {op.action for op in renamed.operations} == {Action.CREATE, Action.REMOVE}
