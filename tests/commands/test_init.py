"""``reconciler init``: a scaffold that validates and plans at once, written all or none."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_init_scaffolds_a_project_that_validates_and_plans(tmp_path: Path) -> None:
    created = run("-C", str(tmp_path), "init")
    assert created.exit_code == 0, created.output
    assert created.stdout.split() == ["reconciler.yaml", "manifests/hello.yaml", ".gitignore"]
    assert ".reconciler/" in (tmp_path / ".gitignore").read_text().splitlines()
    assert run("-C", str(tmp_path), "validate").exit_code == 0
    plan = run("-C", str(tmp_path), "plan", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "+ studio/Automation/hello" in plan.stdout
    assert run("-C", str(tmp_path), "apply", "--auto-approve").exit_code == 0
    assert run("-C", str(tmp_path), "plan", "--detailed-exitcode").exit_code == 0


def test_init_creates_the_named_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    created = run("init", "new/project")
    assert created.exit_code == 0, created.output
    assert (tmp_path / "new" / "project" / "reconciler.yaml").is_file()
    assert "-C new/project validate" in created.stderr


@pytest.mark.parametrize("existing", ["reconciler.yaml", "manifests/hello.yaml"])
def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / existing).write_text("mine\n")
    refused = run("-C", str(tmp_path), "init")
    assert refused.exit_code == 1
    assert "refusing to overwrite" in refused.stderr and existing in refused.stderr
    assert (tmp_path / existing).read_text() == "mine\n"
    assert sorted(
        p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()
    ) == [existing]


def test_init_keeps_an_existing_gitignore_and_adds_the_state_folder_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/")
    assert run("-C", str(tmp_path), "init", "a").exit_code == 0  # another folder: untouched
    assert (tmp_path / ".gitignore").read_text() == "node_modules/"
    assert run("-C", str(tmp_path), "init").exit_code == 0
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[0] == "node_modules/" and lines.count(".reconciler/") == 1


def test_an_initialised_project_names_itself_so_moving_its_folder_keeps_its_state(
    tmp_path: Path,
) -> None:
    """State is bound to the project's name: init writes it, so a moved folder (or a clone
    under another name) still drives its own state."""
    first = tmp_path / "team a!"
    assert run("init", str(first)).exit_code == 0
    assert "\nname: team-a-\n" in (first / "reconciler.yaml").read_text()
    assert run("-C", str(first), "apply", "--auto-approve").exit_code == 0
    moved = first.rename(tmp_path / "renamed")
    plan = run("-C", str(moved), "plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
