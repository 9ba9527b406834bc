"""Field formats JSON Schema cannot express, named by ``x-format`` in the spec schemas."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterError, croniter

from reconciler.manifest.problems import closest

_ZONE_EXAMPLE = "an IANA time zone such as Europe/Berlin"
Finding = tuple[str, str, str]  # (message, expected, suggestion)


def format_problem(fmt: str, value: str) -> Finding | None:
    """What is wrong with ``value`` for the named format, or None when it is fine."""
    check = _CHECKS.get(fmt)
    return check(value) if check else None


# (low, high) per field: minute, hour, day of month, month, day of week
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
# the shorthands other cron dialects take, and the five fields each stands for
_CRON_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_CRON_ITEM = re.compile(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?")


@cache  # croniter's check is slow and projects repeat the same few expressions
def _cron(value: str) -> Finding | None:
    fields = value.split()
    expected = "five fields: minute hour day-of-month month day-of-week, e.g. '0 6 * * 1-5'"
    macro = _CRON_MACROS.get(value.strip().lower())
    if macro:
        return (
            f"cron expression {value!r} is a macro; macros such as @daily are not accepted",
            expected,
            macro,
        )
    if len(fields) != 5:
        return f"cron expression {value!r} has {len(fields)} fields", expected, ""
    if not _plainly_valid(fields) and not _grammatical(value):
        return (
            f"cron expression {value!r} is not valid (a field is malformed or out of range)",
            expected,
            "",
        )
    if not cron_fires(value):
        return (
            f"cron expression {value!r} never fires: no date matches it (e.g. February 30, "
            "April 31, or a day-of-month and a day-of-week that never coincide)",
            "an expression that matches at least one date, e.g. '0 0 28 2 *' or '0 0 L 2 *'",
            "",
        )
    return None


def _grammatical(value: str) -> bool:
    """croniter's own syntax check; anything it raises counts as malformed."""
    try:
        return bool(croniter.is_valid(value))
    except (CroniterError, ValueError, LookupError, TypeError, ArithmeticError):
        return False


# Five-field crons have no year, and from 1901 to 2099 weekdays and leap years repeat every 28
# years: an expression that fires at all fires within any 28 years (February 29 on a Monday,
# the rarest, comes once in 28), so one that does not fire by then never does.
CRON_HORIZON_YEARS = 28
_CRON_EPOCH = datetime(1999, 12, 31, 23, 59, tzinfo=UTC)


@cache
def cron_fires(value: str) -> bool:
    """True when a grammatical cron expression matches at least one moment; False when no date
    matches it (``0 0 30 2 *``) or croniter cannot work it out (never raises)."""
    try:
        croniter(value, _CRON_EPOCH,
                 max_years_between_matches=CRON_HORIZON_YEARS).get_next(datetime)
    except (CroniterError, ValueError, LookupError, TypeError, ArithmeticError):
        return False
    return True


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
