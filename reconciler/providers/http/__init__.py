"""The one HTTP layer every provider adapter speaks through.

API (everything an adapter needs)::

    from reconciler.providers.http import (
        ApiClient, RetryPolicy, OutcomeUnknown, UsesApiClient, bearer_auth, api_key_auth,
        credential, ParsedError, fallback_message, json_or_none, create_once, send_once,
        run_concurrently,
    )
    from reconciler.providers.workspace.shapes import aip_error  # each platform's own shape

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
* Inside, one module per concern: ``client.py`` (``ApiClient``: requests, retries, time
  bounds), ``bodies.py`` (bodies read within their limit, strict JSON), ``retry.py``
  (backoff policy, ``Retry-After``), ``deadlines.py`` (``command_deadline``), ``pages.py``
  (the three list shapes), ``stream.py`` (streamed answers, bounded line by line),
  ``errors.py`` (``OutcomeUnknown``, the one ProviderError per error answer),
  ``create_once.py`` (read back after a lost answer), ``concurrency.py``
  (``run_concurrently``), ``auth.py`` (the shared header schemes). Import from the package,
  not from them. Each platform's own error shape (and Datallog's own auth scheme) is in its
  provider package, ``<type>/shapes.py``.
* Messages start with the provider instance (``studio: ...``), not its type.
* Every error answer becomes one ``ProviderError`` carrying platform, call (``METHOD
  template``), status, the platform's own message, its code and details, and the correlation
  id (from the body or an ``x-request-id`` / ``x-correlation-id`` header).
"""

from reconciler.providers.http.auth import Auth, api_key_auth, bearer_auth, credential
from reconciler.providers.http.bodies import strict_json
from reconciler.providers.http.client import ApiClient, UsesApiClient, expand
from reconciler.providers.http.concurrency import run_concurrently
from reconciler.providers.http.create_once import create_once, send_once
from reconciler.providers.http.deadlines import command_deadline
from reconciler.providers.http.errors import (
    ErrorParser,
    OutcomeUnknown,
    ParsedError,
    fallback_message,
    json_or_none,
)
from reconciler.providers.http.retry import RetryPolicy, retry_after_seconds
from reconciler.providers.http.stream import MAX_EVENT_BYTES

__all__ = [
    "MAX_EVENT_BYTES",
    "ApiClient",
    "Auth",
    "ErrorParser",
    "OutcomeUnknown",
    "ParsedError",
    "RetryPolicy",
    "UsesApiClient",
    "api_key_auth",
    "bearer_auth",
    "command_deadline",
    "create_once",
    "credential",
    "expand",
    "fallback_message",
    "json_or_none",
    "retry_after_seconds",
    "run_concurrently",
    "strict_json",
    "send_once",
]
