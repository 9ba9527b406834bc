"""Runs as the runs commands and run health see them: typed records, the same for every platform.

A provider that manages runs (``health.RunManager``) reads its platform's answers into these
records, checking their shape there; nothing outside that provider knows the platform's field
names. ``raw`` keeps the platform's object as it came, so ``to_json`` (``--format json``) prints
what the platform said.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Run:
    """One run of a managed object. Missing text fields are ""; ``error`` is the platform's
    own value; ``created_at`` is an ISO 8601 time when the platform gives one."""

    id: str
    automation_id: str  # the remote id of the object the run is of
    status: str
    trigger_type: str = ""
    created_at: str = ""
    started_at: str = ""
    completed_at: str = ""
    duration_seconds: float | str | None = None
    error: Any = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # the managed object (PROVIDER/Kind/name) the project knows this run by, once looked up
    identity: str | None = None
    identified: bool = False

    def with_identity(self, identity: str | None) -> Run:
        """This run with the managed identity it belongs to (None: not managed here)."""
        return replace(self, identity=identity, identified=True)

    def to_json(self) -> dict[str, Any]:
        """The platform's object, as it came (with ``identity`` once it was looked up)."""
        if self.identified:
            return {**self.raw, "identity": self.identity}
        return dict(self.raw)


@dataclass(frozen=True)
class RunList:
    """The runs ``runs list`` shows and how many match in all (None when it is not known)."""

    items: tuple[Run, ...]
    total: int | None

    def to_json(self) -> dict[str, Any]:
        """``{"items": [...], "total": N}``, as ``runs list --format json`` prints it."""
        return {"items": [run.to_json() for run in self.items], "total": self.total}


@dataclass(frozen=True)
class RunStep:
    """One step of a run."""

    key: str
    name: str
    status: str
    depends_on: tuple[str, ...] = ()
    duration_seconds: float | str | None = None
    error: Any = None


@dataclass(frozen=True)
class RunSteps:
    """A run's steps with the platform's counts of them."""

    steps: tuple[RunStep, ...]
    completed: int = 0
    failed: int = 0
    running: int = 0
    pending: int = 0
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The platform's object, as it came."""
        return dict(self.raw)


@dataclass(frozen=True)
class RunEvent:
    """One event of a run as it streams. Each field is the platform's words for it ("" when
    it gives none): ``at`` when it happened, ``kind`` what happened, ``step`` the step it is
    about, then the ``status`` it reports and its ``message``."""

    at: str = ""
    kind: str = ""
    step: str = ""
    status: str = ""
    message: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The event as the platform sent it (``runs events --format json``)."""
        return dict(self.raw)
