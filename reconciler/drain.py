"""Drain before delete: stop new runs of an object, wait for its in-flight runs, then delete.

A provider declares which kinds drain (``providers.base.Drains``) and how to stop new runs
(``quiesce``); a provider that reports runs (``providers.base.RunsReporter``) says which runs
of an object have not ended. The wait is bounded by the object's ``lifecycle.drain_timeout``
(kept in state); on timeout the removal fails naming the runs still going, the object stays
stopped, and the next apply resumes the drain.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import anyio

from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.model import Drain, ExecutionContext, Operation
    from reconciler.providers.base import Provider

Progress = Callable[[str], None]
REPORT_EVERY = 10.0  # seconds between progress lines while the number of runs stays the same
SHOWN_RUNS = 5  # run ids named in a timeout message


class DrainTimeoutError(ReconcilerError):
    """In-flight runs did not end within the drain timeout; the object was left stopped."""


def poll_interval(timeout: float) -> float:
    """How often to ask for runs: often for short timeouts, at most every two seconds."""
    return max(0.1, min(2.0, timeout / 20))


def runs_word(count: int) -> str:
    return "1 run" if count == 1 else f"{count} runs"


NO_WAIT = "cannot wait for in-flight runs"
NO_WAIT_SHORT = "no wait for in-flight runs (see the note below)"


def wait_step(drain: Drain, runs_provider_type: str = "") -> str:
    """The plan's step for the wait, naming its bound and where runs come from."""
    from reconciler.durations import format_duration

    bound = format_duration(drain.timeout)
    if not drain.runs_from:
        return (f"{NO_WAIT}: no provider in the project reports runs of "
                f"{runs_provider_type or 'this type'} (it is deleted right after)")
    return f"wait for in-flight runs to end (runs from {drain.runs_from}, up to {bound})"


async def quiesce(op: Operation, provider: Provider, context: ExecutionContext) -> Sequence[str]:
    """Stop new runs of the object; the warnings the platform returned."""
    from reconciler.providers.base import Drains

    if not isinstance(provider, Drains):
        raise ReconcilerError(f"{op.id}: provider {op.id.provider} cannot stop new runs")
    result = await provider.quiesce(op, context)
    return result.warnings


async def wait_for_runs(
    op: Operation,
    runs: object,
    report: Progress,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Return once the object has no run in flight; DrainTimeoutError after the timeout."""
    from reconciler.providers.base import RunsReporter

    drain = op.drain
    if drain is None or not drain.runs_from or op.live is None:
        return
    if not isinstance(runs, RunsReporter):
        raise ReconcilerError(f"{op.id}: provider {drain.runs_from} does not report runs")
    remote_id = op.live.remote_id
    started = clock()
    interval = poll_interval(drain.timeout)
    shown: tuple[int, float] | None = None
    while True:
        going = list((await runs.in_flight_runs([remote_id])).get(remote_id, ()))
        waited = clock() - started
        if not going:
            if shown is not None:
                report(f"runs of {op.id.name} ended after {waited:.0f} s")
            return
        if waited >= drain.timeout:
            from reconciler.durations import format_duration

            names = ", ".join(going[:SHOWN_RUNS]) + (" …" if len(going) > SHOWN_RUNS else "")
            raise DrainTimeoutError(
                f"drain timed out after {format_duration(drain.timeout)}: "
                f"{runs_word(len(going))} of {op.id.name} still going ({names}); it was left "
                "deactivated and not deleted. Run apply again to resume the drain, or raise "
                "lifecycle.drain_timeout"
            )
        if shown is None or shown[0] != len(going) or waited - shown[1] >= REPORT_EVERY:
            shown = (len(going), waited)
            report(f"waiting for {runs_word(len(going))} of {op.id.name}, {math.floor(waited)} s")
        await anyio.sleep(min(interval, max(0.0, drain.timeout - waited)))


FORGET_STEP = "forget in state (no API call; the live object is left as it is)"


def describe_operation(provider: Provider, op: Operation) -> tuple[str, ...]:
    """The steps an operation takes, with a removal's stop, wait and forget steps around the
    provider's own."""
    from reconciler.model import ON_REMOVE_DEACTIVATE, Action
    from reconciler.providers.base import Drains

    if op.action is Action.FORGET:
        return (FORGET_STEP,)
    stop = tuple(provider.quiesce_steps(op)) if isinstance(provider, Drains) else ()
    if op.removal == ON_REMOVE_DEACTIVATE and op.resource is None:
        return (*stop, "forget in state")
    steps = tuple(provider.describe(op))
    if op.drain is not None:
        steps = (*stop, wait_step(op.drain, provider.type_name), *steps)
    elif op.removal and op.action is not Action.REMOVE:
        steps = (*steps, "forget in state")
    return steps
