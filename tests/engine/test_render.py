from __future__ import annotations

import json
from dataclasses import replace

from reconciler.model import LiveResource, ResourceId
from reconciler.plan import make_plan
from reconciler.render import build_report
from reconciler.render.github import render_github
from reconciler.render.json import render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from reconciler.state.model import State, StateEntry

from .golden import assert_golden
from .worlds import automation, check, live_of, resource, rules_for, schedule

SECRET = "hunter2-do-not-print"


def sample_plan():
    state = State(lineage="00000000-0000-4000-8000-000000000000", serial=7, salt="0" * 32)
    a_new = automation("welcome", line=3, description="Greets new users", marked_outputs=["b", "a"])
    a_changed = automation("digest", line=14, description="Daily digest v2")
    a_off = automation("legacy", line=25, activation="deactivated")
    a_up = automation("sync", line=36, upgrade_connections=True, connections=["crm"])
    a_found = automation("made-by-hand", line=47)  # live as desired, not in state: adopted
    s = schedule("digest-daily", "digest", line=2, cron="0 7 * * *")
    t = resource(
        "Trigger",
        "hook",
        {
            "automation": "digest",
            "trigger_id": "hook-v2",
            "phase": "main",
            "type": "api",
            "active": True,
        },
        line=5,
    )
    c = check(
        "digest-smoke",
        "digest",
        line=4,
        webhook={"url": "https://hooks.example", "headers": {"X-Key": SECRET}},
    )
    gone = automation("old-report")
    state.entries[gone.id] = StateEntry(
        "id-old", "workspace", dict(gone.spec), "2026-01-01T00:00:00Z", "manifests/old.yaml:9"
    )
    live = [
        live_of(a_changed, description="Daily digest"),
        live_of(a_off, activation="active"),
        LiveResource(a_up.id, "id-sync", live_of(a_up).spec, upgradable=("crm",)),
        live_of(s, cron="0 6 * * *"),
        live_of(t, trigger_id="hook"),
        live_of(gone, "id-old"),
        live_of(a_found, "id-found"),
        LiveResource(ResourceId("studio", "Automation", "hand-made"), "id-hand", {}, managed=False),
    ]
    desired = [a_new, a_changed, a_off, a_up, a_found, s, t, c]
    describe = {"studio": lambda op: (f"{op.action.value} call 1", f"{op.action.value} call 2")}
    plan = make_plan(desired, live, state, rules_for, describe)
    plan = replace(plan, created_at="2026-11-23T08:00:00Z")
    return build_report(plan, rules_for, state)


def test_text_golden():
    assert_golden("plan.txt", render_text(sample_plan()))


def test_text_colour_only_when_asked():
    report = sample_plan()
    assert "\x1b[" not in render_text(report, color=False)
    assert "\x1b[" in render_text(report, color=True)


def test_markdown_golden():
    assert_golden("plan.md", render_markdown(sample_plan()))


def test_json_golden_and_shape():
    text = render_json(sample_plan())
    assert_golden("plan.json", text)
    doc = json.loads(text)
    assert doc["format_version"] == "1.2"
    actions = {c["address"]: c["actions"] for c in doc["resource_changes"]}
    assert actions["studio/Trigger/hook"] == ["replace"]
    assert actions["studio/Automation/old-report"] == ["remove"]


def test_github_golden_annotations_point_at_manifest_lines():
    text, summary = render_github(sample_plan())
    assert_golden("plan.github.txt", text)
    assert "::warning file=manifests/automations.yaml,line=14,title=reconciler update::" in text
    assert summary == render_markdown(sample_plan())


def test_no_secret_in_any_format():
    report = sample_plan()
    outputs = [
        render_text(report),
        render_markdown(report),
        render_json(report),
        *render_github(report),
    ]
    assert all(SECRET not in out for out in outputs)
    assert "(sensitive value)" in render_json(report)


def test_summary_line_counts_each_action():
    assert sample_plan().summary() == (
        "Plan: 1 to create, 2 to update, 1 to disable, 1 to upgrade, 1 to replace, "
        "1 to remove, 1 to check, 1 to adopt."
    )


def test_no_changes_text_golden():
    a = automation("a")
    state = State()
    state.entries[a.id] = StateEntry("id-a", "workspace", dict(a.spec), "2026-01-01T00:00:00Z")
    report = build_report(make_plan([a], [live_of(a)], state, rules_for), rules_for)
    assert_golden("no-changes.txt", render_text(report))


def test_an_adoption_shows_in_every_format_as_a_state_change_with_no_api_call():
    a = automation("a")
    plan = make_plan([a], [live_of(a)], State(), rules_for)
    report = build_report(plan, rules_for)
    assert plan.has_changes
    assert "will be adopted into state (no API call)" in render_text(report)
    assert "1 to adopt" in render_markdown(report)
    document = json.loads(render_json(report))
    assert document["summary"]["adopt"] == 1
    assert document["resource_changes"][0]["actions"] == ["adopt"]
    assert document["resource_changes"][0]["steps"] == []
    assert render_github(report)[0].startswith("::notice file=manifests/automations.yaml,line=1,")


def test_markdown_is_truncated_below_the_comment_limit_with_a_notice():
    many = [automation(f"automation-{i:05d}", description="x" * 200) for i in range(600)]
    report = build_report(make_plan(many, [], State(), rules_for), rules_for)
    body = render_markdown(report)
    assert len(body) < 65_000
    assert "Output truncated" in body and body.count("<details>") == body.count("</details>") == 1


def _drift_report(report):
    from reconciler.drift import find_drift
    from reconciler.render.report import build_drift_report

    findings = find_drift(report.plan)
    return build_drift_report(
        findings.platform, findings.unapplied, report.plan, rules_for, None,
        drifted=findings.drifted(),
    )


def test_drift_reports_mask_secrets_and_never_speak_of_performing_anything():
    from reconciler.render.drift import drift_github, drift_json, drift_markdown, drift_text

    drift = _drift_report(sample_plan())
    outputs = [drift_text(drift), drift_markdown(drift), drift_json(drift), *drift_github(drift)]
    assert all(SECRET not in out for out in outputs)
    assert not any("will perform" in out or "will be" in out for out in outputs)
    assert "made-by-hand" not in drift_text(drift)  # an adoption changes no platform
    assert json.loads(drift_json(drift))["format_version"] == "1.2"


def test_drift_markdown_is_truncated_below_the_limit_with_a_notice():
    from reconciler.render.drift import drift_markdown

    many = [automation(f"automation-{i:05d}", description="x" * 200) for i in range(600)]
    drift = _drift_report(build_report(make_plan(many, [], State(), rules_for), rules_for))
    body = drift_markdown(drift)
    assert len(body.encode()) < 65_000
    assert "Output truncated" in body and "`reconciler drift` to see the full report" in body
    assert "**Changed in git, not yet applied: 600**" in body
