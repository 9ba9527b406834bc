"""The strict sandbox: every platform request is checked against its provider type's contract
document before a handler sees it, and (when asked) every answer after.

* A call the document does not hold is answered 404 in the platform's own error shape and
  recorded as a contract violation.
* A request the document's parameters or bodies reject is answered as the platform answers an
  invalid request (workspace INVALID_ARGUMENT 400, Outlit VALIDATION_FAILED 422, Datallog 400,
  automation-runs 422) and recorded; credentials are left to the handlers.
* With ``check_responses`` (the test suite turns it on: ``RECONCILER_SANDBOX_CHECK_RESPONSES=1``)
  each answer is checked too, and one the document does not allow is recorded (and sent as is).

Violations are kept on the app (``GET /_sandbox/violations``) and in ``RECORDED`` for the whole
process, so a test run can fail when any test provoked one. An invalid request or a call
outside the contract counts as a violation of ours only when our own client sent it (its
User-Agent starts with ``reconciler/``): tests and fuzzers that send bad requests on purpose to
see the platform's answer do not. An answer that breaks the contract always counts.
"""

from __future__ import annotations

import functools
import json
import os
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler import contract
from reconciler.sandbox.http import platform_error, platform_of

ADMIN_PREFIX = "/_sandbox"
CHECK_RESPONSES_VARIABLE = "RECONCILER_SANDBOX_CHECK_RESPONSES"
# "0" serves every route the sandbox has, unchecked (for benchmarks measuring the client alone)
CHECK_REQUESTS_VARIABLE = "RECONCILER_SANDBOX_CHECK_REQUESTS"
OUR_USER_AGENT = "reconciler/"
STREAMED = "text/event-stream"

# every violation any sandbox app of this process recorded: {"kind", "message", "platform", ...}
RECORDED: list[dict[str, Any]] = []


def check_responses_by_default() -> bool:
    """Whether apps check their answers unless told otherwise (the environment decides)."""
    return os.environ.get(CHECK_RESPONSES_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def check_requests_by_default() -> bool:
    """Whether apps check requests (yes, unless the environment says 0)."""
    return os.environ.get(CHECK_REQUESTS_VARIABLE, "1").strip().lower() not in ("0", "false",
                                                                                "no")


def counted(violation: dict[str, Any]) -> bool:
    """Whether a violation is the product's fault: an answer that breaks the contract, or a
    call outside it (or an invalid request) that our own client sent (see the module doc)."""
    if violation["kind"] == contract.INVALID_RESPONSE:
        return True
    return str(violation.get("user_agent", "")).startswith(OUR_USER_AGENT)


class ContractLog:
    """The violations one app recorded."""

    def __init__(self) -> None:
        self.violations: list[dict[str, Any]] = []

    def add(self, finding: contract.Finding, platform: str, method: str, path: str,
            user_agent: str) -> None:
        entry = {"kind": finding.kind, "message": finding.message, "platform": platform,
                 "method": method, "path": path, "user_agent": user_agent, "time": time.time()}
        self.violations.append(entry)
        RECORDED.append(entry)

    def take(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Forget the violations (of one kind, or all) and return them."""
        taken = [v for v in self.violations if kind is None or v["kind"] == kind]
        gone = {id(v) for v in taken}
        RECORDED[:] = [v for v in RECORDED if id(v) not in gone]
        self.violations[:] = [v for v in self.violations if id(v) not in gone]
        return taken


class ContractMiddleware:
    """Answer only what the contract documents hold; record what breaks them."""

    def __init__(self, app: ASGIApp, check_responses: bool | None = None) -> None:
        self.app = app
        self.check_responses = (check_responses_by_default() if check_responses is None
                                else check_responses)
        self.check_requests = check_requests_by_default()

    def checker(self, platform: str) -> contract.Checker:
        return _checker(platform)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        platform = platform_of(scope.get("path", "")) if scope["type"] == "http" else "sandbox"
        if (platform not in contract.PACKAGES or scope["path"].startswith(ADMIN_PREFIX)
                or not (self.check_requests or self.check_responses)):
            await self.app(scope, receive, send)
            return
        log: ContractLog = scope["app"].state.contract_log
        body, replay = await _buffered(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"),
                         keep_blank_values=True)
        method, path = scope["method"], scope["path"]
        content_type = headers.get("content-type", "")
        agent = headers.get("user-agent", "")
        checker = self.checker(platform)
        finding = None
        if self.check_requests:
            finding = checker.check_request(method, path, query, headers, body, content_type)
        if finding is not None:
            log.add(finding, platform, method, path, agent)
            await _refusal(platform, finding)(scope, replay, send)
            return
        if not self.check_responses:
            await self.app(scope, replay, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def checked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                response_headers = _headers(message)
                if response_headers.get("content-type", "").startswith(STREAMED):
                    start["streamed"] = True
                    await send(message)
                return
            if start.get("streamed"):
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            answer = b"".join(chunks)
            problem = checker.check_response(method, path, query, headers, body, content_type,
                                             start["status"], _headers(start), answer)
            if problem is not None:
                log.add(problem, platform, method, path, agent)
            await send({k: v for k, v in start.items() if k != "streamed"})
            await send({"type": "http.response.body", "body": answer})

        await self.app(scope, replay, checked_send)


@functools.cache
def _checker(platform: str) -> contract.Checker:
    """One checker per platform and process: building one takes a second or two."""
    return contract.Checker(platform)


def _headers(message: Message) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1")
            for k, v in message.get("headers", [])}


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands it to the app again."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _refusal(platform: str, finding: contract.Finding) -> JSONResponse:
    """How the platform answers a call it does not have, or a request it cannot accept."""
    if finding.kind == contract.UNKNOWN_ROUTE:
        return platform_error(platform, 404, finding.message)
    message = f"the request does not match the API: {finding.message}"
    if platform == "workspace":
        body: Any = {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT",
                               "details": []}}
        return JSONResponse(body, status_code=400)
    if platform == "outlit":
        response = platform_error(platform, 422, message)
        payload = json.loads(bytes(response.body))
        payload["error"]["code"] = "VALIDATION_FAILED"
        return JSONResponse(payload, status_code=422)
    if platform == "datallog":
        return JSONResponse({"status": "error", "message": message}, status_code=400)
    loc = list(finding.where) or ["request"]
    return JSONResponse({"detail": [{"loc": loc, "msg": message, "type": "contract"}]},
                        status_code=422)
