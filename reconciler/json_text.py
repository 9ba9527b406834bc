"""JSON text as it leaves the product: plan JSON, saved plans, state, status and runs output.

JSON has no NaN or infinity. Python's ``json.dumps`` writes them anyway as bare ``NaN`` and
``Infinity``, which most readers refuse, so every writer goes through ``dumps`` here: such a
number is an error naming where it sits, never a file another tool cannot read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from reconciler.errors import ReconcilerError

JsonPath = tuple[str | int, ...]


def dumps(value: Any, *, what: str = "output", **options: Any) -> str:
    """``json.dumps(value, **options)`` that refuses NaN and infinities (``what`` names the
    document in the error: "the plan", "state", ...)."""
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError:
        found = next(non_finite_numbers(value), None)
        if found is None:
            raise
        path, number = found
        where = ".".join(str(part) for part in path) or "the value"
        raise ReconcilerError(
            f"cannot write {what} as JSON: {where} is {yaml_number(number)}, a number JSON "
            "cannot carry"
        ) from None


def non_finite_numbers(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, float]]:
    """(path, number) of every NaN or infinity in ``value``, in order."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from non_finite_numbers(item, (*path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from non_finite_numbers(item, (*path, index))


def yaml_number(number: float) -> str:
    """NaN and the infinities as a manifest writes them: ``.nan``, ``.inf``, ``-.inf``."""
    if math.isnan(number):
        return ".nan"
    return ".inf" if number > 0 else "-.inf"
