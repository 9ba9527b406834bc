"""The pre-commit hooks this repository defines, run by pre-commit itself on a sample repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import yaml

from .conftest import ROOT

BIN = Path(sys.executable).parent
BROKEN = """apiVersion: reconciler/v1
kind: Automation
metadata:
  name: broken
  provider: studio
spec:
  code: "print(1)"
  schedule_every: 5m
"""


def test_hooks_are_defined_for_validate_and_fmt():
    hooks = {
        hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    }
    assert hooks["reconciler-validate"]["entry"] == "reconciler validate"
    assert hooks["reconciler-fmt"]["entry"] == "reconciler fmt --check"
    assert all(h["language"] == "python" and h["pass_filenames"] is False for h in hooks.values())


def test_validate_hook_fails_naming_the_file_and_line(tmp_path):
    # this repository as pre-commit fetches it: a git repository at a commit, with the hooks file
    hooks_repo = tmp_path / "reconciler"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(hooks_repo)], check=True)
    for name in (".pre-commit-hooks.yaml", "pyproject.toml"):  # as in the working tree
        shutil.copy(ROOT / name, hooks_repo / name)
    shutil.copytree(ROOT / "reconciler", hooks_repo / "reconciler", dirs_exist_ok=True)
    git(hooks_repo, "add", "-A")
    git(hooks_repo, "commit", "-q", "--allow-empty", "-m", "as tested")

    sample = tmp_path / "sample"
    shutil.copytree(
        ROOT / "examples" / "quickstart", sample, ignore=shutil.ignore_patterns(".reconciler")
    )
    (sample / "manifests" / "broken.yaml").write_text(BROKEN)
    git(sample, "init", "-q")
    git(sample, "add", "-A")

    # pre-commit builds the hook's environment from the repository with pip; its dependencies are
    # taken from this test environment instead of downloaded again, which keeps the test fast
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PIP_NO_DEPS": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip reads this double negative as "no isolation"
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        [
            str(BIN / "pre-commit"),
            "try-repo",
            str(hooks_repo),
            "reconciler-validate",
            "--all-files",
        ],
        cwd=sample,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "reconciler validate" in output and "Failed" in output
    assert "manifests/broken.yaml:8:3:" in output and "schedule_every" in output


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
    )
