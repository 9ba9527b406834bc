"""Runs as the runs commands show them: typed records read from the automation runs API.

``from_json`` checks the shape of what the platform answered (a run is a JSON object, a text
field is not an object or a list, steps are a list of objects) and names what it was reading
when it is not; ``to_json`` gives back the platform's object exactly as it came, so
``--format json`` prints what the API said.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.errors import ProviderError


@dataclass(frozen=True)
class Run:
    """One automation run. Missing text fields are ""; ``error`` is the platform's own value."""

    id: str
    automation_id: str
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

    @classmethod
    def from_json(cls, data: Any, source: str) -> Run:
        """The run in ``data``; ProviderError naming ``source`` when it is not one."""
        item = _object(data, source, "a run")
        return cls(
            id=_text(item, "id", source),
            automation_id=_text(item, "automationId", source),
            status=_text(item, "status", source),
            trigger_type=_text(item, "triggerType", source),
            created_at=_text(item, "createdAt", source),
            started_at=_text(item, "startedAt", source),
            completed_at=_text(item, "completedAt", source),
            duration_seconds=_number(item, "durationSeconds", source),
            error=item.get("error"),
            raw=item,
        )

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

    @classmethod
    def from_json(cls, items: Any, total: int | None, source: str) -> RunList:
        """The runs of one page; ProviderError naming ``source`` when one is not a run."""
        if not isinstance(items, list | tuple):
            raise _shape(source, "a list of runs", items)
        return cls(
            tuple(Run.from_json(item, f"{source}, run {n + 1}") for n, item in enumerate(items)),
            total,
        )

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

    @classmethod
    def from_json(cls, data: Any, source: str) -> RunStep:
        """The step in ``data``; ProviderError naming ``source`` when it is not one."""
        item = _object(data, source, "a step")
        depends = item.get("dependsOn") or ()
        if not isinstance(depends, list | tuple):
            raise _shape(source, "`dependsOn` as a list of step keys", depends)
        return cls(
            key=_text(item, "key", source),
            name=_text(item, "name", source),
            status=_text(item, "status", source),
            depends_on=tuple(str(d) for d in depends),
            duration_seconds=_number(item, "durationSeconds", source),
            error=item.get("error"),
        )


@dataclass(frozen=True)
class RunSteps:
    """A run's steps with the platform's counts of them."""

    steps: tuple[RunStep, ...]
    completed: int = 0
    failed: int = 0
    running: int = 0
    pending: int = 0
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Any, source: str) -> RunSteps:
        """The steps answer in ``data``; ProviderError naming ``source`` when it is not one."""
        item = _object(data, source, "the run's steps")
        steps = item.get("steps") or []
        if not isinstance(steps, list):
            raise _shape(source, "`steps` as a list", steps)
        return cls(
            steps=tuple(
                RunStep.from_json(step, f"{source}, step {n + 1}") for n, step in enumerate(steps)
            ),
            completed=_count(item, "completedCount", source),
            failed=_count(item, "failedCount", source),
            running=_count(item, "runningCount", source),
            pending=_count(item, "pendingCount", source),
            raw=item,
        )

    def to_json(self) -> dict[str, Any]:
        """The platform's object, as it came."""
        return dict(self.raw)


def _object(data: Any, source: str, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _shape(source, f"{what} (a JSON object)", data)
    return data


def _text(item: Mapping[str, Any], key: str, source: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if isinstance(value, Mapping | list):
        raise _shape(source, f"`{key}` as text", value)
    return str(value)


def _number(item: Mapping[str, Any], key: str, source: str) -> float | str | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, Mapping | list):
        raise _shape(source, f"`{key}` as a number of seconds", value)
    return value if isinstance(value, int | float | str) else str(value)


def _count(item: Mapping[str, Any], key: str, source: str) -> int:
    value = item.get(key) or 0
    if not isinstance(value, int) or isinstance(value, bool):
        raise _shape(source, f"`{key}` as a whole number", value)
    return value


def _shape(source: str, expected: str, got: Any) -> ProviderError:
    kinds = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    kind = next((word for t, word in kinds.items() if isinstance(got, t)), "a number")
    return ProviderError(f"{source}: the runs API answered {kind} where {expected} was expected")
