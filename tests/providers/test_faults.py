"""Faults the real APIs produce under load, injected by the sandbox over loopback."""

from __future__ import annotations

import time

import httpx
import pytest

from reconciler.errors import ProviderError
from reconciler.model import Action
from reconciler.providers.outlit import OutlitProvider
from reconciler.providers.workspace import WorkspaceProvider
from tests.providers.conftest import FAST_RETRY, context, operation, provider_config, resource

pytestmark = pytest.mark.anyio

W = "/api/v1/organizations/{organization_id}/workspaces/{workspace_id}"


async def test_429_waits_as_long_as_retry_after_says(sandbox_server, outlit):
    sandbox_server.set_faults(throttle_every=2, retry_after=1)
    await outlit.read([], {})  # request 1 passes, request 2 is throttled
    started = time.monotonic()
    await outlit.read([], {})
    waited = time.monotonic() - started
    statuses = [r.status for r in sandbox_server.requests()]
    assert 429 in statuses and statuses[-1] == 200
    assert 0.95 <= waited < 2.5


async def test_503_and_connection_resets_are_retried_to_the_same_result(sandbox_server):
    sandbox_server.seed({"workspace": {"automations": [
        {"display_name": f"flow-{i}", "schedule": {"cron": "0 1 * * *"}} for i in range(4)]}})
    # generous retries: under concurrency one request may draw several faults in a row
    workspace = WorkspaceProvider(provider_config(sandbox_server.url, "workspace", max_retries=10),
                                  retry=FAST_RETRY)
    try:
        calm = await workspace.read([], {})
        sandbox_server.clear_requests()
        sandbox_server.set_faults(error_rate=0.2, reset_rate=0.1, seed=7)
        stormy = await workspace.read([], {})
    finally:
        await workspace.aclose()
    assert sorted((i.id, i.spec) for i in stormy) == sorted((i.id, i.spec) for i in calm)
    statuses = {r.status for r in sandbox_server.requests()}
    assert {503, 0} <= statuses


async def test_gives_up_after_max_retries_with_the_platforms_message(sandbox_server):
    provider = WorkspaceProvider(provider_config(sandbox_server.url, "workspace", max_retries=2),
                                 retry=FAST_RETRY)
    sandbox_server.set_faults(error_rate=1.0)
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.read([], {})
    finally:
        await provider.aclose()
    error = caught.value
    assert error.status == 503 and error.platform == "workspace"
    assert error.platform_message == "the service is unavailable"
    assert "gave up after 3 attempt(s)" in str(error) and error.call.startswith("GET ")


class LoseFirstAnswer(httpx.AsyncHTTPTransport):
    """Delivers the first POST, lets the server act on it, then drops the answer."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST" and not self.dropped:
            await response.aread()
            self.dropped += 1
            raise httpx.ReadError("connection reset by peer")
        return response


async def test_a_create_whose_answer_was_lost_is_found_not_duplicated(sandbox_server):
    transport = LoseFirstAnswer()
    provider = WorkspaceProvider(provider_config(sandbox_server.url, "workspace"),
                                 transport=transport, retry=FAST_RETRY)
    wanted = resource("Automation", "nightly", code="run()")
    try:
        result = await provider.execute(operation(Action.CREATE, wanted, None), context())
        live = await provider.read([wanted], {})
    finally:
        await provider.aclose()
    assert transport.dropped == 1
    creates = [r for r in sandbox_server.requests() if (r.method, r.path) ==
               ("POST", W + "/automations")]
    assert len(creates) == 1
    assert [(i.id.name, i.remote_id) for i in live] == [("nightly", result.remote_id)]
    assert live[0].spec["stage"] == "published"


async def test_a_create_reset_before_it_landed_is_sent_again_once(sandbox_server, outlit):
    sandbox_server.set_faults(reset_every=3)  # the create is the third request
    await outlit.read([], {})
    await outlit.read([], {})
    wanted = resource("Automation", "welcome", provider="growth", type_name="outlit",
                      signals=["signup-completed"], destinations=["slack-growth"])
    result = await outlit.execute(operation(Action.CREATE, wanted, None), context())
    sandbox_server.clear_faults()
    live = await outlit.read([wanted], {})
    assert [(i.id.name, i.remote_id) for i in live] == [("welcome", result.remote_id)]
    creates = [r.status for r in sandbox_server.requests() if (r.method, r.path) ==
               ("POST", "/api/automations")]
    assert creates == [0, 200]


async def test_sandbox_base_url_uses_the_in_process_transport_and_placeholder_credentials(
    tmp_path,
):
    config = provider_config("sandbox", "outlit", settings={}, sandbox_db=tmp_path / "s.db")
    provider = OutlitProvider(config, retry=FAST_RETRY)
    try:
        live = await provider.read([], {})
    finally:
        await provider.aclose()
    assert live == []


class LoseAnswerOf(httpx.AsyncHTTPTransport):
    """Delivers every request; the first answer to a POST whose path ends with ``suffix`` is
    lost after the server acted on it."""

    def __init__(self, suffix: str) -> None:
        super().__init__()
        self.suffix = suffix
        self.dropped = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith(self.suffix) \
                and not self.dropped:
            await response.aread()
            self.dropped += 1
            raise httpx.ReadError("connection reset by peer")
        return response


async def test_a_publish_whose_answer_was_lost_is_read_back_not_failed(sandbox_server):
    transport = LoseAnswerOf(":publish")
    provider = WorkspaceProvider(provider_config(sandbox_server.url, "workspace"),
                                 transport=transport, retry=FAST_RETRY)
    wanted = resource("Automation", "nightly", code="run()")
    try:
        await provider.execute(operation(Action.CREATE, wanted, None), context())
        live = await provider.read([wanted], {})
    finally:
        await provider.aclose()
    assert transport.dropped == 1
    publishes = [r for r in sandbox_server.requests() if r.path.endswith(":publish")]
    assert len(publishes) == 1  # it took effect: not sent again (a second one would fail)
    assert live[0].spec["stage"] == "published"


async def test_an_outlit_enable_whose_answer_was_lost_is_read_back(sandbox_server):
    transport = LoseAnswerOf("/enable")
    provider = OutlitProvider(provider_config(sandbox_server.url, "outlit"),
                              transport=transport, retry=FAST_RETRY)
    wanted = resource("Automation", "welcome", provider="growth", type_name="outlit",
                      signals=["signup-completed"], destinations=["slack-growth"])
    try:
        result = await provider.execute(operation(Action.CREATE, wanted, None), context())
        live = await provider.read([wanted], {})
    finally:
        await provider.aclose()
    assert transport.dropped == 1 and result.warnings == ()
    enables = [r for r in sandbox_server.requests()
               if r.method == "POST" and r.path != "/api/automations"]
    assert len(enables) == 1 and live[0].spec["enabled"] is True
