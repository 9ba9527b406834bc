"""A plan that would remove every managed resource is refused unless --allow-remove-all."""

from __future__ import annotations

import pytest

from tests.lifecycle.conftest import Project

MANIFESTS = """\
    apiVersion: reconciler/v1
    kind: Automation
    metadata: {name: lead-router, provider: studio}
    spec: {code: route()}
    ---
    apiVersion: reconciler/v1
    kind: Automation
    metadata: {name: welcome, provider: growth, lifecycle: {on_remove: keep}}
    spec: {signals: [signup-completed], destinations: [slack-growth]}
    """


@pytest.fixture
def applied(project: Project) -> Project:
    project.write("all.yaml", MANIFESTS)
    result = project.cli("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    return project


def refused(result) -> None:
    assert result.exit_code == 1, result.output
    message = " ".join(result.output.split())
    assert "plan refused: it would remove all 2 managed resources" in message, message
    assert "--allow-remove-all" in message and "Traceback" not in result.output


def test_an_empty_manifests_folder_removes_nothing_without_the_flag(applied):
    (applied.root / "manifests" / "all.yaml").unlink()
    refused(applied.cli("plan"))
    refused(applied.cli("apply", "--auto-approve"))
    assert applied.automation("lead-router") is not None
    assert len(applied.state()) == 2

    allowed = applied.cli("plan", "--allow-remove-all", "--out", str(applied.root / "p.json"))
    assert allowed.exit_code == 0, allowed.output
    assert "1 to remove" in allowed.stdout and "1 to forget" in allowed.stdout
    done = applied.cli("apply", str(applied.root / "p.json"))  # the saved plan carries the flag
    assert done.exit_code == 0, done.output
    assert applied.automation("lead-router") is None and applied.state() == {}


def test_manifests_listing_nothing_is_refused_too_and_the_flag_applies(applied):
    config = applied.root / "reconciler.yaml"
    config.write_text(config.read_text().replace("manifests: [manifests/]", "manifests: []"))
    refused(applied.cli("apply", "--auto-approve"))
    assert applied.automation("lead-router") is not None
    done = applied.cli("apply", "--auto-approve", "--allow-remove-all")
    assert done.exit_code == 0, done.output
    assert applied.automation("lead-router") is None


def test_removing_some_but_not_all_needs_no_flag(applied):
    applied.write("all.yaml", MANIFESTS.split("---")[0])
    result = applied.cli("plan", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert "1 to forget" in result.stdout


def test_a_rehearsed_plan_is_refused_the_same_way_and_takes_the_flag(applied):
    (applied.root / "manifests" / "all.yaml").unlink()
    refused(applied.cli("plan", "--rehearse"))
    allowed = applied.cli("plan", "--rehearse", "--allow-remove-all")
    assert allowed.exit_code == 0, allowed.output
    assert "1 to remove" in allowed.stdout
    assert applied.automation("lead-router") is not None  # production was only read


def test_deactivating_everything_is_refused_too(project: Project):
    """lifecycle.on_remove: deactivate stops what runs without deleting it: an empty manifests
    folder must not turn every automation off either."""
    project.write("all.yaml", MANIFESTS.split("---")[0].replace(
        "metadata: {name: lead-router, provider: studio}",
        "metadata: {name: lead-router, provider: studio, lifecycle: {on_remove: deactivate}}",
    ))
    assert project.cli("apply", "--auto-approve").exit_code == 0
    (project.root / "manifests" / "all.yaml").unlink()
    for result in (project.cli("plan"), project.cli("apply", "--auto-approve")):
        assert result.exit_code == 1, result.output
        assert "it would remove the only managed resource" in " ".join(result.output.split())
    assert len(project.state()) == 1


def test_reports_and_rehearsals_of_an_emptied_project_report_instead_of_refusing(applied):
    (applied.root / "manifests" / "all.yaml").unlink()
    drift = applied.cli("drift")
    assert drift.exit_code == 0, drift.output  # not yet applied: no drift on the platforms
    assert "lead-router" in drift.stdout
    status = applied.cli("status")
    assert status.exit_code == 0, status.output
    refused(applied.cli("rehearse"))
    rehearsed = applied.cli("rehearse", "--allow-remove-all")
    assert rehearsed.exit_code == 0, rehearsed.output
