"""``-l/--selector`` on plan, apply and drift: resources chosen by ``metadata.labels``, with what
they depend on, as ``--target`` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.model import Resource, ResourceId, SourcePosition
from reconciler.selector import Selector, SelectorSyntaxError

from .helpers import copy_example, run


def resource(name: str, **labels: str) -> Resource:
    return Resource(
        ResourceId("p", "Automation", name),
        "workspace",
        {},
        SourcePosition("f", 1, 1),
        labels=labels,
    )


def test_requirements_are_anded_whether_repeated_or_comma_separated() -> None:
    items = [
        resource("a", team="ops", tier="prod"),
        resource("b", team="ops"),
        resource("c", team="growth", tier="prod"),
    ]
    names = lambda *texts: [r.name for r in Selector.parse(texts).select(items)]  # noqa: E731
    assert names("team=ops") == ["a", "b"]
    assert names("team=ops", "tier=prod") == names("team=ops,tier=prod") == ["a"]
    assert names("team==ops") == ["a", "b"]
    assert names("tier!=prod") == ["b"]  # a missing label is "not equal" too, as in kubectl
    assert names("team!=ops,tier=prod") == ["c"]
    assert str(Selector.parse(["team=ops, tier!=x"])) == "team=ops,tier!=x"


@pytest.mark.parametrize("text", ["team", "=ops", "team!ops", ""])
def test_a_malformed_requirement_is_refused(text: str) -> None:
    with pytest.raises(SelectorSyntaxError):
        Selector.parse([text])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NO_COLOR", "1")
    return copy_example(tmp_path)


def addresses(result) -> list[str]:
    assert result.exit_code in (0, 2), result.output
    return [c["address"] for c in json.loads(result.stdout)["resource_changes"]]


def test_plan_selects_by_label_and_brings_the_dependencies(project: Path) -> None:
    growth = addresses(run(project, "plan", "-l", "team=growth", "--format", "json"))
    # lead-enrichment's triggers carry no label: only the labelled resources and what they need
    assert sorted(growth) == ["growth/Automation/trial-nudge", "studio/Automation/lead-enrichment"]
    ops = addresses(run(project, "plan", "--selector", "team=ops", "--format", "json"))
    assert "studio/Connection/slack-alerts" in ops  # nightly-digest uses it: it comes along
    assert "studio/Automation/weekly-cleanup" in ops and "growth/Automation/trial-nudge" not in ops
    both = run(project, "plan", "-l", "team=ops", "-l", "team!=ops")
    assert both.exit_code == 1 and "no resource in the manifests" in both.stderr


def test_a_selector_matching_nothing_or_malformed_is_an_error(project: Path) -> None:
    nothing = run(project, "plan", "-l", "team=nobody")
    assert nothing.exit_code == 1 and "team=nobody" in nothing.stderr
    malformed = run(project, "drift", "-l", "team")
    assert malformed.exit_code == 1 and "key=value" in malformed.stderr


def test_apply_and_drift_touch_only_the_selected_resources(project: Path) -> None:
    applied = run(project, "apply", "--auto-approve", "-l", "team=growth")
    assert applied.exit_code == 0, applied.output
    state = json.loads((project / ".reconciler" / "state.json").read_text())["resources"]
    assert sorted(state) == ["growth/Automation/trial-nudge", "studio/Automation/lead-enrichment"]
    assert run(project, "apply", "--auto-approve").exit_code == 0
    edited = run(
        project,
        "sandbox",
        "edit",
        "workspace.automation",
        "Nightly digest",
        "--set",
        "description=edited by hand",
    )
    assert edited.exit_code == 0, edited.output
    ops = run(project, "drift", "-l", "team=ops")
    assert ops.exit_code == 2 and "studio/Automation/nightly-digest" in ops.stdout
    assert run(project, "drift", "-l", "team=growth").exit_code == 0
