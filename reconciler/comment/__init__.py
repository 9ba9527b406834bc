"""The plan as one comment on a pull request (GitHub) or merge request (GitLab), edited in place.

The comment starts with a hidden marker naming the project, so each later run finds its own
comment and edits it instead of adding another; two projects in one repository keep one comment
each. The body is the markdown plan (secrets already masked by the report), cut under the
forge's limit with a link to the CI run that keeps the full saved plan.

    post_plan(report, "github", project_key="infra", env=os.environ, notify=print_to_stderr)
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from reconciler import __version__
from reconciler.comment.forge import (
    ATTEMPTS,
    Comment,
    CommentError,
    ForgeClient,
    Notify,
    OutcomeUnknown,
)
from reconciler.render.markdown import LIMIT, render_markdown, size
from reconciler.render.report import PlanReport

FORGES = ("github", "gitlab")

__all__ = ["FORGES", "CommentError", "Posted", "marker", "post_failure", "post_plan"]


@dataclass(frozen=True)
class Posted:
    """What was done: ``created`` or ``updated``, the comment's id, where it went."""

    action: str
    comment_id: str
    where: str  # e.g. "acme/infra#12" or "merge request !12"


def marker(project_key: str) -> str:
    """The hidden first line that tells this project's comment from every other one."""
    safe = re.sub(r"[^A-Za-z0-9._/-]", "_", project_key) or "."
    return f"<!-- reconciler-gitops plan comment: project {safe} -->"


def post_plan(
    report: PlanReport,
    forge: str,
    project_key: str,
    env: Mapping[str, str],
    notify: Notify,
    full_plan: str = "",
    transport: httpx.BaseTransport | None = None,
    verdict: str = "",
) -> Posted:
    """Create this project's plan comment, or edit it when an earlier run made one.

    ``verdict`` (markdown, e.g. a rehearsal's) follows the plan and is never cut.
    """
    client, where, commit, link = _open(forge, env, notify, transport)
    head = marker(project_key) + "\n"
    footer = _footer(project_key, commit)
    room = LIMIT - size(head) - size(footer) - size(verdict) - 2
    plan = render_markdown(report, limit=room, full_plan=full_plan or link)
    body = head + plan + verdict + "\n" + footer
    with client:
        return _upsert(client, head, body, where)


def post_failure(
    forge: str,
    project_key: str,
    env: Mapping[str, str],
    notify: Notify,
    transport: httpx.BaseTransport | None = None,
) -> Posted:
    """Replace this project's plan comment by a notice that the plan failed (no error text:
    the job log has it, and a log is masked by the CI system where a comment is not)."""
    client, where, commit, link = _open(forge, env, notify, transport)
    head = marker(project_key) + "\n"
    log = f"[the job log]({link})" if link else "the job log"
    body = (
        f"{head}### reconciler plan failed\n\n"
        f"The plan could not be made; no plan is shown until it succeeds. See {log}.\n\n"
        + _footer(project_key, commit)
    )
    with client:
        return _upsert(client, head, body, where)


def check_environment(forge: str, env: Mapping[str, str]) -> None:
    """CommentError when this job could not post on its request (no token, no pull or merge
    request): said before the plan reads anything live."""
    if forge == "github":
        from reconciler.comment.github import PullRequest

        PullRequest.from_environment(env)
    elif forge == "gitlab":
        from reconciler.comment.gitlab import MergeRequest

        MergeRequest.from_environment(env)
    else:
        raise CommentError(f"unknown forge {forge!r}: use one of {', '.join(FORGES)}")


def _open(
    forge: str, env: Mapping[str, str], notify: Notify, transport: httpx.BaseTransport | None
) -> tuple[ForgeClient, str, str, str]:
    """The forge's client, a name for the request, its head commit and the run's page."""
    if forge == "github":
        from reconciler.comment.github import GitHubComments, PullRequest

        pull = PullRequest.from_environment(env)
        where = f"{pull.repository}#{pull.number}"
        return GitHubComments(pull, notify, transport), where, pull.head_sha, pull.run_url
    if forge == "gitlab":
        from reconciler.comment.gitlab import GitLabNotes, MergeRequest

        merge = MergeRequest.from_environment(env)
        where = f"merge request !{merge.iid}"
        return GitLabNotes(merge, notify, transport), where, merge.head_sha, merge.job_url
    raise CommentError(f"unknown forge {forge!r}: use one of {', '.join(FORGES)}")


def _footer(project_key: str, commit: str) -> str:
    at = f" · commit `{commit[:12]}`" if commit else ""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"<sub>reconciler {__version__} · project `{project_key}`{at} · {when}</sub>\n"


def _upsert(client: ForgeClient, head: str, body: str, where: str) -> Posted:
    """Find the comment by its marker and edit it, else create it.

    A create whose outcome is unknown is never resent blindly: the comments are listed again,
    and the one it may have made is edited instead.
    """
    for attempt in range(ATTEMPTS):
        found = _find(client, head)
        if found is not None:
            if found.body != body:
                client.update(found, body)
            return Posted("updated", found.id, where)
        try:
            made = client.create(body)
        except OutcomeUnknown as unknown:
            if attempt == ATTEMPTS - 1:
                raise CommentError(
                    f"{unknown.message}; giving up after {ATTEMPTS} attempts"
                ) from None
            client.notify(f"{unknown.message}; listing again in {unknown.wait:.1f}s")
            time.sleep(unknown.wait)
            continue
        return Posted("created", made.id, where)
    raise AssertionError("unreachable")


def _find(client: ForgeClient, head: str) -> Comment | None:
    """The first comment that starts with this project's marker."""
    return next((c for c in client.comments() if c.body.startswith(head)), None)
