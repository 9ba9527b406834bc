"""The project file ``reconciler.yaml``: found from a folder, parsed, interpolated lazily.

``${env:NAME}`` references are kept unresolved until a command needs the value, so ``validate``
needs no credentials and a ``plan`` with a missing variable fails naming the variable, file and
line.

(Loading is implemented by the foundation work; the dataclasses below are the shared contract.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.model import SourcePosition

PROJECT_FILE = "reconciler.yaml"
DEFAULT_STATE_PATH = ".reconciler/state.json"
DEFAULT_SANDBOX_DB = ".reconciler/sandbox.db"


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
    sandbox_db: Path | None = None  # where ``base_url: sandbox`` keeps its world

    def get(self, key: str, default: Any = None) -> Any:
        """A setting with ``${env:NAME}`` resolved now; a missing variable is a ConfigError."""
        raise NotImplementedError

    def secret(self, key: str) -> str | None:
        """A credential (``token``, ``api_key``) resolved from the environment, or None if unset."""
        raise NotImplementedError


@dataclass(frozen=True)
class StateConfig:
    backend: str = "local"
    path: Path = Path(DEFAULT_STATE_PATH)
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Project:
    """A loaded project file. ``root`` is the folder holding it; paths inside are absolute."""

    root: Path
    file: Path
    manifests: tuple[str, ...]
    providers: Mapping[str, ProviderConfig]
    state: StateConfig


def find_project(start: Path) -> Path:
    """The project file in ``start`` or its nearest ancestor."""
    raise NotImplementedError


def load_project(start: Path) -> Project:
    """Find and parse the project file (no environment variable is resolved here)."""
    raise NotImplementedError
