"""The core nouns shared by every stage. Plain frozen data; transformations live elsewhere.

Identity is ``ResourceId(provider, kind, name)`` where ``provider`` is the provider *instance*
name from the project file (e.g. ``studio``), ``kind`` the manifest kind its type manages and
``name`` the document's ``metadata.name``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, order=True)
class ResourceId:
    """Identity of a managed thing: unique within a project."""

    provider: str
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.kind}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> ResourceId:
        """Parse ``provider/Kind/name`` (the form printed everywhere and taken by --target)."""
        parts = text.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"expected PROVIDER/KIND/NAME, got {text!r}")
        return cls(*parts)


@dataclass(frozen=True)
class SourcePosition:
    """Where a node came from: file path (relative to the project folder when possible), 1-based."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


ON_REMOVE_DELETE = "delete"
ON_REMOVE_DEACTIVATE = "deactivate"
ON_REMOVE_KEEP = "keep"
ON_REMOVE_CHOICES = (ON_REMOVE_DELETE, ON_REMOVE_DEACTIVATE, ON_REMOVE_KEEP)
DEFAULT_DRAIN_TIMEOUT = 600.0  # seconds: ten minutes


@dataclass(frozen=True)
class Lifecycle:
    """Per-resource rules from ``metadata.lifecycle``.

    ``on_remove`` says what removing the document does to the live object (delete it,
    only deactivate it, or keep it as it is and stop managing it); ``drain_timeout`` bounds
    the wait for in-flight runs before a delete, in seconds. Both are recorded in state, like
    ``prevent_destroy``, so they still apply once the manifest is gone.
    """

    prevent_destroy: bool = False
    ignore_changes: tuple[str, ...] = ()  # dotted paths such as "spec.description"
    on_remove: str = ON_REMOVE_DELETE
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT


@dataclass(frozen=True)
class Resource:
    """A desired resource: identity, spec with schema defaults applied, where it was declared."""

    id: ResourceId
    provider_type: str  # the entry-point name of the provider type
    spec: Mapping[str, Any]
    source: SourcePosition
    lifecycle: Lifecycle = Lifecycle()
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveResource:
    """What a provider read: identity it was matched to, remote id, spec-shaped projection.

    ``managed`` is False when the object matched neither a desired resource nor a state entry;
    its ``id.name`` is then derived from the natural key. ``upgradable`` lists things the platform
    reports as behind their latest version (e.g. connection ids) so the planner can propose an
    ``upgrade``. ``raw`` is the platform's object, for display only. ``observed`` is False when the
    platform showed nothing of the object and the provider stands in with what was declared or
    recorded (an object the API cannot read, such as a claimed connection): it is assumed.
    """

    id: ResourceId
    remote_id: str
    spec: Mapping[str, Any]
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    managed: bool = True
    upgradable: tuple[str, ...] = ()
    observed: bool = True


class Action(StrEnum):
    """What an operation does. Values are what users see and what plan JSON carries."""

    CREATE = "create"
    UPDATE = "update"
    ENABLE = "enable"
    DISABLE = "disable"
    UPGRADE = "upgrade"
    REPLACE = "replace"
    REMOVE = "remove"
    FORGET = "forget"  # stop managing: drop from state, leave the live object as it is
    CHECK = "check"
    ADOPT = "adopt"  # record a matched live object in state; no API call


# actions that only write state: adopt records an object, forget drops one
STATE_ONLY_ACTIONS = frozenset({Action.ADOPT, Action.FORGET})
# actions that change something on a platform (a check only runs)
MUTATING_ACTIONS = frozenset(a for a in Action if a is not Action.CHECK) - STATE_ONLY_ACTIONS


class Reason(StrEnum):
    """Why an operation is planned. Values are what users see and what plan JSON carries."""

    NONE = ""  # nothing differs
    NEW = "new"
    CHANGE_IN_GIT = "change in git"
    DRIFT = "drift"  # live moved away from what was applied
    CONFLICT = "conflict"  # git and live moved on the same field
    CHANGE_IN_GIT_AND_DRIFT = "change in git and drift"
    DELETED_OUT_OF_BAND = "deleted out of band"
    UPGRADABLE = "upgradable"
    ADOPT_OTHER_REMOTE_ID = "state records another remote id"
    ADOPT_NOT_IN_STATE = "matched live, not in state"
    ADOPT_CLAIM = "claimed: the platform cannot show it, taken as declared"
    UNFINISHED = "left unfinished by a failed apply"  # a create made it, a later step failed
    NEW_CHECK = "new check"
    CHECK_CHANGED = "check changed"
    AUTOMATION_CHANGED = "automation changed"
    ORPHAN = "orphan"  # removed from the manifests, deleted (lifecycle.on_remove: delete)
    DESTROY = "destroy"
    REMOVED_KEEP = "removed from the manifests; lifecycle.on_remove: keep"
    REMOVED_DEACTIVATE = "removed from the manifests; lifecycle.on_remove: deactivate"
    REMOVED_ALREADY_OFF = "removed from the manifests; lifecycle.on_remove: deactivate; already off"
    REMOVED_NO_SWITCH = (
        "removed from the manifests; lifecycle.on_remove: deactivate, but this kind has no "
        "switch to turn off: it stops being managed"
    )


