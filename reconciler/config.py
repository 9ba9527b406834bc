"""The project file ``reconciler.yaml``: found from a folder, parsed, interpolated lazily.

``${env:NAME}`` references are kept unresolved until a command needs the value, so ``validate``
needs no credentials and a ``plan`` with a missing variable fails naming the variable, file and
line. ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError
from reconciler.masking import remember
from reconciler.model import SourcePosition

PROJECT_FILE = "reconciler.yaml"
DEFAULT_STATE_PATH = ".reconciler/state.json"
DEFAULT_SANDBOX_DB = ".reconciler/sandbox.db"
SANDBOX_BASE_URL = "sandbox"

# ``$${`` is an escaped dollar; ``${env:NAME}`` a reference; any other ``${...}`` is a mistake.
_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")
_ENV_REFERENCE = re.compile(r"(?<!\$)\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


class ProjectFileError(ConfigError):
    """The project file breaks its schema; carries every problem found (see manifest.problems)."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class ProviderConfig:
    """One ``providers.<name>`` entry. Values may hold unresolved ``${env:NAME}`` references."""

    name: str
    type: str
    base_url: str
    settings: Mapping[str, Any]  # every other key as written (organization_id, token, ...)
    position: SourcePosition
    parallelism: int = 8
    timeout: float = 30.0
    max_retries: int = 5
    deadline: float = 120.0  # seconds for one call: every attempt and wait between them
    max_retry_after: float = 60.0  # a longer Retry-After is waited this long at most
    max_response_mb: float = 64.0  # a larger answer is an error, not a memory balloon
    sandbox_db: Path | None = None  # where ``base_url: sandbox`` keeps its world
    # where each setting was written, so a missing variable is reported at its line
    setting_positions: Mapping[str, SourcePosition] = field(default_factory=dict)

    @property
    def is_sandbox(self) -> bool:
        """True when this instance talks to the embedded sandbox."""
        return self.base_url == SANDBOX_BASE_URL

    def get(self, key: str, default: Any = None) -> Any:
        """A setting with ``${env:NAME}`` resolved now; a missing variable is a ConfigError."""
        if key not in self.settings:
            return default
        where = self.setting_positions.get(key, self.position)
        value = interpolate(self.settings[key], where, f"providers.{self.name}.{key}")
        if key in sensitive_setting_names():
            remember(value)
        return value

    @property
    def on_loopback(self) -> bool:
        """True when base_url names this machine (a sandbox served with ``sandbox serve``)."""
        try:
            url = interpolate(self.base_url, self.position, f"providers.{self.name}.base_url")
        except ConfigError:
            return False  # the request itself reports the missing variable
        return is_loopback_url(str(url))

    def get_required(self, key: str) -> Any:
        """A setting that must be set to something: a ConfigError at its line when it is not.

        A reference to a variable that is set but empty is reported as such, naming it.
        """
        value = self.get(key)
        if value in (None, ""):
            raise ConfigError(self.missing(key))
        return value

    def missing(self, key: str) -> str:
        """Why setting ``key`` has no value: not written, or its variables are empty."""
        raw = self.settings.get(key)
        where = self.setting_positions.get(key, self.position)
        empty = [
            m.group(1) for m in _ENV_REFERENCE.finditer(raw if isinstance(raw, str) else "")
            if os.environ.get(m.group(1)) == ""
        ]
        if empty:
            return (
                f"{where}: providers.{self.name}.{key}: environment variable {empty[0]} is set "
                f"but empty (the project file refers to it as ${{env:{empty[0]}}})"
            )
        return f"{self.position}: providers.{self.name}.{key} is required"

    def secret(self, key: str) -> str | None:
        """A credential (``token``, ``api_key``) resolved from the environment, or None if unset.

        None means the project file does not set it; a reference to a variable that is not set
        is a ConfigError naming the variable, file and line.
        """
        value = self.get(key)
        return None if value is None else str(value)


