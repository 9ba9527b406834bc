"""Outlit's error shape (the command envelope's ``error``), for its ``ApiClient``."""

from __future__ import annotations

import httpx

from reconciler.providers.http import ParsedError, fallback_message, json_or_none


def outlit_error(response: httpx.Response) -> ParsedError:
    """``{"ok": false, "error": {"code", "message", "details"}, "correlationId"}``."""
    body = json_or_none(response)
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return ParsedError(fallback_message(response))
    error = body["error"]
    return ParsedError(
        str(error.get("message", "")), error.get("code"), error.get("details"),
        body.get("correlationId"),
    )
