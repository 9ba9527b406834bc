"""The ``Provider`` protocol: the only thing the engine knows about a platform.

A provider instance is built from one ``providers.<name>`` entry of the project file. It reads
live objects of the kinds it manages and projects them into spec shape (the inverse of what
``execute`` sends), so a freshly applied object compares equal to its desired spec.

Identity matching happens in the provider, because only it knows each kind's natural key
(workspace automation ``display_name``, trigger ``trigger_id``, schedule = its automation,
connection ``connection_id``, outlit automation ``key``): ``read`` matches each live object first
by remote id against ``known`` (from state), then by natural key against ``desired``; anything
left is returned with ``managed=False`` and a name derived from its natural key. Reference fields
(e.g. a schedule's ``automation``) are projected to the referenced resource's ``metadata.name``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from reconciler.model import (
    ExecutionContext,
    LiveResource,
    Operation,
    OperationResult,
    Resource,
    ResourceId,
)

if TYPE_CHECKING:
    import httpx

    from reconciler.config import ProviderConfig


@runtime_checkable
class Provider(Protocol):
    """An adapter for one platform's HTTP API."""

    type_name: ClassVar[str]  # "workspace", "outlit", "datallog", "automation-runs"
    kinds: ClassVar[frozenset[str]]  # manifest kinds this type manages, e.g. {"Automation"}

    def __init__(
        self, config: ProviderConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None: ...

    async def read(
        self, desired: Sequence[Resource], known: Mapping[ResourceId, str]
    ) -> list[LiveResource]:
        """Read every live object of the managed kinds, matched to identities (see module doc)."""
        ...

    def describe(self, operation: Operation) -> tuple[str, ...]:
        """The API steps ``execute`` will take for this operation, for display (no I/O)."""
        ...

    async def execute(self, operation: Operation, context: ExecutionContext) -> OperationResult:
        """Carry out one operation; never re-send a create whose outcome is unknown.

        A create calls ``context.created(remote_id, spec)`` the moment the platform has made
        its object (the engine records it, marked partial, before the next call), and a later
        step that fails raises a ``ProviderError`` whose ``created`` (``errors.Created``) names
        that remote id and the steps left, so nothing the operation made is lost.
        """
        ...

    def request_counts(self) -> Mapping[str, int]:
        """Requests made so far, keyed by ``METHOD /path/template``."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP client."""
        ...


@dataclass(frozen=True)
class RunStep:
    """One step of a run as the platform reports it."""

    name: str
    status: str
    error: str | None = None


@dataclass(frozen=True)
class RunStatus:
    """A run's state in platform-neutral terms; ``status`` keeps the platform's own word."""

    run_id: str
    status: str
    terminal: bool
    succeeded: bool | None  # None while the run is not terminal
    steps: tuple[RunStep, ...] = ()
    error: str | None = None
    message: str = ""  # e.g. Datallog's "Automation x started successfully."


@runtime_checkable
class CheckRunner(Protocol):
    """Optional capability: providers whose ``Check`` kind starts smoke runs."""

    async def start_check(self, check: Resource, context: ExecutionContext) -> RunStatus:
        """Start the run a Check describes; a platform without run status returns it terminal."""
        ...

    async def poll_check(
        self, check: Resource, run_id: str, context: ExecutionContext
    ) -> RunStatus:
        """The run's current status."""
        ...

    async def cancel_check(
        self, check: Resource, run_id: str, context: ExecutionContext
    ) -> bool | None:
        """Best-effort cancel of a run that exceeded its timeout (no-op where unsupported).

        May answer True (cancelled) or False (the platform cannot cancel runs, so it was left
        running); None means no answer, and the check's report then says a cancel was asked.
        """
        ...


@runtime_checkable
class Drains(Protocol):
    """Optional capability: kinds whose removal first stops new runs, then waits for runs.

    ``drained_kinds`` names them. Removing such an object (or deactivating it on removal)
    starts with ``quiesce``, which stops anything from starting new runs of it (for a
    workspace automation: deactivate it, disable its schedule); it must be safe to repeat, as
    a drain that timed out is resumed by the next apply. Its runs are named by its remote id,
    and are reported by a provider that declares the type in ``RunsReporter.runs_of``.
    """

    drained_kinds: ClassVar[frozenset[str]]

    def quiesce_steps(self, operation: Operation) -> tuple[str, ...]:
        """The API steps ``quiesce`` takes, for display (no I/O)."""
        ...

    async def quiesce(self, operation: Operation, context: ExecutionContext) -> OperationResult:
        """Stop new runs of the live object of ``operation`` (a removal)."""
        ...


@runtime_checkable
class HasRuns(Protocol):
    """Optional declaration: kinds whose objects have runs (``run_kinds``).

    A run names its object by the object's remote id; a provider declaring this provider type
    in ``RunsReporter.runs_of`` reports them, for run health and the run commands.
    """

    run_kinds: ClassVar[frozenset[str]]


@runtime_checkable
class RunsReporter(Protocol):
    """Optional capability: reports the runs of other providers' objects.

    ``runs_of`` lists the provider types whose objects' runs it reports (they name an object
    by its remote id).
    """

    runs_of: ClassVar[frozenset[str]]

    async def in_flight_runs(self, remote_ids: Collection[str]) -> Mapping[str, Sequence[str]]:
        """Remote id -> ids of its runs that have not ended (only ids with such runs)."""


@dataclass(frozen=True)
class RehearsalCopy:
    """What a provider copies of its live objects into a throw-away sandbox world.

    ``world`` is a world document of the embedded sandbox (``reconciler.sandbox.world``) holding
    the objects with their production ids, so state entries and plan operations address them
    unchanged. ``not_rehearsed`` says, in a line each, what the copy could not hold (fields the
    platform does not return, objects the API cannot list), for the rehearsal report.
    """

    world: Mapping[str, Any]
    not_rehearsed: tuple[str, ...] = ()


@runtime_checkable
class Rehearsable(Protocol):
    """Optional capability: providers whose platform the embedded sandbox can stand in for."""

    async def rehearsal_copy(
        self, live: Sequence[LiveResource], desired: Sequence[Resource]
    ) -> RehearsalCopy:
        """Copy what ``read`` found (plus read-only calls where needed) into a world document.

        Only reads: a rehearsal never changes the platform it copies.
        """
        ...
