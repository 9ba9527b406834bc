"""Parse ``reconciler.yaml`` into a ``Project``: strict YAML, its JSON Schema, known provider types.

No environment variable is read here; only the syntax of ``${...}`` references is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reconciler.config import (
    DEFAULT_SANDBOX_DB,
    DEFAULT_STATE_PATH,
    SANDBOX_BASE_URL,
    Project,
    ProjectFileError,
    ProviderConfig,
    StateConfig,
    reference_errors,
    sensitive_setting_names,
)
from reconciler.errors import ConfigError
from reconciler.manifest.problems import Problem, dotted, summary
from reconciler.manifest.schema_errors import schema_problems
from reconciler.manifest.yaml_source import Path_, YAMLDocument, YAMLProblem, decode, read_documents
from reconciler.masking import remember
from reconciler.model import SourcePosition
from reconciler.schema import PROJECT, load_schema, validator

_PROVIDER_FIELDS = frozenset({"type", "base_url", "parallelism", "timeout", "max_retries",
                              "deadline", "max_retry_after", "max_response_mb"})


def parse_project_file(path: Path) -> Project:
    """Read and check a project file; raises ProjectFileError listing every problem."""
    root = path.parent.resolve()
    shown = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read the project file: {exc.strerror}") from None
    try:
        documents = list(read_documents(decode(data)))
    except YAMLProblem as exc:
        _fail([Problem(shown, exc.line, exc.column, exc.message)])
    documents = [d for d in documents if d.value is not None]
    if len(documents) != 1 or not isinstance(documents[0].value, dict):
        line = documents[1].line if len(documents) > 1 else 1
        _fail([Problem(shown, line, 1, "the project file must hold exactly one mapping")])
    doc = documents[0]
    _remember_literal_secrets(doc.value)
    problems = list(schema_problems(validator(PROJECT), doc.value, doc, file=shown))
    problems += _reference_problems(doc, shown)
    if problems:
        _fail(problems)
    return _build(doc, root, path.resolve(), shown)


def _fail(problems: list[Problem]) -> Any:
    unique = sorted(set(problems))  # two rules may notice the same missing field
    raise ProjectFileError(summary(unique), unique)


def _remember_literal_secrets(data: dict[str, Any]) -> None:
    """A value written in a sensitive position (``token: ghp_…`` instead of ``${env:…}``) is
    refused by the schema; it must not be printed back in the refusal, nor anywhere else."""
    sections = [data.get("state")]
    providers = data.get("providers")
    if isinstance(providers, dict):
        sections.extend(providers.values())
    names = sensitive_setting_names()
    for section in sections:
        if not isinstance(section, dict):
            continue
        for name in names & set(section):
            value = section[name]
            if not (isinstance(value, str) and "${" in value):
                remember(value)


def _reference_problems(doc: YAMLDocument, shown: str) -> Iterator[Problem]:
    for where, text in _strings(doc.value, ()):
        for message in reference_errors(text):
            line, column = doc.mark(where)
            yield Problem(shown, line, column, message, path=dotted(where), expected="${env:NAME}")


def _strings(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _build(doc: YAMLDocument, root: Path, file: Path, shown: str) -> Project:
    data = doc.value
    schema = load_schema(PROJECT)

    def position(*where: str | int) -> SourcePosition:
        line, column = doc.mark(where)
        return SourcePosition(shown, line, column)

    providers = {}
    for name, entry in data["providers"].items():
        type_schema = schema["$defs"].get(entry["type"], {})
        default_url = type_schema.get("properties", {}).get("base_url", {}).get("default", "")
        base_url = str(entry.get("base_url", default_url))
        settings = {k: v for k, v in entry.items() if k not in _PROVIDER_FIELDS}
        providers[name] = ProviderConfig(
            name=name,
            type=entry["type"],
            base_url=base_url,
            settings=settings,
            position=position("providers", name),
            parallelism=int(entry.get("parallelism", 8)),
            timeout=float(entry.get("timeout", 30.0)),
            max_retries=int(entry.get("max_retries", 5)),
            deadline=float(entry.get("deadline", 120.0)),
            max_retry_after=float(entry.get("max_retry_after", 60.0)),
            max_response_mb=float(entry.get("max_response_mb", 64.0)),
            sandbox_db=root / DEFAULT_SANDBOX_DB if base_url == SANDBOX_BASE_URL else None,
            setting_positions={k: position("providers", name, k) for k in settings},
        )
    state_data = data.get("state") or {}
    state = StateConfig(
        backend=state_data.get("backend", "local"),
        path=root / state_data.get("path", DEFAULT_STATE_PATH),
        settings={k: v for k, v in state_data.items() if k not in ("backend", "path")},
        position=position("state") if "state" in data else None,
    )
    manifests = data.get("manifests", schema["properties"]["manifests"]["default"])
    return Project(
        root=root,
        file=file,
        manifests=tuple(manifests),
        providers=providers,
        state=state,
        manifest_positions=tuple(
            position("manifests", i) if "manifests" in data else position()
            for i in range(len(manifests))
        ),
        given_name=str(data.get("name") or ""),
    )
