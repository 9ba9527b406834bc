"""Fixtures for the CI integration: forge stand-ins on loopback and a project to plan."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.comment import forge
from reconciler.providers.http import RetryPolicy

from .forges import GitHubStandIn, GitLabStandIn

ROOT = Path(__file__).resolve().parents[2]
GITHUB_TOKEN = "ghs_github-token-canary-0000"
GITLAB_TOKEN = "glpat-gitlab-token-canary-0000"
RUN_URL = "https://github.example/acme/infra/actions/runs/42"


@pytest.fixture(autouse=True)
def quiet_and_quick(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_TOKEN", "GITLAB_TOKEN", "CI_MERGE_REQUEST_IID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(forge, "RETRY", RetryPolicy(base=0.01, cap=0.05, max_retry_after=0.2))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The checked-out repository: the quickstart project in infra/ (embedded sandbox)."""
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT / "examples" / "quickstart",
        repo / "infra",
        ignore=shutil.ignore_patterns(".reconciler"),
    )
    return repo


@pytest.fixture
def github(tmp_path: Path, workspace: Path, monkeypatch) -> Iterator[GitHubStandIn]:
    """A GitHub stand-in, and the environment GitHub Actions sets for a pull request run."""
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"number": 12, "pull_request": {"number": 12, "head": {"sha": "c0ffee" * 6}}})
    )
    with GitHubStandIn(GITHUB_TOKEN) as server:
        for name, value in {
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_REPOSITORY": "acme/infra",
            "GITHUB_API_URL": server.url,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_RUN_ID": "42",
            "GITHUB_WORKSPACE": str(workspace),
        }.items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def gitlab(workspace: Path, monkeypatch) -> Iterator[GitLabStandIn]:
    """A GitLab stand-in, and the environment GitLab CI sets in a merge request pipeline."""
    with GitLabStandIn(GITLAB_TOKEN) as server:
        for name, value in {
            "GITLAB_TOKEN": GITLAB_TOKEN,
            "CI_API_V4_URL": f"{server.url}/api/v4",
            "CI_PROJECT_ID": "77",
            "CI_MERGE_REQUEST_IID": "5",
            "CI_COMMIT_SHA": "beef" * 10,
            "CI_JOB_URL": "https://gitlab.example/acme/infra/-/jobs/9",
            "CI_PROJECT_DIR": str(workspace),
        }.items():
            monkeypatch.setenv(name, value)
        yield server


def run(workspace: Path, *args: str, folder: str = "infra") -> Result:
    """The CLI as a CI step runs it: from the repository root, with -C pointing at the project."""
    return CliRunner().invoke(cli, ["-C", str(workspace / folder), *args], catch_exceptions=False)
