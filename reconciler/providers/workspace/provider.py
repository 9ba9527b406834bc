"""The ``workspace`` provider: automations, schedules, triggers and connections (documented).

Each operation is planned as a list of named steps (``describe`` shows them, ``execute`` runs
them), so what a plan shows is what apply does. The order the platform needs:

* create automation: create draft -> addConnections -> publish -> activation (if deactivated)
* update: forkPublished (when the latest version is published) -> PATCH update_mask ->
  remove/switch/add connections -> publish -> activation
* activation alone: PATCH update_mask=activation_state
* schedule ``enabled`` only through :enable/:disableAutomationSchedule
* connection delete only after traceConnectionUsage shows no published automation using it

A create whose answer was lost is never blindly re-sent: the object is looked up by its natural
key first (``create_once``). Checks invoke the published stage and poll the documented run object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from reconciler.errors import ProviderError
from reconciler.model import (
    Action,
    ExecutionContext,
    LiveResource,
    Operation,
    OperationResult,
    Resource,
    ResourceId,
)
from reconciler.providers.base import RehearsalCopy, RunStatus, RunStep
from reconciler.providers.http import (
    ApiClient,
    RetryPolicy,
    UsesApiClient,
    bearer_auth,
)
from reconciler.providers.runner import labels, run_steps
from reconciler.providers.workspace import calls, rehearsal
from reconciler.providers.workspace.read import project, read_details
from reconciler.providers.workspace.shapes import aip_error
from reconciler.providers.workspace.steps import (
    Run,
    Steps,
    plan_steps,
    quiesce_steps,
    resolve_automation,
)

if TYPE_CHECKING:
    import httpx

    from reconciler.config import ProviderConfig

RUN_SUCCEEDED = "FINISHED"
RUN_FAILED = "FAILED"


def run_status(run_id: str, run: Mapping[str, object]) -> RunStatus:
    """A workspace run object in neutral terms: FINISHED succeeded, FAILED failed."""
    status = str(run.get("status", ""))
    terminal = status in (RUN_SUCCEEDED, RUN_FAILED)
    steps = []
    for item in run.get("steps") or []:  # type: ignore[attr-defined]
        step = item.get("step") or {}
        steps.append(
            RunStep(
                name=str(step.get("name") or step.get("step_type") or item.get("id")),
                status=str(item.get("status", "")),
                error=item.get("error") or None,
            )
        )
    return RunStatus(
        run_id=run_id,
        status=status,
        terminal=terminal,
        succeeded=(status == RUN_SUCCEEDED) if terminal else None,
        steps=tuple(steps),
        error=str(run.get("error") or "") or None,
    )


class WorkspaceProvider(UsesApiClient):
    """Automations, schedules, triggers and connections of one workspace."""

    type_name: ClassVar[str] = "workspace"
    kinds: ClassVar[frozenset[str]] = frozenset(
        {"Automation", "Schedule", "Trigger", "Connection", "Check"}
    )
    # removing an automation stops new runs, waits for running ones, then deletes (Drains)
    drained_kinds: ClassVar[frozenset[str]] = frozenset({"Automation"})
    # runs name an automation by its id, the remote id kept in state (``HasRuns``)
    run_kinds: ClassVar[frozenset[str]] = frozenset({"Automation"})

    def __init__(self, config: ProviderConfig, *, transport: httpx.AsyncBaseTransport | None = None,
                 retry: RetryPolicy | None = None) -> None:
        self.config = config
        ids = {key: config.get_required(key) for key in ("organization_id", "workspace_id")}
        self.client = ApiClient(config, platform="workspace", auth=bearer_auth(config),
                                error_parser=aip_error, transport=transport, path_params=ids,
                                retry=retry)
        self.client.answers = calls.ANSWERS
        self._check_runs: dict[str, str] = {}  # run id -> automation id

    async def read(
        self, desired: Sequence[Resource], known: Mapping[ResourceId, str]
    ) -> list[LiveResource]:
        """Every automation, schedule, trigger and connection, matched and in spec shape."""
        details = await read_details(self.client)
        return project(self.config.name, details, desired, known)

    async def rehearsal_copy(
        self, live: Sequence[LiveResource], desired: Sequence[Resource]
    ) -> RehearsalCopy:
        """The workspace as the plan read it (no request)."""
        return rehearsal.copy_world(live, desired)

    def describe(self, operation: Operation) -> tuple[str, ...]:
        """The API steps ``execute`` will take, in order (no I/O)."""
        return labels(plan_steps(operation))

    async def execute(self, operation: Operation, context: ExecutionContext) -> OperationResult:
        """Run the operation's steps; report the calls made and the remote id behind it."""
        return await self._run(operation, context, plan_steps(operation))

    # Drains -----------------------------------------------------------------------------------

    def quiesce_steps(self, operation: Operation) -> tuple[str, ...]:
        """Deactivate the automation and disable its schedule (no I/O)."""
        return labels(quiesce_steps(operation)[1:])

    async def quiesce(self, operation: Operation, context: ExecutionContext) -> OperationResult:
        """Stop new runs of an automation being removed (safe to repeat)."""
        return await self._run(operation, context, quiesce_steps(operation))

    async def _run(self, operation: Operation, context: ExecutionContext,
                   steps: Steps) -> OperationResult:
        run = Run(self.client, operation, self.type_name, context=context,
                  provider=self.config.name, on_created=context.created)
        return await run_steps(run, steps)

    # CheckRunner ------------------------------------------------------------------------------

    async def start_check(self, check: Resource, context: ExecutionContext) -> RunStatus:
        """Invoke the published stage of the check's automation with the check's inputs."""
        automation_id = await self._automation_for(check, context)
        body = await self.client.call(
            "POST", calls.path("invoke"), idempotent=False, automation_id=automation_id,
            json={"stage": calls.STAGE_PUBLISHED, "inputs": dict(check.spec.get("inputs", {}))},
        )
        run_id = str(body.get("run_id", ""))
        if not run_id:
            raise ProviderError(
                f"workspace: invoke of {check.spec['automation']} returned no run_id",
                platform="workspace", call=f"POST {calls.path('invoke')}")
        self._check_runs[run_id] = automation_id
        return RunStatus(run_id=run_id, status="NEW", terminal=False, succeeded=None)

    async def poll_check(
        self, check: Resource, run_id: str, context: ExecutionContext
    ) -> RunStatus:
        """The documented run's status: FINISHED succeeded, FAILED failed, others still going."""
        automation_id = self._check_runs.get(run_id) or await self._automation_for(check, context)
        run = await self.client.call("GET", calls.path("run"), automation_id=automation_id,
                                     run_id=run_id)
        return run_status(run_id, run)

    async def cancel_check(self, check: Resource, run_id: str, context: ExecutionContext) -> bool:
        """The workspace API has no way to cancel a run: say so, so the report says it runs on."""
        return False

    async def _automation_for(self, check: Resource, context: ExecutionContext) -> str:
        return await resolve_automation(self.client, check.id.provider,
                                        str(check.spec["automation"]), context,
                                        needed_by=f"check {check.id}", hint=" (apply it first)")


__all__ = ["WorkspaceProvider", "Action"]
