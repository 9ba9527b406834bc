"""jsonschema's errors turned into Problems people can act on, positioned on the YAML node."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from reconciler.manifest.fast_check import QuickCheck, compile_check
from reconciler.manifest.problems import Problem, closest, dotted, one_of, type_name
from reconciler.manifest.yaml_source import Path_, YAMLDocument
from reconciler.masking import remember


def schema_problems(
    validator: Draft202012Validator,
    instance: Any,
    doc: YAMLDocument,
    *,
    file: str,
    identity: str = "",
    prefix: Path_ = (),
) -> Iterator[Problem]:
    """Every schema violation of ``instance`` (found at ``prefix`` inside ``doc``)."""
    if _quick_check(validator)(instance):
        return
    for error in validator.iter_errors(instance):
        secret = _in_sensitive_position(validator, error)
        if secret:
            remember(error.instance)
        yield from _translate(error, doc, file, identity, prefix, secret)


SENSITIVE_VALUE = "the value (sensitive, not shown)"


def _in_sensitive_position(validator: Draft202012Validator, error: SchemaError) -> bool:
    """True when the value that failed sits at or under an ``x-sensitive`` field, or may hold
    one (a webhook written as a string): such a value is never quoted."""
    node: Any = validator.schema
    resolver = getattr(validator, "_resolver", None)
    for part in error.absolute_schema_path:
        if isinstance(node, Mapping) and node.get("x-sensitive"):
            return True
        try:
            if part == "$ref" and resolver is not None:
                node = resolver.lookup(node["$ref"]).contents
            else:
                node = node[part]
        except Exception:  # a path this walk cannot follow: judge by the failing schema alone
            break
    return _holds_sensitive(error.schema)


def _holds_sensitive(schema: Any) -> bool:
    if isinstance(schema, Mapping):
        return bool(schema.get("x-sensitive")) or any(map(_holds_sensitive, schema.values()))
    if isinstance(schema, list):
        return any(map(_holds_sensitive, schema))
    return False


_QUICK: dict[int, QuickCheck] = {}


def _quick_check(validator: Draft202012Validator) -> QuickCheck:
    """The compiled yes/no check for a validator's schema (validators live for the process)."""
    check = _QUICK.get(id(validator))
    if check is None:
        check = _QUICK[id(validator)] = compile_check(validator.schema, validator)
    return check


def _translate(
    error: SchemaError,
    doc: YAMLDocument,
    file: str,
    identity: str,
    prefix: Path_,
    secret: bool = False,
) -> Iterator[Problem]:
    path: Path_ = (*prefix, *error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    keyword = error.validator
    value = error.instance
    _show = _hidden if secret else _shown

    def problem(message: str, where: Path_ = path, *, key: bool = False, **extra: str) -> Problem:
        line, column = doc.mark(where, key=key)
        return Problem(file, line, column, message, identity, dotted(where), **extra)

    if "propertyNames" in error.absolute_schema_path:
        yield problem(
            f"name {_shown(value)} is not valid",
            (*path, str(value)),
            key=True,
            expected=schema.get("x-expected") or _pattern_text(error),
        )
    elif keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(
        value, Mapping
    ):
        known = list(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        for name in value:
            if name in known or any(p.search(name) for p in patterns):
                continue
            yield problem(
                f"unknown field {name!r}",
                (*path, name),
                key=True,
                expected=one_of(_shown(k) for k in known) if known else "no fields here",
                suggestion=closest(name, known),
            )
    elif keyword == "required" and isinstance(value, Mapping):
        for name in list(error.validator_value):  # type: ignore[arg-type]
            if name not in value:
                yield problem(f"missing required field {name!r}", key=True)
    elif keyword == "enum":
        options = list(error.validator_value)  # type: ignore[arg-type]
        yield problem(
            f"{_show(value)} is not allowed",
            expected=one_of(_shown(o) for o in options),
            suggestion=closest(value, options) if isinstance(value, str) and not secret else "",
        )
    elif keyword == "const":
        yield problem(f"{_show(value)} is not allowed", expected=_shown(error.validator_value))
    elif keyword == "type":
        wanted = error.validator_value
        wanted_text = " or ".join(wanted) if isinstance(wanted, list) else str(wanted)
        wanted_text = wanted_text.replace("object", "mapping").replace("array", "list")
        name = type_name(value)
        article = "an" if name[0] in "aeiou" else "a"
        yield problem(f"{_show(value)} is {article} {name}", expected=wanted_text)
    elif keyword == "pattern":
        yield problem(
            f"{_show(value)} does not match the required format",
            expected=schema.get("x-expected") or f"text matching {error.validator_value}",
        )
    elif keyword == "format":
        yield problem(f"{_show(value)} is not a valid {error.validator_value}")
    elif keyword == "not" and isinstance(error.validator_value, Mapping):
        both = error.validator_value.get("required", [])
        fields = " and ".join(repr(f) for f in both) or "this combination"
        yield problem(f"{fields} cannot be used together", expected="only one of them")
    elif keyword in ("oneOf", "anyOf") and "x-expected" in schema:
        yield problem(f"{_show(value)} is not valid", expected=schema["x-expected"])
    elif keyword == "uniqueItems":
        yield problem("list holds the same item more than once", expected="unique items")
    elif keyword is False or keyword == "false":
        yield problem("this field is not allowed here")
    elif secret:
        yield problem(f"{SENSITIVE_VALUE} breaks the rule {keyword!r} of this field")
    else:
        yield problem(_plain(error))


def _pattern_text(error: SchemaError) -> str:
    pattern = error.validator_value if error.validator == "pattern" else None
    return f"text matching {pattern}" if pattern else "a valid name"


def _plain(error: SchemaError) -> str:
    """jsonschema's own wording, with Python reprs of long values trimmed."""
    message = error.message
    return message if len(message) <= 200 else message[:197] + "..."


def _hidden(value: Any) -> str:
    """What a message says instead of a value in a sensitive position."""
    return SENSITIVE_VALUE


def _shown(value: Any) -> str:
    """A short, quoted rendering of a value for a message."""
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return "a " + type_name(value)
    return repr(value)
