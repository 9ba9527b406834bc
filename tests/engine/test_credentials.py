"""Credentials: none needed on loopback; an empty variable is named at the line using it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli

AUTOMATION = """\
apiVersion: reconciler/v1
kind: Automation
metadata: {name: nightly, provider: studio}
spec: {description: Runs every night., code: 'print("hello")'}
"""


def _project(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    (tmp_path / "manifests").mkdir(exist_ok=True)
    (tmp_path / "manifests" / "a.yaml").write_text(AUTOMATION)
    (tmp_path / "reconciler.yaml").write_text(
        "version: 1\nmanifests: [manifests/]\nproviders:\n  studio:\n    type: workspace\n"
        f"    base_url: {base_url}\n    organization_id: ${{env:STUDIO_ORG}}\n"
        f"    workspace_id: ws_test\n{extra}"
    )
    return tmp_path


def _plan(project: Path):
    return CliRunner().invoke(cli, ["plan", "-C", str(project)], catch_exceptions=False)


@pytest.fixture(autouse=True)
def organization(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_ORG", "org_test")
    monkeypatch.delenv("STUDIO_TOKEN", raising=False)


def test_a_sandbox_on_loopback_needs_no_token(tmp_path: Path, sandbox_server) -> None:
    result = _plan(_project(tmp_path, sandbox_server.url))
    assert result.exit_code == 0, result.output
    assert "studio/Automation/nightly" in result.stdout


def test_elsewhere_a_missing_token_is_required(tmp_path: Path) -> None:
    result = _plan(_project(tmp_path, "https://studio.example.com"))
    assert result.exit_code == 1
    assert "reconciler.yaml:4:3: providers.studio: missing required field 'token'" in (
        result.stderr
    )


def test_an_empty_token_variable_is_named_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_TOKEN", "")
    project = _project(
        tmp_path, "https://studio.example.com", "    token: ${env:STUDIO_TOKEN}\n"
    )
    result = _plan(project)
    assert result.exit_code == 1
    assert (
        "reconciler.yaml:9:12: providers.studio.token: environment variable STUDIO_TOKEN is set "
        "but empty" in result.stderr
    ), result.stderr


def test_an_empty_setting_variable_is_named_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_ORG", "")
    monkeypatch.setenv("STUDIO_TOKEN", "t")
    project = _project(
        tmp_path, "https://studio.example.com", "    token: ${env:STUDIO_TOKEN}\n"
    )
    result = _plan(project)
    assert result.exit_code == 1
    assert "organization_id: environment variable STUDIO_ORG is set but empty" in result.stderr
