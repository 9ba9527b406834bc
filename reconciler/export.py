"""``export``: write manifests for what the providers have that this project does not manage.

Everything here is generic: a provider's read already projects each live object into spec
shape and names an unmanaged one from its natural key (unique, valid, stable); the schemas'
annotations say what to leave out. A field equal to its schema ``default`` is left out, as is
one equal to ``metadata.name`` where it defaults to it (``x-default-from``) and every
desired-only flag. A value kept in a file (``x-file-for``: ``code``) is written to one beside
the manifest. A sensitive value (``x-sensitive``) is never written: where the live object has
one, the manifest gets a ``${env:NAME}`` reference and a comment naming the variable to set.

Files: one per document of a kind that nothing references by ``x-reference`` field
(``<provider>/<name>.yaml``), the documents that reference it beside it (an automation with
its schedule and triggers), and the documents of kinds that other kinds name through
``x-depends-on`` (connections) together in ``<provider>/<kind>s.yaml``. Every document is
validated against its schemas before anything is written; one that does not validate is left
out with a note (and so is what references it).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import ConfigError
from reconciler.model import LiveResource, Resource, ResourceId

API_VERSION = "reconciler/v1"
HEADER = "# Written by `reconciler export` from what provider {provider} has; edit freely.\n"
_ENV_UNSAFE = re.compile(r"[^A-Z0-9]+")


@dataclass(frozen=True)
class ExportedDocument:
    """One manifest document to write, with the file it goes to and the files it needs."""

    id: ResourceId
    document: dict[str, Any]
    file: str  # path of the manifest file, relative to the export folder (POSIX)
    extra_files: Mapping[str, str] = field(default_factory=dict)  # path -> text (code files)
    notes: tuple[str, ...] = ()  # comment lines above the document (variables to set)


@dataclass
class Export:
    """What an export would write, and what it left out and why."""

    documents: list[ExportedDocument]
    skipped: list[str]

    def files(self) -> dict[str, str]:
        """Relative path -> text of every file to write."""
        by_file: dict[str, list[ExportedDocument]] = {}
        extra: dict[str, str] = {}
        for doc in self.documents:
            by_file.setdefault(doc.file, []).append(doc)
            extra.update(doc.extra_files)
        files = {}
        for path, docs in sorted(by_file.items()):
            parts = [_render(doc) for doc in docs]
            text = HEADER.format(provider=docs[0].id.provider) + "---\n".join(parts)
            files[path] = _laid_out(text)
        files.update(extra)
        return dict(sorted(files.items()))


# --- selection ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selector:
    """``name=lead-*,spec.stage=draft,kind!=Webhook``: every term must hold (globs allowed)."""

    terms: tuple[tuple[str, bool, str], ...] = ()  # (key, equal?, pattern)

    @classmethod
    def parse(cls, text: str | None) -> Selector:
        terms = []
        for raw in (text or "").split(","):
            part = raw.strip()
            if not part:
                continue
            key, equal, pattern = _split_term(part)
            if key not in ("name", "kind", "provider") and not key.startswith("spec."):
                raise ConfigError(
                    f"--selector {part!r}: the key must be name, kind, provider or spec.<field>"
                )
            terms.append((key, equal, pattern))
        return cls(tuple(terms))

    def matches(self, item: LiveResource) -> bool:
        for key, equal, pattern in self.terms:
            value = _selector_value(item, key)
            if fnmatch.fnmatchcase(value, pattern) != equal:
                return False
        return True


def _split_term(part: str) -> tuple[str, bool, str]:
    for operator, equal in (("!=", False), ("==", True), ("=", True)):
        if operator in part:
            key, _, pattern = part.partition(operator)
            if key.strip():
                return key.strip(), equal, pattern.strip()
    raise ConfigError(f"--selector {part!r}: expected KEY=VALUE or KEY!=VALUE")


def _selector_value(item: LiveResource, key: str) -> str:
    if key == "name":
        return item.id.name
    if key == "kind":
        return item.id.kind
    if key == "provider":
        return item.id.provider
    value: Any = item.spec
    for part in key.split(".")[1:]:
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --- building documents ------------------------------------------------------------------------


def build_export(
    live: Sequence[LiveResource],
    provider_types: Mapping[str, str],
    desired: Sequence[Resource],
    *,
    kinds: Collection[str] = (),
    selector: Selector = Selector(),
) -> Export:
    """The documents for every unmanaged live object of the given kinds matching ``selector``.

    ``provider_types`` maps each provider instance to its type; ``desired`` is what the project
    declares (a document may reference one of those).
    """
    from reconciler.engine import rules_for

    declared = {r.id for r in desired}
    candidates = {item.id: item for item in live if not item.managed}
    if kinds:
        candidates = {rid: item for rid, item in candidates.items() if rid.kind in kinds}
    skipped: list[str] = []
    chosen = {rid for rid, item in candidates.items() if selector.matches(item)}
    # what references a chosen object comes with it (an automation's schedule and triggers)
    referents = {
        rid: _references(item, rules_for(provider_types[rid.provider], rid.kind).references)
        for rid, item in candidates.items()
    }
    grew = True
    while grew:
        grew = False
        for rid, targets in referents.items():
            if rid not in chosen and targets and all(t in chosen for t in targets):
                chosen.add(rid)
                grew = True
    chosen -= _shared_keys(candidates, chosen, provider_types, desired, skipped)
    built: dict[ResourceId, ExportedDocument] = {}
    for rid in sorted(chosen):
        document, problem = _document(candidates[rid], provider_types[rid.provider])
        if problem:
            skipped.append(f"{rid}: {problem}; it was left out")
        elif document is not None:
            built[rid] = document
    # nothing may reference what is neither exported nor declared
    changed = True
    while changed:
        changed = False
        for rid in list(built):
            missing = [t for t in referents[rid] if t not in built and t not in declared]
            if missing:
                del built[rid]
                skipped.append(f"{rid}: it refers to {missing[0]}, which is neither declared nor "
                               "exported; it was left out")
                changed = True
    placed = _placed(built, referents, provider_types)
    return Export(placed, skipped)


def _shared_keys(
    candidates: Mapping[ResourceId, LiveResource],
    chosen: Collection[ResourceId],
    provider_types: Mapping[str, str],
    desired: Sequence[Resource],
    skipped: list[str],
) -> set[ResourceId]:
    """Objects whose natural key a declared document or another chosen object of the kind has
    too (the platform may scope a key more narrowly than a project can: a trigger id per
    automation). The first by remote id is kept, as the provider matches it first; the others
    are left out."""
    from reconciler.schema import natural_key_field

    seen: dict[tuple[str, str, str], ResourceId] = {}
    for resource in desired:
        key_field = natural_key_field(resource.provider_type, resource.id.kind)
        if key_field is not None:
            value = str(resource.spec.get(key_field, ""))
            seen.setdefault((resource.id.provider, resource.id.kind, value), resource.id)
    dropped: set[ResourceId] = set()
    order = sorted(chosen, key=lambda r: (r.provider, r.kind, candidates[r].remote_id))
    for rid in order:
        key_field = natural_key_field(provider_types[rid.provider], rid.kind)
        if key_field is None:
            continue
        value = str(candidates[rid].spec.get(key_field, ""))
        first = seen.setdefault((rid.provider, rid.kind, value), rid)
        if first != rid:
            dropped.add(rid)
            skipped.append(f"{rid}: {key_field} {value!r} is also {first}'s, and a project "
                           f"manages one {rid.kind} per {key_field} and provider; it was left out")
    return dropped


def _references(item: LiveResource, references: Mapping[str, str]) -> list[ResourceId]:
    found = []
    for name, kind in sorted(references.items()):
        value = item.spec.get(name)
        if isinstance(value, str) and value:
            found.append(ResourceId(item.id.provider, kind, value))
    return found


def _document(item: LiveResource, provider_type: str) -> tuple[ExportedDocument | None, str]:
    """The document for one live object, or a reason it cannot be written."""
    from reconciler import schema
    from reconciler.diff import get_path

    rid = item.id
    properties = schema.property_schemas(provider_type, rid.kind)
    name_defaults = schema.name_default_fields(provider_type, rid.kind)
    desired_only = schema.desired_only_fields(provider_type, rid.kind)
    files = schema.file_fields(provider_type, rid.kind)
    spec: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for key, sub in properties.items():
        if key not in item.spec or key in desired_only or sub.get("x-loader-only"):
            continue
        value = item.spec[key]
        if "default" in sub and _same(value, sub["default"]):
            continue
        if key in name_defaults and value == rid.name:
            continue
        if key in files and isinstance(value, str):
            file_field, suffix = files[key]
            relative = f"code/{rid.name}{suffix}"
            spec[file_field] = relative
            # byte for byte as the platform holds it: a newline added here would read back
            # as a change to the code, and plan would fork and publish a new version
            extra[f"{rid.provider}/{relative}"] = value
            continue
        spec[key] = value
    notes = []
    for path in sorted(schema.sensitive_paths(provider_type, rid.kind)):
        value = get_path(spec, path)
        if value is None:
            continue
        reference, named = _env_references(rid, path, value)
        _set(spec, path, reference)
        for variable in named:
            notes.append(f"# set {variable}: {'.'.join(('spec', *path))} cannot be read back "
                         "from the platform")
    document = {
        "apiVersion": API_VERSION,
        "kind": rid.kind,
        "metadata": {"name": rid.name, "provider": rid.provider},
        "spec": spec,
    }
    problem = _invalid(document, provider_type)
    if problem:
        return None, problem
    return ExportedDocument(rid, document, "", extra, tuple(notes)), ""


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, list) and isinstance(default, list):
        return sorted(map(repr, value)) == sorted(map(repr, default))
    return bool(value == default and type(value) is type(default))


def _env_references(rid: ResourceId, path: tuple[str, ...], value: Any) -> tuple[Any, list[str]]:
    """``${env:…}`` in place of a secret (each value of a mapping by its own variable)."""
    base = _ENV_UNSAFE.sub("_", f"{rid.provider}_{rid.name}_{'_'.join(path)}".upper()).strip("_")
    if isinstance(value, Mapping):
        names = {key: _ENV_UNSAFE.sub("_", f"{base}_{key}".upper()).strip("_") for key in value}
        return {key: f"${{env:{names[key]}}}" for key in value}, list(names.values())
    return f"${{env:{base}}}", [base]


def _set(spec: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = spec
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _invalid(document: Mapping[str, Any], provider_type: str) -> str:
    """The first schema problem of a document as written (with its file field), or ""."""
    from reconciler.schema import ENVELOPE, spec_validator, validator

    for check, value, prefix in (
        (validator(ENVELOPE), document, ""),
        (spec_validator(provider_type, document["kind"]), document["spec"], "spec."),
    ):
        for error in check.iter_errors(value):
            where = prefix + ".".join(str(p) for p in error.absolute_path)
            return f"the platform's value does not fit the manifest format at {where or 'spec'}"
    return ""


def _placed(
    built: Mapping[ResourceId, ExportedDocument],
    referents: Mapping[ResourceId, Sequence[ResourceId]],
    provider_types: Mapping[str, str],
) -> list[ExportedDocument]:
    """Each document with the file it goes to, in file order (the referenced one first)."""
    from reconciler.engine import rules_for
    from reconciler.schema import supported_kinds

    shared_kinds: dict[str, set[str]] = {}  # provider type -> kinds named by x-depends-on
    for provider_type in set(provider_types.values()):
        for kind in supported_kinds(provider_type):
            for target, _ in rules_for(provider_type, kind).depends_on.values():
                shared_kinds.setdefault(provider_type, set()).add(target)
    files: dict[ResourceId, str] = {}
    taken: set[str] = set()

    def own_file(rid: ResourceId) -> str:
        if rid in files:
            return files[rid]
        if rid.kind in shared_kinds.get(provider_types[rid.provider], set()):
            return f"{rid.provider}/{rid.kind.lower()}s.yaml"
        path = f"{rid.provider}/{rid.name}.yaml"
        if path in taken:
            path = f"{rid.provider}/{rid.name}.{rid.kind.lower()}.yaml"
        taken.add(path)
        files[rid] = path
        return path

    for rid in sorted(built):
        if not referents[rid]:
            own_file(rid)
    placed = []
    for rid in sorted(built, key=lambda r: (bool(referents[r]), r)):
        targets = referents[rid]
        path = own_file(targets[0]) if targets else own_file(rid)
        doc = built[rid]
        placed.append(ExportedDocument(rid, doc.document, path, doc.extra_files, doc.notes))
    return sorted(placed, key=lambda d: (d.file, bool(referents[d.id]), d.id))


# --- writing -----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, long text as ``|`` blocks, keys in the order given."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _laid_out(text: str) -> str:
    """The file in the layout ``reconciler fmt`` writes: a fresh export passes ``fmt --check``."""
    from reconciler.manifest.layout import LayoutError, canonical

    try:
        return canonical(text)
    except LayoutError:  # pragma: no cover - what we dump always reads back
        return text


def _render(doc: ExportedDocument) -> str:
    body = yaml.dump(doc.document, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)
    return "".join(f"{note}\n" for note in doc.notes) + body


def write_files(out: Path, files: Mapping[str, str]) -> tuple[list[Path], list[Path]]:
    """Write each file under ``out``: (written, unchanged). A file that exists with other
    content is never replaced: a ConfigError names every such file and nothing is written."""
    targets = {out / relative: text for relative, text in files.items()}
    conflicts = []
    unchanged = []
    for path, text in targets.items():
        if path.exists():
            try:
                same = path.read_text(encoding="utf-8") == text
            except (OSError, UnicodeDecodeError):
                same = False
            if same:
                unchanged.append(path)
            else:
                conflicts.append(str(path))
    if conflicts:
        raise ConfigError(
            f"refusing to overwrite {len(conflicts)} file(s) that differ from the export: "
            f"{', '.join(conflicts[:5])}{' …' if len(conflicts) > 5 else ''}; nothing was "
            "written (move them away or export to another --out)"
        )
    written = []
    try:
        for path, text in targets.items():
            if path in unchanged:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")  # no newline translated
            written.append(path)
    except OSError as exc:
        raise ConfigError(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from None
    return written, unchanged


def exportable_providers(project: Any, names: Iterable[str] | None) -> list[str]:
    """The provider instances to read: those named (each must exist) or all of the project."""
    if names:
        unknown = [n for n in names if n not in project.providers]
        if unknown:
            known = ", ".join(sorted(project.providers)) or "none"
            raise ConfigError(f"--provider {unknown[0]}: no such provider (declared: {known})")
        return sorted(set(names))
    return sorted(project.providers)


async def export_project(
    project: Any,
    *,
    providers: Iterable[str] | None = None,
    kinds: Collection[str] = (),
    selector: Selector = Selector(),
    progress: Any = None,
) -> Export:
    """Read the providers (all, or those named) and build the export of what is unmanaged."""
    from reconciler.engine import Engine, is_check, load_desired, state_backend
    from reconciler.providers.registry import provider_class

    names = exportable_providers(project, providers)
    types = {name: project.providers[name].type for name in names}
    known = {kind for name in names for kind in provider_class(types[name]).kinds
             if not is_check(types[name], kind)}
    unknown = sorted(set(kinds) - known)
    if unknown:
        raise ConfigError(f"--kind {unknown[0]}: the providers read manage no such kind "
                          f"(they manage: {', '.join(sorted(known)) or 'none'})")
    desired = load_desired(project)
    state = state_backend(project).read()
    async with Engine(project, progress=progress) as engine:
        live = await engine.read_live(desired, state, providers=names)
    types = {name: config.type for name, config in project.providers.items()}
    return build_export(live, types, desired, kinds=kinds, selector=selector)


def default_out(project: Any) -> Path:
    """Where export writes without --out: the project's first manifests folder."""
    for entry in project.manifests:
        if not any(ch in entry for ch in "*?["):
            path = project.root / entry
            if not path.suffix or path.is_dir():
                return path
    raise ConfigError(f"{project.file}: no manifests folder to export into; pass --out DIR")
