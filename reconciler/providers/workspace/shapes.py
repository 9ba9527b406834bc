"""The workspace API's error shape (AIP-193), for its ``ApiClient``."""

from __future__ import annotations

import httpx

from reconciler.providers.http import ParsedError, fallback_message, json_or_none


def aip_error(response: httpx.Response) -> ParsedError:
    """AIP-193: ``{"error": {"code", "message", "status", "details"}}`` (workspace)."""
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ParsedError(fallback_message(response))
    return ParsedError(str(error.get("message", "")), error.get("status"), error.get("details"))
