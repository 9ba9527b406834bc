"""One manifest document: envelope and spec checked against their schemas, then a Resource built.

The desired spec is the document's spec with schema defaults applied, ``metadata.name``-derived
defaults filled in (``x-default-from``) and ``code_file`` replaced by the file's text as ``code``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.config import Project, ProviderConfig
from reconciler.json_text import non_finite_numbers, yaml_number
from reconciler.manifest.code_files import read_code_file
from reconciler.manifest.files import Document
from reconciler.manifest.formats import format_problem
from reconciler.manifest.problems import Problem, closest, dotted, one_of, type_name
from reconciler.manifest.schema_errors import schema_problems
from reconciler.manifest.yaml_source import Path_
from reconciler.masking import remember
from reconciler.model import (
    DEFAULT_DRAIN_TIMEOUT,
    ON_REMOVE_CHOICES,
    ON_REMOVE_DELETE,
    Lifecycle,
    Resource,
    ResourceId,
    SourcePosition,
)
from reconciler.schema import (
    ENVELOPE,
    all_kinds,
    load_schema,
    name_default_fields,
    sensitive_paths,
    spec_schema,
    spec_validator,
    supported_kinds,
    validator,
)

_NAME = re.compile(load_schema(ENVELOPE)["properties"]["metadata"]["properties"]["name"]["pattern"])


@dataclass(frozen=True)
class Checked:
    """A document that passed its own checks, ready for the cross-document rules."""

    resource: Resource
    document: Document
    clean: bool = True  # False: the document has problems of its own (still checked across)


def check_document(document: Document, project: Project) -> tuple[Checked | None, list[Problem]]:
    """Validate one document on its own.

    The Resource is built whenever identity, provider and kind are sound, so cross-document
    rules can still look at a document with spec problems; ``Checked.clean`` says which.
    """
    value = document.value
    if not isinstance(value, dict):
        return None, [
            _problem(
                document,
                (),
                f"document {document.index}",
                f"a manifest document must be a mapping, not a {type_name(value)}",
            )
        ]
    identity = identity_text(document)
    problems = list(
        schema_problems(
            validator(ENVELOPE), value, document.yaml, file=document.file, identity=identity
        )
    )
    if document.yaml.non_finite:
        problems += [
            _problem(document, path, identity,
                     f"{yaml_number(number)} is not a number JSON can carry, so no platform "
                     "can be sent it",
                     expected="a finite number, or a string")
            for path, number in non_finite_numbers(value)
        ]
    metadata: dict[str, Any] = value["metadata"] if isinstance(value.get("metadata"), dict) else {}
    provider_name = metadata.get("provider")
    kind = value.get("kind")
    provider = project.providers.get(provider_name) if isinstance(provider_name, str) else None
    if isinstance(provider_name, str) and provider is None:
        problems.append(
            _problem(
                document,
                ("metadata", "provider"),
                identity,
                f"provider {provider_name!r} is not defined in {project.file.name}",
                expected=one_of(sorted(project.providers)),
                suggestion=closest(provider_name, project.providers),
            )
        )
    spec = value.get("spec")
    if provider is not None and isinstance(kind, str) and kind not in all_kinds():
        problems = [_kind_for(problem, provider, kind) for problem in problems]
    if provider is not None and isinstance(kind, str) and kind in all_kinds():
        kinds = supported_kinds(provider.type)
        if kind not in kinds:
            problems.append(
                _problem(
                    document,
                    ("kind",),
                    identity,
                    f"provider {provider.name!r} (type {provider.type}) "
                    f"does not manage kind {kind!r}",
                    expected=one_of(sorted(kinds))
                    if kinds
                    else "no kinds (this provider type manages none)",
                    suggestion=closest(kind, kinds),
                )
            )
        elif isinstance(spec, dict):
            _remember_secrets(spec, provider.type, kind)
            problems += schema_problems(
                spec_validator(provider.type, kind),
                spec,
                document.yaml,
                file=document.file,
                identity=identity,
                prefix=("spec",),
            )
            problems += _field_format_problems(document, identity, provider.type, kind, spec)
            problems += _ignore_changes_problems(document, identity, provider.type, kind, metadata)
    if (
        provider is None
        or not isinstance(kind, str)
        or kind not in supported_kinds(provider.type)
        or not isinstance(spec, dict)
    ):
        return None, problems
    if not _valid_name(metadata.get("name")):
        return None, problems
    desired, code_problems = desired_spec(document, project, identity, provider.type, kind, spec)
    problems += code_problems
    resource = Resource(
        id=ResourceId(provider.name, kind, metadata["name"]),
        provider_type=provider.type,
        spec=desired,
        source=SourcePosition(document.file, document.yaml.line, document.yaml.column),
        lifecycle=_lifecycle(metadata.get("lifecycle")),
        labels=_mapping(metadata.get("labels")),
    )
    return Checked(resource, document, clean=not problems), problems


def _remember_secrets(spec: dict[str, Any], provider_type: str, kind: str) -> None:
    """Values in sensitive positions are masked in everything printed from here on (a
    ``${env:…}`` reference is not a secret; what it resolves to is remembered when resolved)."""
    for path in sensitive_paths(provider_type, kind):
        value: Any = spec
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        for item in value.values() if isinstance(value, dict) else [value]:
            if not (isinstance(item, str) and "${" in item):
                remember(item)


def _lifecycle(value: Any) -> Lifecycle:
    """``metadata.lifecycle`` as written, or the defaults where it is malformed (reported
    separately by the envelope schema)."""
    lifecycle = _mapping(value)
    ignore = lifecycle.get("ignore_changes")
    on_remove = lifecycle.get("on_remove")
    return Lifecycle(
        prevent_destroy=lifecycle.get("prevent_destroy") is True,
        ignore_changes=tuple(p for p in ignore if isinstance(p, str))
        if isinstance(ignore, list)
        else (),
        on_remove=on_remove if on_remove in ON_REMOVE_CHOICES else ON_REMOVE_DELETE,
        drain_timeout=_duration(lifecycle.get("drain_timeout"), DEFAULT_DRAIN_TIMEOUT),
    )


def _duration(value: Any, default: float) -> float:
    """A duration such as ``10m`` in seconds; the default where malformed (the envelope schema
    reports the shape)."""
    from reconciler.durations import parse_duration
    from reconciler.errors import ConfigError

    if not isinstance(value, str):
        return default
    try:
        return parse_duration(value)
    except ConfigError:
        return default


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _valid_name(name: Any) -> bool:
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def identity_text(document: Document) -> str:
    """``provider/Kind/name`` when the document says so, else ``document N``."""
    value = document.value
    metadata = value.get("metadata") if isinstance(value, dict) else None
    if isinstance(metadata, dict):
        parts = (metadata.get("provider"), value.get("kind"), metadata.get("name"))
        if all(isinstance(p, str) and p for p in parts):
            return "/".join(parts)  # type: ignore[arg-type]
    return f"document {document.index}"


def desired_spec(
    document: Document,
    project: Project,
    identity: str,
    provider_type: str,
    kind: str,
    spec: Mapping[str, Any],
) -> tuple[dict[str, Any], list[Problem]]:
    """Spec with defaults applied and ``code_file`` read into ``code``."""
    schema = spec_schema(provider_type, kind)
    desired = apply_defaults(schema, spec)
    name = document.value["metadata"]["name"]
    for field in name_default_fields(provider_type, kind):
        desired.setdefault(field, name)
    if "code_file" in desired:
        where: Path_ = ("spec", "code_file")
        text, message = read_code_file(document.path, project.root, desired.pop("code_file"))
        if message:
            return desired, [_problem(document, where, identity, message)]
        desired["code"] = text
    return desired, []


def apply_defaults(schema: Mapping[str, Any], value: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``value`` with every absent property that declares a ``default`` filled in."""
    result = dict(value)
    for name, sub in schema.get("properties", {}).items():
        if name not in result:
            if "default" in sub:
                result[name] = _copy(sub["default"])
        elif isinstance(result[name], dict) and "properties" in sub:
            result[name] = apply_defaults(sub, result[name])
    return result


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _field_format_problems(
    document: Document, identity: str, provider_type: str, kind: str, spec: Mapping[str, Any]
) -> list[Problem]:
    problems = []
    for name, sub in spec_schema(provider_type, kind)["properties"].items():
        fmt = sub.get("x-format")
        if fmt and isinstance(spec.get(name), str):
            found = format_problem(fmt, spec[name])
            if found:
                message, expected, suggestion = found
                problems.append(
                    _problem(document, ("spec", name), identity, message, expected, suggestion)
                )
    return problems


