"""Each platform's credentials and error shape, for the shared HTTP layer (``http.py``).

Auth builders return the headers a platform wants; with ``base_url: sandbox`` and no credential
configured they send the placeholder ``sandbox`` in the platform's own scheme. Error parsers
turn an error answer into a ``ParsedError`` in the platform's own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from reconciler.config import SANDBOX_BASE_URL
from reconciler.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.config import ProviderConfig

SANDBOX_CREDENTIAL = "sandbox"


@dataclass(frozen=True)
class ParsedError:
    """What a platform's error body says, in its own words."""

    message: str
    code: str | None = None
    details: Any = None
    correlation_id: str | None = None


# --- authentication ------------------------------------------------------------------------


Auth = Mapping[str, str]


def _credential(config: ProviderConfig, key: str) -> str:
    value = config.secret(key)
    if value:
        # A stray newline (common in files piped into variables) would make the HTTP library
        # refuse the header with an error that quotes it: refuse here, naming only the setting.
        if value != value.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ConfigError(
                f"{config.position}: providers.{config.name}.{key}: the value has surrounding "
                "white space or a control character (a trailing newline?); remove it from the "
                "environment variable"
            )
        return value
    if config.base_url == SANDBOX_BASE_URL or config.on_loopback:
        # the embedded sandbox, in process or served on 127.0.0.1, takes any credential
        return SANDBOX_CREDENTIAL
    raise ConfigError(config.missing(key))


def bearer_auth(config: ProviderConfig, key: str = "token") -> Auth:
    """``Authorization: Bearer <token>`` (workspace, outlit)."""
    return {"Authorization": f"Bearer {_credential(config, key)}"}


def datallog_auth(config: ProviderConfig) -> Auth:
    """``Authorization: Token <token>`` plus ``x-api-key: <api_key>`` (Datallog's reference)."""
    return {
        "Authorization": f"Token {_credential(config, 'token')}",
        "x-api-key": _credential(config, "api_key"),
    }


def api_key_auth(config: ProviderConfig, key: str = "api_key") -> Auth:
    """``X-API-Key: <key>`` (automation-runs)."""
    return {"X-API-Key": _credential(config, key)}


# --- error shapes ----------------------------------------------------------------------------


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


EXCERPT_LENGTH = 160
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HIDDEN = re.compile(r"<(script|style)[^>]*>.*?</\1>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def fallback_message(response: httpx.Response) -> str:
    """A short, clean excerpt of a body that is not the platform's error shape.

    A proxy's HTML error page is reduced to its title (or its text), white space and control
    characters are collapsed, and the excerpt is cut short: one readable line, never a page.
    """
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        text = ""
    html = "html" in response.headers.get("content-type", "") or text.lstrip()[:1] == "<"
    if html:
        title = _TITLE.search(text)
        text = title.group(1) if title else _TAG.sub(" ", _HIDDEN.sub(" ", text))
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(text) > EXCERPT_LENGTH:
        text = text[:EXCERPT_LENGTH - 3].rstrip() + "..."
    if not text:
        return response.reason_phrase or f"HTTP {response.status_code}"
    return f"(HTML page) {text}" if html else text


def aip_error(response: httpx.Response) -> ParsedError:
    """AIP-193: ``{"error": {"code", "message", "status", "details"}}`` (workspace)."""
    body = _json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ParsedError(fallback_message(response))
    return ParsedError(str(error.get("message", "")), error.get("status"), error.get("details"))


def outlit_error(response: httpx.Response) -> ParsedError:
    """``{"ok": false, "error": {"code", "message", "details"}, "correlationId"}``."""
    body = _json_or_none(response)
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return ParsedError(fallback_message(response))
    error = body["error"]
    return ParsedError(
        str(error.get("message", "")), error.get("code"), error.get("details"),
        body.get("correlationId"),
    )


def datallog_error(response: httpx.Response) -> ParsedError:
    """``{"status": "error", "message"}`` or ``{"message"}`` (Datallog's reference)."""
    body = _json_or_none(response)
    if isinstance(body, dict) and "message" in body:
        return ParsedError(str(body["message"]), body.get("status"))
    return ParsedError(fallback_message(response))


def detail_error(response: httpx.Response) -> ParsedError:
    """``{"detail": str}`` or a 422 ``{"detail": [{"loc", "msg", "type"}]}`` (automation-runs)."""
    body = _json_or_none(response)
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


ErrorParser = Callable[[httpx.Response], ParsedError]