@dataclass(frozen=True)
class StateConfig:
    """The ``state`` section; ``settings`` holds the rest as written (e.g. a postgres ``url``)."""

    backend: str = "local"
    path: Path = Path(DEFAULT_STATE_PATH)
    settings: Mapping[str, Any] = field(default_factory=dict)
    position: SourcePosition | None = None  # where the section was written

    def get(self, key: str, default: Any = None) -> Any:
        """A setting with ``${env:NAME}`` resolved now; a missing variable is a ConfigError."""
        if key not in self.settings:
            return default
        where = self.position or SourcePosition(PROJECT_FILE, 1, 1)
        value = interpolate(self.settings[key], where, f"state.{key}")
        if key in sensitive_setting_names():
            remember(value)
        return value


@dataclass(frozen=True)
class Project:
    """A loaded project file. ``root`` is the folder holding it; paths inside are absolute."""

    root: Path
    file: Path
    manifests: tuple[str, ...]
    providers: Mapping[str, ProviderConfig]
    state: StateConfig
    # where each manifests entry was written (same order as ``manifests``)
    manifest_positions: tuple[SourcePosition, ...] = ()
    # the project file's ``name``; empty: the folder's name (see ``name``)
    given_name: str = ""

    @property
    def name(self) -> str:
        """The project's name: ``name`` in the project file, else the folder's name. State is
        bound to it and destroy asks for it."""
        return self.given_name or self.root.name


@cache
def sensitive_setting_names() -> frozenset[str]:
    """Every project-file setting name marked ``x-sensitive``, in any provider type or the state
    section (token, api_key, a state ``url``); ``schema.sensitive_settings`` gives one type's."""
    from reconciler.schema import PROJECT, load_schema

    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for name, sub in (node.get("properties") or {}).items():
                if isinstance(sub, Mapping) and sub.get("x-sensitive"):
                    found.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(load_schema(PROJECT))
    return frozenset(found)


def is_loopback_url(url: str) -> bool:
    """True for http(s)://127.0.0.1, localhost or [::1] (the project schema's loopback pattern)."""
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return host in ("127.0.0.1", "localhost", "::1")


def find_project(start: Path) -> Path:
    """The project file in ``start`` or its nearest ancestor."""
    start = Path(start).absolute()
    if start.is_file():
        return start
    if not start.exists():
        raise ConfigError(f"folder {start} does not exist")
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {PROJECT_FILE} in {start} or any folder above it "
        "(run from the project folder or pass -C DIR)"
    )


def load_project(start: Path) -> Project:
    """Find and parse the project file (no environment variable is resolved here)."""
    from reconciler.manifest.project_file import parse_project_file

    return parse_project_file(find_project(start))


def interpolate(value: Any, where: SourcePosition, path: str) -> Any:
    """``value`` with every ``${env:NAME}`` replaced from the environment (lists, maps, text)."""
    if isinstance(value, str):
        return _interpolate_text(value, where, path)
    if isinstance(value, list):
        return [interpolate(v, where, path) for v in value]
    if isinstance(value, Mapping):
        return {k: interpolate(v, where, f"{path}.{k}") for k, v in value.items()}
    return value


def reference_errors(text: str) -> list[str]:
    """What is wrong with the ``${...}`` references in ``text`` (no environment is read)."""
    errors = []
    for match in _REFERENCE.finditer(text):
        inner = match.group(1)
        if inner is not None and not _ENV_NAME.fullmatch(inner):
            errors.append(f"unsupported reference ${{{inner}}} (only ${{env:NAME}} is supported)")
    return errors


def _interpolate_text(text: str, where: SourcePosition, path: str) -> str:
    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner is None:
            return "${"
        name = _ENV_NAME.fullmatch(inner)
        if name is None:
            raise ConfigError(f"{where}: {path}: unsupported reference ${{{inner}}}")
        variable = name.group(1)
        if variable not in os.environ:
            raise ConfigError(
                f"{where}: {path}: environment variable {variable} is not set "
                f"(export it before running; the project file refers to it as ${{env:{variable}}})"
            )
        return os.environ[variable]

    return _REFERENCE.sub(replace, text)
