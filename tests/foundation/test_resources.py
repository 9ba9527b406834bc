"""load_resources: desired specs with defaults, code_file read into code, identity and source."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config import load_project
from reconciler.errors import ValidationError
from reconciler.manifest import load_resources
from reconciler.model import Resource, ResourceId

from .helpers import QUICKSTART, ProjectMaker


def by_id(root: Path) -> dict[ResourceId, Resource]:
    return {r.id: r for r in load_resources(load_project(root))}


def test_quickstart_loads_every_kind() -> None:
    resources = load_resources(load_project(QUICKSTART))
    kinds = {(r.provider_type, r.id.kind) for r in resources}
    assert kinds == {
        ("workspace", "Automation"),
        ("workspace", "Schedule"),
        ("workspace", "Trigger"),
        ("workspace", "Connection"),
        ("workspace", "Check"),
        ("outlit", "Automation"),
    }


def test_code_file_is_replaced_by_its_text() -> None:
    resources = {r.id: r for r in load_resources(load_project(QUICKSTART))}
    digest = resources[ResourceId("studio", "Automation", "nightly-digest")]
    expected = (QUICKSTART / "manifests" / "code" / "nightly_digest.py").read_text()
    assert digest.spec["code"] == expected
    assert "code_file" not in digest.spec
    assert digest.lifecycle.prevent_destroy is True
    assert digest.labels == {"team": "ops"}
    assert digest.source.file == "manifests/automations.yaml"
    assert digest.source.line == 4


def test_workspace_automation_defaults(make_project: ProjectMaker) -> None:
    spec = by_id(make_project())[ResourceId("studio", "Automation", "nightly")].spec
    assert spec == {
        "display_name": "nightly",
        "description": "Runs every night.",
        "code": 'print("hello")',
        "english_code": "",
        "marked_outputs": [],
        "connections": [],
        "upgrade_connections": False,
        "stage": "published",
        "activation": "active",
    }


@pytest.mark.parametrize(
    ("kind", "provider", "spec", "expected"),
    [
        (
            "Schedule",
            "studio",
            "automation: nightly\n  cron: '0 6 * * *'",
            {
                "automation": "nightly",
                "cron": "0 6 * * *",
                "timezone": "UTC",
                "inputs": {},
                "end": {"never": True},
                "enabled": True,
            },
        ),
        (
            "Trigger",
            "studio",
            "automation: nightly\n  phase: main\n  type: api",
            {
                "automation": "nightly",
                "trigger_id": "thing",
                "phase": "main",
                "type": "api",
                "active": True,
            },
        ),
        (
            "Connection",
            "studio",
            "connector: slack",
            {"connection_id": "thing", "connector": "slack"},
        ),
        (
            "Check",
            "studio",
            "automation: nightly",
            {"automation": "nightly", "inputs": {}, "timeout": "5m", "expect": "success"},
        ),
        (
            "Automation",
            "growth",
            "description: x",
            {
                "key": "thing",
                "name": "thing",
                "description": "x",
                "trigger": {},
                "audience_filter": {},
                "signals": [],
                "destinations": [],
                "enabled": True,
            },
        ),
        (
            "Check",
            "lab",
            "project: analytics\n  automation: daily-load",
            {"project": "analytics", "automation": "daily-load", "seed": {}, "timeout": "5m"},
        ),
    ],
)
def test_defaults_per_kind(
    make_project: ProjectMaker, kind: str, provider: str, spec: str, expected: dict
) -> None:
    text = (
        f"apiVersion: reconciler/v1\nkind: {kind}\nmetadata:\n  name: thing\n"
        f"  provider: {provider}\nspec:\n  {spec}\n"
    )
    resources = by_id(make_project({"manifests/thing.yaml": text}))
    assert resources[ResourceId(provider, kind, "thing")].spec == expected


def test_given_values_win_over_defaults(make_project: ProjectMaker) -> None:
    text = (
        "apiVersion: reconciler/v1\nkind: Automation\nmetadata: {name: a, provider: studio}\n"
        "spec: {display_name: Shown name, stage: draft, connections: [b, a]}\n"
    )
    spec = by_id(make_project({"manifests/a.yaml": text}))[
        ResourceId("studio", "Automation", "a")
    ].spec
    assert (spec["display_name"], spec["stage"], spec["connections"]) == (
        "Shown name",
        "draft",
        ["b", "a"],
    )


def test_load_resources_raises_with_every_problem(make_project: ProjectMaker) -> None:
    text = (
        "apiVersion: reconciler/v1\nkind: Automation\nmetadata: {name: a, provider: studio}\n"
        "spec: {stage: live}\n---\n"
        "apiVersion: reconciler/v1\nkind: Schedule\nmetadata: {name: s, provider: studio}\n"
        "spec: {automation: ghost, cron: '* * *'}\n"
    )
    with pytest.raises(ValidationError) as caught:
        load_resources(load_project(make_project({"manifests/bad.yaml": text})))
    problems = caught.value.problems
    assert {(p.line, p.path) for p in problems} == {
        (4, "spec.stage"),
        (9, "spec.automation"),
        (9, "spec.cron"),
    }
    assert "3 problems found" in caught.value.message


def test_globs_and_files_in_manifests_list(make_project: ProjectMaker) -> None:
    root = make_project(
        {
            "reconciler.yaml": (
                Path(make_project().joinpath("reconciler.yaml")).read_text()
            ).replace("[manifests/]", "[manifests/nightly.yaml, 'extra/**/*.yml']"),
            "extra/deep/conn.yml": "apiVersion: reconciler/v1\nkind: Connection\n"
            "metadata: {name: slack, provider: studio}\nspec: {connector: slack}\n",
            "extra/ignored.txt": "not yaml",
        }
    )
    assert set(by_id(root)) == {
        ResourceId("studio", "Automation", "nightly"),
        ResourceId("studio", "Connection", "slack"),
    }


def test_hidden_folders_and_the_project_file_are_not_manifests(make_project: ProjectMaker) -> None:
    root = make_project(
        {
            "reconciler.yaml": make_project()
            .joinpath("reconciler.yaml")
            .read_text()
            .replace("[manifests/]", "[.]"),
            ".reconciler/state.yaml": "not: a manifest\n",
        }
    )
    assert set(by_id(root)) == {ResourceId("studio", "Automation", "nightly")}


def test_reference_cycles_are_reported(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No shipped kind can form a cycle yet; give Automation a reference to Check to make one.
    from reconciler.manifest import rules

    real = rules.reference_fields

    def with_back_edge(provider_type: str, kind: str) -> dict[str, str]:
        fields = dict(real(provider_type, kind))
        if kind == "Automation":
            fields["description"] = "Check"
        return fields

    monkeypatch.setattr(rules, "reference_fields", with_back_edge)
    text = (
        "apiVersion: reconciler/v1\nkind: Check\nmetadata: {name: smoke, provider: studio}\n"
        "spec: {automation: looped}\n---\n"
        "apiVersion: reconciler/v1\nkind: Automation\nmetadata: {name: looped, provider: studio}\n"
        "spec: {description: smoke}\n"
    )
    with pytest.raises(ValidationError) as caught:
        load_resources(load_project(make_project({"manifests/loop.yaml": text})))
    (problem,) = [p for p in caught.value.problems if "cycle" in p.message]
    assert problem.message.startswith("reference cycle: ")
    assert "studio/Check/smoke" in problem.message and "studio/Automation/looped" in problem.message
