"""The JSON Schemas (Draft 2020-12) and what the engine reads from their annotations.

Each provider type's package owns its schemas, in its ``schemas`` folder: one
``<kind>.schema.json`` per kind it manages (``x-kind`` names the kind; the schema describes
``spec``) and ``settings.schema.json`` for its entry in the project file. The envelope and the
project-file schema are assembled here from the package's own base schemas
(``reconciler/schemas``) and the installed provider types (``reconciler.providers`` entry
points), so a provider installed from outside this package is validated with its own schemas.
Each is loaded and compiled once per process. The engine knows no platform: which lists are
sets, which fields are sensitive, toggles, replace-on-change and references are all read from
annotations here (see docs/architecture.md for their meaning).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from reconciler.errors import ConfigError

FieldPath = tuple[str, ...]

ENVELOPE = "envelope.schema.json"
PROJECT = "project.schema.json"
MANIFEST = "manifest.schema.json"  # the editor schema: the envelope with spec picked by kind
SETTINGS = "settings.schema.json"  # a provider type's project-file settings
BASE_DIR = Path(__file__).resolve().parent / "schemas"
DEFAULT_ORDER = 1


def schemas_dir() -> Path:
    """The package's base schemas (envelope and project file before providers are added)."""
    return BASE_DIR


@cache
def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            loaded: dict[str, Any] = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read this JSON Schema: {exc}") from None
    return loaded


@cache
def _provider_folders() -> dict[str, Path]:
    from reconciler.providers.registry import provider_schema_folders

    return dict(sorted(provider_schema_folders().items()))


@cache
def _spec_files() -> dict[tuple[str, str], Path]:
    """(provider type, Kind) -> the kind's schema file in the provider's package."""
    found: dict[tuple[str, str], Path] = {}
    for ptype, folder in _provider_folders().items():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.schema.json")):
            if path.name == SETTINGS:
                continue
            kind = _read(path).get("x-kind")
            if not isinstance(kind, str) or not kind:
                raise ConfigError(f"{path}: a kind's schema must name its kind in x-kind")
            found[(ptype, kind)] = path
    return found


def all_schema_files() -> list[str]:
    """Every schema ``schema export`` writes, by name (envelope, project, ``<type>/<file>``)."""
    kinds = [f"{ptype}/{path.name}" for (ptype, _kind), path in sorted(_spec_files().items())]
    return [ENVELOPE, PROJECT, *sorted(kinds)]


@cache
def load_schema(name: str) -> dict[str, Any]:
    """One schema by its export name (see ``all_schema_files``), as data (shared; do not mutate).

    The envelope and the project file come assembled from the installed provider types;
    ``manifest.schema.json`` is the editor schema.
    """
    if name == ENVELOPE:
        return _envelope()
    if name == PROJECT:
        return _project()
    if name == MANIFEST:
        return editor_schema()
    ptype, _, file = name.partition("/")
    for (found_type, _kind), path in _spec_files().items():
        if found_type == ptype and path.name == file:
            return _read(path)
    raise KeyError(name)


def provider_types() -> list[str]:
    """Every installed provider type (including types that manage no kinds), sorted."""
    return list(_provider_folders())


def _envelope() -> dict[str, Any]:
    """The base envelope with ``kind`` limited to the kinds installed provider types manage."""
    envelope = copy.deepcopy(_read(BASE_DIR / ENVELOPE))
    kinds = sorted(all_kinds())
    if kinds:
        envelope["properties"]["kind"] = {"enum": kinds}
    return envelope


def _project() -> dict[str, Any]:
    """The base project schema with each installed provider type's settings.

    Every type takes the common settings (``$defs.settings``: base_url, parallelism, timeouts)
    and adds its own from ``settings.schema.json``; a property both name is merged, so a type
    can give ``base_url`` a default.
    """
    project = copy.deepcopy(_read(BASE_DIR / PROJECT))
    defs = project["$defs"]
    common = defs.pop("settings")
    provider = defs["provider"]
    types = provider_types()
    provider["properties"]["type"] = {**provider["properties"]["type"], "enum": types}
    for ptype in types:
        provider["allOf"].append(
            {
                "if": {"properties": {"type": {"const": ptype}}},
                "then": {"$ref": f"#/$defs/{ptype}"},
            }
        )
        defs[ptype] = _settings(common, ptype)
    return project


