"""An answer's body: read within the size limit, parsed as strict JSON (no NaN, no Infinity,
no number a float cannot hold), and the errors that name the call when it is neither."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx

from reconciler.errors import ProviderError
from reconciler.providers.http.errors import excerpt_note, fallback_message
from reconciler.providers.http.stream import MAX_EVENT_BYTES


class Bodies:
    """The body handling of ``ApiClient``."""

    name: str
    platform: str
    max_response_bytes: int

    def _json(self, response: httpx.Response, call: str, *, empty: str) -> Any:
        """The body as JSON; an empty body is ``{}`` (``empty="{}"``) or an error (``"error"``)."""
        if not response.content:
            if empty == "{}":
                return {}
            raise self._shape_error(call, response, "an empty body where a list was expected")
        try:
            return strict_json(response.content)
        except NonFinite as exc:
            # well-formed JSON from the platform: no excerpt, whatever else the answer holds
            raise self._shape_error(call, response, f"{exc}, a number JSON cannot carry",
                                    excerpt=False) from None
        except (ValueError, RecursionError):
            raise self._shape_error(call, response, "a body that is not JSON") from None

    def _shape_error(self, call: str, response: httpx.Response, what: str,
                     excerpt: bool = True) -> ProviderError:
        return ProviderError(
            f"{self.name}: {call} answered {response.status_code} with {what}"
            f"{excerpt_note(response) if excerpt else ''}",
            platform=self.platform, call=call, status=response.status_code,
            platform_message=fallback_message(response) if excerpt else "",
        )

    async def _read_body(self, response: httpx.Response, call: str) -> None:
        """Read the (decoded) body, never more than ``max_response_bytes`` of it."""
        cap = self.max_response_bytes
        declared = response.headers.get("content-length", "")
        encoded = "content-encoding" in response.headers  # the decoded size is what counts
        if declared.isdigit() and int(declared) > cap and not encoded:
            raise self._too_large(call, response, int(declared))
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    raise self._too_large(call, response, size)
                chunks.append(chunk)
        except httpx.DecodingError:
            encoding = response.headers.get("content-encoding", "")
            raise ProviderError(
                f"{self.name}: {call} answered {response.status_code} with a body that claims "
                f"Content-Encoding {encoding!r} but cannot be decoded as such",
                platform=self.platform, call=call, status=response.status_code,
            ) from None
        # what ``aread`` would have kept, read here so the size could be bounded on the way
        response._content = b"".join(chunks)

    def _too_large(self, call: str, response: httpx.Response, size: int,
                   what: str = "") -> ProviderError:
        mib = 1024 * 1024
        if what == "line":  # one line of a streamed answer
            return ProviderError(
                f"{self.name}: {call} streamed a line of more than {MAX_EVENT_BYTES / mib:g} MiB;"
                " stopped reading it", platform=self.platform, call=call,
                status=response.status_code)
        if what == "stream":
            return ProviderError(
                f"{self.name}: {call} streamed more than {self.max_response_bytes / mib:g} MiB; "
                f"stopped reading it (raise providers.{self.name}.max_response_mb if the platform "
                "really streams this much)", platform=self.platform, call=call,
                status=response.status_code)
        return ProviderError(
            f"{self.name}: {call} answered {response.status_code} with a body of {size / mib:.0f}"
            f" MiB or more, above the limit of {self.max_response_bytes / mib:g} MiB (raise "
            f"providers.{self.name}.max_response_mb if the platform really answers this much)",
            platform=self.platform, call=call, status=response.status_code,
        )


class NonFinite(ValueError):
    """A JSON body holding NaN, Infinity or a number too large for a float."""


def strict_json(content: bytes) -> Any:
    """The parsed body; NonFinite for a number JSON cannot carry, ValueError when not JSON."""
    return json.loads(content, parse_constant=_no_constant, parse_float=_finite_float)


def _no_constant(word: str) -> Any:
    raise NonFinite(f"a bare {word}")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NonFinite(f"the number {text[:40]}")
    return number
