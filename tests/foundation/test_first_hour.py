"""Messages a new user meets in the first hour: each says where it looked and what fits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import ProjectMaker, run_cli

ROOT = Path(__file__).resolve().parents[2]


def _document(kind: str, provider: str, extra: str = "") -> str:
    return (
        f"apiVersion: reconciler/v1\nkind: {kind}\nmetadata: {{name: x, provider: {provider}}}\n"
        f"spec: {{{extra}}}\n"
    )


def test_a_wrong_kind_on_outlit_suggests_only_outlit_kinds(make_project: ProjectMaker) -> None:
    root = make_project({"manifests/bad.yaml": _document("Schedul", "growth")})
    result = run_cli("validate", "-C", str(root))
    assert result.exit_code == 1
    line = next(line for line in result.stdout.splitlines() if "bad.yaml" in line)
    assert "provider 'growth' (type outlit)" in line
    assert "(expected Automation)" in line
    assert "Schedule" not in line.replace("'Schedul'", "") and "Trigger" not in line


def test_a_wrong_kind_on_workspace_suggests_its_closest_kind(make_project: ProjectMaker) -> None:
    root = make_project({"manifests/bad.yaml": _document("Schedul", "studio")})
    result = run_cli("validate", "-C", str(root))
    assert "did you mean 'Schedule'?" in result.stdout


def test_a_missing_code_file_names_the_folder_it_looked_in(make_project: ProjectMaker) -> None:
    root = make_project(
        {"manifests/bad.yaml": _document("Automation", "studio", "code_file: code/digest.py")}
    )
    result = run_cli("validate", "-C", str(root))
    assert result.exit_code == 1
    assert "looked for manifests/code/digest.py" in result.stdout
    assert "next to the manifest" not in result.stdout


@pytest.mark.parametrize("args", [["--help"], ["300", "--repeat", "2"], ["--sizes", "200"]])
def test_validate_scale_takes_its_options(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "validate_scale.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    if args == ["--help"]:
        assert "--repeat" in done.stdout
    else:
        runs = [line for line in done.stdout.splitlines() if line.startswith("N=")]
        assert len(runs) == (2 if "--repeat" in args else 1)
