"""Smoke checks: after an apply that changed an automation, run it and compare with ``expect``.

``run_check`` is the contract apply and ``reconciler check`` use: start the run through the
provider's ``CheckRunner`` capability, poll it with backoff until it is terminal or the check's
``timeout`` passes, then compare the outcome with ``expect``. Platform errors while starting (a
Datallog 400 "Insufficient balance", say) end the check as failed with the platform's own words;
they do not abort the caller, because the changes before the check are already applied.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from reconciler.durations import format_duration, parse_duration
from reconciler.errors import ConfigError, ProviderError
from reconciler.model import ExecutionContext, Resource, ResourceId
from reconciler.providers.base import CheckRunner, Provider, RunStatus

DEFAULT_TIMEOUT = "5m"
FIRST_POLL_DELAY = 0.2  # seconds; sandbox runs start within ~0.2 s, real ones rarely faster
MAX_POLL_DELAY = 2.0  # cap so a finished run is noticed within two seconds
POLL_BACKOFF = 1.3  # each wait 30% longer: quick to notice a short run, gentle on a long one

CANCEL_OUTCOMES = {
    True: "the run was cancelled",
    False: "the platform cannot cancel runs, so it was left running",
    None: "a cancel was asked for",
}



@dataclass(frozen=True)
class CheckResult:
    """How one check ended."""

    id: ResourceId
    passed: bool
    run: RunStatus | None
    message: str


async def run_check(
    provider: Provider,
    check: Resource,
    context: ExecutionContext,
    progress: Callable[[str], None] | None = None,
) -> CheckResult:
    """Start the check's run, poll it to a terminal status within its timeout, compare."""
    if not isinstance(provider, CheckRunner):
        raise ConfigError(
            f"{check.source}: {check.id}: provider type {check.provider_type!r} cannot run checks"
        )
    timeout = parse_duration(str(check.spec.get("timeout") or DEFAULT_TIMEOUT), check)
    expect = str(check.spec.get("expect") or "success")
    report = progress or (lambda _text: None)

    report(f"{check.id}: starting")
    try:
        status = await provider.start_check(check, context)
    except ProviderError as exc:
        return CheckResult(check.id, False, None, f"could not start the run: {exc.message}")

    deadline = time.monotonic() + timeout
    delay = FIRST_POLL_DELAY
    while not status.terminal:
        report(_describe(check.id, status))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return await _give_up(provider, check, context, status, timeout)
        await anyio.sleep(min(delay, remaining))
        delay = min(delay * POLL_BACKOFF, MAX_POLL_DELAY)
        try:
            with anyio.fail_after(max(deadline - time.monotonic(), 0.001)):
                status = await provider.poll_check(check, status.run_id, context)
        except TimeoutError:
            return await _give_up(provider, check, context, status, timeout)
        except ProviderError as exc:
            return CheckResult(
                check.id, False, status, f"run {status.run_id}: status unknown: {exc.message}"
            )

    report(_describe(check.id, status))
    return _judge(check.id, status, expect)


def _judge(check_id: ResourceId, status: RunStatus, expect: str) -> CheckResult:
    """Compare a terminal run with what the check expects."""
    wanted = expect == "success"
    outcome = "succeeded" if status.succeeded else "failed"
    passed = bool(status.succeeded) == wanted
    detail = f"run {status.run_id} {outcome} ({status.status})"
    if status.message:
        detail += f": {status.message}"
    elif status.error and not status.succeeded:
        detail += f": {status.error}"
    if not passed:
        detail += f"; expected {expect}"
    return CheckResult(check_id, passed, status, detail)


async def _give_up(
    provider: CheckRunner,
    check: Resource,
    context: ExecutionContext,
    status: RunStatus,
    timeout: float,
) -> CheckResult:
    """Cancel a run that outlived the check's timeout; a failed cancel is reported, not raised."""
    waited = format_duration(timeout)
    try:
        with anyio.fail_after(MAX_POLL_DELAY * 5):
            cancelled = await provider.cancel_check(check, status.run_id, context)
        after = CANCEL_OUTCOMES[cancelled]
    except (ProviderError, TimeoutError) as exc:
        reason = exc.message if isinstance(exc, ProviderError) else "no answer"
        after = f"cancelling the run failed: {reason}"
    return CheckResult(
        check.id,
        False,
        status,
        f"run {status.run_id} still {status.status} after {waited} (timeout); {after}",
    )


def _describe(check_id: ResourceId, status: RunStatus) -> str:
    """One progress line: the run's own status word and, when known, the step it is on."""
    running = next((s for s in status.steps if s.status.lower() == "running"), None)
    step = f" at step {running.name}" if running else ""
    return f"{check_id}: run {status.run_id} {status.status}{step}"


def explain(result: CheckResult) -> str:
    """The result as text for people: one line, plus the run's steps when the check failed."""
    mark = "passed" if result.passed else "FAILED"
    lines = [f"check {result.id} {mark}: {result.message}"]
    if not result.passed and result.run is not None and result.run.steps:
        width = max(len(step.name) for step in result.run.steps)
        for step in result.run.steps:
            error = f"  {step.error}" if step.error else ""
            lines.append(f"  {step.name:<{width}}  {step.status}{error}")
    return "\n".join(lines)
