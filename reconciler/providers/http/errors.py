"""Turning a platform's answer into one ProviderError whose words say what happened.

Each platform's own error shape is parsed in its provider package (``<type>/shapes.py``) into
a ``ParsedError``; a body that is not in that shape (a proxy's HTML page) is shown through
``fallback_message`` as a short, cleaned excerpt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from reconciler.errors import ProviderError

if TYPE_CHECKING:
    from reconciler.config import ProviderConfig

_ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
CORRELATION_HEADERS = ("x-correlation-id", "x-request-id", "request-id", "x-amzn-requestid")


@dataclass(frozen=True)
class ParsedError:
    """What a platform's error body says, in its own words."""

    message: str
    code: str | None = None
    details: Any = None
    correlation_id: str | None = None


ErrorParser = Callable[[httpx.Response], ParsedError]


def json_or_none(response: httpx.Response) -> Any:
    """The body as JSON, or None when it is not JSON."""
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


class OutcomeUnknown(ProviderError):
    """A non-idempotent call was sent but no answer came back: it may or may not have happened."""


def platform_error(
    response: httpx.Response,
    call: str,
    *,
    name: str,
    platform: str,
    parse: ErrorParser,
    credential_hint: str,
    cls: type[ProviderError] = ProviderError,
    note: str = "",
) -> ProviderError:
    """The error answer of ``call`` as one ``cls``: the platform's message, code, details and
    correlation id, and after a 401/403 where the credential comes from (never its value)."""
    parsed = parse(response)
    correlation = parsed.correlation_id or next(
        (response.headers[h] for h in CORRELATION_HEADERS if h in response.headers), None
    )
    words = f"{parsed.code}: {parsed.message}" if parsed.code else parsed.message
    message = f"{name}: {call} answered {response.status_code} {words}{note}"
    if response.status_code in (401, 403):
        message += f"; {credential_hint}"
    if correlation:
        message += f" [correlation id {correlation}]"
    return cls(message, platform=platform, call=call, status=response.status_code,
               platform_message=parsed.message, correlation_id=correlation,
               code=parsed.code, details=parsed.details)


def credential_hint(config: ProviderConfig) -> str:
    """What to check after a 401/403: the setting and the variable that holds the credential."""
    from reconciler.config import sensitive_setting_names

    secret = sensitive_setting_names()  # what the provider types mark x-sensitive
    found = []
    for key, raw in config.settings.items():
        if key not in secret or raw is None:
            continue
        names = _ENV_REFERENCE.findall(str(raw))
        held = f" (from the environment variable {', '.join(names)})" if names else ""
        found.append(f"providers.{config.name}.{key}{held}")
    if not found:
        return f"providers.{config.name} sets no credential"
    return "check " + " and ".join(found)


def excerpt_note(response: httpx.Response) -> str:
    """A short, cleaned excerpt of a body that is not the platform's error shape, or ""."""
    excerpt = fallback_message(response)
    return f" ({excerpt})" if response.content and excerpt else ""


def json_kind(value: Any) -> str:
    """How a JSON value is called in messages: object, array, string, ..."""
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")
