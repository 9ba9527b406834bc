"""The HTTP side of posting a comment: one small synchronous client per forge, with retries.

A forge (GitHub, GitLab) is reached with three calls: list the comments of a pull or merge
request, create one, update one. Errors answered by the forge are retried when they are
temporary (5xx, 429, GitHub's secondary rate limit), honouring ``Retry-After``; a create is
never sent twice blindly: when its outcome is unknown the caller lists again first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler import __version__
from reconciler.errors import ReconcilerError
from reconciler.masking import masked
from reconciler.providers.http import RetryPolicy, retry_after_seconds

ATTEMPTS = 5  # one try and four retries
RETRY = RetryPolicy(base=1.0, cap=30.0, max_retry_after=120.0)
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
Notify = Callable[[str], None]


class CommentError(ReconcilerError):
    """The forge refused or could not be reached; names the forge, the call and what to do."""


class OutcomeUnknown(CommentError):
    """A create was sent and no usable answer came back: it may or may not have been made."""

    def __init__(self, message: str, wait: float) -> None:
        super().__init__(message)
        self.wait = wait


@dataclass(frozen=True)
class Comment:
    id: str
    body: str


class ForgeClient:
    """Requests to one forge's API: auth headers, timeouts, retries, errors for people."""

    forge = "forge"  # named in every message

    def __init__(
        self,
        api_url: str,
        headers: Mapping[str, str],
        notify: Notify,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.notify = notify
        self._client = httpx.Client(
            base_url=api_url.rstrip("/"),
            headers={"User-Agent": f"reconciler-gitops/{__version__}", **headers},
            timeout=TIMEOUT,
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ForgeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # what each forge implements -----------------------------------------------------------

    def comments(self) -> Iterator[Comment]:
        raise NotImplementedError

    def create(self, body: str) -> Comment:
        raise NotImplementedError

    def update(self, comment: Comment, body: str) -> Comment:
        raise NotImplementedError

    def hint(self, response: httpx.Response) -> str:
        """What to do about an answer that will not get better by retrying."""
        return ""

    def retry_wait(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None when the answer is final."""
        if response.status_code == 429 or response.status_code >= 500:
            return wait_for(retry_after(response), attempt)
        return None

    # the one request loop ------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        call: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        replay_safe: bool = True,
    ) -> httpx.Response:
        """Send, retrying temporary failures; ``call`` names it in messages (no ids, no query).

        With ``replay_safe=False`` (a create) a temporary failure after the request may have
        been acted on raises OutcomeUnknown instead of sending it again.
        """
        for attempt in range(ATTEMPTS):
            last = attempt == ATTEMPTS - 1
            try:
                response = self._client.request(method, path, params=params, json=masked(json))
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}"
                certainly_unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                wait = RETRY.backoff(attempt)
                if last:
                    raise CommentError(
                        f"{self.forge}: {call} failed after {ATTEMPTS} attempts: {reason}"
                    ) from None
                if not replay_safe and not certainly_unsent:
                    raise OutcomeUnknown(f"{self.forge}: {call}: {reason}", wait) from None
                self._wait(call, reason, wait, attempt)
                continue
            if response.is_success:
                return response
            told = self.retry_wait(response, attempt)
            if told is None or last:
                raise self._error(response, call, attempts=attempt + 1)
            if not replay_safe and response.status_code not in (429, 403, 503):
                raise OutcomeUnknown(f"{self.forge}: {call} answered {response.status_code}", told)
            self._wait(call, f"answered {response.status_code}", told, attempt)
        raise AssertionError("unreachable")

    def _wait(self, call: str, reason: str, wait: float, attempt: int) -> None:
        self.notify(
            f"{self.forge}: {call} {reason}; retrying in {wait:.1f}s "
            f"(attempt {attempt + 2} of {ATTEMPTS})"
        )
        time.sleep(wait)

    def _error(self, response: httpx.Response, call: str, attempts: int) -> CommentError:
        message = _forge_message(response)
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        text = f"{self.forge}: {call} answered {response.status_code}{tried}"
        if message:
            text += f": {message}"
        hint = self.hint(response)
        return CommentError(f"{text}{f' ({hint})' if hint else ''}")


def wait_for(told: float | None, attempt: int) -> float:
    """The wait the forge asked for (capped), else the backoff for this attempt."""
    return RETRY.backoff(attempt) if told is None else min(max(told, 0.0), RETRY.max_retry_after)


def retry_after(response: httpx.Response) -> float | None:
    """The answer's ``Retry-After`` in seconds, if it has a readable one."""
    return retry_after_seconds(response.headers.get("Retry-After"))


def _forge_message(response: httpx.Response) -> str:
    """The forge's own short explanation, from its JSON error body; never the request."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    message = body.get("message") or body.get("error") or ""
    if isinstance(message, dict | list):
        message = str(message)
    return str(message)[:300]
