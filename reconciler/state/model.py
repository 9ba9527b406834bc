"""The state document and the backend protocol.

A state has a ``lineage`` (a uuid fixed when it is first written, so a plan made against another
state file is recognised) and a ``serial`` bumped on every write. Entries keep the last applied
spec with sensitive values replaced by salted hashes; the salt lives here, never a secret.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.errors import ConfigError, StateError
from reconciler.model import DEFAULT_DRAIN_TIMEOUT, ON_REMOVE_DELETE, ResourceId

if TYPE_CHECKING:
    from reconciler.state.binding import Binding

STATE_FORMAT = 1


@dataclass
class StateEntry:
    """One managed thing as last applied."""

    remote_id: str
    provider_type: str
    spec: Mapping[str, Any]  # sensitive values are salted hashes
    applied_at: str
    source: str = ""  # file:line of the manifest it was applied from
    prevent_destroy: bool = False
    # lifecycle rules that must outlive the manifest: what its removal does, how long it drains
    on_remove: str = ON_REMOVE_DELETE
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT
    # a create made the object, then a later step of its operation failed: ``spec`` is the
    # object as the platform showed it, and the next plan diffs it with live and finishes it
    partial: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "remote_id": self.remote_id,
            "provider_type": self.provider_type,
            "spec": dict(self.spec),
            "applied_at": self.applied_at,
            "source": self.source,
            "prevent_destroy": self.prevent_destroy,
        }
        if self.on_remove != ON_REMOVE_DELETE:
            data["on_remove"] = self.on_remove
        if self.drain_timeout != DEFAULT_DRAIN_TIMEOUT:
            data["drain_timeout"] = self.drain_timeout
        if self.partial:
            data["partial"] = True
        return data

    @classmethod
    def from_json(cls, data: Any, path: str = "") -> StateEntry:
        """An entry as state keeps it; StateShapeError naming the JSON path of a field of the
        wrong type (``path`` is where the entry sits, e.g. ``resources["a/B/c"]``)."""
        if not isinstance(data, Mapping):
            raise StateShapeError(f"{path or 'entry'}: expected an object, found "
                                  f"{json_kind(data)}")
        text = {name: _typed(data, name, str, "a string", path)
                for name in ("remote_id", "provider_type", "applied_at", "source", "on_remove")}
        spec = _typed(data, "spec", Mapping, "an object", path)
        prevent = _typed(data, "prevent_destroy", bool, "true or false", path)
        partial = _typed(data, "partial", bool, "true or false", path)
        return cls(
            remote_id=text["remote_id"] or "",
            provider_type=text["provider_type"] or "",
            spec=dict(spec or {}),
            applied_at=text["applied_at"] or "",
            source=text["source"] or "",
            prevent_destroy=bool(prevent),
            on_remove=text["on_remove"] or ON_REMOVE_DELETE,
            drain_timeout=_seconds(data.get("drain_timeout"), DEFAULT_DRAIN_TIMEOUT),
            partial=bool(partial),
        )


class StateShapeError(ValueError):
    """A field of a state document has the wrong type; the message starts with its JSON path."""


def json_kind(value: Any) -> str:
    """How a JSON value is named in errors: its JSON type, never its content."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def _typed(data: Mapping[str, Any], name: str, kind: Any, expected: str, path: str) -> Any:
    """``data[name]`` when absent, null or of ``kind``; StateShapeError naming the path else."""
    value = data.get(name)
    if value is None or isinstance(value, kind):
        return value
    where = f"{path}.{name}" if path else name
    raise StateShapeError(f"{where}: expected {expected}, found {json_kind(value)}")


