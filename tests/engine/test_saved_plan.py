from __future__ import annotations

import json
import re

import pytest

from reconciler.engine import Assessment, saved_plan, verify_saved_plan
from reconciler.errors import PlanError, PlanStaleError
from reconciler.plan import make_plan
from reconciler.render import build_report
from reconciler.render.json import plan_document
from reconciler.saved_plan import SavedPlan
from reconciler.state.model import State

from .worlds import automation, check, live_of, rules_for

SECRET = "very-secret-header-value"


def assess(desired, live, state):
    return Assessment(desired, live, state, make_plan(desired, live, state, rules_for))


def saved(assessment):
    document = plan_document(build_report(assessment.plan, rules_for, assessment.state))
    written = json.dumps(saved_plan(document, assessment).to_json())
    return SavedPlan.from_json(json.loads(written), "plan.json")


def world(description="new", secret=SECRET):
    a = automation("a", description=description)
    c = check("smoke", "a", webhook={"url": "https://h", "headers": {"X-Key": secret}})
    return [a, c], [live_of(automation("a"))]


def test_saved_plan_matches_an_unchanged_world_and_holds_no_secret():
    desired, live = world()
    state = State(lineage="L", serial=3)
    document = saved(assess(desired, live, state))
    assert SECRET not in json.dumps(document.to_json())
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


def test_a_saved_plan_file_reads_back_to_the_same_plan_and_the_same_bytes():
    desired, live = world()
    assessment = assess(desired, live, State(lineage="L", serial=3))
    document = plan_document(build_report(assessment.plan, rules_for, assessment.state))
    made = saved_plan(document, assessment)
    written = made.to_json()
    # the file is the plan document plus its apply checks, nothing else
    assert written == {**document, "saved": written["saved"]}
    assert set(written["saved"]) == {"salt", "desired_fingerprint", "operations"}
    again = SavedPlan.from_json(json.loads(json.dumps(written)), "plan.json")
    assert again == made
    assert json.dumps(again.to_json(), sort_keys=True) == json.dumps(written, sort_keys=True)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["saved"].pop("operations"), "saved.operations"),
        (lambda d: d["saved"]["operations"].append(["studio/Automation/a"]),
         "saved.operations[2]"),
        (lambda d: d["saved"].update(salt=7), "saved.salt"),
        (lambda d: d["state"].update(serial="3"), "state.serial"),
        (lambda d: d.pop("live_fingerprint"), "live_fingerprint"),
        (lambda d: d.update(refreshed="no"), "refreshed"),
    ],
)
def test_a_malformed_saved_plan_is_refused_naming_the_file_and_the_field(edit, field):
    desired, live = world()
    document = saved(assess(desired, live, State(lineage="L", serial=3))).to_json()
    edit(document)
    expected = rf"^plan\.json: malformed saved plan: `{re.escape(field)}`"
    with pytest.raises(PlanError, match=expected):
        SavedPlan.from_json(document, "plan.json")
