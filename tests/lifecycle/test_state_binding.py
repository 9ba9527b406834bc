"""State is bound to its project: another project's state is refused, never used to remove."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.lifecycle.conftest import Project, make_project

ALPHA = """\
    apiVersion: reconciler/v1
    kind: Automation
    metadata: {name: lead-router, provider: studio}
    spec: {code: route()}
    ---
    apiVersion: reconciler/v1
    kind: Automation
    metadata: {name: invoice-sync, provider: studio}
    spec: {code: sync()}
    """
BETA = """\
    apiVersion: reconciler/v1
    kind: Automation
    metadata: {name: welcome-mail, provider: studio}
    spec: {code: welcome()}
    """


@pytest.fixture
def alpha(tmp_path: Path, sandbox_server) -> Project:
    project = make_project(tmp_path / "alpha", sandbox_server, runs=False)
    project.write("all.yaml", ALPHA)
    result = project.cli("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    return project


def state_file(project: Project) -> Path:
    return project.root / ".reconciler" / "state.json"


def test_another_projects_state_is_refused_and_removes_nothing(alpha, tmp_path, sandbox_server):
    beta = make_project(tmp_path / "beta", sandbox_server, runs=False)
    beta.write("all.yaml", BETA)
    state_file(beta).parent.mkdir()
    shutil.copy(state_file(alpha), state_file(beta))

    for command in (["plan"], ["apply", "--auto-approve"], ["drift"],
                    ["destroy", "--auto-approve"]):
        result = beta.cli(*command)
        assert result.exit_code == 1, (command, result.output)
        message = " ".join(result.output.split())
        assert "belongs to project 'alpha'" in message, message
        assert "this is project 'beta'" in message, message
        assert "reconciler state rebind" in message, message
        assert "Traceback" not in result.output
    assert alpha.automation("lead-router") is not None
    assert alpha.automation("invoice-sync") is not None
    assert beta.automation("welcome-mail") is None  # nothing was applied either
    assert beta.cli("state", "list").exit_code == 0  # still open to inspection


def test_a_state_written_before_bindings_is_bound_on_its_next_write(alpha):
    data = json.loads(state_file(alpha).read_text())
    assert data["project"]["name"] == "alpha"
    assert data["project"]["providers"]["studio"]["workspace_id"] == "ws_ops"
    del data["project"]
    state_file(alpha).write_text(json.dumps(data))

    assert alpha.cli("plan", "--detailed-exitcode").exit_code == 0
    alpha.write("more.yaml", BETA)
    assert alpha.cli("apply", "--auto-approve").exit_code == 0
    assert json.loads(state_file(alpha).read_text())["project"]["name"] == "alpha"


def test_a_rename_or_another_account_is_refused_until_rebound(alpha):
    config = alpha.root / "reconciler.yaml"
    original = config.read_text()
    config.write_text("name: payments\n" + original)
    refused = alpha.cli("plan")
    assert refused.exit_code == 1
    message = " ".join(refused.output.split())
    assert "belongs to project 'alpha'; this is project 'payments'" in message, message
    assert "the project name differs" in message

    config.write_text(original.replace("workspace_id: ws_ops", "workspace_id: ws_other"))
    moved = alpha.cli("plan")
    assert moved.exit_code == 1
    message = " ".join(moved.output.split())
    assert "provider instance 'studio' points elsewhere" in message, message
    assert "workspace_id ws_ops -> ws_other" in message
    assert "growth" not in message  # only what differs is shown

    config.write_text("name: payments\n" + original)
    rebound = alpha.cli("state", "rebind")
    assert rebound.exit_code == 0, rebound.output
    assert "now bound to project 'payments'" in rebound.output
    assert "it was bound to project 'alpha'" in rebound.output
    result = alpha.cli("plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output


def test_another_url_for_the_same_account_or_an_added_instance_is_no_conflict(
    alpha, sandbox_server
):
    # the same account behind another URL (a proxy, a renamed host): remote ids still hold
    config = alpha.root / "reconciler.yaml"
    config.write_text(config.read_text().replace(sandbox_server.url,
                                                 sandbox_server.url.replace("127.0.0.1",
                                                                            "localhost")))
    config.write_text(config.read_text() + (
        f"  extra:\n    type: outlit\n    base_url: {sandbox_server.url}\n"
        "    token: ${env:OUTLIT_TOKEN}\n"
    ))
    result = alpha.cli("plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output


def test_destroy_asks_for_the_name_the_project_file_gives(alpha, monkeypatch):
    from reconciler.commands import lifecycle

    config = alpha.root / "reconciler.yaml"
    config.write_text("name: payments\n" + config.read_text())
    assert alpha.cli("state", "rebind").exit_code == 0
    monkeypatch.setattr(lifecycle, "_stdin_is_terminal", lambda: True)
    refused = alpha.cli_input("destroy", input="alpha\n")
    assert refused.exit_code == 1
    assert "Type the project's name (payments) to confirm" in refused.stderr
    confirmed = alpha.cli_input("destroy", input="payments\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert alpha.automation("lead-router") is None
