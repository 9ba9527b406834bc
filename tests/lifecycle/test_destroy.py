"""``destroy``, and what protects a prevent_destroy resource once its manifest is gone."""

from __future__ import annotations

import pytest

from reconciler.commands import lifecycle
from tests.lifecycle.conftest import Project

MANIFESTS = """\
    apiVersion: reconciler/v1
    kind: Automation
    metadata: {name: lead-router, provider: studio, lifecycle: {drain_timeout: 1s}}
    spec: {code: route()}
    ---
    apiVersion: reconciler/v1
    kind: Schedule
    metadata: {name: lead-router, provider: studio}
    spec: {automation: lead-router, cron: "0 6 * * *"}
    ---
    apiVersion: reconciler/v1
    kind: Trigger
    metadata: {name: inbound, provider: studio}
    spec: {automation: lead-router, phase: main, type: webhook}
    ---
    apiVersion: reconciler/v1
    kind: Automation
    metadata: {name: welcome, provider: growth, lifecycle: {on_remove: keep}}
    spec: {signals: [signup-completed], destinations: [slack-growth]}
    """
PROTECTED = """\
    apiVersion: reconciler/v1
    kind: Automation
    metadata: {name: billing, provider: studio, lifecycle: {prevent_destroy: true}}
    spec: {code: bill()}
    """


@pytest.fixture
def applied(project: Project) -> Project:
    project.server.seed({"workspace": {"automations": [{"display_name": "Hand Made"}]}})
    project.write("all.yaml", MANIFESTS)
    result = project.cli("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    return project


def test_destroy_removes_every_managed_resource_and_nothing_else(applied):
    result = applied.cli("destroy", "--auto-approve")

    assert result.exit_code == 0, result.output
    assert "Destroy: 0 to create, 0 to update, 0 to replace, 4 to remove." in result.stdout
    assert "Destroy complete: 4 done" in result.stdout
    assert applied.automation("lead-router") is None
    assert applied.automation("Hand Made") is not None  # unmanaged: never touched
    outlit = applied.api("GET", "/api/automations").json()["data"]["automations"]
    assert [a["key"] for a in outlit] == []  # archived, although on_remove says keep
    assert applied.state() == {}
    again = applied.cli("destroy", "--auto-approve")
    assert again.exit_code == 0 and "No changes." in again.stdout


def test_destroy_asks_for_the_project_name_on_a_terminal(applied, monkeypatch):
    monkeypatch.setattr(lifecycle, "_stdin_is_terminal", lambda: True)
    refused = applied.cli_input("destroy", input="yes\n")
    assert refused.exit_code == 1
    assert "Type the project's name (project) to confirm" in refused.stderr
    assert "destroy cancelled: nothing was changed" in refused.stderr
    assert len(applied.state()) == 4

    confirmed = applied.cli_input("destroy", input="project\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert applied.state() == {}


def test_destroy_refuses_to_ask_without_a_terminal(applied):
    result = applied.cli("destroy")
    assert result.exit_code == 1
    assert "pass --auto-approve" in result.stderr
    assert len(applied.state()) == 4


def test_prevent_destroy_stops_destroy_unless_forced(project):
    project.write("billing.yaml", PROTECTED)
    assert project.cli("apply", "--auto-approve").exit_code == 0

    refused = project.cli("destroy", "--auto-approve")
    assert refused.exit_code == 1
    assert "studio/Automation/billing has lifecycle.prevent_destroy" in refused.stderr
    assert project.automation("billing") is not None

    forced = project.cli("destroy", "--auto-approve", "--force-unprotected")
    assert forced.exit_code == 0, forced.output
    assert project.automation("billing") is None


def test_protected_resource_gone_from_git_and_state_rm_is_still_not_destroyed(project):
    """What protects it once its manifest is gone: the state entry, which keeps prevent_destroy.

    ``state rm`` refuses to forget a protected entry (that would drop the protection), so
    ``destroy`` still refuses until --force-unprotected. Forgotten with ``state rm --force``,
    the object is unmanaged, and nothing unmanaged is removed, forced or not.
    """
    path = project.write("billing.yaml", PROTECTED)
    assert project.cli("apply", "--auto-approve").exit_code == 0
    path.unlink()  # gone from git

    kept = project.cli("state", "rm", "studio/Automation/billing")
    assert kept.exit_code == 1
    assert "has lifecycle.prevent_destroy" in kept.stderr
    assert "studio/Automation/billing" in project.state()
    assert project.cli("destroy", "--auto-approve").exit_code == 1
    assert project.automation("billing") is not None

    forced = project.cli("destroy", "--auto-approve", "--force-unprotected")
    assert forced.exit_code == 0, forced.output
    assert project.automation("billing") is None


def test_a_protected_entry_forgotten_with_force_is_never_destroyed(project):
    path = project.write("billing.yaml", PROTECTED)
    assert project.cli("apply", "--auto-approve").exit_code == 0
    path.unlink()

    forgotten = project.cli("state", "rm", "--force", "studio/Automation/billing")
    assert forgotten.exit_code == 0, forgotten.output
    destroyed = project.cli("destroy", "--auto-approve", "--force-unprotected")

    assert destroyed.exit_code == 0, destroyed.output
    assert "No changes." in destroyed.stdout
    assert project.automation("billing") is not None