def _ignore_changes_problems(
    document: Document, identity: str, provider_type: str, kind: str, metadata: Mapping[str, Any]
) -> list[Problem]:
    lifecycle = metadata.get("lifecycle")
    paths = lifecycle.get("ignore_changes") if isinstance(lifecycle, dict) else None
    if not isinstance(paths, list):
        return []
    fields = spec_schema(provider_type, kind)["properties"]
    problems = []
    for index, path in enumerate(paths):
        if not isinstance(path, str) or not path.startswith("spec."):
            continue  # the envelope schema reports the shape
        field = path.split(".")[1]
        if field not in fields:
            problems.append(
                _problem(
                    document,
                    ("metadata", "lifecycle", "ignore_changes", index),
                    identity,
                    f"{path!r} names no field of the {kind} spec",
                    expected="spec.<field>",
                    suggestion=("spec." + closest(field, fields)) if closest(field, fields) else "",
                )
            )
    return problems


def _kind_for(problem: Problem, provider: ProviderConfig, kind: str) -> Problem:
    """An unknown kind is checked against the kinds of the document's own provider type only."""
    if problem.path != "kind":
        return problem
    kinds = sorted(supported_kinds(provider.type))
    return replace(
        problem,
        message=f"{kind!r} is not a kind of provider {provider.name!r} (type {provider.type})",
        expected=one_of(kinds) if kinds else "no kinds (this provider type manages none)",
        suggestion=closest(kind, kinds),
    )


def _problem(
    document: Document,
    where: Path_,
    identity: str,
    message: str,
    expected: str = "",
    suggestion: str = "",
) -> Problem:
    line, column = document.yaml.mark(where)
    return Problem(
        document.file, line, column, message, identity, dotted(where), expected, suggestion
    )
