"""The automation runs API's error shape (``detail``), for its ``ApiClient``."""

from __future__ import annotations

import httpx

from reconciler.providers.http import ParsedError, fallback_message, json_or_none


def detail_error(response: httpx.Response) -> ParsedError:
    """``{"detail": str}`` or a 422 ``{"detail": [{"loc", "msg", "type"}]}`` (automation-runs)."""
    body = json_or_none(response)
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return ParsedError(detail)
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", []))
                parts.append(f"{where}: {item.get('msg', '')}" if where else str(item.get("msg")))
        return ParsedError("; ".join(parts) or "validation error", "validation_error", detail)
    return ParsedError(fallback_message(response))
