"""Answer bodies read as strict JSON: no NaN, no Infinity, no number a float cannot hold."""

from __future__ import annotations

import json
import math
from typing import Any


class NonFinite(ValueError):
    """A JSON body holding NaN, Infinity or a number too large for a float."""


def strict_json(content: bytes) -> Any:
    """The parsed body; NonFinite for a number JSON cannot carry, ValueError when not JSON."""
    return json.loads(content, parse_constant=_no_constant, parse_float=_finite_float)


def _no_constant(word: str) -> Any:
    raise NonFinite(f"a bare {word}")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NonFinite(f"the number {text[:40]}")
    return number