def _settings(common: Mapping[str, Any], ptype: str) -> dict[str, Any]:
    path = _provider_folders()[ptype] / SETTINGS
    own = _read(path) if path.is_file() else {}
    properties = copy.deepcopy(dict(common["properties"]))
    for name, sub in (own.get("properties") or {}).items():
        properties[name] = {**properties.get(name, {}), **sub}
    merged: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(own.get("required") or []),
    }
    for key in ("if", "then", "else", "$comment"):
        if key in own:
            merged[key] = own[key]
    return merged


@cache
def sensitive_settings(provider_type: str) -> frozenset[str]:
    """The project-file settings of a provider type that hold credentials (``x-sensitive``)."""
    definition = _project().get("$defs", {}).get(provider_type, {})
    return frozenset(
        name for name, prop in (definition.get("properties") or {}).items()
        if isinstance(prop, Mapping) and prop.get("x-sensitive")
    )


@cache
def identity_settings(provider_type: str) -> frozenset[str]:
    """The project-file settings of a provider type that name the platform account it manages
    (``x-identity``, e.g. an organization or account id): state is bound to them."""
    definition = _project().get("$defs", {}).get(provider_type, {})
    return frozenset(
        name for name, prop in (definition.get("properties") or {}).items()
        # a credential never identifies an account here: state and messages would carry it
        if isinstance(prop, Mapping) and prop.get("x-identity") and not prop.get("x-sensitive")
    )


@cache
def provider_types_with_schemas() -> frozenset[str]:
    """Provider types installed (including types that manage no kinds)."""
    return frozenset(_provider_folders())


def supported_kinds(provider_type: str) -> set[str]:
    """Manifest kinds a provider type manages (empty for unknown types)."""
    return {kind for (ptype, kind) in _spec_files() if ptype == provider_type}


def all_kinds() -> set[str]:
    """Every kind some provider type manages."""
    return {kind for (_ptype, kind) in _spec_files()}


def spec_schema(provider_type: str, kind: str) -> dict[str, Any]:
    """The schema of ``spec`` for a (provider type, kind); KeyError when the pair is unknown."""
    return _read(_spec_files()[(provider_type, kind)])


@cache
def _registry() -> Registry:
    resources = [
        (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema in (load_schema(name) for name in all_schema_files())
        if "$id" in schema
    ]
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """A compiled validator (with format checks) for a schema by name; built once per process."""
    return Draft202012Validator(
        load_schema(name),
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@cache
def spec_validator(provider_type: str, kind: str) -> Draft202012Validator:
    """The compiled validator for a (provider type, kind) spec."""
    return Draft202012Validator(
        spec_schema(provider_type, kind),
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


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


@cache
def kind_order(provider_type: str, kind: str) -> int:
    """Where a kind's operations go among independent ones (``x-order`` on the kind, default 1):
    lower first; removals go the other way round."""
    value = spec_schema(provider_type, kind).get("x-order", DEFAULT_ORDER)
    return value if isinstance(value, int) else DEFAULT_ORDER


@cache
def is_check_kind(provider_type: str, kind: str) -> bool:
    """True for a kind whose documents are smoke checks (``x-check`` on the kind): never read
    live, run after what they reference changes."""
    return spec_schema(provider_type, kind).get("x-check") is True


@cache
def upgrade_fields(provider_type: str, kind: str) -> Mapping[str, str]:
    """Desired-only flag -> the list field it upgrades (``x-upgrades``): when the flag is true
    and the provider reports items of that list upgradable, the plan upgrades them."""
    return {
        n: sub["x-upgrades"]
        for n, sub in _top(provider_type, kind).items()
        if isinstance(sub.get("x-upgrades"), str)
    }


def property_schemas(provider_type: str, kind: str) -> Mapping[str, Mapping[str, Any]]:
    """The top-level spec properties of a (provider type, kind), in schema order."""
    return _top(provider_type, kind)


# --- editor support ------------------------------------------------------------------------


def editor_schema() -> dict[str, Any]:
    """One self-contained schema for a manifest document, for yaml-language-server and IDEs.

    The envelope, with ``spec`` picked by ``kind``; a kind several provider types manage
    accepts any of their specs (the provider type is only known from the project file).
    """
    envelope = copy.deepcopy(load_schema(ENVELOPE))
    envelope["$id"] = envelope["$id"].replace(ENVELOPE, MANIFEST)
    defs: dict[str, Any] = {}
    branches = []
    for kind in sorted(all_kinds()):
        refs = []
        for (ptype, k), path in sorted(_spec_files().items()):
            if k != kind:
                continue
            key = f"{ptype}-{kind}"
            spec = {k2: v for k2, v in _read(path).items() if k2 not in ("$schema", "$id")}
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
