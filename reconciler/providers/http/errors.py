"""Turning a platform's answer into one ProviderError whose words say what happened."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx

from reconciler.errors import ProviderError
from reconciler.providers.platform_shapes import ErrorParser, fallback_message

if TYPE_CHECKING:
    from reconciler.config import ProviderConfig

_ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
CORRELATION_HEADERS = ("x-correlation-id", "x-request-id", "request-id", "x-amzn-requestid")


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
    found = []
    for key in ("token", "api_key"):
        raw = config.settings.get(key)
        if raw is None:
            continue
        names = _ENV_REFERENCE.findall(str(raw))
        held = f" (from the environment variable {', '.join(names)})" if names else ""
        found.append(f"providers.{config.name}.{key}{held}")
    if not found:
        return f"providers.{config.name} sets no credential (token)"
    return "check " + " and ".join(found)


def excerpt_note(response: httpx.Response) -> str:
    """A short, cleaned excerpt of a body that is not the platform's error shape, or ""."""
    excerpt = fallback_message(response)
    return f" ({excerpt})" if response.content and excerpt else ""


def json_kind(value: Any) -> str:
    """How a JSON value is called in messages: object, array, string, ..."""
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")
