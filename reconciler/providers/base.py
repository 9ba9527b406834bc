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

from collections.abc import Mapping, Sequence
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
        """Carry out one operation; never re-send a create whose outcome is unknown."""
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
