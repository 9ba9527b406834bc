"""When and how long to wait before trying a call again: the policy and its helpers."""

from __future__ import annotations

import email.utils
import random
import ssl
import time
from dataclasses import dataclass

import httpx

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# answers that prove the server did not act on the request, so even a create may be re-sent
NOT_PROCESSED_STATUSES = frozenset({429, 503})


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


def seconds_text(value: float) -> str:
    """``0.469`` -> ``0.5``, ``30.0`` -> ``30``, ``3600`` -> ``3600``: a wait as people read it."""
    return f"{round(value, 1):g}"


def failure_words(exc: httpx.TransportError) -> str:
    """A transport failure in a few words, e.g. ``ConnectError: connection refused``."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def refused(exc: BaseException) -> bool:
    """True when a connection attempt was refused (nothing listens there)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def certificate_refused(exc: BaseException) -> bool:
    """True when the server's TLS certificate was not accepted: no retry can change that."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or (
            type(seen).__name__ == "ClientConnectorCertificateError"  # aiohttp's, not imported
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
