"""``ApiClient``: one platform's HTTP client (auth, timeouts, bounded concurrency, retries).

The list calls are in ``pages.py``, the streamed call in ``stream.py``; the error mapping in
``errors.py``; the retry policy in ``retry.py``. The package docstring is the API.
"""

from __future__ import annotations

import contextlib
import contextvars
import http.cookiejar
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import anyio
import anyio.lowlevel
import httpx

from reconciler import __version__
from reconciler.config import SANDBOX_BASE_URL, interpolate
from reconciler.errors import ProviderError
from reconciler.providers.answers import Shape, check_answer
from reconciler.providers.http.auth import Auth
from reconciler.providers.http.bodies import Bodies
from reconciler.providers.http.deadlines import command_end
from reconciler.providers.http.errors import (
    ErrorParser,
    OutcomeUnknown,
    credential_hint,
    platform_error,
)
from reconciler.providers.http.pages import MAX_LIST_ITEMS, MAX_PAGES, Lists
from reconciler.providers.http.retry import (
    NOT_PROCESSED_STATUSES,
    RETRYABLE_STATUSES,
    RetryPolicy,
    certificate_refused,
    failure_words,
    refused,
    retry_after_seconds,
    seconds_text,
)
from reconciler.providers.http.stream import Streams

if TYPE_CHECKING:
    from reconciler.config import ProviderConfig

USER_AGENT = f"reconciler/{__version__}"
SANDBOX_ORIGIN = "http://sandbox"

_recording: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "reconciler_http_recording", default=None
)


def expand(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with each ``{name}`` replaced by its percent-encoded value."""
    try:
        return template.format_map({k: quote(str(v), safe="") for k, v in values.items()})
    except KeyError as missing:
        raise ValueError(f"no value for {missing} in {template}") from None


def _to_stderr(line: str) -> None:
    """Where the retry lines go by default: stderr, looked up now (tests and CLIs swap it)."""
    print(line, file=sys.stderr, flush=True)


class _NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing: platforms are called with credentials, not sessions."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


class ApiClient(Bodies, Lists, Streams):
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
        self._credential_hint = credential_hint(config)
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

    def _note(self, call: str) -> None:
        """Account one request sent outside ``send`` (a stream), as ``send`` does."""
        self._counts[call] += 1
        recorded = _recording.get()
        if recorded is not None:
            recorded.append(call)

    # requests ------------------------------------------------------------------------------

    async def call(self, method: str, template: str, *, params: Mapping[str, Any] | None = None,
                   json: Any = None, idempotent: bool | None = None,
                   **path_values: Any) -> Any:
        """Send with retries and return the parsed JSON body ({} for an empty body)."""
        response = await self.send(method, template, params=params, json=json,
                                   idempotent=idempotent, **path_values)
        call = f"{method.upper()} {template}"
        body = self._json(response, call, empty="{}")
        if call in self.answers:  # an empty body ({}) is checked too: it lacks what is declared
            check_answer(self, call, body, self.answers[call])
        return body

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
                what = failure_words(exc)
                if sent and not idempotent:
                    raise OutcomeUnknown(
                        f"{self.name}: {call}: no answer after the request was sent "
                        f"({what}); it may or may not have taken effect",
                        platform=self.platform, call=call, platform_message=what,
                    ) from exc
                maybe_done = maybe_done or sent
                if not sent and certificate_refused(exc):
                    raise ProviderError(
                        f"{self.name}: cannot connect to {self.base_url}: the server's TLS "
                        "certificate was not accepted (not retried: retrying cannot change it); "
                        "check base_url's host name, or the certificate authorities this machine "
                        "trusts (SSL_CERT_FILE)", platform=self.platform, call=call,
                        platform_message=what,
                    ) from None
                if not sent and self._loopback and refused(exc):
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
                line = f"{self.name}: {what} on {call}, {retry} in {seconds_text(wait)} s"
            else:
                asked = wait
                wait = min(wait, self.max_retry_after)
                capped = f" {seconds_text(asked)} s, capped" if wait < asked else ""
                line = (f"{self.name}: {what} on {call}, waiting {seconds_text(wait)} s "
                        f"(Retry-After{capped}), {retry}")
            end, limit = self._end(call_end or time.monotonic())
            if time.monotonic() + wait >= end:
                raise self._deadline_error(call, limit, attempt,
                                           f"{what}, and {retry} would wait {seconds_text(wait)} s")
            self.notify(line)
            await anyio.sleep(wait)
            attempt += 1

    def _end(self, call_end: float) -> tuple[float, str]:
        """The earlier of this call's deadline and the command's, with how to name it."""
        command = command_end()
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
            raise httpx.ReadTimeout(f"no complete answer within {seconds_text(seconds)} s",
                                    request=request) from None
        finally:
            if response is not None and not response.is_closed:
                await response.aclose()

    def _url(self, template: str, params: Mapping[str, Any] | None,
             path_values: Mapping[str, Any]) -> httpx.URL:
        """The absolute URL of one call, parsed once (httpx would parse a relative one thrice)."""
        url = self._base_url + expand(template, {**self.path_params, **path_values})
        query = {name: value for name, value in (params or {}).items() if value is not None}
        if query:
            url += "?" + str(httpx.QueryParams(query))
        return httpx.URL(url)

    def _error(self, response: httpx.Response, call: str,
               cls: type[ProviderError] = ProviderError, note: str = "") -> ProviderError:
        return platform_error(response, call, name=self.name, platform=self.platform,
                              parse=self._parse_error, credential_hint=self._credential_hint,
                              cls=cls, note=note)

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
