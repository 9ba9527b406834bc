from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.diff import (
    SENSITIVE_MASK,
    FieldRules,
    canonical_json,
    compare,
    for_state,
    masked,
)
from reconciler.model import Lifecycle

from .worlds import AUTOMATION, CHECK

SALT = "s" * 32


def spec(**kw):
    base = {
        "display_name": "a",
        "description": "",
        "marked_outputs": ["x", "y"],
        "connections": [],
        "upgrade_connections": False,
        "activation": "active",
    }
    base.update(kw)
    return base


def test_equal_specs_make_no_change_even_with_unordered_lists_reordered():
    live = {k: v for k, v in spec(marked_outputs=["y", "x"]).items() if k != "upgrade_connections"}
    result = compare(spec(), live, None, AUTOMATION)
    assert not result.changed


def test_desired_only_flag_is_never_compared():
    live = {k: v for k, v in spec().items() if k != "upgrade_connections"}
    assert not compare(spec(upgrade_connections=True), live, None, AUTOMATION).changed


def test_changed_field_is_reported_with_before_and_after():
    result = compare(spec(description="new"), spec(description="old"), None, AUTOMATION)
    assert [(c.dotted, c.before, c.after) for c in result.changes] == [
        ("description", "old", "new")
    ]
    assert result.reason == "change in git"


def test_ordered_list_order_matters_without_the_annotation():
    rules = FieldRules()
    assert compare({"steps": [1, 2]}, {"steps": [2, 1]}, None, rules).changed


def test_ignore_changes_hides_the_field():
    lifecycle = Lifecycle(ignore_changes=("spec.description",))
    result = compare(spec(description="a"), spec(description="b"), None, AUTOMATION, lifecycle)
    assert not result.changed


def test_live_moving_alone_is_drift():
    applied = spec(description="same")
    result = compare(applied, spec(description="edited in the UI"), applied, AUTOMATION)
    assert result.reason == "drift"


def test_git_moving_alone_is_change_in_git():
    applied = spec(description="old")
    result = compare(spec(description="new"), applied, applied, AUTOMATION)
    assert result.reason == "change in git"


def test_both_moving_on_one_field_is_conflict():
    applied = spec(description="old")
    result = compare(spec(description="git"), spec(description="ui"), applied, AUTOMATION)
    assert result.reason == "conflict"


def test_sensitive_values_compare_through_salted_hash_and_are_masked():
    desired = {"automation": "a", "webhook": {"url": "https://x", "headers": {"X-Key": "hunter2"}}}
    stored = for_state(desired, CHECK, SALT)
    assert "hunter2" not in canonical_json(stored)
    live = {"automation": "a", "webhook": {"url": "https://x"}}
    assert not compare(desired, live, stored, CHECK, salt=SALT).changed
    rotated = {**desired, "webhook": {"url": "https://x", "headers": {"X-Key": "new"}}}
    result = compare(rotated, live, stored, CHECK, salt=SALT)
    assert [c.dotted for c in result.changes] == ["webhook.headers"]
    assert result.changes[0].sensitive
    shown = [c.before for c in result.changes] + [c.after for c in result.changes]
    assert "new" not in canonical_json(shown)
    assert masked(desired, CHECK)["webhook"]["headers"] == SENSITIVE_MASK


def test_the_engine_reads_every_annotation_from_the_schemas():
    from reconciler.engine import rules_for

    automation = rules_for("workspace", "Automation")
    assert automation.unordered == {("marked_outputs",), ("connections",)}
    assert automation.toggles == {"activation": {"active": "enable", "deactivated": "disable"}}
    assert automation.desired_only == {"upgrade_connections"}
    assert automation.depends_on == {"connections": ("Connection", "connection_id")}
    assert rules_for("workspace", "Trigger").replace_on_change >= {"trigger_id"}
    assert rules_for("workspace", "Schedule").references == {"automation": "Automation"}
    assert rules_for("datallog", "Check").sensitive == {("webhook", "headers")}
    assert rules_for("nowhere", "Automation") == FieldRules()


@given(st.lists(st.text(max_size=5), unique=True, max_size=8), st.randoms())
def test_any_order_of_an_unordered_list_compares_equal(items, rnd):
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert not compare(
        spec(marked_outputs=items), spec(marked_outputs=shuffled), None, AUTOMATION
    ).changed


@given(
    st.dictionaries(
        st.sampled_from(["description", "display_name", "activation"]), st.text(max_size=4)
    )
)
def test_compare_finds_exactly_the_fields_that_differ(edits):
    live = spec(**edits)
    result = compare(spec(), live, None, AUTOMATION)
    differing = {k for k, v in edits.items() if spec()[k] != v}
    assert {c.dotted for c in result.changes} == differing
