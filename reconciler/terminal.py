"""When output may be coloured: on a terminal only, never with NO_COLOR, TERM=dumb or --no-color.

NO_COLOR follows no-color.org: set to any non-empty value it turns colour off; set but empty it
does nothing.
"""

from __future__ import annotations

import os
import time
from typing import TextIO


def is_terminal(stream: TextIO) -> bool:
    """True when ``stream`` is an interactive terminal that is not TERM=dumb."""
    return _isatty(stream) and os.environ.get("TERM") != "dumb"


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def colour_wanted(stream: TextIO, disabled: bool = False) -> bool:
    """Colour for ``stream``: a terminal, no --no-color (``disabled``, or said for the whole
    command through ``turn_colour_off``), NO_COLOR empty or unset."""
    if disabled or _colour_off:
        return False
    return not os.environ.get("NO_COLOR") and is_terminal(stream)


_colour_off: list[bool] = []  # non-empty: --no-color was given on this command line


def turn_colour_off(off: bool = True) -> None:
    """--no-color holds for everything the command prints, progress on stderr included (each
    command line starts with it on again)."""
    _colour_off[:] = [True] if off else []


_command_started: list[float] = []


def start_command_clock() -> None:
    """Start the clock progress lines count from: once per command, so apply continues the
    clock its plan started instead of restarting at 0.0s."""
    _command_started[:] = [time.monotonic()]


def command_started() -> float:
    """When the command started (now, when no command clock was started)."""
    return _command_started[0] if _command_started else time.monotonic()
