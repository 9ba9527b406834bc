"""The shared HTTP layer on its own: retries, Retry-After, give-up, outcome-unknown, errors."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import httpx
import pytest

from reconciler.config import ProviderConfig
from reconciler.errors import ProviderError
from reconciler.model import SourcePosition
from reconciler.providers.automation_runs.shapes import detail_error
from reconciler.providers.datallog.shapes import datallog_auth
from reconciler.providers.http import (
    ApiClient,
    OutcomeUnknown,
    RetryPolicy,
    bearer_auth,
    create_once,
    retry_after_seconds,
)
from reconciler.providers.outlit.shapes import outlit_error
from reconciler.providers.workspace.shapes import aip_error

FAST = RetryPolicy(base=0.001, cap=2.0)


def config(**overrides) -> ProviderConfig:
    values = {"name": "studio", "type": "workspace", "base_url": "https://api.example.test",
              "settings": {"token": "t0ken"}, "position": SourcePosition("reconciler.yaml", 3, 5),
              "max_retries": 3}
    values.update(overrides)
    return ProviderConfig(**values)


def client(handler, *, parser=aip_error, **overrides) -> ApiClient:
    cfg = config(**overrides)
    return ApiClient(cfg, platform="workspace", auth=bearer_auth(cfg), error_parser=parser,
                     transport=httpx.MockTransport(handler), retry=FAST)


@pytest.mark.anyio
async def test_429_waits_for_retry_after_then_succeeds():
    answers = [httpx.Response(429, headers={"Retry-After": "1"}, json={}),
               httpx.Response(200, json={"ok": 1})]
    api = client(lambda request: answers.pop(0))
    started = time.monotonic()
    assert await api.call("GET", "/things/{id}", id="a b") == {"ok": 1}
    assert time.monotonic() - started >= 0.95
    assert api.request_counts() == {"GET /things/{id}": 2}


def test_retry_after_accepts_an_http_date():
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= retry_after_seconds(later) <= 31
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("soon") is None


@pytest.mark.anyio
async def test_503_and_resets_are_retried_for_reads():
    answers = [httpx.ReadError("reset"), httpx.Response(503, json={}),
               httpx.Response(200, json={"v": 2})]

    def handler(request):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    api = client(handler)
    assert await api.call("GET", "/x") == {"v": 2}
    assert api.request_counts() == {"GET /x": 3}


@pytest.mark.anyio
async def test_gives_up_after_max_retries_with_a_clear_error():
    body = {"error": {"code": 503, "message": "down for maintenance", "status": "UNAVAILABLE"}}
    api = client(lambda request: httpx.Response(503, json=body, headers={"x-request-id": "r-9"}),
                 max_retries=2)
    with pytest.raises(ProviderError) as caught:
        await api.call("GET", "/x")
    error = caught.value
    assert error.status == 503 and error.platform_message == "down for maintenance"
    assert error.correlation_id == "r-9" and error.call == "GET /x"
    assert "gave up after 3 attempt(s)" in str(error)
    assert api.request_counts() == {"GET /x": 3}


@pytest.mark.anyio
async def test_a_create_is_not_resent_when_the_answer_was_lost():
    seen = []

    def handler(request):
        seen.append(request)
        raise httpx.ReadTimeout("no answer")

    api = client(handler)
    with pytest.raises(OutcomeUnknown):
        await api.call("POST", "/things", json={"k": 1}, idempotent=False)
    assert len(seen) == 1


@pytest.mark.anyio
async def test_a_create_is_retried_when_it_certainly_did_not_happen():
    answers = [httpx.ConnectError("refused"), httpx.Response(429, json={}),
               httpx.Response(200, json={"id": "1"})]

    def handler(request):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    api = client(handler)
    assert await api.call("POST", "/things", json={}, idempotent=False) == {"id": "1"}


@pytest.mark.anyio
async def test_create_once_looks_up_the_natural_key_before_sending_again():
    made: list[str] = []

    async def send():
        made.append("x")
        raise OutcomeUnknown("lost")

    async def find():
        return {"id": "x"} if made else None

    assert await create_once(send, find) == {"id": "x"}
    assert made == ["x"]


@pytest.mark.anyio
async def test_errors_carry_each_platforms_own_message():
    outlit = {"ok": False, "error": {"code": "CONFLICT", "message": "key taken"},
              "correlationId": "c-1"}
    api = client(lambda request: httpx.Response(409, json=outlit), parser=outlit_error)
    with pytest.raises(ProviderError) as caught:
        await api.call("POST", "/api/automations", json={})
    assert (caught.value.code, caught.value.platform_message, caught.value.correlation_id) == (
        "CONFLICT", "key taken", "c-1")
    runs = {"detail": [{"loc": ["query", "limit"], "msg": "too big", "type": "x"}]}
    api = client(lambda request: httpx.Response(422, json=runs), parser=detail_error)
    with pytest.raises(ProviderError, match="query.limit: too big"):
        await api.call("GET", "/api/v1/automation-runs")


@pytest.mark.anyio
async def test_auth_headers_per_platform_and_sandbox_placeholder():
    seen = []

    def handler(request):
        seen.append(dict(request.headers))
        return httpx.Response(200, json={})

    api = client(handler)
    await api.call("GET", "/x")
    assert seen[-1]["authorization"] == "Bearer t0ken"
    cfg = config(base_url="sandbox", settings={}, sandbox_db=Path("unused.db"))
    headers = datallog_auth(cfg)
    assert headers == {"Authorization": "Token sandbox", "x-api-key": "sandbox"}


@pytest.mark.anyio
async def test_token_pagination_follows_next_page_token_and_accounts_by_template():
    pages = {None: {"items": [1, 2], "next_page_token": "p2"}, "p2": {"items": [3]}}

    def handler(request):
        assert request.url.params["page_size"] == "1000"
        return httpx.Response(200, json=pages[request.url.params.get("page_token")])

    api = client(handler)
    assert await api.list_by_token("/o/{org}/items", items_key="items", page_size=1000,
                                   org="o1") == [1, 2, 3]
    assert api.request_counts() == {"GET /o/{org}/items": 2}


@pytest.mark.anyio
async def test_offset_and_cursor_pagination():
    data = list(range(5))

    def handler(request):
        params = request.url.params
        if "offset" in params:
            start, size = int(params["offset"]), int(params["limit"])
            return httpx.Response(200, json={"items": data[start:start + size], "total": 5})
        start = int(params.get("cursor") or 0)
        nxt = str(start + 2) if start + 2 < 5 else None
        return httpx.Response(200, json={"data": {"rows": data[start:start + 2], "next": nxt}})

    api = client(handler)
    assert await api.list_by_offset("/runs", items_key="items", limit=2) == data
    assert await api.list_by_cursor("/c", items=lambda b: b["data"]["rows"],
                                    next_cursor=lambda b: b["data"]["next"], limit=2) == data


@pytest.mark.anyio
async def test_an_outage_length_retry_after_is_bounded():
    answers = [httpx.Response(503, headers={"Retry-After": "3600"}, json={}),
               httpx.Response(200, json={})]
    cfg = config()
    api = ApiClient(cfg, platform="workspace", auth=bearer_auth(cfg), error_parser=aip_error,
                    transport=httpx.MockTransport(lambda request: answers.pop(0)),
                    retry=RetryPolicy(base=0.001, max_retry_after=0.05))
    started = time.monotonic()
    assert await api.call("GET", "/x") == {}
    assert time.monotonic() - started < 1


def test_a_credential_with_a_trailing_newline_is_refused_without_showing_it():
    from reconciler.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        bearer_auth(config(settings={"token": "s3cret-value\n"}))
    message = str(caught.value)
    assert "s3cret-value" not in message
    assert "reconciler.yaml:3:5" in message and "providers.studio.token" in message


@pytest.mark.anyio
async def test_a_request_refused_before_sending_never_quotes_its_headers():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError("Illegal header value b'Bearer s3cret-value'")

    api = client(refuse)
    for call in (
        api.call("GET", "/api/automations"),
        api.call("POST", "/api/automations", json={}, idempotent=False),
    ):
        with pytest.raises(ProviderError) as caught:
            await call
        error = caught.value
        assert "s3cret-value" not in str(error) and "s3cret-value" not in error.platform_message
        assert not isinstance(error, OutcomeUnknown)  # nothing was sent
    await api.aclose()


@pytest.mark.anyio
async def test_base_url_references_are_resolved_when_requests_are_made(monkeypatch):
    monkeypatch.setenv("STUDIO_URL", "https://resolved.example.test")
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={})

    api = client(answer, base_url="${env:STUDIO_URL}")
    await api.call("GET", "/api/automations")
    await api.aclose()
    assert seen == ["https://resolved.example.test/api/automations"]


@pytest.mark.anyio
async def test_an_empty_answer_to_a_call_with_a_declared_shape_names_the_missing_field():
    api = client(lambda request: httpx.Response(200, content=b""))
    api.answers = {"POST /things": {"name": "string"}}
    with pytest.raises(ProviderError, match=r"POST /things answered with an unexpected shape "
                       r"\(field 'name' is missing\)"):
        await api.call("POST", "/things", json={})
    await api.aclose()


@pytest.mark.anyio
async def test_a_number_json_cannot_carry_is_refused_without_quoting_the_answer():
    body = b'{"token": "platform-made-secret", "n": NaN}'
    api = client(lambda request: httpx.Response(200, content=body))
    with pytest.raises(ProviderError) as caught:
        await api.call("GET", "/things")
    await api.aclose()
    assert "a bare NaN, a number JSON cannot carry" in str(caught.value)
    assert "platform-made-secret" not in str(caught.value)
    assert "platform-made-secret" not in caught.value.platform_message


def test_an_unusable_answer_names_the_failure_never_the_value():
    from reconciler.providers.answers import unusable_answer

    try:
        int("platform-made-secret")
    except ValueError as exc:
        error = unusable_answer("studio", "workspace", "reading", exc)
    assert "ValueError" in str(error) and "platform-made-secret" not in str(error)
    assert "KeyError: 'name'" in str(unusable_answer("studio", "workspace", "reading",
                                                     KeyError("name")))
