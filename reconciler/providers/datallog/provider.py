"""The ``datallog`` provider: start Datallog automations as smoke checks (documented).

Datallog's published API is one call, ``POST /api/start-automation/{project}/{automation}``, so
this provider manages nothing (``read`` returns nothing) and only runs ``Check`` documents: a
check succeeds when the platform answers with an execution id. There is no status endpoint (the
execution reports through its webhook), so the run is terminal as soon as it starts.

The webhook headers of a check are secrets: they go into the request body and nowhere else.
Every 400/403 message is passed to the user exactly as the platform wrote it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from reconciler.config import interpolate
from reconciler.masking import remember
from reconciler.model import ExecutionContext, Operation, Resource
from reconciler.providers.base import RunStatus
from reconciler.providers.datallog.shapes import datallog_auth, datallog_error
from reconciler.providers.http import ApiClient, expand
from reconciler.providers.runs_only import ManagesNothing

if TYPE_CHECKING:
    import httpx

    from reconciler.config import ProviderConfig

DEFAULT_BASE_URL = "https://api-mwm.datallog.com"
PATHS = {"start": "/api/start-automation/{project}/{automation}"}


class DatallogProvider(ManagesNothing):
    """Starts automations of one Datallog account."""

    type_name: ClassVar[str] = "datallog"
    kinds: ClassVar[frozenset[str]] = frozenset({"Check"})

    def __init__(
        self, config: ProviderConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self.client = ApiClient(
            config,
            platform=self.type_name,
            auth=datallog_auth(config),
            error_parser=datallog_error,
            transport=transport,
            default_base_url=DEFAULT_BASE_URL,
        )

    def describe(self, operation: Operation) -> tuple[str, ...]:
        """The one call a check makes."""
        if operation.resource is None:
            return ()
        return (f"POST {_start_path(operation.resource)}",)

    # -- CheckRunner -----------------------------------------------------------------------------

    async def start_check(self, check: Resource, context: ExecutionContext) -> RunStatus:
        """Start the automation with the check's seed and webhook; done once an id comes back."""
        # a start is not idempotent: a lost answer is reported, never sent a second time
        body = _start_body(check)
        answer = await self.client.call("POST", PATHS["start"], json=body, **_names(check))
        execution_id = str(answer.get("execution_id") or "")
        message = str(answer.get("message") or "")
        if not execution_id:
            return RunStatus("", str(answer.get("status") or "unknown"), True, False, (), message)
        return RunStatus(execution_id, "started", True, True, (), None, message)

    async def poll_check(
        self, check: Resource, run_id: str, context: ExecutionContext
    ) -> RunStatus:
        """Never needed: ``start_check`` returns a terminal status."""
        return RunStatus(run_id, "started", True, True)

    async def cancel_check(self, check: Resource, run_id: str, context: ExecutionContext) -> bool:
        """Datallog publishes no cancel call (and a started check is already terminal)."""
        return False


def _start_path(check: Resource) -> str:
    return expand(PATHS["start"], _names(check))


def _names(check: Resource) -> dict[str, Any]:
    """The path's project and automation names (percent-encoded by the HTTP layer)."""
    return {key: check.spec.get(key, "") for key in ("project", "automation")}


def _start_body(check: Resource) -> dict[str, Any]:
    """The request body: ``seed`` as written, ``webhook`` renamed to the platform's field names.

    Header values may be ``${env:NAME}`` references, resolved only here, as the request is
    built: the secret stays out of git, and the spec, plans and state hold only the reference.
    """
    spec = check.spec
    body: dict[str, Any] = {}
    webhook = spec.get("webhook")
    if webhook:
        if isinstance(webhook, str):
            body["webhook"] = webhook  # a JSON string is accepted and validated by the platform
        else:
            body["webhook"] = {"url": webhook.get("url")}
            headers = webhook.get("headers") or webhook.get("webhook_header")
            if headers:
                resolved = interpolate(
                    dict(headers), check.source, f"{check.id}: spec.webhook.headers"
                )
                remember(resolved)  # a platform error that echoes a header shows it masked
                body["webhook"]["webhook_header"] = resolved
    seed = spec.get("seed")
    if seed not in (None, {}, ""):
        body["seed"] = seed
    return body
