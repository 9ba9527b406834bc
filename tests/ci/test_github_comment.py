"""`plan --comment github`: one comment per project on the pull request, edited on later runs,
against a loopback stand-in of the three GitHub calls it makes."""

from __future__ import annotations

import json
import shutil

from reconciler.comment import marker

from .conftest import GITHUB_TOKEN, RUN_URL, run

THREE_CALLS = {
    "GET /repos/acme/infra/issues/N/comments",
    "POST /repos/acme/infra/issues/N/comments",
    "PATCH /repos/acme/infra/issues/comments/N",
}


def ours(github, key: str = "infra") -> list[dict]:
    return [c for c in github.comments if c["body"].startswith(marker(key) + "\n")]


def test_first_run_posts_the_plan_and_the_next_run_edits_that_same_comment(github, workspace):
    # a busy pull request: our comment will be on the second page; one comment quotes the marker
    for i in range(120):
        github.add(f"review comment {i}")
    github.add(f"> {marker('infra')}\n> quoted by a reviewer")

    first = run(workspace, "plan", "--comment", "github")
    assert first.exit_code == 0, first.output
    assert "Created the plan comment on acme/infra#12." in first.stderr
    [comment] = ours(github)
    body = comment["body"]
    assert body.startswith(marker("infra") + "\n### reconciler plan\n")
    assert "<details><summary><b>studio</b>: " in body and "<b>growth</b>" in body
    assert "commit `c0ffeec0ffee`" in body and "project `infra`" in body

    applied = run(workspace, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    second = run(workspace, "plan", "--comment", "github", "--detailed-exitcode")
    assert second.exit_code == 0, second.output
    assert "Updated the plan comment on acme/infra#12." in second.stderr
    [edited] = ours(github)
    assert edited["id"] == comment["id"] and "**No changes.**" in edited["body"]
    assert len(github.comments) == 122  # nothing else was added, nothing else touched
    assert github.comments[120]["body"].startswith("> ")
    assert set(github.calls()) == THREE_CALLS
    assert github.calls().count("POST /repos/acme/infra/issues/N/comments") == 1


def test_each_project_of_a_repository_keeps_its_own_comment(github, workspace):
    shutil.copytree(workspace / "infra", workspace / "staging")
    assert run(workspace, "plan", "--comment", "github").exit_code == 0
    assert run(workspace, "plan", "--comment", "github", folder="staging").exit_code == 0
    assert run(workspace, "plan", "--comment", "github").exit_code == 0
    assert len(ours(github, "infra")) == len(ours(github, "staging")) == 1
    assert len(github.comments) == 2


def test_a_plan_too_big_for_a_comment_is_cut_under_the_limit_with_a_link_to_the_run(
    github, workspace
):
    docs = [
        "apiVersion: reconciler/v1\nkind: Automation\n"
        f"metadata: {{name: bulk-{i:04d}, provider: studio}}\n"
        f"spec: {{code: 'def run(inputs, tools): return 1', description: '{'d' * 100}'}}\n"
        for i in range(500)
    ]
    (workspace / "infra" / "manifests" / "bulk.yaml").write_text("---\n".join(docs))
    result = run(workspace, "plan", "--comment", "github")
    assert result.exit_code == 0, result.output
    [comment] = ours(github)
    assert 50_000 < len(comment["body"]) < 65_536
    assert f"The full plan is in [the saved plan of this run]({RUN_URL})." in comment["body"]
    assert comment["body"].count("<details>") == comment["body"].count("</details>")


def test_temporary_failures_are_retried_and_a_lost_create_is_not_repeated(github, workspace):
    github.fail("GET", 502)
    github.fail(
        "POST",
        403,
        message="You have exceeded a secondary rate limit",
        headers={"Retry-After": "0"},
    )
    github.fail("POST", 502, after_acting=True)  # made, but the answer is lost
    result = run(workspace, "plan", "--comment", "github")
    assert result.exit_code == 0, result.output
    assert len(ours(github)) == 1
    assert "GitHub: list comments answered 502; retrying" in result.stderr
    assert "GitHub: create comment answered 403; retrying" in result.stderr
    assert "Updated the plan comment" in result.stderr  # found again after the lost answer
    assert github.calls().count("POST /repos/acme/infra/issues/N/comments") == 2


def test_a_forge_that_keeps_failing_is_an_error_naming_the_call(github, workspace):
    github.fail("GET", 500, times=10)
    result = run(workspace, "plan", "--comment", "github", "--out", "plan.json")
    assert result.exit_code == 1
    assert "GitHub: list comments answered 500 after 5 attempts" in result.stderr
    assert "reconciler will perform these operations" in result.stdout  # the plan was shown
    assert (workspace / "infra" / "plan.json").is_file()  # and saved
    assert GITHUB_TOKEN not in result.output


def test_a_refused_token_says_what_permission_is_needed(github, workspace, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_wrong")
    result = run(workspace, "plan", "--comment", "github")
    assert result.exit_code == 1
    assert "answered 401: Bad credentials (set GITHUB_TOKEN" in result.stderr
    assert "pull-requests: write" in result.stderr and "ghs_wrong" not in result.output


def test_outside_a_pull_request_the_comment_is_refused_clearly(
    github, workspace, tmp_path, monkeypatch
):
    push = tmp_path / "push.json"
    push.write_text(json.dumps({"ref": "refs/heads/main"}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(push))
    result = run(workspace, "plan", "--comment", "github")
    assert result.exit_code == 1
    assert "not started by a pull request event" in result.stderr
    assert result.stdout == ""  # refused before the plan read or printed anything


def test_a_failed_plan_replaces_the_comment_by_a_failure_notice(github, workspace):
    assert run(workspace, "plan", "--comment", "github").exit_code == 0
    broken = workspace / "infra" / "manifests" / "broken.yaml"
    broken.write_text("apiVersion: reconciler/v1\nkind: Automation\nmetadata: {name: x}\n")
    result = run(workspace, "plan", "--comment", "github")
    assert result.exit_code == 1
    [comment] = ours(github)
    assert "### reconciler plan failed" in comment["body"]
    assert f"[the job log]({RUN_URL})" in comment["body"]