def _seconds(value: Any, default: float) -> float:
    """A duration in seconds as state keeps it; the default when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return default
    return float(value)


@dataclass
class State:
    """The whole state document (mutable: apply updates it entry by entry)."""

    lineage: str = ""
    serial: int = 0
    salt: str = field(default_factory=lambda: secrets.token_hex(16))
    entries: dict[ResourceId, StateEntry] = field(default_factory=dict)
    # the project it belongs to (see binding.py); None until first written by a project
    project: Binding | None = None

    def remote_ids(self, provider: str | None = None) -> Mapping[ResourceId, str]:
        """Known remote ids, optionally for one provider instance: a live view (lookups cost
        the same however large the state, and see entries recorded later)."""
        return RemoteIds(self.entries, provider)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": STATE_FORMAT,
            "lineage": self.lineage,
            "serial": self.serial,
            "salt": self.salt,
            "resources": {str(rid): self.entries[rid].to_json() for rid in sorted(self.entries)},
        }
        if self.project is not None:
            data["project"] = self.project.to_json()
        return data

    @classmethod
    def from_json(cls, data: Any, where: str) -> State:
        """A state document as written by ``to_json``; StateError naming ``where`` and the
        JSON path of the first part of the wrong shape."""
        if not isinstance(data, Mapping) or data.get("format") != STATE_FORMAT:
            raise StateError(f"{where}: not a reconciler state file (format {STATE_FORMAT})")
        try:
            return cls._from_json(data)
        except StateShapeError as exc:
            raise StateError(f"{where}: {exc}") from None

    @classmethod
    def _from_json(cls, data: Mapping[str, Any]) -> State:
        serial = data.get("serial")
        if serial is not None and (isinstance(serial, bool) or not isinstance(serial, int)
                                   or serial < 0):
            raise StateShapeError(f"serial: expected a whole number, found {json_kind(serial)}"
                                  + (f" {serial}" if isinstance(serial, int | float) else ""))
        lineage = _typed(data, "lineage", str, "a string", "")
        salt = _typed(data, "salt", str, "a string", "")
        resources = _typed(data, "resources", Mapping, "an object", "")
        entries = {}
        for key, value in (resources or {}).items():
            try:
                rid = ResourceId.parse(key)
            except ValueError as exc:
                raise StateShapeError(f"resources: bad resource identity {key!r}: {exc}") from None
            entries[rid] = StateEntry.from_json(value, f"resources[{json.dumps(key)}]")
        from reconciler.state.binding import Binding

        return cls(
            lineage=lineage or "",
            serial=serial or 0,
            salt=salt or secrets.token_hex(16),
            entries=entries,
            project=Binding.from_json(data.get("project")),
        )

    def stamped(self) -> State:
        """Prepare for a write: a lineage on first write, serial one higher."""
        if not self.lineage:
            self.lineage = str(uuid.uuid4())
        self.serial += 1
        return self


class RemoteIds(Mapping[ResourceId, str]):
    """The remote ids of state entries, optionally of one provider instance, as a mapping."""

    def __init__(self, entries: Mapping[ResourceId, StateEntry], provider: str | None) -> None:
        self._entries = entries
        self._provider = provider

    def __getitem__(self, rid: ResourceId) -> str:
        if self._provider is not None and rid.provider != self._provider:
            raise KeyError(rid)
        return self._entries[rid].remote_id

    def __iter__(self) -> Iterator[ResourceId]:
        return (rid for rid in self._entries
                if self._provider is None or rid.provider == self._provider)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def now() -> str:
    """Timestamps in state: RFC 3339, UTC, seconds."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Lease:
    """What ``lock`` yields: the right to write state, for as long as ``check`` passes."""

    lease_id = ""

    def check(self) -> None:
        """StateLeaseLostError when this run may no longer write (the lease expired or was
        ended by hand); a lock that cannot be lost, like the local file lock, always passes."""


class StateBackend(Protocol):
    """Where state lives. ``lock`` is held around any read-modify-write (plan reads need none)."""

    def lock(self, timeout: float, command: str = "") -> AbstractContextManager[Lease]:
        """Hold the exclusive lock or lease (``command`` says who for); StateLockError naming
        the holder after ``timeout`` seconds."""
        ...

    def read(self) -> State:
        """The current state (an empty one when none was written yet)."""
        ...

    def write(self, state: State) -> None:
        """Replace the stored state atomically (the caller bumps the serial via ``stamped``)."""
        ...

    def record(self, state: State, changes: Mapping[ResourceId, StateEntry | None]) -> None:
        """Make one operation's outcome durable at once, at a cost that does not grow with the
        state: ``state`` already holds ``changes`` (None: the entry was removed) and a stamped
        serial. The next ``write``, ``settle`` or ``read`` folds what was recorded in."""
        ...

    def settle(self, state: State) -> None:
        """Once an apply ended: fold what ``record`` kept aside into the stored state."""
        ...


def open_backend(kind: str, path: Path, settings: Mapping[str, Any] | None = None) -> StateBackend:
    """The backend named in the project file's ``state.backend``; ``settings`` are resolved
    (postgres: ``url``, ``key``, ``lease_ttl`` in seconds)."""
    if kind == "local":
        from reconciler.state.local import LocalStateBackend

        return LocalStateBackend(path)
    if kind == "postgres":
        from reconciler.state.postgres import PostgresStateBackend

        values = settings or {}
        return PostgresStateBackend(
            str(values["url"]), str(values["key"]), float(values.get("lease_ttl", 120.0))
        )
    raise ConfigError(f"state backend {kind!r} is not available (available: local, postgres)")


def copy_state(source: StateBackend, target: StateBackend, timeout: float) -> State:
    """``state migrate``: copy ``source`` (entries, lineage, serial, salt) into ``target``, both
    held for the copy. Refused when the target holds another lineage, or the same one at a
    higher serial (it is ahead: copying would lose what it has)."""
    with source.lock(timeout, "reconciler state migrate"), \
            target.lock(timeout, "reconciler state migrate"):
        state = source.read()
        if not state.lineage:
            raise StateError("the source state is empty: nothing to migrate")
        there = target.read()
        if there.lineage and there.lineage != state.lineage:
            raise StateError(
                f"the target already holds another state (lineage {there.lineage}, serial "
                f"{there.serial}, {len(there.entries)} entries); refusing to overwrite it"
            )
        if there.lineage and there.serial > state.serial:
            raise StateError(
                f"the target holds this state at serial {there.serial}, ahead of the source "
                f"({state.serial}); refusing to go back"
            )
        target.write(state)
    return state
