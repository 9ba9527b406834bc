"""The JSON Schemas (Draft 2020-12) and what the engine reads from their annotations.

Schemas live in ``schemas/`` at the repository root, and in ``reconciler/schemas`` inside an
installed wheel. Each is loaded and compiled once per process. The engine knows no platform:
which lists are sets, which fields are sensitive, toggles, replace-on-change and references are
all read from annotations here (see docs/architecture.md for their meaning).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

FieldPath = tuple[str, ...]

ENVELOPE = "envelope.schema.json"
PROJECT = "project.schema.json"


@cache
def schemas_dir() -> Path:
    """Where the schemas are: inside the installed package, else at the source tree's root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if (candidate / ENVELOPE).is_file():
            return candidate
    raise FileNotFoundError(f"JSON Schemas not found next to {here}")  # a broken installation


@cache
def _load(relative: str) -> dict[str, Any]:
    with (schemas_dir() / relative).open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


@cache
def _spec_files() -> dict[tuple[str, str], str]:
    """(provider type, Kind) -> schema path relative to the schemas folder."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted(schemas_dir().glob("*/*.schema.json")):
        relative = path.relative_to(schemas_dir()).as_posix()
        schema = _load(relative)
        found[(path.parent.name, schema["x-kind"])] = relative
    return found


def all_schema_files() -> list[str]:
    """Every schema file, relative to the schemas folder (envelope, project, per type/kind)."""
    return [ENVELOPE, PROJECT, *sorted(_spec_files().values())]


def load_schema(relative: str) -> dict[str, Any]:
    """One schema file as data (shared; do not mutate)."""
    return _load(relative)


@cache
def sensitive_settings(provider_type: str) -> frozenset[str]:
    """The project-file settings of a provider type that hold credentials (``x-sensitive``)."""
    definition = _load(PROJECT).get("$defs", {}).get(provider_type, {})
    return frozenset(
        name for name, prop in (definition.get("properties") or {}).items()
        if isinstance(prop, Mapping) and prop.get("x-sensitive")
    )


@cache
def identity_settings(provider_type: str) -> frozenset[str]:
    """The project-file settings of a provider type that name the platform account it manages
    (``x-identity``, e.g. organization and workspace ids): state is bound to them."""
    definition = _load(PROJECT).get("$defs", {}).get(provider_type, {})
    return frozenset(
        name for name, prop in (definition.get("properties") or {}).items()
        if isinstance(prop, Mapping) and prop.get("x-identity")
    )


@cache
def provider_types_with_schemas() -> frozenset[str]:
    """Provider types that have a schema folder (including types that manage no kinds)."""
    return frozenset(p.name for p in schemas_dir().iterdir() if p.is_dir())


def supported_kinds(provider_type: str) -> set[str]:
    """Manifest kinds a provider type manages (empty for unknown types)."""
    return {kind for (ptype, kind) in _spec_files() if ptype == provider_type}


def all_kinds() -> set[str]:
    """Every kind some provider type manages."""
    return {kind for (_ptype, kind) in _spec_files()}


def spec_schema(provider_type: str, kind: str) -> dict[str, Any]:
    """The schema of ``spec`` for a (provider type, kind); KeyError when the pair is unknown."""
    return _load(_spec_files()[(provider_type, kind)])


@cache
def _registry() -> Registry:
    resources = [
        (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema in (_load(name) for name in all_schema_files())
    ]
    return Registry().with_resources(resources)


@cache
def validator(relative: str) -> Draft202012Validator:
    """A compiled validator (with format checks) for a schema file; built once per process."""
    return Draft202012Validator(
        _load(relative),
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@cache
def spec_validator(provider_type: str, kind: str) -> Draft202012Validator:
    """The compiled validator for a (provider type, kind) spec."""
    return validator(_spec_files()[(provider_type, kind)])


# --- annotations the diff engine and the loader read -------------------------------------------


def _walk(schema: Mapping[str, Any], path: FieldPath = ()) -> Iterator[tuple[FieldPath, Mapping]]:
    """Every (path, property schema) under ``properties``, depth first."""
    for name, sub in schema.get("properties", {}).items():
        yield (*path, name), sub
        if isinstance(sub, Mapping):
            yield from _walk(sub, (*path, name))


def _top(provider_type: str, kind: str) -> Mapping[str, Mapping[str, Any]]:
    properties: Mapping[str, Mapping[str, Any]] = spec_schema(provider_type, kind)["properties"]
    return properties


@cache
def unordered_paths(provider_type: str, kind: str) -> frozenset[FieldPath]:
    """Paths (inside spec) of lists compared as sets (``x-unordered``)."""
    schema = spec_schema(provider_type, kind)
    return frozenset(p for p, sub in _walk(schema) if sub.get("x-unordered"))


@cache
def sensitive_paths(provider_type: str, kind: str) -> frozenset[FieldPath]:
    """Paths (inside spec) whose values are masked everywhere (``x-sensitive``)."""
    schema = spec_schema(provider_type, kind)
    return frozenset(p for p, sub in _walk(schema) if sub.get("x-sensitive"))


@cache
def toggle_fields(provider_type: str, kind: str) -> Mapping[str, Mapping[str, str]]:
    """Top-level field -> {value as text: "enable" | "disable"} (``x-toggle``)."""
    return {
        name: dict(sub["x-toggle"])
        for name, sub in _top(provider_type, kind).items()
        if "x-toggle" in sub
    }


def toggle_action(provider_type: str, kind: str, field: str, value: Any) -> str | None:
    """The action ("enable"/"disable") a change of ``field`` to ``value`` means, if any.

    Toggle keys are text: booleans are written ``"true"``/``"false"`` as in JSON.
    """
    mapping = toggle_fields(provider_type, kind).get(field)
    if mapping is None:
        return None
    key = json.dumps(value) if isinstance(value, bool) else str(value)
    return mapping.get(key)


@cache
def replace_fields(provider_type: str, kind: str) -> frozenset[str]:
    """Top-level fields whose change forces a replace (``x-replace-on-change``)."""
    return frozenset(
        n for n, sub in _top(provider_type, kind).items() if sub.get("x-replace-on-change")
    )


@cache
def reference_fields(provider_type: str, kind: str) -> Mapping[str, str]:
    """Top-level field -> referenced Kind (``x-reference``), within the same provider instance."""
    return {
        n: sub["x-reference"]
        for n, sub in _top(provider_type, kind).items()
        if "x-reference" in sub
    }


@cache
def dependency_fields(provider_type: str, kind: str) -> Mapping[str, tuple[str, str]]:
    """Top-level list field -> (Kind, spec field) it may name (``x-depends-on``).

    Unlike ``x-reference`` the target need not be declared (it may already exist remotely);
    when a document of that kind in the same provider has a matching spec field, it must be
    applied first.
    """
    return {
        n: (sub["x-depends-on"]["kind"], sub["x-depends-on"]["field"])
        for n, sub in _top(provider_type, kind).items()
        if "x-depends-on" in sub
    }


@cache
def desired_only_fields(provider_type: str, kind: str) -> frozenset[str]:
    """Top-level behaviour flags never compared with live (``x-desired-only``)."""
    return frozenset(n for n, sub in _top(provider_type, kind).items() if sub.get("x-desired-only"))


@cache
def natural_key_field(provider_type: str, kind: str) -> str | None:
    """The spec field a remote object is matched on (``x-natural-key``), if the kind has one."""
    for name, sub in _top(provider_type, kind).items():
        if sub.get("x-natural-key"):
            return name
    return None


@cache
def name_default_fields(provider_type: str, kind: str) -> frozenset[str]:
    """Top-level fields that default to ``metadata.name`` (``x-default-from``)."""
    return frozenset(
        n
        for n, sub in _top(provider_type, kind).items()
        if sub.get("x-default-from") == "metadata.name"
    )


@cache
def file_fields(provider_type: str, kind: str) -> Mapping[str, tuple[str, str]]:
    """Top-level field -> (the field naming a file that may hold it, the file's usual suffix)
    (``x-file-for`` on the file field: ``code_file`` holds ``code``)."""
    found = {}
    for name, sub in _top(provider_type, kind).items():
        spec = sub.get("x-file-for")
        if isinstance(spec, Mapping) and isinstance(spec.get("field"), str):
            found[spec["field"]] = (name, str(spec.get("suffix") or ".txt"))
    return found


def property_schemas(provider_type: str, kind: str) -> Mapping[str, Mapping[str, Any]]:
    """The top-level spec properties of a (provider type, kind), in schema order."""
    return _top(provider_type, kind)


# --- editor support ------------------------------------------------------------------------


def editor_schema() -> dict[str, Any]:
    """One self-contained schema for a manifest document, for yaml-language-server and IDEs.

    The envelope, with ``spec`` picked by ``kind``; a kind several provider types manage
    accepts any of their specs (the provider type is only known from the project file).
    """
    envelope = json.loads(json.dumps(_load(ENVELOPE)))
    envelope["$id"] = envelope["$id"].replace(ENVELOPE, "manifest.schema.json")
    defs: dict[str, Any] = {}
    branches = []
    for kind in sorted(all_kinds()):
        refs = []
        for (ptype, k), relative in sorted(_spec_files().items()):
            if k != kind:
                continue
            key = f"{ptype}-{kind}"
            spec = {k2: v for k2, v in _load(relative).items() if k2 not in ("$schema", "$id")}
            defs[key] = spec
            refs.append({"$ref": f"#/$defs/{key}"})
        spec_rule = refs[0] if len(refs) == 1 else {"anyOf": refs}
        branches.append(
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {"properties": {"spec": spec_rule}},
            }
        )
    envelope["allOf"] = branches
    envelope["$defs"] = defs
    return envelope
