"""A merge request's notes through GitLab's REST API (v4), configured as GitLab CI sets it up.

Three calls, nothing else: list the merge request's notes, create one, update one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from reconciler.comment.forge import Comment, CommentError, ForgeClient, Notify
from reconciler.masking import remember

PAGE_SIZE = 100  # GitLab's largest page
MAX_PAGES = 50
TOKEN_HELP = (
    "set GITLAB_TOKEN to a project access token with the `api` scope (a masked CI/CD "
    "variable); the job token CI_JOB_TOKEN cannot write notes"
)


@dataclass(frozen=True)
class MergeRequest:
    """Where the note goes, read from the GitLab CI environment of a merge request pipeline."""

    api_url: str  # CI_API_V4_URL, e.g. https://gitlab.example.com/api/v4
    project: str  # CI_PROJECT_ID (or a full path such as group/project)
    iid: int
    token: str
    head_sha: str = ""
    job_url: str = ""  # the job's page, where its artefacts are kept

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> MergeRequest:
        """From GITLAB_TOKEN, CI_API_V4_URL, CI_PROJECT_ID and CI_MERGE_REQUEST_IID."""
        token = env.get("GITLAB_TOKEN", "")
        remember(token)
        if not token:
            raise CommentError(f"GitLab: GITLAB_TOKEN is not set: {TOKEN_HELP}")
        missing = [name for name in ("CI_API_V4_URL", "CI_PROJECT_ID") if not env.get(name)]
        if missing:
            raise CommentError(f"GitLab: {', '.join(missing)} not set (run this in GitLab CI)")
        iid = env.get("CI_MERGE_REQUEST_IID", "")
        if not iid.isdigit():
            raise CommentError(
                "GitLab: CI_MERGE_REQUEST_IID is not set: post the plan note from a job of a "
                "merge request pipeline (rules: - if: $CI_PIPELINE_SOURCE == 'merge_request_event')"
            )
        return cls(
            api_url=env["CI_API_V4_URL"],
            project=env["CI_PROJECT_ID"],
            iid=int(iid),
            token=token,
            head_sha=env.get("CI_COMMIT_SHA", ""),
            job_url=env.get("CI_JOB_URL", ""),
        )


class GitLabNotes(ForgeClient):
    """The notes of one merge request."""

    forge = "GitLab"

    def __init__(
        self, merge: MergeRequest, notify: Notify, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(merge.api_url, {"PRIVATE-TOKEN": merge.token}, notify, transport)
        self.merge = merge
        project = quote(merge.project, safe="")
        self._notes = f"/projects/{project}/merge_requests/{merge.iid}/notes"

    def comments(self) -> Iterator[Comment]:
        page = "1"
        for _ in range(MAX_PAGES):
            response = self.request(
                "GET",
                self._notes,
                call="list merge request notes",
                params={"per_page": PAGE_SIZE, "page": page, "sort": "asc"},
            )
            items = response.json()
            if not isinstance(items, list):
                raise CommentError("GitLab: list notes answered something other than a list")
            for item in items:
                if isinstance(item, dict) and "id" in item and not item.get("system"):
                    yield Comment(str(item["id"]), str(item.get("body") or ""))
            page = response.headers.get("X-Next-Page", "")
            if not page:
                return

    def create(self, body: str) -> Comment:
        response = self.request(
            "POST",
            self._notes,
            call="create merge request note",
            json={"body": body},
            replay_safe=False,
        )
        return Comment(str(response.json()["id"]), body)

    def update(self, comment: Comment, body: str) -> Comment:
        self.request(
            "PUT",
            f"{self._notes}/{comment.id}",
            call="update merge request note",
            json={"body": body},
        )
        return Comment(comment.id, body)

    def hint(self, response: httpx.Response) -> str:
        if response.status_code in (401, 403, 404):
            return TOKEN_HELP
        return ""
