"""Loopback stand-ins for the forge calls `plan --comment` makes, and nothing more.

GitHub: list, create and update the issue comments of a pull request. GitLab: list, create and
update the notes of a merge request. Each keeps its comments in memory, checks the token, pages
as the real API does (a ``Link`` header, an ``X-Next-Page`` header), refuses bodies over the real
limit, records every request it receives whole (method, path and query, headers, body), and can
be told to answer the next matching requests with an error first (``fail``).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.sandbox.server import LoopbackServer

ALL_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


@dataclass
class Received:
    """One request as it arrived."""

    method: str
    target: str  # path and query
    headers: dict[str, str]
    body: str

    def text(self) -> str:
        """Everything that was sent, for looking for secrets in."""
        head = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"{self.method} {self.target}\n{head}\n\n{self.body}"


@dataclass
class Fault:
    """Answer the next ``times`` requests of ``method`` with ``status`` (after acting on them
    first when ``after_acting``: the answer is lost, the work is done)."""

    method: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "fault"
    after_acting: bool = False


class ForgeStandIn(LoopbackServer):
    """Shared machinery: the request log, faults, comment storage, the catch-all route."""

    limit = 0
    routes: list[tuple[str, str, str]] = []  # (method, regex, handler name)

    def __init__(self, token: str) -> None:
        self.token = token
        self.comments: list[dict[str, Any]] = []
        self.received: list[Received] = []
        self.faults: list[Fault] = []
        self._ids = itertools.count(1001)
        app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=ALL_METHODS)])
        super().__init__(app, name=type(self).__name__)

    def fail(self, method: str, status: int, **options: Any) -> None:
        self.faults.append(Fault(method, status, **options))

    def add(self, body: str, author: str = "someone") -> dict[str, Any]:
        comment = {"id": next(self._ids), "body": body, "author": author}
        self.comments.append(comment)
        return comment

    def calls(self) -> list[str]:
        """``METHOD route`` of each request received, ids and queries left out."""
        out = []
        for request in self.received:
            path = request.target.split("?")[0]
            out.append(f"{request.method} {re.sub(r'/[0-9]+(?=/|$)', '/N', path)}")
        return out

    async def _dispatch(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        self.received.append(Received(request.method, target, dict(request.headers), body))
        if not self.authorised(request):
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        for method, pattern, name in self.routes:
            match = re.fullmatch(pattern, request.url.path)
            if match and request.method == method:
                fault = self._fault(method)
                if fault and not fault.after_acting:
                    return self._faulted(fault)
                handler: Callable[..., Response] = getattr(self, name)
                response = handler(request, body, **match.groupdict())
                return self._faulted(fault) if fault else response
        return JSONResponse({"message": "Not Found"}, status_code=404)

    def authorised(self, request: Request) -> bool:
        raise NotImplementedError

    def _fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _faulted(self, fault: Fault) -> Response:
        return JSONResponse(
            {"message": fault.message}, status_code=fault.status, headers=fault.headers
        )

    def _new_body(self, body: str) -> str | Response:
        try:
            text = json.loads(body)["body"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"message": "Problems parsing JSON"}, status_code=400)
        if not isinstance(text, str) or not text:
            return JSONResponse({"message": "body is missing"}, status_code=422)
        if len(text) > self.limit:
            return JSONResponse(
                {"message": f"body is too long (maximum is {self.limit} characters)"},
                status_code=422,
            )
        return text

    def _comment(self, comment_id: str) -> dict[str, Any] | None:
        return next((c for c in self.comments if str(c["id"]) == comment_id), None)


class GitHubStandIn(ForgeStandIn):
    """``/repos/{owner}/{repo}/issues/{number}/comments`` and ``.../issues/comments/{id}``."""

    limit = 65_536
    routes = [
        ("GET", r"/repos/[^/]+/[^/]+/issues/(?P<number>[0-9]+)/comments", "list"),
        ("POST", r"/repos/[^/]+/[^/]+/issues/(?P<number>[0-9]+)/comments", "create"),
        ("PATCH", r"/repos/[^/]+/[^/]+/issues/comments/(?P<comment_id>[0-9]+)", "update"),
    ]

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    def list(self, request: Request, body: str, number: str) -> Response:
        per_page = min(int(request.query_params.get("per_page", "30")), 100)
        page = int(request.query_params.get("page", "1"))
        items = self.comments[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(self.comments):
            url = request.url.include_query_params(page=page + 1, per_page=per_page)
            headers["Link"] = f'<{url}>; rel="next"'
        shown = [{"id": c["id"], "body": c["body"], "user": {"login": c["author"]}} for c in items]
        return JSONResponse(shown, headers=headers)

    def create(self, request: Request, body: str, number: str) -> Response:
        text = self._new_body(body)
        if isinstance(text, Response):
            return text
        comment = self.add(text, author="github-actions[bot]")
        return JSONResponse({"id": comment["id"], "body": text}, status_code=201)

    def update(self, request: Request, body: str, comment_id: str) -> Response:
        comment = self._comment(comment_id)
        if comment is None:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        text = self._new_body(body)
        if isinstance(text, Response):
            return text
        comment["body"] = text
        return JSONResponse({"id": comment["id"], "body": text})


class GitLabStandIn(ForgeStandIn):
    """``/api/v4/projects/{id}/merge_requests/{iid}/notes`` and ``.../notes/{note_id}``."""

    limit = 1_000_000
    routes = [
        ("GET", r"/api/v4/projects/[^/]+/merge_requests/(?P<iid>[0-9]+)/notes", "list"),
        ("POST", r"/api/v4/projects/[^/]+/merge_requests/(?P<iid>[0-9]+)/notes", "create"),
        (
            "PUT",
            r"/api/v4/projects/[^/]+/merge_requests/[0-9]+/notes/(?P<note_id>[0-9]+)",
            "update",
        ),
    ]

    # what the template's apply job reads to find the reviewed plan
    routes += [
        (
            "GET",
            r"/api/v4/projects/[^/]+/repository/commits/(?P<sha>[0-9a-f]+)/merge_requests",
            "merged",
        ),
        ("GET", r"/api/v4/projects/[^/]+/merge_requests/(?P<iid>[0-9]+)/pipelines", "pipelines"),
        ("GET", r"/api/v4/projects/[^/]+/pipelines/(?P<pipeline>[0-9]+)/jobs", "jobs"),
        ("GET", r"/api/v4/projects/[^/]+/jobs/(?P<job>[0-9]+)/artifacts/(?P<path>.+)", "artifact"),
    ]

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.merge_requests: dict[str, list[dict[str, Any]]] = {}  # commit -> its merge requests
        self.mr_pipelines: dict[str, list[dict[str, Any]]] = {}  # iid -> pipelines, newest first
        self.pipeline_jobs: dict[str, list[dict[str, Any]]] = {}  # pipeline id -> jobs
        self.artifacts: dict[tuple[str, str], bytes] = {}  # (job id, path) -> file

    def merged(self, request: Request, body: str, sha: str) -> Response:
        return JSONResponse(self.merge_requests.get(sha, []))

    def pipelines(self, request: Request, body: str, iid: str) -> Response:
        return JSONResponse(self.mr_pipelines.get(iid, []))

    def jobs(self, request: Request, body: str, pipeline: str) -> Response:
        scope = request.query_params.get("scope")
        found = self.pipeline_jobs.get(pipeline, [])
        return JSONResponse([j for j in found if scope is None or j["status"] == scope])

    def artifact(self, request: Request, body: str, job: str, path: str) -> Response:
        content = self.artifacts.get((job, path))
        if content is None:
            return JSONResponse({"message": "404 Not found"}, status_code=404)
        return Response(content, media_type="application/octet-stream")

    def authorised(self, request: Request) -> bool:
        return request.headers.get("private-token") == self.token

    def list(self, request: Request, body: str, iid: str) -> Response:
        per_page = min(int(request.query_params.get("per_page", "20")), 100)
        page = int(request.query_params.get("page", "1"))
        items = self.comments[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(self.comments)
        headers = {"X-Next-Page": str(page + 1) if more else ""}
        shown = [{"id": c["id"], "body": c["body"], "system": False} for c in items]
        return JSONResponse(shown, headers=headers)

    def create(self, request: Request, body: str, iid: str) -> Response:
        text = self._new_body(body)
        if isinstance(text, Response):
            return text
        comment = self.add(text, author="project_bot")
        return JSONResponse({"id": comment["id"], "body": text}, status_code=201)

    def update(self, request: Request, body: str, note_id: str) -> Response:
        comment = self._comment(note_id)
        if comment is None:
            return JSONResponse({"message": "404 Not found"}, status_code=404)
        text = self._new_body(body)
        if isinstance(text, Response):
            return text
        comment["body"] = text
        return JSONResponse({"id": comment["id"], "body": text})
