from __future__ import annotations

import json

import pytest

from reconciler.engine import Assessment, saved_plan_document, verify_saved_plan
from reconciler.errors import PlanStaleError
from reconciler.plan import make_plan
from reconciler.render import build_report
from reconciler.render.json import plan_document
from reconciler.state.model import State

from .worlds import automation, check, live_of, rules_for

SECRET = "very-secret-header-value"


def assess(desired, live, state):
    return Assessment(desired, live, state, make_plan(desired, live, state, rules_for))


def saved(assessment):
    document = plan_document(build_report(assessment.plan, rules_for, assessment.state))
    return json.loads(json.dumps(saved_plan_document(document, assessment)))


def world(description="new", secret=SECRET):
    a = automation("a", description=description)
    c = check("smoke", "a", webhook={"url": "https://h", "headers": {"X-Key": secret}})
    return [a, c], [live_of(automation("a"))]


def test_saved_plan_matches_an_unchanged_world_and_holds_no_secret():
    desired, live = world()
    state = State(lineage="L", serial=3)
    document = saved(assess(desired, live, state))
    assert SECRET not in json.dumps(document)
    verify_saved_plan(document, assess(desired, live, state), "plan.json")


def test_state_serial_change_makes_it_stale():
    desired, live = world()
    document = saved(assess(desired, live, State(lineage="L", serial=3)))
    with pytest.raises(PlanStaleError, match=r"serial 3 -> 4"):
        verify_saved_plan(document, assess(desired, live, State(lineage="L", serial=4)), "p")


def test_live_change_makes_it_stale():
    desired, live = world()
    state = State(lineage="L", serial=3)
    document = saved(assess(desired, live, state))
    moved = [live_of(automation("a"), description="edited out of band")]
    with pytest.raises(PlanStaleError, match="live objects changed"):
        verify_saved_plan(document, assess(desired, moved, state), "p")


def test_manifest_change_even_of_a_secret_makes_it_stale():
    desired, live = world()
    state = State(lineage="L", serial=3)
    document = saved(assess(desired, live, state))
    rotated, _ = world(secret="rotated")
    with pytest.raises(PlanStaleError, match="manifests changed"):
        verify_saved_plan(document, assess(rotated, live, state), "p")
