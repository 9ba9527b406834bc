"""Field formats JSON Schema cannot express, named by ``x-format`` in the spec schemas."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import croniter

from reconciler.manifest.problems import closest

_ZONE_EXAMPLE = "an IANA time zone such as Europe/Berlin"
Finding = tuple[str, str, str]  # (message, expected, suggestion)


def format_problem(fmt: str, value: str) -> Finding | None:
    """What is wrong with ``value`` for the named format, or None when it is fine."""
    check = _CHECKS.get(fmt)
    return check(value) if check else None


# (low, high) per field: minute, hour, day of month, month, day of week
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_CRON_ITEM = re.compile(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?")


@cache  # croniter's check is slow and projects repeat the same few expressions
def _cron(value: str) -> Finding | None:
    fields = value.split()
    expected = "five fields: minute hour day-of-month month day-of-week, e.g. '0 6 * * 1-5'"
    if len(fields) != 5:
        return f"cron expression {value!r} has {len(fields)} fields", expected, ""
    if _plainly_valid(fields):
        return None
    if not croniter.is_valid(value):
        return (
            f"cron expression {value!r} is not valid (a field is malformed or out of range)",
            expected,
            "",
        )
    return None


def _plainly_valid(fields: list[str]) -> bool:
    """True for the everyday numeric forms (``*``, ``*/15``, ``1-5``, ``0,30``) within range.

    Anything else (names, ``L``, ``#``, out-of-range values) is left to croniter, which is
    exact but slow; this shortcut accepts only what croniter accepts too.
    """
    for field, (low, high) in zip(fields, _CRON_RANGES, strict=True):
        for item in field.split(","):
            match = _CRON_ITEM.fullmatch(item)
            if match is None:
                return False
            _all, start, end, step = match.groups()
            if step is not None and not 1 <= int(step) <= high:
                return False
            if start is None:
                continue
            if step is not None and end is None:
                return False  # "5/15": valid for some cron dialects only; let croniter judge
            first, last = int(start), int(end if end is not None else start)
            if not low <= first <= last <= high:
                return False
    return True


def _timezone(value: str) -> Finding | None:
    if value != value.strip() or not value:
        return f"time zone {value!r} is not valid", _ZONE_EXAMPLE, ""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {value!r}", _ZONE_EXAMPLE, closest(value, _zones())
    return None


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


_CHECKS: dict[str, Callable[[str], Finding | None]] = {"cron": _cron, "iana-timezone": _timezone}
