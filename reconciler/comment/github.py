"""A pull request's comments through GitHub's REST API, configured as GitHub Actions sets it up.

Three calls, nothing else: list the issue comments of the pull request, create one, update one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from reconciler.comment.forge import (
    Comment,
    CommentError,
    ForgeClient,
    Notify,
    retry_after,
    wait_for,
)
from reconciler.masking import remember

DEFAULT_API_URL = "https://api.github.com"
PAGE_SIZE = 100  # GitHub's largest page
MAX_PAGES = 50  # 5,000 comments: a pull request with more is not worth reading further
TOKEN_HELP = (
    "set GITHUB_TOKEN for the step (env: GITHUB_TOKEN: ${{ github.token }}) and give the job "
    "`permissions: pull-requests: write`"
)


@dataclass(frozen=True)
class PullRequest:
    """Where the comment goes, read from the GitHub Actions environment."""

    api_url: str
    repository: str  # owner/name
    number: int
    token: str
    head_sha: str = ""
    run_url: str = ""  # the workflow run's page, where its artefacts are listed

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> PullRequest:
        """From GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL and GITHUB_EVENT_PATH."""
        token = env.get("GITHUB_TOKEN", "")
        remember(token)
        if not token:
            raise CommentError(f"GitHub: GITHUB_TOKEN is not set: {TOKEN_HELP}")
        repository = env.get("GITHUB_REPOSITORY", "")
        if repository.count("/") != 1:
            raise CommentError(
                "GitHub: GITHUB_REPOSITORY must be owner/name (GitHub Actions sets it)"
            )
        number, head_sha = _pull_request_of(env.get("GITHUB_EVENT_PATH", ""))
        server, run_id = env.get("GITHUB_SERVER_URL", ""), env.get("GITHUB_RUN_ID", "")
        run_url = (
            f"{server.rstrip('/')}/{repository}/actions/runs/{run_id}" if server and run_id else ""
        )
        return cls(
            api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL,
            repository=repository,
            number=number,
            token=token,
            head_sha=head_sha,
            run_url=run_url,
        )


def _pull_request_of(event_path: str) -> tuple[int, str]:
    """The pull request number and head commit of the event that started the workflow."""
    if not event_path:
        raise CommentError("GitHub: GITHUB_EVENT_PATH is not set (run this in GitHub Actions)")
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommentError(f"GitHub: cannot read the event file {event_path}: {exc}") from None
    pull = event.get("pull_request") if isinstance(event, dict) else None
    if isinstance(pull, dict) and isinstance(pull.get("number"), int):
        head = pull.get("head")
        return pull["number"], str(head.get("sha") or "") if isinstance(head, dict) else ""
    issue = event.get("issue") if isinstance(event, dict) else None
    if isinstance(issue, dict) and "pull_request" in issue and isinstance(issue.get("number"), int):
        return issue["number"], ""  # a comment on a pull request (issue_comment event)
    raise CommentError(
        "GitHub: this workflow run was not started by a pull request event "
        "(pull_request, pull_request_target or issue_comment on a pull request); "
        "post the plan comment from a job that runs `on: pull_request`"
    )


class GitHubComments(ForgeClient):
    """The issue comments of one pull request."""

    forge = "GitHub"

    def __init__(
        self, pull: PullRequest, notify: Notify, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(
            pull.api_url,
            {
                "Authorization": f"Bearer {pull.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
            notify,
            transport,
        )
        self.pull = pull
        self._base = f"/repos/{pull.repository}/issues"

    def comments(self) -> Iterator[Comment]:
        path: str | None = f"{self._base}/{self.pull.number}/comments"
        params: dict[str, int] | None = {"per_page": PAGE_SIZE}
        for _ in range(MAX_PAGES):
            if path is None:
                return
            response = self.request("GET", path, call="list comments", params=params)
            page = response.json()
            if not isinstance(page, list):
                raise CommentError("GitHub: list comments answered something other than a list")
            for item in page:
                if isinstance(item, dict) and "id" in item:
                    yield Comment(str(item["id"]), str(item.get("body") or ""))
            following = response.links.get("next", {}).get("url")
            path, params = (following, None) if following else (None, None)

    def create(self, body: str) -> Comment:
        response = self.request(
            "POST",
            f"{self._base}/{self.pull.number}/comments",
            call="create comment",
            json={"body": body},
            replay_safe=False,
        )
        return Comment(str(response.json()["id"]), body)

    def update(self, comment: Comment, body: str) -> Comment:
        self.request(
            "PATCH",
            f"{self._base}/comments/{comment.id}",
            call="update comment",
            json={"body": body},
        )
        return Comment(comment.id, body)

    def retry_wait(self, response: httpx.Response, attempt: int) -> float | None:
        """Besides 5xx and 429: a 403 that is a rate limit (secondary, or the primary run out)."""
        if response.status_code == 403 and _is_rate_limit(response):
            told = retry_after(response)
            reset = response.headers.get("x-ratelimit-reset", "")
            if told is None and response.headers.get("x-ratelimit-remaining") == "0":
                told = float(reset) - time.time() + 1 if reset.isdigit() else None
            return wait_for(60.0 if told is None else told, attempt)  # GitHub: else a minute
        return super().retry_wait(response, attempt)

    def hint(self, response: httpx.Response) -> str:
        if response.status_code in (401, 403, 404):
            return TOKEN_HELP
        return ""


def _is_rate_limit(response: httpx.Response) -> bool:
    if response.headers.get("x-ratelimit-remaining") == "0" or "Retry-After" in response.headers:
        return True
    try:
        message = str(response.json().get("message", ""))
    except (ValueError, AttributeError):
        return False
    return "rate limit" in message.lower()
