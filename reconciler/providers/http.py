"""The one HTTP layer every provider adapter speaks through.

API (everything an adapter needs)::

    from reconciler.providers.http import (
        ApiClient, RetryPolicy, OutcomeUnknown, UsesApiClient, bearer_auth, datallog_auth,
        api_key_auth, aip_error, outlit_error, datallog_error, detail_error, create_once,
        run_concurrently,
    )

    client = ApiClient(
        config,                    # ProviderConfig: base_url, timeout, parallelism, max_retries
        platform="workspace",      # named in every error
        auth=bearer_auth(config),  # headers; "sandbox" placeholder when base_url is sandbox
        error_parser=aip_error,    # the platform's error shape -> ParsedError
        transport=transport,       # httpx.AsyncBaseTransport; default: aiohttp (transport.py)
        default_base_url=None,     # used when the project file sets no base_url
        path_params={"organization_id": "o1"},  # filled into every template
        retry=RetryPolicy(),       # backoff; tests pass RetryPolicy(base=0.01)
    )
    body = await client.call("GET", "/api/automations/{id}", id="a1", params={...})
    body = await client.call("POST", "/api/automations", json={...}, idempotent=False)
    response = await client.send("GET", template, ...)   # the httpx.Response, not parsed
    items = await client.list_by_token(template, items_key="automations", page_size=1000)
    items = await client.list_by_cursor(template, items=lambda b: ..., next_cursor=lambda b: ...)
    items = await client.list_by_offset(template, items_key="items", limit=1000)
    async with client.stream_lines("GET", template, ...) as lines: ...  # a streamed answer
    with client.recording() as calls: ...  # calls made in this task (and its children)
    client.request_counts()                # {"GET /api/automations/{id}": 3, ...}
    await client.aclose()
    client.page_size_cap = 2               # tests: cross page boundaries with few objects
    await run_concurrently(jobs, workers=16)  # task group raising the first error, not a group
    class MyProvider(UsesApiClient): ...   # request_counts() and aclose() from self.client

* Templates are paths with ``{name}`` placeholders; values come from ``path_params`` of the
  client and keyword arguments of the call, are percent-encoded, and requests are accounted
  by ``METHOD template`` (never by the expanded path), so counts do not leak ids.
* Concurrency per client is bounded by ``config.parallelism`` (a CapacityLimiter held only
  while a request is on the wire, not while backing off).
* Retries: 429, 502, 503, 504 and transport errors, with exponential backoff and full jitter,
  honouring ``Retry-After`` (seconds or an HTTP date), at most ``config.max_retries`` times;
  then a ProviderError saying how many attempts were made and what the last answer was.
* A call marked ``idempotent=False`` (a create) is retried only when the request certainly
  did not take effect: a connect error, or a 429/503 answer. A read timeout, a dropped
  connection after sending, or a 502/504 raises ``OutcomeUnknown``: the adapter must re-read by
  natural key before sending again. ``create_once(send, find)`` does exactly that.
* Every error answer becomes one ``ProviderError`` carrying platform, call (``METHOD
  template``), status, the platform's own message, its code and details, and the correlation
  id (from the body or an ``x-request-id`` / ``x-correlation-id`` header).
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import http.cookiejar
import random
import time
from collections import Counter
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import anyio
import anyio.lowlevel
import httpx

from reconciler.config import SANDBOX_BASE_URL, interpolate
from reconciler.errors import ProviderError
from reconciler.providers.platform_shapes import (
    Auth,
    ErrorParser,
    ParsedError,
    aip_error,
    api_key_auth,
    bearer_auth,
    datallog_auth,
    datallog_error,
    detail_error,
    fallback_message,
    outlit_error,
)

if TYPE_CHECKING:
    from reconciler.config import ProviderConfig

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# answers that prove the server did not act on the request, so even a create may be re-sent
NOT_PROCESSED_STATUSES = frozenset({429, 503})
SANDBOX_ORIGIN = "http://sandbox"
CORRELATION_HEADERS = ("x-correlation-id", "x-request-id", "request-id", "x-amzn-requestid")

T = TypeVar("T")


class OutcomeUnknown(ProviderError):
    """A non-idempotent call was sent but no answer came back: it may or may not have happened."""


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between attempts: ``base * 2**attempt`` with full jitter, capped."""

    base: float = 0.5  # seconds before the first retry (upper bound of the jittered wait)
    cap: float = 30.0  # no backoff wait is longer
    max_retry_after: float = 300.0  # a longer Retry-After is an outage: wait this long at most
    jitter: bool = True

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based) without a Retry-After."""
        ceiling = min(self.cap, self.base * (2**attempt))
        return random.uniform(ceiling / 2, ceiling) if self.jitter else ceiling


# --- the client ------------------------------------------------------------------------------

_recording: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "reconciler_http_recording", default=None
)


def expand(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with each ``{name}`` replaced by its percent-encoded value."""
    try:
        return template.format_map({k: quote(str(v), safe="") for k, v in values.items()})
    except KeyError as missing:
        raise ValueError(f"no value for {missing} in {template}") from None


