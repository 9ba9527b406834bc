"""``reconciler show PLANFILE``: a saved plan rendered in every format, nothing read live."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .helpers import copy_example, run


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NO_COLOR", "1")
    return copy_example(tmp_path)


@pytest.fixture
def saved(project: Path) -> Path:
    """A plan of the quickstart (everything to create) saved with --out."""
    result = run(project, "plan", "--out", "plan.json")
    assert result.exit_code == 0, result.output
    return project / "plan.json"


def test_show_prints_the_plan_as_plan_printed_it(project: Path, saved: Path) -> None:
    planned = run(project, "plan")
    shown = run(project, "show", "plan.json")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == planned.stdout
    assert "against live state and state serial" in shown.stderr
    assert "shown from the file, nothing was read now" in shown.stderr


def test_show_json_is_the_saved_document_without_its_apply_checks(
    project: Path, saved: Path
) -> None:
    document = json.loads(saved.read_text())
    document.pop("saved")
    shown = run(project, "show", "plan.json", "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == document


@pytest.mark.parametrize(
    ("fmt", "marker"),
    [("markdown", "### reconciler plan"), ("github", "::warning file=manifests/")],
)
def test_show_renders_markdown_and_github(project: Path, saved: Path, fmt: str, marker: str):
    shown = run(project, "show", "plan.json", "--format", fmt)
    assert shown.exit_code == 0, shown.output
    assert marker in shown.stdout and "studio/Automation/nightly-digest" in shown.stdout


def test_show_reads_nothing_live_and_needs_no_project(project: Path, saved: Path, tmp_path: Path):
    alone = tmp_path / "elsewhere"
    alone.mkdir()
    shutil.move(saved, alone / "plan.json")
    shutil.rmtree(project)  # no manifests, no sandbox, no state: only the file
    shown = run(alone, "show", "plan.json")
    assert shown.exit_code == 0, shown.output
    assert "studio/Connection/slack-alerts" in shown.stdout


def test_show_refuses_a_file_that_is_not_a_plan(project: Path, tmp_path: Path) -> None:
    (project / "other.json").write_text('{"hello": 1}')
    (project / "broken.json").write_text(
        '{"resource_changes": [{"address": "x"}], "format_version": "1.0"}'
    )
    for name, words in [
        ("other.json", "not a plan"),
        ("broken.json", "damaged"),
        ("missing.json", "cannot read"),
    ]:
        result = run(project, "show", name)
        assert result.exit_code == 1, (name, result.output)
        assert words in result.stderr and "Traceback" not in result.output


def test_apply_refuses_a_malformed_saved_plan_naming_file_and_field(
    project: Path, saved: Path
) -> None:
    document = json.loads(saved.read_text())
    document["saved"]["operations"] = "all of them"
    saved.write_text(json.dumps(document))
    result = run(project, "apply", "plan.json")
    assert result.exit_code == 1, result.output
    assert "plan.json: malformed saved plan: `saved.operations`" in result.stderr
    assert "Traceback" not in result.output


def test_show_keeps_a_reason_it_does_not_know(project: Path, saved: Path) -> None:
    """A plan saved by another version may give a reason this one has no name for: it is
    shown as written, not refused as damaged."""
    document = json.loads(saved.read_text())
    document["resource_changes"][0]["reason"] = "a reason from a later version"
    saved.write_text(json.dumps(document))
    shown = run(project, "show", "plan.json", "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["resource_changes"][0]["reason"] == (
        "a reason from a later version"
    )
    assert run(project, "show", "plan.json").exit_code == 0
