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


def test_a_yaml_syntax_error_does_not_cascade_into_false_references(
    make_project: ProjectMaker,
) -> None:
    root = make_project(
        {
            "manifests/nightly.yaml": "apiVersion: reconciler/v1\nkind: Automation\n"
            "metadata: {name: nightly, provider: studio\nspec: {code: x}\n",  # unclosed {
            "manifests/schedule.yaml": "apiVersion: reconciler/v1\nkind: Schedule\n"
            "metadata: {name: s, provider: studio}\n"
            "spec: {automation: nightly, cron: '0 6 * * *'}\n",
        }
    )
    result = run_cli("validate", "-C", str(root))
    assert result.exit_code == 1
    assert "no document declares" not in result.stdout
    assert "nightly.yaml" in result.stdout
    assert "takes no part in cross-document checks" in result.stdout


def test_a_mistyped_command_gets_the_closest_one_suggested() -> None:
    result = run_cli("plna")
    assert result.exit_code == 1
    assert "No such command 'plna'. Did you mean 'plan'?" in result.stderr


def test_a_command_nothing_resembles_gets_no_suggestion() -> None:
    result = run_cli("zzzzqq")
    assert result.exit_code == 1
    assert "No such command 'zzzzqq'." in result.stderr
    assert "Did you mean" not in result.stderr


@pytest.mark.parametrize(
    ("macro", "fields"),
    [("@daily", "0 0 * * *"), ("@hourly", "0 * * * *"), ("@weekly", "0 0 * * 0"),
     ("@monthly", "0 0 1 * *"), ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *")],
)
def test_a_cron_macro_is_refused_with_its_five_fields(
    make_project: ProjectMaker, macro: str, fields: str
) -> None:
    root = make_project(
        {"manifests/s.yaml": _document(
            "Schedule", "studio", f"automation: a, cron: '{macro}', timezone: UTC")}
    )
    result = run_cli("validate", "-C", str(root))
    assert result.exit_code == 1
    line = next(line for line in result.stdout.splitlines() if "spec.cron" in line)
    assert "macros such as @daily are not accepted" in line
    assert f"did you mean '{fields}'?" in line
    assert "has 1 fields" not in line


def test_a_wrong_refresh_value_names_true_and_false(make_project: ProjectMaker) -> None:
    root = make_project({})
    result = run_cli("plan", "-C", str(root), "--refresh=maybe")
    assert result.exit_code == 1
    assert "'maybe' is not true or false" in result.stderr
    assert "Recognized values: ," not in result.stderr
