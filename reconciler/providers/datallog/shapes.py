"""Datallog's credentials and error shape (Datallog's reference), for its ``ApiClient``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from reconciler.providers.http import (
    Auth,
    ParsedError,
    credential,
    fallback_message,
    json_or_none,
)

if TYPE_CHECKING:
    from reconciler.config import ProviderConfig



def datallog_auth(config: ProviderConfig) -> Auth:
    """``Authorization: Token <token>`` plus ``x-api-key: <api_key>`` (Datallog's reference)."""
    return {
        "Authorization": f"Token {credential(config, 'token')}",
        "x-api-key": credential(config, "api_key"),
    }


def datallog_error(response: httpx.Response) -> ParsedError:
    """``{"status": "error", "message"}`` or ``{"message"}`` (Datallog's reference)."""
    body = json_or_none(response)
    if isinstance(body, dict) and "message" in body:
        return ParsedError(str(body["message"]), body.get("status"))
    return ParsedError(fallback_message(response))
