"""Smoke checks: after an apply that changed an automation, run it and compare with ``expect``.

(Implemented by the runs work; ``run_check`` and ``CheckResult`` are the contract apply uses.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reconciler.model import ExecutionContext, Resource, ResourceId
from reconciler.providers.base import Provider, RunStatus


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
    raise NotImplementedError
