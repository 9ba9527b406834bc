"""What an adapter needs an answer to hold, declared per call and checked where answers come in.

Adapters read answers with plain indexing (``automation["name"]``). A platform (or a proxy, or a
new API version) that answers without such a field, or with a field of another type, would
otherwise surface deep inside the adapter as ``KeyError: 'name'``. Each adapter declares, per
call (``METHOD /path/template``), the fields it relies on; ``ApiClient`` checks every answer of
that call (every item, for a list) before the adapter sees it, and refuses one that does not fit
with a ProviderError naming the platform, the call, the item and the field.

A shape maps a field path to the JSON type it must have: ``"name": "string"``,
``"config.end": "object?"`` (``?``: may be absent or null), ``"signals[].key": "string"``
(``[]``: every element of an array).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from reconciler.errors import ProviderError

Shape = Mapping[str, str]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
    "number": (int, float),
    "integer": (int,),
}


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, as errors name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for name in ("string", "object", "array", "number"):
        if isinstance(value, _TYPES[name]):
            return name
    return type(value).__name__


def shape_problem(value: Any, shape: Shape) -> str:
    """What in ``value`` breaks ``shape`` (the first thing found), or "" when it fits."""
    if not isinstance(value, dict):
        return f"a JSON {json_type(value)} where an object was expected"
    for path, wanted in shape.items():
        problem = _check(value, path.split("."), wanted, "")
        if problem:
            return problem
    return ""


def _check(value: dict[str, Any], parts: list[str], wanted: str, where: str) -> str:
    name, rest = parts[0], parts[1:]
    each = name.endswith("[]")
    name = name.removesuffix("[]")
    here = f"{where}.{name}" if where else name
    found = value.get(name)
    if found is None:
        if wanted.endswith("?"):
            return ""
        return f"field {here!r} is {'null' if name in value else 'missing'}"
    if each:
        if not isinstance(found, list):
            return f"field {here!r} is a JSON {json_type(found)}, not an array"
        for index, element in enumerate(found):
            at = f"{here}[{index}]"
            if not rest:
                problem = _kind(element, wanted, at)
            elif isinstance(element, dict):
                problem = _check(element, rest, wanted, at)
            else:
                problem = f"field {at!r} is a JSON {json_type(element)}, not an object"
            if problem:
                return problem
        return ""
    if rest:
        if not isinstance(found, dict):
            return f"field {here!r} is a JSON {json_type(found)}, not an object"
        return _check(found, rest, wanted, here)
    return _kind(found, wanted, here)


def _kind(value: Any, wanted: str, where: str) -> str:
    kind = wanted.removesuffix("?")
    if value is None and wanted.endswith("?"):
        return ""
    types = _TYPES[kind]
    if isinstance(value, types) and not (kind != "boolean" and isinstance(value, bool)):
        return ""
    return f"field {where!r} is a JSON {json_type(value)}, not {_article(kind)}"


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


# what an adapter raises when it indexes an answer it did not declare the shape of
SHAPE_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValueError)


def unusable_answer(provider: str, platform: str, doing: str, exc: BaseException) -> ProviderError:
    """The error for an answer an adapter could not use although no declared shape refused it:
    names the provider instance and platform, never "internal error"."""
    # the exception's own text can quote a value of the answer (int('...')): name only the
    # kind of failure, and the missing key, which is a field name
    what = f"KeyError: {exc}" if isinstance(exc, KeyError) else type(exc).__name__
    return ProviderError(
        f"{provider}: {doing} stopped on an answer of a shape this version does not know "
        f"({what}); the {platform} API may have changed (--debug shows where)",
        platform=platform,
    )


class _Client(Protocol):
    name: str
    platform: str


def check_answer(client: _Client, call: str, value: Any, shape: Shape, item: str = "") -> None:
    """ProviderError naming the platform, the call, the item and the field when ``value`` (an
    answer of ``call``, or one item of its list) does not fit ``shape``."""
    problem = shape_problem(value, shape)
    if problem:
        where = f"{item}: " if item else ""
        raise ProviderError(
            f"{client.name}: {call} answered with an unexpected shape ({where}{problem}); the "
            f"{client.platform} API may have changed, or something between altered the answer",
            platform=client.platform, call=call,
        )