class _NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing: platforms are called with credentials, not sessions."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


class ApiClient:
    """One platform's HTTP client: auth, timeouts, bounded concurrency, retries, errors."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        platform: str,
        auth: Auth,
        error_parser: ErrorParser,
        transport: httpx.AsyncBaseTransport | None = None,
        default_base_url: str | None = None,
        path_params: Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.platform = platform
        self.max_retries = max(0, int(config.max_retries))
        self.retry = retry or RetryPolicy()
        self.path_params = dict(path_params or {})
        # lowers every list's page size (tests use it to cross page boundaries with few objects)
        self.page_size_cap: int | None = None
        self._parse_error = error_parser
        self._counts: Counter[str] = Counter()
        self.parallelism = max(1, int(config.parallelism))
        self._limiter = anyio.CapacityLimiter(self.parallelism)
        # `${env:NAME}` may stand in base_url too; resolved only now that a request is coming
        where = f"providers.{config.name}.base_url"
        base_url = interpolate(config.base_url or default_base_url, config.position, where)
        if not base_url:
            from reconciler.errors import ConfigError

            raise ConfigError(f"{config.position}: providers.{config.name}.base_url is required")
        if base_url == SANDBOX_BASE_URL:
            if transport is None:
                from reconciler.sandbox import in_process_transport

                transport = in_process_transport(config.sandbox_db)
            base_url = SANDBOX_ORIGIN
        timeout = float(config.timeout)
        parallel = self.parallelism
        limits = httpx.Limits(max_connections=parallel, max_keepalive_connections=parallel)
        self._base_url = base_url.rstrip("/")
        if transport is None:
            # imported here: commands that never reach a platform do not pay for loading it
            from reconciler.providers.transport import AiohttpTransport

            transport = AiohttpTransport(limits=limits)
        self._client = httpx.AsyncClient(
            base_url=self._base_url,
            headers={**auth, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=limits,
            transport=transport,
            # an API client sends what the project sets, never what a server asked it to keep
            cookies=_NoCookies(),
        )

    # accounting ----------------------------------------------------------------------------

    def request_counts(self) -> dict[str, int]:
        """Requests sent so far (every attempt), keyed by ``METHOD /path/template``."""
        return dict(self._counts)

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[str]]:
        """Collect the distinct calls (``METHOD template``) made inside the block, in order."""
        calls: list[str] = []
        token = _recording.set(calls)
        try:
            yield calls
        finally:
            _recording.reset(token)

    # requests ------------------------------------------------------------------------------

    async def call(self, method: str, template: str, *, params: Mapping[str, Any] | None = None,
                   json: Any = None, idempotent: bool | None = None,
                   **path_values: Any) -> Any:
        """Send with retries and return the parsed JSON body ({} for an empty body)."""
        response = await self.send(method, template, params=params, json=json,
                                   idempotent=idempotent, **path_values)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise ProviderError(
                f"{self.platform}: {method} {template} answered {response.status_code} "
                "with a body that is not JSON",
                platform=self.platform, call=f"{method} {template}",
                status=response.status_code, platform_message=fallback_message(response),
            ) from None

    async def send(self, method: str, template: str, *, params: Mapping[str, Any] | None = None,
                   json: Any = None, idempotent: bool | None = None,
                   **path_values: Any) -> httpx.Response:
        """Send with retries; the successful (2xx) response or a ProviderError."""
        method = method.upper()
        if idempotent is None:
            idempotent = method != "POST"
        call = f"{method} {template}"
        # built once, outside the limiter: a slot is held only while the request is on the wire
        request = self._client.build_request(method, self._url(template, params, path_values),
                                             json=json)
        recorded = _recording.get()
        if recorded is not None:
            recorded.append(call)
        attempt = 0
        while True:
            wait: float | None = None
            try:
                async with self._limiter:
                    self._counts[call] += 1
                    response = await self._client.send(request)
                # let a request waiting for the freed slot go out before this answer is used
                await anyio.lowlevel.cancel_shielded_checkpoint()
            except httpx.LocalProtocolError as exc:
                # refused before sending; its text may quote a header (a credential): never shown
                raise ProviderError(
                    f"{self.platform}: {call}: the request could not be built "
                    f"({type(exc).__name__}); check the provider's settings",
                    platform=self.platform, call=call,
                ) from None
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if sent and not idempotent:
                    raise OutcomeUnknown(
                        f"{self.platform}: {call}: no answer after the request was sent "
                        f"({type(exc).__name__}); it may or may not have taken effect",
                        platform=self.platform, call=call, platform_message=str(exc),
                    ) from exc
                if attempt >= self.max_retries:
                    raise ProviderError(
                        f"{self.platform}: {call} failed after {attempt + 1} attempt(s): "
                        f"{type(exc).__name__} {exc}".rstrip(),
                        platform=self.platform, call=call, platform_message=str(exc),
                    ) from exc
            else:
                if response.is_success:
                    return response
                status = response.status_code
                retryable = status in RETRYABLE_STATUSES
                if retryable and not idempotent and status not in NOT_PROCESSED_STATUSES:
                    raise self._error(response, call, OutcomeUnknown,
                                      note="; it may or may not have taken effect")
                if not retryable:
                    raise self._error(response, call)
                if attempt >= self.max_retries:
                    raise self._error(
                        response, call, note=f" (gave up after {attempt + 1} attempt(s))"
                    )
                wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is None:
                wait = self.retry.backoff(attempt)
            else:
                wait = min(wait, self.retry.max_retry_after)
            await anyio.sleep(wait)
            attempt += 1

    def _url(self, template: str, params: Mapping[str, Any] | None,
             path_values: Mapping[str, Any]) -> httpx.URL:
        """The absolute URL of one call, parsed once (httpx would parse a relative one thrice)."""
        url = self._base_url + expand(template, {**self.path_params, **path_values})
        query = {name: value for name, value in (params or {}).items() if value is not None}
        if query:
            url += "?" + str(httpx.QueryParams(query))
        return httpx.URL(url)

    @contextlib.asynccontextmanager
    async def stream_lines(self, method: str, template: str, *,
                           params: Mapping[str, Any] | None = None,
                           **path_values: Any) -> AsyncIterator[AsyncIterator[str]]:
        """Open a streamed answer (e.g. ``text/event-stream``) and yield its lines as they come.

        Not retried (a stream is followed once); no read timeout, since a stream may be quiet
        for a long time; an error answer raises the same ProviderError as ``send``.
        """
        method = method.upper()
        call = f"{method} {template}"
        url = self._url(template, params, path_values)
        self._counts[call] += 1
        recorded = _recording.get()
        if recorded is not None:
            recorded.append(call)
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
                yield response.aiter_lines()
        except httpx.LocalProtocolError:
            raise ProviderError(
                f"{self.platform}: {call}: the request could not be built; "
                "check the provider's settings",
                platform=self.platform, call=call,
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError(
                f"{self.platform}: {call}: the stream broke off ({type(exc).__name__} {exc})",
                platform=self.platform, call=call, platform_message=str(exc),
            ) from exc

    def _error(self, response: httpx.Response, call: str,
               cls: type[ProviderError] = ProviderError, note: str = "") -> ProviderError:
        parsed = self._parse_error(response)
        correlation = parsed.correlation_id or next(
            (response.headers[h] for h in CORRELATION_HEADERS if h in response.headers), None
        )
        words = f"{parsed.code}: {parsed.message}" if parsed.code else parsed.message
        message = f"{self.platform}: {call} answered {response.status_code} {words}{note}"
        if correlation:
            message += f" [correlation id {correlation}]"
        return cls(message, platform=self.platform, call=call, status=response.status_code,
                   platform_message=parsed.message, correlation_id=correlation,
                   code=parsed.code, details=parsed.details)

    # pagination ----------------------------------------------------------------------------

    async def list_by_token(self, template: str, *, items_key: str, page_size: int,
                            params: Mapping[str, Any] | None = None,
                            **path_values: Any) -> list[Any]:
        """Every item of an AIP-158 list (``page_size``/``page_token``/``next_page_token``)."""
        items: list[Any] = []
        token: str | None = None
        while True:
            query = {**(params or {}), "page_size": self._capped(page_size), "page_token": token}
            body = await self.call("GET", template, params=query, **path_values)
            items.extend(body.get(items_key) or [])
            token = body.get("next_page_token") or None
            if not token:
                return items

    async def list_by_cursor(self, template: str, *, items: Callable[[Any], list[Any]],
                             next_cursor: Callable[[Any], str | None], limit: int,
                             params: Mapping[str, Any] | None = None,
                             **path_values: Any) -> list[Any]:
        """Every item of a ``limit``/``cursor`` list; ``next_cursor(body)`` is None at the end."""
        found: list[Any] = []
        cursor: str | None = None
        while True:
            query = {**(params or {}), "limit": self._capped(limit), "cursor": cursor}
            body = await self.call("GET", template, params=query, **path_values)
            found.extend(items(body) or [])
            cursor = next_cursor(body)
            if not cursor:
                return found

    async def list_by_offset(self, template: str, *, items_key: str, limit: int,
                             params: Mapping[str, Any] | None = None, total_key: str = "total",
                             max_items: int | None = None, **path_values: Any) -> list[Any]:
        """Every item of a ``limit``/``offset`` list answering ``{items_key: [...], total}``."""
        found: list[Any] = []
        limit = self._capped(limit)
        while True:
            query = {**(params or {}), "limit": limit, "offset": len(found)}
            body = await self.call("GET", template, params=query, **path_values)
            page = body.get(items_key) or []
            found.extend(page)
            total = body.get(total_key)
            done = not page or len(page) < limit or (total is not None and len(found) >= total)
            if max_items is not None and len(found) >= max_items:
                return found[:max_items]
            if done:
                return found

    def _capped(self, size: int) -> int:
        return min(size, self.page_size_cap) if self.page_size_cap else size

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


class UsesApiClient:
    """The two Provider methods every adapter answers from its ``ApiClient`` alone."""

    client: ApiClient

    def request_counts(self) -> Mapping[str, int]:
        """Requests made so far, keyed by ``METHOD /path/template``."""
        return self.client.request_counts()

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()


async def run_concurrently(
    jobs: Iterable[Callable[[], Coroutine[Any, Any, Any]]], *, workers: int | None = None
) -> None:
    """Run the jobs concurrently (the client's limiter bounds what is on the wire).

    With ``workers``, that many tasks take jobs in turn, so thousands of jobs never wait as
    thousands of tasks holding their state at once: memory stays flat as the world grows.
    The first failure cancels the rest and is raised as itself, not as an exception group, so
    the user sees one clear ProviderError.
    """
    pending = iter(jobs)

    async def worker() -> None:
        for job in pending:  # one shared iterator: each job is taken exactly once
            await job()

    try:
        async with anyio.create_task_group() as group:
            if workers is None:
                for job in pending:
                    group.start_soon(job)
            else:
                for _ in range(max(1, workers)):
                    group.start_soon(worker)
    except BaseExceptionGroup as group_error:
        raise _first_leaf(group_error) from None


def _first_leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = next(
            (e for e in error.exceptions if not isinstance(e, anyio.get_cancelled_exc_class())),
            error.exceptions[0],
        )
    return error


async def create_once(
    send: Callable[[], Awaitable[T]],
    find: Callable[[], Awaitable[T | None]],
    *,
    attempts: int = 3,
) -> T:
    """Send a create; if its outcome is unknown, look for the object by natural key first.

    ``find`` returns the object if it exists (the create took effect) or None (safe to send
    again). No object is ever created twice by this function.
    """
    last: OutcomeUnknown | None = None
    for _ in range(max(1, attempts)):
        if last is not None:
            existing = await find()
            if existing is not None:
                return existing
        try:
            return await send()
        except OutcomeUnknown as exc:
            last = exc
    existing = await find()
    if existing is not None:
        return existing
    assert last is not None
    raise last


__all__ = [
    "ApiClient",
    "Auth",
    "ErrorParser",
    "OutcomeUnknown",
    "ParsedError",
    "RetryPolicy",
    "UsesApiClient",
    "aip_error",
    "api_key_auth",
    "bearer_auth",
    "create_once",
    "datallog_auth",
    "datallog_error",
    "detail_error",
    "expand",
    "outlit_error",
    "retry_after_seconds",
    "run_concurrently",
]
