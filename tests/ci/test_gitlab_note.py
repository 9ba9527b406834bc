"""`plan --comment gitlab`: one note per project on the merge request, edited on later runs,
against a loopback stand-in of the three GitLab calls it makes."""

from __future__ import annotations

from reconciler.comment import marker

from .conftest import run

THREE_CALLS = {
    "GET /api/v4/projects/N/merge_requests/N/notes",
    "POST /api/v4/projects/N/merge_requests/N/notes",
    "PUT /api/v4/projects/N/merge_requests/N/notes/N",
}


def ours(gitlab) -> list[dict]:
    return [c for c in gitlab.comments if c["body"].startswith(marker("infra") + "\n")]


def test_first_run_adds_a_note_and_the_next_run_edits_it(gitlab, workspace):
    for i in range(130):  # our note lands on the second page
        gitlab.add(f"discussion {i}")
    first = run(workspace, "plan", "--comment", "gitlab")
    assert first.exit_code == 0, first.output
    assert "Created the plan comment on merge request !5." in first.stderr
    [note] = ours(gitlab)
    assert (
        "<details><summary><b>studio</b>" in note["body"]
        and "commit `beefbeefbeef`" in note["body"]
    )

    assert run(workspace, "apply", "--auto-approve").exit_code == 0
    gitlab.fail("GET", 503, headers={"Retry-After": "0"})
    gitlab.fail("PUT", 502)
    second = run(workspace, "plan", "--comment", "gitlab")
    assert second.exit_code == 0, second.output
    assert "GitLab: list merge request notes answered 503; retrying" in second.stderr
    assert "GitLab: update merge request note answered 502; retrying" in second.stderr
    [edited] = ours(gitlab)
    assert edited["id"] == note["id"] and "**No changes.**" in edited["body"]
    assert len(gitlab.comments) == 131 and set(gitlab.calls()) == THREE_CALLS


def test_outside_a_merge_request_pipeline_the_note_is_refused_clearly(
    gitlab, workspace, monkeypatch
):
    monkeypatch.delenv("CI_MERGE_REQUEST_IID")
    result = run(workspace, "plan", "--comment", "gitlab")
    assert result.exit_code == 1
    assert "CI_MERGE_REQUEST_IID is not set" in result.stderr and not gitlab.received
    assert result.stdout == ""  # refused before the plan read or printed anything