# reasons meaning live moved away from what was last applied
DRIFT_REASONS = frozenset(
    {Reason.DRIFT, Reason.CONFLICT, Reason.CHANGE_IN_GIT_AND_DRIFT, Reason.DELETED_OUT_OF_BAND}
)


@dataclass(frozen=True)
class Change:
    """One field-level difference. ``path`` is relative to spec, e.g. ``("config", "cron")``."""

    path: tuple[str | int, ...]
    before: Any
    after: Any
    sensitive: bool = False

    @property
    def dotted(self) -> str:
        return ".".join(str(p) for p in self.path)


@dataclass(frozen=True)
class Drain:
    """How a removal waits for the object's in-flight runs before it deletes.

    ``runs_from`` is the provider instance that reports runs ("" when the project has none:
    the removal then cannot wait, and the plan says so); ``timeout`` is in seconds.
    """

    timeout: float
    runs_from: str = ""


@dataclass(frozen=True)
class Operation:
    """One planned step: action on a resource, the field changes behind it, what it waits for.

    ``resource`` is the desired resource (None for ``remove``); ``live`` the object as read (None
    for ``create``); ``steps`` the API calls the provider says it will make, for display.
    """

    action: Action
    id: ResourceId
    resource: Resource | None
    live: LiveResource | None
    changes: tuple[Change, ...] = ()
    depends_on: tuple[ResourceId, ...] = ()
    steps: tuple[str, ...] = ()
    reason: Reason = Reason.NONE
    # set when the operation carries out a removal from the manifests (lifecycle.on_remove:
    # delete, deactivate or keep); once it succeeds the identity leaves state
    removal: str = ""
    drain: Drain | None = None  # a delete that first stops new runs and waits for running ones


@dataclass(frozen=True)
class OperationResult:
    """What executing an operation did: the remote id now behind the resource and the calls made."""

    remote_id: str | None
    calls: tuple[str, ...] = ()  # "POST /api/v1/.../automations" (method and path template)
    warnings: tuple[str, ...] = ()
    live: LiveResource | None = None  # the object as it stands after the operation, if known


@dataclass(frozen=True)
class ExecutionContext:
    """What a provider needs from the engine to execute one operation.

    ``remote_ids`` maps identities already known (from state, and from operations earlier in
    this apply) to remote ids, so a schedule can find the automation created moments before.
    ``desired`` holds every desired resource of the provider instance, keyed by identity.
    ``created``, when given, is called by a create the moment the platform has made its object
    (its remote id, and the object as the answer showed it in spec shape, or None): the engine
    records it in state before the operation's later steps run. It raises StateError when
    state cannot be written; the operation then stops there.
    """

    remote_ids: Mapping[ResourceId, str]
    desired: Mapping[ResourceId, Resource]
    created: Callable[[str, Mapping[str, Any] | None], None] | None = None


@dataclass(frozen=True)
class RunFailure:
    """A failed run of a managed automation: read by run health, shown in drift reports.

    ``reason`` is the run's error as one line ("" when the platform gave none).
    """

    id: ResourceId
    run_id: str
    status: str
    created_at: str
    reason: str

    def describe(self) -> str:
        """One line for people."""
        tail = f": {self.reason}" if self.reason else ""
        return f"{self.id}: run {self.run_id} {self.status} at {self.created_at}{tail}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": str(self.id),
            "run_id": self.run_id,
            "status": self.status,
            "created_at": self.created_at,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Plan:
    """Ordered operations plus what is needed to refuse a stale apply."""

    operations: tuple[Operation, ...]
    unmanaged: tuple[LiveResource, ...] = ()
    state_serial: int = 0
    state_lineage: str = ""
    live_fingerprint: str = ""  # hash over the live projections the plan was computed from
    created_at: str = ""
    refreshed: bool = True  # False: live state was not read; the last applied state stood in

    @property
    def has_changes(self) -> bool:
        """True when apply would change a platform or what state records (adopt, forget)."""
        return any(
            op.action in MUTATING_ACTIONS or op.action in STATE_ONLY_ACTIONS
            for op in self.operations
        )
