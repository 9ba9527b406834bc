"""A streamed answer (``text/event-stream``) read line by line as it comes."""

from __future__ import annotations

import codecs
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from reconciler.errors import ProviderError

MAX_EVENT_BYTES = 1024 * 1024  # one line, and one event, of a streamed answer


class Streams:
    """The streamed call of ``ApiClient``."""

    name: str
    platform: str
    max_response_bytes: int
    _client: httpx.AsyncClient

    if TYPE_CHECKING:  # given by ApiClient

        def _url(self, template: str, params: Mapping[str, Any] | None,
                 path_values: Mapping[str, Any]) -> httpx.URL: ...

        def _note(self, call: str) -> None: ...

        def _too_large(self, call: str, response: httpx.Response, size: int,
                       what: str = "") -> ProviderError: ...

        def _error(self, response: httpx.Response, call: str,
                   cls: type[ProviderError] = ProviderError, note: str = "") -> ProviderError: ...

    @contextlib.asynccontextmanager
    async def stream_lines(self, method: str, template: str, *,
                           params: Mapping[str, Any] | None = None,
                           **path_values: Any) -> AsyncIterator[AsyncIterator[str]]:
        """Open a streamed answer (e.g. ``text/event-stream``) and yield its lines as they come.

        Not retried (a stream is followed once); no read timeout, since a stream may be quiet
        for a long time; an error answer raises the same ProviderError as ``send``. A line
        longer than ``MAX_EVENT_BYTES``, or a stream longer than ``max_response_mb``, is a
        ProviderError naming the call: a stream is bounded like any answer.
        """
        method = method.upper()
        call = f"{method} {template}"
        url = self._url(template, params, path_values)
        self._note(call)
        timeout = self._client.timeout
        try:
            async with self._client.stream(
                method, url,
                headers={"Accept": "text/event-stream"},
                timeout=httpx.Timeout(timeout.connect, connect=timeout.connect, read=None),
            ) as response:
                if not response.is_success:
                    await response.aread()
                    raise self._error(response, call)
                yield self._bounded_lines(response, call)
        except httpx.LocalProtocolError:
            raise ProviderError(
                f"{self.name}: {call}: the request could not be built; "
                "check the provider's settings",
                platform=self.platform, call=call,
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError(
                f"{self.name}: {call}: the stream broke off ({type(exc).__name__} {exc})",
                platform=self.platform, call=call, platform_message=str(exc),
            ) from exc

    async def _bounded_lines(self, response: httpx.Response, call: str) -> AsyncIterator[str]:
        """The lines of a streamed answer (without their ``\n``), never holding more than
        ``MAX_EVENT_BYTES`` of one line nor reading more than ``max_response_bytes`` in all."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_response_bytes:
                raise self._too_large(call, response, size, "stream")
            *lines, pending = (pending + decoder.decode(chunk)).split("\n")
            for line in lines:
                yield line
            if len(pending) > MAX_EVENT_BYTES:
                raise self._too_large(call, response, len(pending), "line")
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending
