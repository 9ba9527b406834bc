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
        notify=lines.append,       # where the retry lines go (default: stderr)
    )
    with command_deadline(600, "--deadline 10m"): ...  # every call inside ends in time
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
  honouring ``Retry-After`` (seconds or an HTTP date) up to ``config.max_retry_after``, at most
  ``config.max_retries`` times, each announced by one line through ``notify`` (stderr by
  default); then a ProviderError saying how many attempts were made and what the last answer
  was. A refused connection to a loopback address is not retried (nothing listens there).
* Time: ``config.timeout`` bounds one attempt, connect to last byte; ``config.deadline`` the
  whole call; ``command_deadline(seconds)`` every call made inside it. A wait that would pass
  a deadline is not started.
* Answers: at most ``config.max_response_mb`` of (decoded) body is read; a body lying about its
  ``Content-Encoding`` or not JSON is a ProviderError naming the call; a list page must be a
  JSON object, and a list whose token or cursor repeats, whose offset pages repeat, or that
  passes ``max_pages`` / ``max_list_items`` is an error naming the call.
* A call marked ``idempotent=False`` (a create) is retried only when the request certainly
  did not take effect: a connect error, or a 429/503 answer. A read timeout, a dropped
  connection after sending, or a 502/504 raises ``OutcomeUnknown``: the adapter must re-read by
  natural key before sending again. ``create_once(send, find)`` does exactly that.
* Messages start with the provider instance (``studio: ...``), not its type.
* Every error answer becomes one ``ProviderError`` carrying platform, call (``METHOD
  template``), status, the platform's own message, its code and details, and the correlation
  id (from the body or an ``x-request-id`` / ``x-correlation-id`` header).
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import email.utils
import http.cookiejar
import json as json_module
import math
import random
import re
import sys
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
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import quote

import anyio
import anyio.lowlevel
import httpx

from reconciler import __version__
from reconciler.config import SANDBOX_BASE_URL, interpolate
from reconciler.errors import ProviderError
from reconciler.providers.answers import Shape, check_answer
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

USER_AGENT = f"reconciler/{__version__}"
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
MAX_PAGES = 10_000  # pages of one list: a list that does not end is an error past this
MAX_LIST_ITEMS = 1_000_000  # items of one list
MAX_EVENT_BYTES = 1024 * 1024  # one line, and one event, of a streamed answer
# answers that prove the server did not act on the request, so even a create may be re-sent
NOT_PROCESSED_STATUSES = frozenset({429, 503})
SANDBOX_ORIGIN = "http://sandbox"
_ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
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
# the moment (time.monotonic) by which the whole command must be done, when one is set
_command_end: contextvars.ContextVar[tuple[float, str] | None] = contextvars.ContextVar(
    "reconciler_command_deadline", default=None
)


@contextlib.contextmanager
def command_deadline(seconds: float | None, label: str = "") -> Iterator[None]:
    """Every call made inside the block (and its tasks) ends by ``seconds`` from now.

    ``label`` is how errors name the limit (e.g. ``--deadline 10m``). None sets no limit.
    """
    if seconds is None:
        yield
        return
    token = _command_end.set((time.monotonic() + seconds, label or f"deadline {seconds:g} s"))
    try:
        yield
    finally:
        _command_end.reset(token)


def expand(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with each ``{name}`` replaced by its percent-encoded value."""
    try:
        return template.format_map({k: quote(str(v), safe="") for k, v in values.items()})
    except KeyError as missing:
        raise ValueError(f"no value for {missing} in {template}") from None


def _to_stderr(line: str) -> None:
    """Where the retry lines go by default: stderr, looked up now (tests and CLIs swap it)."""
    print(line, file=sys.stderr, flush=True)


def _credential_hint(config: ProviderConfig) -> str:
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


def _seconds(value: float) -> str:
    """``0.469`` -> ``0.5``, ``30.0`` -> ``30``, ``3600`` -> ``3600``: a wait as people read it."""
    return f"{round(value, 1):g}"


def _failure_words(exc: httpx.TransportError) -> str:
    """A transport failure in a few words, e.g. ``ConnectError: connection refused``."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _refused(exc: BaseException) -> bool:
    """True when a connection attempt was refused (nothing listens there)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _excerpt_note(response: httpx.Response) -> str:
    excerpt = fallback_message(response)
    return f" ({excerpt})" if response.content and excerpt else ""


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
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.platform = platform  # the provider type, e.g. "workspace"
        self.name = config.name or platform  # the provider instance, named in every message
        self.max_retries = max(0, int(config.max_retries))
        self.retry = retry or RetryPolicy()
        self.timeout = float(config.timeout)  # one attempt, connect to last byte
        self.deadline = float(config.deadline)  # one call, every attempt and wait included
        self.max_retry_after = min(float(config.max_retry_after), self.retry.max_retry_after)
        self.max_response_bytes = int(float(config.max_response_mb) * 1024 * 1024)
        self.max_pages = MAX_PAGES
        self.max_list_items = MAX_LIST_ITEMS
        self.notify: Callable[[str], None] = notify or _to_stderr
        self.path_params = dict(path_params or {})
        # lowers every list's page size (tests use it to cross page boundaries with few objects)
        self.page_size_cap: int | None = None
        # what the adapter needs each call's answer to hold (answers.py), set by the adapter
        self.answers: Mapping[str, Shape] = {}
        self._credential_hint = _credential_hint(config)
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
        timeout = self.timeout
        parallel = self.parallelism
        limits = httpx.Limits(max_connections=parallel, max_keepalive_connections=parallel)
        self._base_url = base_url.rstrip("/")
        self.base_url = base_url if base_url != SANDBOX_ORIGIN else SANDBOX_BASE_URL
        host = httpx.URL(self._base_url).host
        self._loopback = host in ("localhost", "::1") or host.startswith("127.")
        if transport is None:
            # imported here: commands that never reach a platform do not pay for loading it
            from reconciler.providers.transport import AiohttpTransport

            transport = AiohttpTransport(limits=limits)
        self._client = httpx.AsyncClient(
            base_url=self._base_url,
            # platforms (and the strict sandbox) can tell our calls from anyone else's
            headers={**auth, "Accept": "application/json", "User-Agent": USER_AGENT},
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
        call = f"{method.upper()} {template}"
        body = self._json(response, call, empty="{}")
        if call in self.answers and response.content:
            check_answer(self, call, body, self.answers[call])
        return body

    def _json(self, response: httpx.Response, call: str, *, empty: str) -> Any:
        """The body as JSON; an empty body is ``{}`` (``empty="{}"``) or an error (``"error"``)."""
        if not response.content:
            if empty == "{}":
                return {}
            raise self._shape_error(call, response, "an empty body where a list was expected")
        try:
            return json_module.loads(response.content, parse_constant=_no_constant,
                                     parse_float=_finite_float)
        except _NonFinite as exc:
            raise self._shape_error(call, response, f"{exc}, a number JSON cannot carry") from None
        except (ValueError, RecursionError):
            raise self._shape_error(call, response, "a body that is not JSON") from None

    def _shape_error(self, call: str, response: httpx.Response, what: str) -> ProviderError:
        return ProviderError(
            f"{self.name}: {call} answered {response.status_code} with {what}"
            f"{_excerpt_note(response)}",
            platform=self.platform, call=call, status=response.status_code,
            platform_message=fallback_message(response),
        )

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
        call_end: float | None = None  # set when the first attempt goes out
        maybe_done = False  # an earlier attempt may have taken effect on the server
        while True:
            wait: float | None = None
            what: str  # the failure of this attempt, for the retry line
            try:
                async with self._limiter:
                    now = time.monotonic()
                    if call_end is None:
                        call_end = now + self.deadline
                    end, limit = self._end(call_end)
                    if end - now <= 0:
                        raise self._deadline_error(call, limit, attempt)
                    self._counts[call] += 1
                    response = await self._attempt(request, call, min(self.timeout, end - now))
                # let a request waiting for the freed slot go out before this answer is used
                await anyio.lowlevel.cancel_shielded_checkpoint()
            except httpx.LocalProtocolError as exc:
                # refused before sending; its text may quote a header (a credential): never shown
                raise ProviderError(
                    f"{self.name}: {call}: the request could not be built "
                    f"({type(exc).__name__}); check the provider's settings",
                    platform=self.platform, call=call,
                ) from None
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                what = _failure_words(exc)
                if sent and not idempotent:
                    raise OutcomeUnknown(
                        f"{self.name}: {call}: no answer after the request was sent "
                        f"({what}); it may or may not have taken effect",
                        platform=self.platform, call=call, platform_message=what,
                    ) from exc
                maybe_done = maybe_done or sent
                if not sent and self._loopback and _refused(exc):
                    raise ProviderError(
                        f"{self.name}: cannot connect to {self.base_url} (connection refused): "
                        "is the server running?", platform=self.platform, call=call,
                        platform_message=what,
                    ) from None
                if attempt >= self.max_retries:
                    raise ProviderError(
                        f"{self.name}: {call} at {self.base_url} failed after {attempt + 1} "
                        f"attempt(s): {what}", platform=self.platform, call=call,
                        platform_message=what,
                    ) from None
            else:
                if response.is_success:
                    return response
                status = response.status_code
                if status == 404 and method == "DELETE" and maybe_done:
                    # an earlier DELETE took effect and its answer was lost: the object is gone
                    return httpx.Response(204, request=request)
                retryable = status in RETRYABLE_STATUSES
                if retryable and not idempotent and status not in NOT_PROCESSED_STATUSES:
                    raise self._error(response, call, OutcomeUnknown,
                                      note="; it may or may not have taken effect")
                if not retryable:
                    raise self._error(response, call)
                maybe_done = maybe_done or status not in NOT_PROCESSED_STATUSES
                if attempt >= self.max_retries:
                    raise self._error(
                        response, call, note=f" (gave up after {attempt + 1} attempt(s))"
                    )
                what = str(status)
                wait = retry_after_seconds(response.headers.get("Retry-After"))
            retry = f"retry {attempt + 1}/{self.max_retries}"
            if wait is None:
                wait = self.retry.backoff(attempt)
                line = f"{self.name}: {what} on {call}, {retry} in {_seconds(wait)} s"
            else:
                asked = wait
                wait = min(wait, self.max_retry_after)
                capped = f" {_seconds(asked)} s, capped" if wait < asked else ""
                line = (f"{self.name}: {what} on {call}, waiting {_seconds(wait)} s "
                        f"(Retry-After{capped}), {retry}")
            end, limit = self._end(call_end or time.monotonic())
            if time.monotonic() + wait >= end:
                raise self._deadline_error(call, limit, attempt,
                                           f"{what}, and {retry} would wait {_seconds(wait)} s")
            self.notify(line)
            await anyio.sleep(wait)
            attempt += 1

    def _end(self, call_end: float) -> tuple[float, str]:
        """The earlier of this call's deadline and the command's, with how to name it."""
        command = _command_end.get()
        if command is not None and command[0] < call_end:
            return command
        return call_end, f"the call's deadline of {self.deadline:g} s"

    def _deadline_error(self, call: str, limit: str, attempt: int,
                        why: str = "") -> ProviderError:
        reason = f"{why}, past {limit}" if why else f"{limit} passed"
        return ProviderError(
            f"{self.name}: {call} gave up after {attempt + 1} attempt(s): {reason}",
            platform=self.platform, call=call,
        )

    async def _attempt(self, request: httpx.Request, call: str, seconds: float) -> httpx.Response:
        """One request and its whole answer within ``seconds`` (a trickling server included)."""
        response: httpx.Response | None = None
        try:
            with anyio.fail_after(seconds):
                response = await self._client.send(request, stream=True)
                await self._read_body(response, call)
            return response
        except TimeoutError:
            raise httpx.ReadTimeout(f"no complete answer within {_seconds(seconds)} s",
                                    request=request) from None
        finally:
            if response is not None and not response.is_closed:
                await response.aclose()

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
        for a long time; an error answer raises the same ProviderError as ``send``. A line
        longer than ``MAX_EVENT_BYTES``, or a stream longer than ``max_response_mb``, is a
        ProviderError naming the call: a stream is bounded like any answer.
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
                yield self._bounded_lines(response, call)
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

    def _error(self, response: httpx.Response, call: str,
               cls: type[ProviderError] = ProviderError, note: str = "") -> ProviderError:
        parsed = self._parse_error(response)
        correlation = parsed.correlation_id or next(
            (response.headers[h] for h in CORRELATION_HEADERS if h in response.headers), None
        )
        words = f"{parsed.code}: {parsed.message}" if parsed.code else parsed.message
        message = f"{self.name}: {call} answered {response.status_code} {words}{note}"
        if response.status_code in (401, 403):
            message += f"; {self._credential_hint}"
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
        pages = _Pages(self, template)
        token: str | None = None
        while True:
            query = {**(params or {}), "page_size": self._capped(page_size), "page_token": token}
            body = await self._page(template, query, path_values)
            pages.add(pages.take(body, lambda b: b.get(items_key) or []))
            token = pages.next(body.get("next_page_token") or None, "next_page_token")
            if not token:
                return pages.items

    async def list_by_cursor(self, template: str, *, items: Callable[[Any], list[Any]],
                             next_cursor: Callable[[Any], str | None], limit: int,
                             params: Mapping[str, Any] | None = None,
                             **path_values: Any) -> list[Any]:
        """Every item of a ``limit``/``cursor`` list; ``next_cursor(body)`` is None at the end."""
        pages = _Pages(self, template)
        cursor: str | None = None
        while True:
            query = {**(params or {}), "limit": self._capped(limit), "cursor": cursor}
            body = await self._page(template, query, path_values)
            pages.add(pages.take(body, items))
            cursor = pages.next(pages.take(body, next_cursor), "cursor")
            if not cursor:
                return pages.items

    async def list_by_offset(self, template: str, *, items_key: str, limit: int,
                             params: Mapping[str, Any] | None = None, total_key: str = "total",
                             max_items: int | None = None, **path_values: Any) -> list[Any]:
        """Every item of a ``limit``/``offset`` list answering ``{items_key: [...], total}``."""
        pages = _Pages(self, template)
        limit = self._capped(limit)
        while True:
            query = {**(params or {}), "limit": limit, "offset": len(pages.items)}
            body = await self._page(template, query, path_values)
            page = pages.take(body, lambda b: b.get(items_key) or [])
            pages.add(page, same_as_last=True)
            found = pages.items
            total = body.get(total_key)
            done = not page or len(page) < limit or (total is not None and len(found) >= total)
            if max_items is not None and len(found) >= max_items:
                return found[:max_items]
            if done:
                return found

    async def _page(self, template: str, query: Mapping[str, Any],
                    path_values: Mapping[str, Any]) -> dict[str, Any]:
        """One page of a list: a JSON object (an empty answer is an error, not "no objects")."""
        call = f"GET {template}"
        response = await self.send("GET", template, params=query, **path_values)
        body = self._json(response, call, empty="error")
        if not isinstance(body, dict):
            raise self._shape_error(call, response, f"a JSON {_json_kind(body)} where an object "
                                    "holding a list was expected")
        return body

    def _capped(self, size: int) -> int:
        return min(size, self.page_size_cap) if self.page_size_cap else size

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


class _Pages:
    """The pages of one list so far, refusing a list that does not end."""

    def __init__(self, client: ApiClient, template: str) -> None:
        self.client = client
        self.call = f"GET {template}"
        self.items: list[Any] = []
        self.count = 0
        self.markers: set[str] = set()
        self.last: list[Any] | None = None

    def take(self, body: Any, part: Callable[[Any], T]) -> T:
        """``part(body)``; an answer of the wrong shape is a ProviderError naming the call."""
        try:
            return part(body)
        except (AttributeError, KeyError, TypeError, IndexError) as exc:
            raise ProviderError(
                f"{self.client.name}: {self.call} answered a page of an unexpected shape "
                f"({type(exc).__name__}: {exc})", platform=self.client.platform, call=self.call,
            ) from None

    def add(self, page: Any, *, same_as_last: bool = False) -> None:
        if not isinstance(page, list):
            self.fail(f"a page holds a JSON {_json_kind(page)} where a list was expected")
        if same_as_last and page and page == self.last:
            self.fail(f"the page at offset {len(self.items)} repeats the one before it "
                      "(the server ignores offset?)")
        shape = self.client.answers.get(self.call)
        if shape is not None:
            for index, item in enumerate(page):
                check_answer(self.client, self.call, item, shape, f"item {len(self.items) + index}")
        self.count += 1
        self.last = page
        self.items.extend(page)
        client = self.client
        if self.count > client.max_pages or len(self.items) > client.max_list_items:
            self.fail(f"more than {client.max_pages} pages or {client.max_list_items} items")

    def next(self, marker: Any, what: str) -> str | None:
        """The next page's token or cursor, refused when it was already answered."""
        if marker is None or marker == "":
            return None
        marker = str(marker)
        if marker in self.markers:
            shown = marker if len(marker) <= 40 else marker[:37] + "..."
            self.fail(f"the same {what} {shown!r} came back a second time")
        self.markers.add(marker)
        return marker

    def fail(self, why: str) -> NoReturn:
        raise ProviderError(
            f"{self.client.name}: {self.call}: the list does not end: {why}; stopped after "
            f"{self.count} page(s) and {len(self.items)} item(s)",
            platform=self.client.platform, call=self.call,
        )


class _NonFinite(ValueError):
    """A JSON body holding NaN, Infinity or a number too large for a float."""


def _no_constant(word: str) -> Any:
    raise _NonFinite(f"a bare {word}")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NonFinite(f"the number {text[:40]}")
    return number


def _json_kind(value: Any) -> str:
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")


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


async def send_once(
    send: Callable[[], Awaitable[T]],
    find: Callable[[], Awaitable[T | None]],
    *,
    attempts: int = 3,
) -> T:
    """Send a call that must take effect once; if its outcome is unknown, read back first.

    ``find`` returns what shows the call took effect (the created object, or any value for a
    verb such as ``:publish``) or None (it did not: safe to send again). A create is never made
    twice by this function, and a verb whose answer was lost is neither failed nor repeated.
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


create_once = send_once


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
    "command_deadline",
    "create_once",
    "datallog_auth",
    "datallog_error",
    "detail_error",
    "expand",
    "outlit_error",
    "retry_after_seconds",
    "run_concurrently",
    "send_once",
]
