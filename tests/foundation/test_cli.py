"""``reconciler validate`` output formats and exit codes; ``reconciler schema export``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import QUICKSTART, ProjectMaker, run_cli

BROKEN = {
    "manifests/bad.yaml": "apiVersion: reconciler/v1\nkind: Automation\n"
    "metadata: {name: a, provider: studio}\nspec: {stage: publishd, colour: blue}\n"
}


def test_quickstart_validates_clean() -> None:
    result = run_cli("-C", str(QUICKSTART), "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "valid: 10 documents in 6 files" in result.stderr


def test_text_format_lists_every_problem(make_project: ProjectMaker) -> None:
    result = run_cli("-C", str(make_project(BROKEN)), "validate")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == [
        "manifests/bad.yaml:4:15: studio/Automation/a: spec.stage: 'publishd' is not allowed "
        "(expected one of 'published', 'draft'); did you mean 'published'?",
        "manifests/bad.yaml:4:25: studio/Automation/a: spec.colour: unknown field 'colour' "
        "(expected one of 'display_name', 'description', 'code', 'code_file', 'english_code', "
        "'marked_outputs', 'connections', 'upgrade_connections', 'stage', 'activation')",
    ]
    assert "2 problems (2 documents in 2 files)" in result.stderr
    assert "\x1b[" not in result.output  # no colour off a terminal


def test_json_format_is_machine_readable(make_project: ProjectMaker) -> None:
    result = run_cli("-C", str(make_project(BROKEN)), "validate", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert (data["files"], data["documents"]) == (2, 2)
    first = data["problems"][0]
    assert first == {
        "file": "manifests/bad.yaml",
        "line": 4,
        "column": 15,
        "message": "'publishd' is not allowed",
        "identity": "studio/Automation/a",
        "path": "spec.stage",
        "expected": "one of 'published', 'draft'",
        "suggestion": "published",
    }


def test_json_format_when_valid(make_project: ProjectMaker) -> None:
    result = run_cli("-C", str(make_project()), "validate", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"valid": True, "files": 1, "documents": 1, "problems": []}


def test_github_format_prints_error_annotations(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(BROKEN)
    monkeypatch.chdir(root)  # in Actions the working folder is the repository root
    result = run_cli("validate", "--format", "github")
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(
        "::error file=manifests/bad.yaml,line=4,col=15,title=reconciler validate::"
    )
    assert first.endswith("did you mean 'published'?")


def test_github_paths_are_relative_to_the_working_folder(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(BROKEN)
    monkeypatch.chdir(root.parent)
    result = run_cli("-C", root.name, "validate", "--format", "github")
    assert f"::error file={root.name}/manifests/bad.yaml,line=4" in result.stdout


def test_project_file_problems_use_the_same_formats(make_project: ProjectMaker) -> None:
    root = make_project({"reconciler.yaml": "version: 1\nprovider: {}\n"})
    result = run_cli("-C", str(root), "validate", "--format", "json")
    assert result.exit_code == 1
    paths = {(p["file"], p["line"], p["path"]) for p in json.loads(result.stdout)["problems"]}
    assert ("reconciler.yaml", 2, "provider") in paths
    assert ("reconciler.yaml", 1, "") in paths  # providers is missing


def test_schema_export_writes_editor_schemas(tmp_path: Path) -> None:
    result = run_cli("schema", "export", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    written = {
        Path(line).relative_to(tmp_path / "out").as_posix() for line in result.stdout.split()
    }
    assert {
        "manifest.schema.json",
        "project.schema.json",
        "envelope.schema.json",
        "workspace/automation.schema.json",
        "outlit/automation.schema.json",
        "datallog/check.schema.json",
    } <= written
    exported = json.loads((tmp_path / "out" / "manifest.schema.json").read_text())
    assert exported["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    "args", [["validate", "--help"], ["schema", "--help"], ["schema", "export", "--help"]]
)
def test_commands_have_help(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


def test_relative_paths_on_the_command_line_are_relative_to_dash_c(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(BROKEN)
    monkeypatch.chdir(root.parent)
    result = run_cli("-C", root.name, "schema", "export", "editor-schemas")
    assert result.exit_code == 0, result.output
    assert (root / "editor-schemas" / "manifest.schema.json").is_file()
    assert not (root.parent / "editor-schemas").exists()
    assert Path.cwd() == root.parent  # the folder the command started in is given back


def test_a_missing_dash_c_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("-C", str(tmp_path / "nowhere"), "validate")
    assert result.exit_code == 1
    assert "nowhere" in result.stderr and "Traceback" not in result.output


def test_each_project_file_problem_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "reconciler.yaml").write_text(
        "version: 1\nmanifests: [manifests/]\nproviders:\n  s:\n    type: workspace\n"
        "    base_url: sandbox\n"
    )
    result = run_cli("-C", str(tmp_path), "validate")
    assert result.exit_code == 1
    assert result.stdout.count("missing required field 'organization_id'") == 1
    assert "2 problems in the project file" in result.stderr
