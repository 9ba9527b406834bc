"""Fault injection and the request log, as ASGI middleware in front of the platform routes.

Latency is the time the sandbox takes to answer: each request is handled at once and its answer
held until ``latency_ms`` after it arrived (an ``asyncio.sleep``, so concurrent requests overlap
as they would against a real server). The sandbox's own work counts inside the latency, as a
real API's does, so an answer comes after the set latency, not after the latency plus our work.
Throttling and outages answer in the platform's own error shape. A reset drops the connection
before the platform acts; a lost answer lets it act, then drops the connection. Admin routes
(``/_sandbox/...``) are neither delayed, failed nor logged.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
from collections import deque
from dataclasses import asdict, dataclass, fields
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.sandbox.http import platform_error, platform_of

ADMIN_PREFIX = "/_sandbox"


@dataclass
class Faults:
    """What can go wrong. Rates are probabilities per request; ``*_every`` fails every Nth."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    throttle_rate: float = 0.0  # answer 429 with Retry-After
    throttle_every: int = 0
    retry_after: int = 1  # seconds, in the Retry-After header of every 429
    error_rate: float = 0.0  # answer error_status (5xx)
    error_every: int = 0
    error_status: int = 503
    reset_rate: float = 0.0  # drop the connection mid-response (the request was not carried out)
    reset_every: int = 0
    lost_answer_rate: float = 0.0  # carry the request out, then drop the connection: no answer
    lost_answer_every: int = 0
    rate_limit: float = 0.0  # token bucket: requests per second (0 = unlimited)
    burst: int = 0  # bucket size (0 = max(1, rate_limit))
    seed: int = 0  # for the random draws, so a faulty run can be replayed

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Faults:
        """Build from JSON/CLI values; unknown names and bad values are ValueError."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(known))})")
        converted: dict[str, Any] = {}
        for name, value in values.items():
            kind = int if known[name].type in ("int", int) else float
            try:
                converted[name] = kind(value)
            except (TypeError, ValueError):
                raise ValueError(f"fault setting {name} must be a number, got {value!r}") from None
            if converted[name] < 0:
                raise ValueError(f"fault setting {name} must not be negative")
        for name in ("throttle_rate", "error_rate", "reset_rate", "lost_answer_rate"):
            if converted.get(name, 0) > 1:
                raise ValueError(f"fault setting {name} is a probability between 0 and 1")
        if not 500 <= converted.get("error_status", 503) <= 599:
            raise ValueError("fault setting error_status must be a 5xx status")
        return cls(**converted)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultState:
    """The current faults plus the counters and random generator they need."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.set(faults or Faults())

    def set(self, faults: Faults) -> None:
        self.faults = faults
        self.random = random.Random(faults.seed)
        self.count = 0
        capacity = faults.burst or max(1, math.ceil(faults.rate_limit))
        self.tokens = float(capacity)
        self.capacity = capacity
        self.refilled = time.monotonic()

    def _hit(self, rate: float, every: int) -> bool:
        if every and self.count % every == 0:
            return True
        return bool(rate) and self.random.random() < rate

    def take_token(self) -> float:
        """0 when the request may pass, else seconds until a token is free."""
        rate = self.faults.rate_limit
        if not rate:
            return 0.0
        moment = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (moment - self.refilled) * rate)
        self.refilled = moment
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / rate

    def decide(self) -> tuple[float, str | None, float]:
        """(delay seconds, fault to inject or None, retry-after seconds) for the next request."""
        self.count += 1
        faults = self.faults
        delay = faults.latency_ms / 1000
        if faults.jitter_ms:
            delay += self.random.uniform(0, faults.jitter_ms / 1000)
        wait = self.take_token()
        if wait:
            return delay, "rate_limit", wait
        if self._hit(faults.reset_rate, faults.reset_every):
            return delay, "reset", 0
        if self._hit(faults.lost_answer_rate, faults.lost_answer_every):
            return delay, "lost_answer", 0
        if self._hit(faults.throttle_rate, faults.throttle_every):
            return delay, "throttle", faults.retry_after
        if self._hit(faults.error_rate, faults.error_every):
            return delay, "error", 0
        return delay, None, 0


class RequestLog:
    """Method, path template and status of every platform request, in memory.

    The path is kept as sent and named as a template (``…/{automation_id}``) only when the log
    is read, so routing each request twice costs nothing while requests are being served.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._entries: deque[tuple[str, Scope, int, str, float]] = deque(maxlen=limit)

    def add(self, method: str, scope: Scope, status: int, platform: str) -> None:
        self._entries.append((method, scope, status, platform, time.time()))

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self, router: Any, since: int = 0) -> list[dict[str, Any]]:
        """The entries from ``since`` on, each with its path template."""
        return [{"method": method, "path": path_template(router, scope), "status": status,
                 "platform": platform, "time": moment}
                for method, scope, status, platform, moment
                in itertools.islice(self._entries, since, None)]

    def clear(self) -> None:
        self._entries.clear()


def path_template(app: Any, scope: Scope) -> str:
    """The route path with parameters named and ``:verb`` kept (``…/{automation_id}:publish``)."""
    for route in getattr(app, "routes", []):
        match, child = route.matches(scope)
        if match == Match.FULL:
            template = route.path
            ref = child.get("path_params", {}).get("automation_ref")
            if ref is not None:
                verb = ref.partition(":")[2]
                template = template.replace(
                    "{automation_ref}", "{automation_id}" + (f":{verb}" if verb else ""))
            return template
    return scope["path"]


async def _sleep_until(moment: float) -> None:
    """Wait until ``moment`` (``time.monotonic`` seconds); at once if it has passed."""
    wait = moment - time.monotonic()
    if wait > 0:
        await asyncio.sleep(wait)


class FaultMiddleware:
    """Delay, throttle, fail or drop platform requests as configured, and log each one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        platform = platform_of(scope["path"])
        delay, fault, retry_after = state.faults.decide()
        answer_at = time.monotonic() + delay
        status = {"status": 500}

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["status"] = message["status"]
                await _sleep_until(answer_at)
            await send(message)

        try:
            if fault == "reset":
                status["status"] = 0
                await _sleep_until(answer_at)
                await self._reset(state, send)
            elif fault == "lost_answer":
                # the platform acts on the request; its answer never reaches the client
                async def discard(message: Message) -> None:
                    return None

                await self.app(scope, receive, discard)
                status["status"] = 0
                await _sleep_until(answer_at)
                await self._reset(state, send)
            elif fault in ("throttle", "rate_limit"):
                response = platform_error(platform, 429, "rate limit exceeded; retry later")
                response.headers["Retry-After"] = str(math.ceil(retry_after))
                await response(scope, receive, logged_send)
            elif fault == "error":
                code = state.faults.faults.error_status
                response = platform_error(platform, code, "the service is unavailable")
                await response(scope, receive, logged_send)
            else:
                await self.app(scope, receive, logged_send)
        finally:
            # only what routing needs: the whole scope would keep each request's state alive
            state.request_log.add(scope["method"], {"type": "http", "method": scope["method"],
                                                    "path": scope["path"],
                                                    "root_path": scope.get("root_path", "")},
                                  status["status"], platform)

    @staticmethod
    async def _reset(state: Any, send: Send) -> None:
        """Drop the connection: in-process, raise; on a socket, promise a body and stop."""
        if getattr(state, "in_process", False):
            raise ConnectionResetError("sandbox fault: connection reset")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"1000"),
                                (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"trunc', "more_body": True})
