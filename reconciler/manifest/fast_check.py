"""A quick yes/no check of a document against a schema, compiled once into plain closures.

jsonschema builds a child validator per keyword and node, which dominates validation time on
large projects. Nearly every document is valid, so each schema is compiled here into nested
closures that answer "valid?" fast; only when the answer is no (or a keyword is not understood)
does the full jsonschema run produce the detailed errors. The closures may be stricter than
jsonschema (a false "no" only costs time) but never more lenient.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator

QuickCheck = Callable[[Any], bool]

# Keywords that only annotate: they never make an instance invalid.
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)
# Keywords this compiler understands; a schema using any other falls back to jsonschema whole.
_UNDERSTOOD = _ANNOTATIONS | frozenset(
    {
        "type",
        "properties",
        "additionalProperties",
        "required",
        "enum",
        "const",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "items",
        "uniqueItems",
        "format",
        "not",
        "oneOf",
        "anyOf",
        "allOf",
        "if",
        "then",
        "else",
        "propertyNames",
    }
)
_TYPES: dict[str, QuickCheck] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def compile_check(schema: Any, full: Draft202012Validator) -> QuickCheck:
    """A function telling whether an instance is valid against ``schema``.

    ``full`` is the complete validator of the root schema; its format checker is reused and it
    answers for subschemas using keywords this compiler does not know.
    """
    if schema is True:
        return lambda _v: True
    if schema is False:
        return lambda _v: False
    if not isinstance(schema, Mapping):
        return full.evolve(schema=schema).is_valid
    if any(k not in _UNDERSTOOD and not k.startswith("x-") for k in schema):
        return full.evolve(schema=schema).is_valid
    checks = [c for c in (_keyword(k, v, schema, full) for k, v in schema.items()) if c]
    if not checks:
        return lambda _v: True
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


def _keyword(  # noqa: C901 - one branch per keyword reads best as a flat table
    key: str, value: Any, schema: Mapping[str, Any], full: Draft202012Validator
) -> QuickCheck | None:
    if key in _ANNOTATIONS or key.startswith("x-") or key in ("then", "else"):
        return None
    if key == "type":
        kinds = [_TYPES[t] for t in (value if isinstance(value, list) else [value])]
        return lambda v: any(k(v) for k in kinds)
    if key == "properties":
        subs = {name: compile_check(sub, full) for name, sub in value.items()}
        return lambda v: (
            not isinstance(v, dict) or all(subs[n](item) for n, item in v.items() if n in subs)
        )
    if key == "additionalProperties":
        known = frozenset(schema.get("properties", {}))
        extra = compile_check(value, full)
        return lambda v: (
            not isinstance(v, dict) or all(extra(item) for n, item in v.items() if n not in known)
        )
    if key == "required":
        names = tuple(value)
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)
    if key == "enum":
        options = list(value)
        return lambda v: any(_same(v, o) for o in options)
    if key == "const":
        return lambda v: _same(v, value)
    if key == "pattern":
        search = re.compile(value).search
        return lambda v: not isinstance(v, str) or search(v) is not None
    if key in ("minLength", "maxLength"):
        low = value if key == "minLength" else 0
        high = value if key == "maxLength" else None
        return lambda v: (
            not isinstance(v, str) or (len(v) >= low and (high is None or len(v) <= high))
        )
    if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        compare: Callable[[Any], bool] = {
            "minimum": lambda n: n >= value,
            "maximum": lambda n: n <= value,
            "exclusiveMinimum": lambda n: n > value,
            "exclusiveMaximum": lambda n: n < value,
        }[key]
        return lambda v: not _TYPES["number"](v) or compare(v)
    if key == "items":
        each = compile_check(value, full)
        return lambda v: not isinstance(v, list) or all(each(item) for item in v)
    if key == "uniqueItems":
        return (lambda v: not isinstance(v, list) or _unique(v)) if value else None
    if key == "format":
        conforms = full.format_checker.conforms if full.format_checker else None
        return lambda v: conforms is None or conforms(v, value)
    if key == "propertyNames":
        name_check = compile_check(value, full)
        return lambda v: not isinstance(v, dict) or all(name_check(n) for n in v)
    if key == "not":
        inner = compile_check(value, full)
        return lambda v: not inner(v)
    if key in ("oneOf", "anyOf", "allOf"):
        branches = [compile_check(s, full) for s in value]
        if key == "oneOf":
            return lambda v: sum(1 for b in branches if b(v)) == 1
        if key == "anyOf":
            return lambda v: any(b(v) for b in branches)
        return lambda v: all(b(v) for b in branches)
    if key == "if":
        condition = compile_check(value, full)
        then = compile_check(schema.get("then", True), full)
        otherwise = compile_check(schema.get("else", True), full)
        return lambda v: then(v) if condition(v) else otherwise(v)
    return full.evolve(schema=schema).is_valid  # pragma: no cover - guarded by _UNDERSTOOD


def _same(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers (``True != 1`` here, unlike in Python)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b) and _same_shape(a, b)


def _same_shape(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return True


def _unique(items: list[Any]) -> bool:
    """Strict: only plain strings are compared quickly; anything else defers to jsonschema."""
    if all(type(i) is str for i in items):
        return len(set(items)) == len(items)
    return False
