"""Calls that must take effect once: read back before sending again after a lost answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from reconciler.providers.http.errors import OutcomeUnknown

T = TypeVar("T")


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
