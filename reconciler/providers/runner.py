"""The step runner every adapter executes its operations with.

An adapter turns an operation into a list of steps, ``(label, action)`` pairs, without I/O:
``describe`` shows the labels, ``execute`` runs the actions in order through ``run_steps``,
so the plan shows exactly what apply does. The actions share one ``OperationRun``: the
client, the remote id found or made so far, the platform's warnings, and which call set which
spec field, so a field that does not converge on read-back is reported naming that call.

Two helpers carry what every adapter's steps do the same way: ``send_verb_once`` sends a
POST verb (``:publish``, ``/enable``) whose answer may be lost and, when it is, reads back
whether the platform acted before sending it again; ``OperationRun.converge`` compares the
object read back with the desired spec and names the first field that still differs.

A create step calls ``OperationRun.created`` as soon as the platform has made the object; if a
later step fails, the ``ProviderError`` ``run_steps`` raises carries ``Created`` (the new
remote id, the object as last shown, the steps left), so the engine records what exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from reconciler.errors import Created, ProviderError
from reconciler.model import Operation, OperationResult
from reconciler.providers.answers import SHAPE_ERRORS, unusable_answer
from reconciler.providers.converge import not_converging
from reconciler.providers.http import ApiClient, send_once


@dataclass
class OperationRun:
    """One operation being executed: what its steps share and what they learn."""

    client: ApiClient
    op: Operation
    platform: str  # named in errors, e.g. "workspace"
    remote_id: str | None = None
    warnings: list[str] = field(default_factory=list)
    setters: dict[str, str] = field(default_factory=dict)  # spec field -> the call that set it
    made: bool = False  # a create step of this operation has made the object
    made_spec: dict[str, Any] | None = None  # the object as its create answered (spec shape)
    # the engine's ``ExecutionContext.created``: records the object before the later steps
    on_created: Callable[[str, Mapping[str, Any] | None], None] | None = field(
        default=None, kw_only=True)

    @property
    def spec(self) -> dict[str, Any]:
        """The desired spec (a step only asks where the operation has a desired resource)."""
        assert self.op.resource is not None
        return dict(self.op.resource.spec)

    @property
    def live_id(self) -> str:
        """The remote id of the object as read (a step only asks where there is one)."""
        assert self.op.live is not None
        return self.op.live.remote_id

    def created(self, remote_id: str, spec: Mapping[str, Any] | None = None) -> None:
        """The platform has made the object ``remote_id`` (``spec``: as its answer showed it,
        in spec shape): from now on a failing step leaves an object state must record. The
        engine is told at once, so state records it before the next step is sent."""
        self.remote_id = remote_id
        self.made = True
        self.made_spec = dict(spec) if spec is not None else None
        if self.on_created is not None:
            self.on_created(remote_id, self.made_spec)

    def did(self, call: str, fields: Iterable[str]) -> None:
        """Remember that ``call`` is what sets ``fields`` (named if one does not converge)."""
        for name in fields:
            self.setters[name] = call

    def ignored(self) -> set[str]:
        """Top-level spec fields ``lifecycle.ignore_changes`` leaves alone."""
        if self.op.resource is None:
            return set()
        return {p.split(".")[1] for p in self.op.resource.lifecycle.ignore_changes
                if p.startswith("spec.") and p.count(".") >= 1}

    def not_converging(self, name: str, got: Any, wanted: Any,
                       spec_field: str = "") -> ProviderError:
        """The error for ``name`` still differing after the call that set ``spec_field``."""
        call = self.setters.get(spec_field or name, "this operation")
        return not_converging(self.platform, self.op.id, name, call, got, wanted)

    def converge(self, wanted: Mapping[str, Any], now: Mapping[str, Any],
                 fields: Iterable[str], ignored: Iterable[str] | None = None) -> None:
        """Raise for the first of ``fields`` (not ignored) whose read-back value differs."""
        skip = set(self.ignored() if ignored is None else ignored)
        for name in fields:
            if name not in skip and wanted.get(name) != now.get(name):
                raise self.not_converging(name, now.get(name), wanted.get(name))


R = TypeVar("R", bound=OperationRun)
Step = tuple[str, Callable[[R], Awaitable[None]]]


def labels(steps: Sequence[tuple[str, Any]]) -> tuple[str, ...]:
    """What ``describe`` shows: the steps' labels, in order."""
    return tuple(label for label, _ in steps)


async def run_steps(run: R, steps: Sequence[tuple[str, Callable[[R], Awaitable[None]]]]
                    ) -> OperationResult:
    """Run the steps in order; the remote id behind the operation, the calls made, warnings.

    A step failing after a create made the object raises a ``ProviderError`` whose
    ``created`` names the new remote id and the labels of the steps not carried out.
    """
    with run.client.recording() as made:
        for position, (_, step) in enumerate(steps):
            try:
                await step(run)
            except Exception as exc:
                if not run.made or not run.remote_id:
                    raise
                error = _as_provider_error(run, exc)
                error.created = Created(run.remote_id, run.made_spec, labels(steps[position:]),
                                        tuple(run.warnings))
                if error is exc:
                    raise
                raise error from exc
    return OperationResult(remote_id=run.remote_id, calls=tuple(made),
                           warnings=tuple(run.warnings))


def _as_provider_error(run: OperationRun, exc: Exception) -> ProviderError:
    """``exc`` as the ProviderError the engine would have reported for it."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, SHAPE_ERRORS):
        return unusable_answer(run.op.id.provider, run.platform, f"{run.op.action} {run.op.id}",
                               exc)
    message = getattr(exc, "message", None) or f"internal error: {type(exc).__name__}: {exc}"
    return ProviderError(message, platform=run.platform)


async def send_verb_once(send: Callable[[], Awaitable[Any]],
                         took_effect: Callable[[], Awaitable[bool]]) -> None:
    """Send a POST verb that must act once: when its answer is lost, ``took_effect`` reads
    back whether the platform acted, and the verb is sent again only if it did not."""

    async def sent() -> bool:
        await send()
        return True

    async def find() -> bool | None:
        return True if await took_effect() else None

    await send_once(sent, find)
