"""What the planner makes of a removal, by lifecycle.on_remove and the providers' declarations."""

from __future__ import annotations

import pytest

from reconciler.errors import PlanError
from reconciler.model import Action, LiveResource, ResourceId
from reconciler.plan import Removals, removal_operation
from reconciler.state.model import StateEntry
from tests.engine.worlds import rules_for


def entry(on_remove: str = "delete") -> StateEntry:
    return StateEntry("r1", "workspace", {}, "now", "manifests/a.yaml:3", on_remove=on_remove)


def live(kind: str, **spec) -> LiveResource:
    return LiveResource(ResourceId("studio", kind, "a"), "r1", spec)


def test_deactivating_a_kind_with_a_switch_turns_the_switch_off():
    op = removal_operation(ResourceId("studio", "Schedule", "a"), entry("deactivate"),
                           live("Schedule", automation="x", enabled=True), rules_for)
    assert op.action is Action.DISABLE and op.removal == "deactivate"
    assert op.resource is not None and op.resource.spec["enabled"] is False


def test_deactivating_a_kind_without_a_switch_only_forgets_it():
    op = removal_operation(ResourceId("studio", "Connection", "a"), entry("deactivate"),
                           live("Connection", connection_id="a", connector="slack"), rules_for)
    assert op.action is Action.FORGET
    assert "has no switch to turn off" in op.reason


def test_a_drained_kind_waits_for_the_one_runs_reporter_and_refuses_two():
    rid = ResourceId("studio", "Automation", "a")
    drained = {"studio": frozenset({"Automation"})}
    op = removal_operation(rid, entry(), live("Automation"), rules_for,
                           Removals(drained, {"studio": "runs"}))
    assert op.drain is not None and op.drain.runs_from == "runs" and op.drain.timeout == 600
    with pytest.raises(PlanError, match="several providers report them"):
        removal_operation(rid, entry(), live("Automation"), rules_for,
                          Removals(drained, ambiguous={"studio": ("a", "b")}))
    destroyed = removal_operation(rid, entry("keep"), live("Automation"), rules_for,
                                  Removals(drained, destroy=True))
    assert destroyed.action is Action.REMOVE and destroyed.reason == "destroy"


def test_a_removal_that_cannot_wait_for_runs_is_said_once_per_provider_type():
    from reconciler.drain import wait_step
    from reconciler.model import Drain
    from reconciler.render.report import ResourceChange
    from reconciler.render.text import render_operations

    def removal(name: str, type_name: str) -> ResourceChange:
        steps = ("deactivate", wait_step(Drain(60.0, ""), type_name), "delete")
        return ResourceChange(ResourceId("studio", "Automation", name), Action.REMOVE, "", "",
                              0, (), {}, None, steps, ())

    text = render_operations([removal("a", "workspace"), removal("b", "workspace"),
                              removal("c", "workspace"), removal("d", "outlit")])

    sentence = "cannot wait for in-flight runs: no provider in the project reports runs of "
    assert text.count(sentence + "workspace (it is deleted right after)") == 1
    assert text.count(sentence + "outlit (it is deleted right after)") == 1
    assert text.count("steps: deactivate -> no wait for in-flight runs (see the note below) "
                      "-> delete") == 4
