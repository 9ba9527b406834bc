"""Durations as the manifests and options write them: ``30s``, ``5m``, ``1h``, ``1m30s``.

Kept apart from the check runner so that reading a manifest or an option does not load the
async machinery checks need.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reconciler.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.model import Resource

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str, check: Resource | None = None) -> float:
    """Seconds in ``30s``, ``5m``, ``1h`` or ``1m30s``; a bare number is seconds."""
    cleaned = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", cleaned):
        return float(cleaned)
    parts = _DURATION_PART.findall(cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        where = f"{check.source}: {check.id}: spec.timeout: " if check else ""
        raise ConfigError(f"{where}expected a duration such as 30s, 5m or 1h, got {text!r}")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def format_duration(seconds: float) -> str:
    """``90`` -> ``1m30s``, ``0.3`` -> ``0.3s``: a duration as the manifests write it."""
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")
