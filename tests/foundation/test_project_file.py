"""The project file: found upwards, ${env:NAME} resolved only when asked, sandbox settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config import find_project, load_project
from reconciler.errors import ConfigError

from .helpers import PROJECT_FILE, ProjectMaker, run_cli

WITH_TOKEN = PROJECT_FILE.replace(
    "  growth:\n    type: outlit\n    base_url: sandbox\n",
    "  growth:\n    type: outlit\n    base_url: https://app.outlit.ai\n"
    "    token: ${env:RECONCILER_TEST_OUTLIT}\n",
)


def test_project_is_found_from_a_subfolder(make_project: ProjectMaker) -> None:
    root = make_project()
    assert find_project(root / "manifests") == root / "reconciler.yaml"


def test_missing_project_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no reconciler.yaml"):
        load_project(tmp_path)
    result = run_cli("-C", str(tmp_path), "validate")
    assert result.exit_code == 1
    assert "no reconciler.yaml" in result.stderr
    assert "Traceback" not in result.output


def test_validate_needs_no_credentials(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECONCILER_TEST_OUTLIT", raising=False)
    root = make_project({"reconciler.yaml": WITH_TOKEN})
    result = run_cli("-C", str(root), "validate")
    assert result.exit_code == 0, result.output


def test_secret_is_resolved_from_the_environment_when_asked(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = load_project(make_project({"reconciler.yaml": WITH_TOKEN}))
    growth = project.providers["growth"]
    assert growth.settings["token"] == "${env:RECONCILER_TEST_OUTLIT}"  # kept unresolved
    monkeypatch.setenv("RECONCILER_TEST_OUTLIT", "ok_live_123")
    assert growth.secret("token") == "ok_live_123"
    assert growth.secret("api_key") is None


def test_missing_variable_names_variable_file_and_line(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECONCILER_TEST_OUTLIT", raising=False)
    project = load_project(make_project({"reconciler.yaml": WITH_TOKEN}))
    with pytest.raises(ConfigError) as caught:
        project.providers["growth"].secret("token")
    message = caught.value.message
    assert "RECONCILER_TEST_OUTLIT" in message
    assert "reconciler.yaml:12:" in message
    assert "providers.growth.token" in message


def test_references_inside_text_and_escapes(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = PROJECT_FILE.replace(
        "workspace_id: ws_test", "workspace_id: ws-${env:RECONCILER_TEST_ENV}-$${literal}"
    )
    project = load_project(make_project({"reconciler.yaml": text}))
    monkeypatch.setenv("RECONCILER_TEST_ENV", "prod")
    assert project.providers["studio"].get("workspace_id") == "ws-prod-${literal}"
    assert project.providers["studio"].get("absent", "fallback") == "fallback"


def test_sandbox_providers_get_a_world_in_the_project_folder(make_project: ProjectMaker) -> None:
    root = make_project()
    project = load_project(root)
    studio = project.providers["studio"]
    assert studio.is_sandbox
    assert studio.sandbox_db == root.resolve() / ".reconciler" / "sandbox.db"
    assert studio.settings == {"organization_id": "org_test", "workspace_id": "ws_test"}
    assert (studio.parallelism, studio.timeout, studio.max_retries) == (8, 30.0, 5)


def test_defaults_of_the_project_file(make_project: ProjectMaker) -> None:
    text = PROJECT_FILE.replace("manifests: [manifests/]\n", "").replace(
        "  lab:\n    type: datallog\n    base_url: sandbox\n",
        "  lab:\n    type: datallog\n    token: ${env:DL_TOKEN}\n    api_key: ${env:DL_KEY}\n",
    )
    root = make_project({"reconciler.yaml": text})
    project = load_project(root)
    assert project.manifests == ("manifests/",)
    assert project.state.backend == "local"
    assert project.state.path == root.resolve() / ".reconciler" / "state.json"
    lab = project.providers["lab"]
    assert lab.base_url == "https://api-mwm.datallog.com"
    assert lab.sandbox_db is None


def test_a_locally_served_sandbox_needs_no_credentials(make_project: ProjectMaker) -> None:
    text = PROJECT_FILE.replace("base_url: sandbox", "base_url: http://127.0.0.1:8123", 1)
    project = load_project(make_project({"reconciler.yaml": text}))
    assert project.providers["studio"].base_url == "http://127.0.0.1:8123"
    assert project.providers["studio"].sandbox_db is None


def test_state_settings_resolve_lazily(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = PROJECT_FILE + "state:\n  backend: postgres\n  url: ${env:RECONCILER_TEST_PG}\n"
    project = load_project(make_project({"reconciler.yaml": text}))
    monkeypatch.delenv("RECONCILER_TEST_PG", raising=False)
    with pytest.raises(
        ConfigError, match=r"reconciler.yaml:\d+:\d+: state.url: .*RECONCILER_TEST_PG"
    ):
        project.state.get("url")
    monkeypatch.setenv("RECONCILER_TEST_PG", "postgresql://localhost/reconciler")
    assert project.state.get("url") == "postgresql://localhost/reconciler"
    assert project.state.backend == "postgres"
