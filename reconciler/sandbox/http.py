"""What every platform's handlers share: error replies in each platform's own shape, strict
body parsing, credentials, page tokens.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

WORKSPACE_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
}
OUTLIT_STATUS = {
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "VALIDATION_FAILED": 422,
    "MISSING_REQUIRED_RESOURCES": 422,
    "UNAUTHORIZED": 401,
    "RATE_LIMITED": 429,
    "INTERNAL": 500,
}


class Reply(Exception):
    """Raised by a handler to answer with an error response right away."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response

    @property
    def text(self) -> str:
        """The error body, for messages outside HTTP (seed files, edits)."""
        return bytes(self.response.body).decode()


def workspace_error(status: str, message: str, details: list | None = None) -> Reply:
    """AIP-193 error."""
    code = WORKSPACE_STATUS[status]
    body = {"error": {"code": code, "message": message, "status": status, "details": details or []}}
    return Reply(JSONResponse(body, status_code=code))


def outlit_error(code: str, message: str, details: Any = None) -> Reply:
    """Outlit's error envelope."""
    body = {
        "ok": False,
        "error": {"code": code, "message": message, "details": details or {}},
        "correlationId": str(uuid.uuid4()),
    }
    return Reply(JSONResponse(body, status_code=OUTLIT_STATUS[code]))


def datallog_error(status_code: int, message: str) -> Reply:
    """Datallog: 403 carries only a message; every other error a status too."""
    body: dict[str, Any] = {"message": message}
    if status_code != 403:
        body = {"status": "error", "message": message}
    return Reply(JSONResponse(body, status_code=status_code))


def runs_validation_error(loc: list, msg: str, kind: str) -> Reply:
    """FastAPI-style 422."""
    return Reply(JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": kind}]}, 422))


def runs_error(status_code: int, detail: str) -> Reply:
    """FastAPI-style 401/404/409."""
    return Reply(JSONResponse({"detail": detail}, status_code=status_code))


def platform_of(path: str) -> str:
    """Which platform a path belongs to (used by faults and the request log)."""
    if path.startswith("/api/v1/organizations/"):
        return "workspace"
    if path.startswith("/api/v1/automation-runs"):
        return "automation-runs"
    if path.startswith("/api/start-automation/"):
        return "datallog"
    if path.startswith("/api/"):
        return "outlit"
    return "sandbox"


def platform_error(platform: str, status_code: int, message: str) -> JSONResponse:
    """A generic error (throttling, outage, unknown route) in the platform's own shape."""
    if platform == "workspace":
        status = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE", 404: "NOT_FOUND",
                  405: "UNIMPLEMENTED"}.get(status_code, "INTERNAL")
        body: Any = {"error": {"code": status_code, "message": message, "status": status,
                               "details": []}}
    elif platform == "outlit":
        codes = {429: "RATE_LIMITED", 404: "NOT_FOUND", 405: "NOT_FOUND"}
        code = codes.get(status_code, "INTERNAL")
        body = {"ok": False, "error": {"code": code, "message": message, "details": {}},
                "correlationId": str(uuid.uuid4())}
    elif platform == "datallog":
        body = {"status": "error", "message": message}
    else:
        body = {"detail": message}
    return JSONResponse(body, status_code=status_code)


def bearer_token(request: Request, scheme: str = "Bearer") -> str | None:
    """The credential after ``scheme`` in Authorization, or None when absent or another scheme."""
    header = request.headers.get("authorization", "")
    prefix, _, value = header.partition(" ")
    if prefix.lower() != scheme.lower() or not value.strip():
        return None
    return value.strip()


async def json_body(request: Request, invalid: Any, *, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object; ``invalid(message)`` builds the platform's error."""
    raw = await request.body()
    if not raw.strip() and not optional:
        raise invalid("request body is required (a JSON object)")
    return decode_object(
        raw, lambda exc: invalid(f"request body is not valid JSON: {exc}"),
        lambda: invalid("request body must be a JSON object"))


def decode_object(raw: bytes, not_json: Any, not_object: Any) -> dict[str, Any]:
    """An optional JSON-object body ({} when empty); the callables build the platform's errors
    (``not_json`` receives the decoding error)."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise not_json(exc) from None
    if not isinstance(body, dict):
        raise not_object()
    return body


def check_fields(
    body: dict[str, Any], allowed: set[str], required: set[str], invalid: Any
) -> None:
    """Reject unknown and missing fields, naming them, like the real APIs' validators."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise invalid(f"unknown field(s) in request body: {', '.join(unknown)}")
    missing = sorted(name for name in required if name not in body)
    if missing:
        raise invalid(f"missing required field(s): {', '.join(missing)}")


def encode_page_token(offset: int) -> str:
    """Opaque token for the next page."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int | None:
    """Offset encoded in a token; None when the token is not one of ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(value["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return offset if offset >= 0 else None


def page_body(name: str, items: list, offset: int, size: int, render: Any = None) -> dict:
    """An AIP list response: ``{name: [...], "next_page_token"}``, the token absent at the end."""
    page, token = paginate(items, offset, size)
    body: dict[str, Any] = {name: [render(i) for i in page] if render else page}
    if token:
        body["next_page_token"] = token
    return body


def paginate(items: list, offset: int, size: int) -> tuple[list, str | None]:
    """One page and the token for the next (None on the last page)."""
    page = items[offset : offset + size]
    following = offset + size
    return page, (encode_page_token(following) if following < len(items) else None)
