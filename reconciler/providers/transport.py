"""The wire under ``httpx.AsyncClient`` for real platforms: aiohttp's connection pool and parser.

httpx stays the interface every adapter sees (requests, responses, errors, test transports);
this transport only moves the bytes. httpx's own pool costs about 1.3 ms of CPU per request,
aiohttp's C parser and pool about half of that, and at a parallelism of 8 against a 20 ms API
that difference is most of the distance from the API-bound limit (see ``bench/read_scale.py``).

What the retry logic of ``reconciler.providers.http`` relies on is kept exact:

* ``httpx.ConnectError`` / ``httpx.ConnectTimeout`` only when nothing was sent (the connection
  was never made), so a create may be re-sent;
* everything that can happen after the request left (a dropped connection, a short body, a read
  timeout) is a ``httpx.ReadError``, ``httpx.RemoteProtocolError`` or ``httpx.ReadTimeout``: its
  outcome is unknown;
* a request that cannot be built is ``httpx.LocalProtocolError``, whose text is never shown (it
  could quote a header, and a header can hold a credential).

Bodies are passed through as received (httpx decodes gzip itself), redirects are not followed,
the URL is sent exactly as httpx encoded it, and the platform's cookies are neither kept nor sent
back. Proxies come from ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` as with
httpx; nothing else is read from the environment (no ``.netrc``: credentials come only from the
project's settings).
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx
import yarl

CHUNK_SIZE = 64 * 1024
# request headers aiohttp computes itself from the body it is given
_FRAMING_HEADERS = frozenset({"transfer-encoding"})


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """Raise aiohttp's errors as the httpx error that says whether the request left."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc)) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(_connect_failure(exc)) from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "timed out waiting for the answer") from exc
    except aiohttp.ServerDisconnectedError as exc:
        raise httpx.RemoteProtocolError(str(exc) or "server disconnected") from exc
    except aiohttp.ClientPayloadError as exc:
        raise httpx.ReadError("the answer was cut off before its end") from exc
    except aiohttp.ClientResponseError as exc:
        raise httpx.RemoteProtocolError(f"malformed answer ({exc.status})") from exc
    except aiohttp.InvalidURL:
        raise httpx.UnsupportedProtocol("the URL cannot be requested") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise httpx.ReadError(str(exc) or type(exc).__name__) from exc


def _connect_failure(exc: aiohttp.ClientConnectorError) -> str:
    """Why a connection could not be made, in plain words (aiohttp's text names ``ssl:default``
    even for an http URL, and repeats the address)."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "the host name does not resolve"
    cause = exc.os_error
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, TimeoutError):
        return "connecting timed out"
    return (cause.strerror or str(cause) or type(cause).__name__).lower()


class _AnswerStream(httpx.AsyncByteStream):
    """The body of one aiohttp answer, chunk by chunk, with errors as httpx's."""

    def __init__(self, answer: aiohttp.ClientResponse) -> None:
        self._answer = answer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._answer.content.iter_chunked(CHUNK_SIZE):
                yield chunk

    async def aclose(self) -> None:
        # releases the connection to the pool when the body was read whole, else closes it
        self._answer.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport over one ``aiohttp.ClientSession`` (HTTP/1.1, kept-alive)."""

    def __init__(self, *, limits: httpx.Limits) -> None:
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}
        self._tls: ssl.SSLContext | None = None

    def _open(self) -> aiohttp.ClientSession:
        # made on first use: aiohttp needs the running event loop
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                limit_per_host=0,
                keepalive_timeout=self._limits.keepalive_expiry or 5.0,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, trust_env=False, auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    def _tls_for(self, url: httpx.URL) -> ssl.SSLContext | bool:
        """httpx's TLS context (its CA bundle, ``SSL_CERT_FILE``) for https; made once, lazily."""
        if url.scheme != "https":
            return True
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls

    def _proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy the environment names for this URL's scheme and host, or None."""
        key = (url.scheme, url.host)
        if key not in self._proxies:
            proxies = urllib.request.getproxies()
            proxy = proxies.get(url.scheme) or proxies.get("all")
            if proxy and urllib.request.proxy_bypass(url.host):
                proxy = None
            self._proxies[key] = proxy or None
        return self._proxies[key]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        headers = [(name, value) for name, value in request.headers.multi_items()
                   if name.lower() not in _FRAMING_HEADERS]
        url = yarl.URL(str(request.url), encoded=True)
        session = self._open()
        try:
            with _as_httpx_errors():
                answer = await session.request(
                    request.method, url, headers=headers, data=body or None,
                    allow_redirects=False, proxy=self._proxy_for(request.url),
                    ssl=self._tls_for(request.url),
                    timeout=aiohttp.ClientTimeout(
                        total=None, connect=None,
                        sock_connect=timeout.get("connect"), sock_read=timeout.get("read"),
                    ),
                )
        except ValueError:
            # aiohttp refused a header or URL it cannot send; its text may quote a credential
            raise httpx.LocalProtocolError("the request could not be built") from None
        extensions = {"http_version": b"HTTP/1.1"}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode("latin-1", "replace")
        return httpx.Response(
            status_code=answer.status,
            headers=answer.raw_headers,
            stream=_AnswerStream(answer),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
