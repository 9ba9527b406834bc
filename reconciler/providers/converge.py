"""Read-back after an operation: which fields still differ from the desired spec, and the error
that names one that did not converge.

Where a platform's reference does not say what a call does to a field, an adapter takes the
object the platform returned, compares it with the desired spec, makes the call that sets a
field still different, and reports a field that differs after that as not converging.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.errors import NotConvergingError


def differing(wanted: Mapping[str, Any], got: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    """The fields among ``names`` whose values differ (lists compared as given)."""
    return [name for name in names if wanted.get(name) != got.get(name)]


def not_converging(platform: str, what: object, field: str, call: str, got: Any,
                   wanted: Any) -> NotConvergingError:
    """``<platform>: <what>: <field> did not converge: after <call> the platform answered …``."""
    return NotConvergingError(
        f"{platform}: {what}: {field} did not converge: after {call} the platform answered "
        f"{field} = {_shown(got)} (wanted {_shown(wanted)})",
        platform=platform, call=call,
    )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
