"""Field formats JSON Schema cannot express, named by ``x-format`` in the spec schemas."""

from __future__ import annotations

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


@cache  # croniter's check is slow and projects repeat the same few expressions
def _cron(value: str) -> Finding | None:
    fields = value.split()
    expected = "five fields: minute hour day-of-month month day-of-week, e.g. '0 6 * * 1-5'"
    if len(fields) != 5:
        return f"cron expression {value!r} has {len(fields)} fields", expected, ""
    if not croniter.is_valid(value):
        return (
            f"cron expression {value!r} is not valid (a field is malformed or out of range)",
            expected,
            "",
        )
    return None


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
