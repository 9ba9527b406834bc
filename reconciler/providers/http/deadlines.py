"""The command's deadline: every call made inside ``command_deadline`` ends in time."""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

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


def command_end() -> tuple[float, str] | None:
    """The command's end (``time.monotonic``) and how errors name it; None when unbounded."""
    return _command_end.get()
