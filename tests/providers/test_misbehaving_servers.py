"""The HTTP layer against servers that answer badly, each a small app served on loopback:
lists that never end, a trickling answer, Retry-After of an hour, a body lying about gzip,
an empty 200 on a list, a proxy's HTML error page, answers of the wrong shape, an answer too
large to hold, a rejected credential, and a base URL where nothing answers."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from reconciler.errors import ProviderError
from reconciler.providers.http import ApiClient, RetryPolicy, bearer_auth
from reconciler.providers.workspace.shapes import aip_error
from reconciler.sandbox.server import LoopbackServer
from tests.providers.conftest import provider_config

pytestmark = pytest.mark.anyio
FAST = RetryPolicy(base=0.001, cap=0.01)
counter = itertools.count()
HTML_502 = ("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title>"
            "<style>body { font: 12px sans-serif }</style></head>\n<body><center><h1>502 Bad "
            "Gateway</h1></center>\n" + "<!-- padding -->\n" * 200 + "<hr><center>nginx</center>"
            "</body></html>\n")


async def same_token(request: Request) -> Response:
    return JSONResponse({"items": [next(counter)], "next_page_token": "again"})


async def fresh_cursor(request: Request) -> Response:
    return JSONResponse({"rows": [1], "next": f"c{next(counter)}"})


async def ignores_offset(request: Request) -> Response:
    return JSONResponse({"items": [1, 2], "total": 1000})


async def trickle(request: Request) -> Response:
    async def one_byte_at_a_time() -> Iterator[bytes]:
        for _ in range(100):
            yield b" "
            await asyncio.sleep(0.2)

    return StreamingResponse(one_byte_at_a_time(), media_type="application/json")


throttled_once: set[str] = set()


async def throttled(request: Request) -> Response:
    key = request.query_params["key"]
    if key not in throttled_once:  # the first request of each key is throttled
        throttled_once.add(key)
        return JSONResponse({}, status_code=429, headers={"Retry-After": "3600"})
    return JSONResponse({"ok": True})


async def retry_later(request: Request) -> Response:
    return JSONResponse({}, status_code=429, headers={"Retry-After": "30"})


async def slow(request: Request) -> Response:
    await asyncio.sleep(5)
    return JSONResponse({})


async def gzip_lie(request: Request) -> Response:
    return Response(b'{"items": []}', headers={"content-encoding": "gzip",
                                               "content-type": "application/json"})


async def empty(request: Request) -> Response:
    return Response(b"", status_code=200)


async def bad_gateway(request: Request) -> Response:
    return Response(HTML_502, status_code=502, media_type="text/html")


async def wrong_shape(request: Request) -> Response:
    return JSONResponse({"items": "not a list"})


async def array(request: Request) -> Response:
    return JSONResponse([1, 2, 3])


async def huge(request: Request) -> Response:
    async def megabytes() -> Iterator[bytes]:
        for _ in range(50):
            yield b" " * (1024 * 1024)

    return StreamingResponse(megabytes(), media_type="application/json")


async def huge_declared(request: Request) -> Response:
    return Response(b" " * (3 * 1024 * 1024), media_type="application/json")


async def not_a_json_number(request: Request) -> Response:
    body = {"/nan": b'{"n": NaN}', "/infinity": b'{"n": [-Infinity]}', "/huge-number": b"1e999"}
    return Response(body[request.url.path], media_type="application/json")


async def endless_line(request: Request) -> Response:
    async def no_newline() -> Iterator[bytes]:
        yield b"data: "
        for _ in range(50):
            yield b"x" * (256 * 1024)

    return StreamingResponse(no_newline(), media_type="text/event-stream")


async def endless_stream(request: Request) -> Response:
    async def small_events() -> Iterator[bytes]:
        for index in range(100_000):
            yield b'data: {"type": "step", "n": %d, "pad": "%s"}\n\n' % (index, b"p" * 200)

    return StreamingResponse(small_events(), media_type="text/event-stream")


async def huge_event(request: Request) -> Response:
    async def many_data_lines() -> Iterator[bytes]:
        for _ in range(40):  # one event of 40 lines of 64 KiB: no line is long, the event is
            yield b"data: " + b"y" * (64 * 1024) + b"\n"
        yield b"\n"

    return StreamingResponse(many_data_lines(), media_type="text/event-stream")


async def unauthenticated(request: Request) -> Response:
    return JSONResponse({"error": {"code": 401, "message": "invalid credential",
                                   "status": "UNAUTHENTICATED"}}, status_code=401)


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    routes = {"/same-token": same_token, "/fresh-cursor": fresh_cursor,
              "/ignores-offset": ignores_offset, "/trickle": trickle, "/throttled": throttled,
              "/retry-later": retry_later, "/slow": slow, "/gzip-lie": gzip_lie, "/empty": empty,
              "/bad-gateway": bad_gateway, "/wrong-shape": wrong_shape, "/array": array,
              "/huge": huge, "/huge-declared": huge_declared,
              "/unauthenticated": unauthenticated, "/nan": not_a_json_number,
              "/infinity": not_a_json_number, "/huge-number": not_a_json_number,
              "/endless-line": endless_line, "/endless-stream": endless_stream,
              "/api/v1/automation-runs/r1/events": huge_event}
    app = Starlette(routes=[Route(path, handler) for path, handler in routes.items()])
    with LoopbackServer(app) as running:
        yield running


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def client(url: str, **overrides) -> ApiClient:
    config = provider_config(url, "workspace", **overrides)
    return ApiClient(config, platform="workspace", auth=bearer_auth(config),
                     error_parser=aip_error, retry=FAST)


async def failure(api: ApiClient, call) -> ProviderError:
    try:
        with pytest.raises(ProviderError) as caught:
            await call
    finally:
        await api.aclose()
    return caught.value


# --- lists that never end ----------------------------------------------------------------------


async def test_a_repeated_page_token_stops_the_list_naming_the_call(server):
    api = client(server.url)
    error = await failure(api, api.list_by_token("/same-token", items_key="items",
                                                 page_size=10))
    assert str(error).startswith("studio: GET /same-token: the list does not end: the same "
                                 "next_page_token 'again' came back a second time")
    assert api.request_counts() == {"GET /same-token": 2}


async def test_a_list_whose_cursor_always_changes_is_bounded_in_pages(server):
    api = client(server.url)
    api.max_pages = 5
    error = await failure(api, api.list_by_cursor(
        "/fresh-cursor", items=lambda b: b["rows"], next_cursor=lambda b: b["next"], limit=1))
    assert "studio: GET /fresh-cursor: the list does not end: more than 5 pages" in str(error)
    assert api.request_counts() == {"GET /fresh-cursor": 6}


async def test_a_server_ignoring_the_offset_is_caught_on_the_second_page(server):
    api = client(server.url)
    error = await failure(api, api.list_by_offset("/ignores-offset", items_key="items",
                                                  limit=2))
    assert "the page at offset 2 repeats the one before it" in str(error)
    assert api.request_counts() == {"GET /ignores-offset": 2}


# --- deadlines and waits -----------------------------------------------------------------------


async def test_a_trickling_answer_cannot_hold_a_call_past_its_deadline(server):
    # one byte every 0.2 s never trips a per-read timeout; the attempt's whole time does
    api = client(server.url, timeout=0.5, deadline=1.2, max_retries=5)
    started = time.monotonic()
    error = await failure(api, api.call("GET", "/trickle"))
    assert time.monotonic() - started < 2.0
    assert "studio: GET /trickle gave up after" in str(error)
    assert "the call's deadline of 1.2 s" in str(error)


async def test_an_hour_of_retry_after_is_capped_with_a_line_on_stderr(server, capsys):
    api = client(server.url, max_retry_after=0.2)
    started = time.monotonic()
    try:
        assert await api.call("GET", "/throttled", params={"key": "a"}) == {"ok": True}
    finally:
        await api.aclose()
    assert 0.2 <= time.monotonic() - started < 1.0
    assert capsys.readouterr().err == (
        "studio: 429 on GET /throttled, waiting 0.2 s (Retry-After 3600 s, capped), retry 1/3\n")


async def test_a_wait_past_the_deadline_gives_up_at_once(server):
    api = client(server.url, deadline=2, max_retry_after=60)
    started = time.monotonic()
    error = await failure(api, api.call("GET", "/retry-later"))
    assert time.monotonic() - started < 1.0
    assert str(error) == ("studio: GET /retry-later gave up after 1 attempt(s): 429, and retry "
                          "1/3 would wait 30 s, past the call's deadline of 2 s")


async def test_the_command_deadline_bounds_every_call(server):
    from reconciler.providers.http import command_deadline

    api = client(server.url)
    started = time.monotonic()
    with command_deadline(0.5, "--deadline 0.5s"):
        error = await failure(api, api.call("GET", "/slow"))
    assert time.monotonic() - started < 1.5
    assert "past --deadline 0.5s" in str(error) or "--deadline 0.5s passed" in str(error)


# --- answers that are not what they claim ------------------------------------------------------


async def test_a_body_claiming_gzip_that_is_not_is_a_clear_error(server):
    api = client(server.url)
    error = await failure(api, api.call("GET", "/gzip-lie"))
    assert str(error) == ("studio: GET /gzip-lie answered 200 with a body that claims "
                          "Content-Encoding 'gzip' but cannot be decoded as such")


async def test_an_empty_200_on_a_list_is_an_error_not_no_objects(server):
    api = client(server.url)
    error = await failure(api, api.list_by_token("/empty", items_key="items", page_size=10))
    assert str(error) == "studio: GET /empty answered 200 with an empty body where a list was " \
                         "expected"


async def test_a_502_html_page_is_shown_as_status_and_a_short_excerpt(server):
    api = client(server.url, max_retries=1)
    error = await failure(api, api.call("GET", "/bad-gateway"))
    message = str(error)
    assert message == ("studio: GET /bad-gateway answered 502 (HTML page) 502 Bad Gateway "
                       "(gave up after 2 attempt(s))")
    assert "<" not in message and "padding" not in message and len(message) < 200


@pytest.mark.parametrize(("path", "words"), [
    ("/wrong-shape", "a page holds a JSON string where a list was expected"),
    ("/array", "answered 200 with a JSON array where an object holding a list was expected"),
])
async def test_a_list_answer_of_the_wrong_shape_names_the_call(server, path, words):
    api = client(server.url)
    error = await failure(api, api.list_by_token(path, items_key="items", page_size=10))
    assert f"studio: GET {path}" in str(error) and words in str(error)


@pytest.mark.parametrize("path", ["/huge", "/huge-declared"])
async def test_an_answer_larger_than_the_cap_is_refused(server, path):
    api = client(server.url, max_response_mb=2)
    error = await failure(api, api.call("GET", path))
    assert f"studio: GET {path} answered 200 with a body of" in str(error)
    assert "above the limit of 2 MiB (raise providers.studio.max_response_mb" in str(error)


@pytest.mark.parametrize(("path", "words"), [
    ("/nan", "a bare NaN"), ("/infinity", "a bare -Infinity"), ("/huge-number", "the number 1e999"),
])
async def test_an_answer_holding_a_number_json_cannot_carry_names_the_call(server, path, words):
    """Python reads NaN and Infinity as numbers; the plan, state and saved plans could not be
    written as JSON with them in, so the answer is refused where it comes in."""
    api = client(server.url)
    error = await failure(api, api.call("GET", path))
    assert str(error).startswith(f"studio: GET {path} answered 200 with {words}, a number JSON "
                                 "cannot carry")


async def read_stream(api: ApiClient, path: str) -> int:
    lines = 0
    async with api.stream_lines("GET", path) as stream:
        async for _line in stream:
            lines += 1
    return lines


async def test_a_streamed_line_without_end_is_cut_at_the_event_cap(server):
    api = client(server.url)
    error = await failure(api, read_stream(api, "/endless-line"))
    assert str(error) == ("studio: GET /endless-line streamed a line of more than 1 MiB; "
                          "stopped reading it")


async def test_a_stream_that_does_not_end_is_cut_at_the_response_cap(server):
    api = client(server.url, max_response_mb=2)
    error = await failure(api, read_stream(api, "/endless-stream"))
    assert str(error) == ("studio: GET /endless-stream streamed more than 2 MiB; stopped reading "
                          "it (raise providers.studio.max_response_mb if the platform really "
                          "streams this much)")


async def test_an_event_of_many_lines_is_cut_at_the_event_cap(server):
    from reconciler.providers.automation_runs.provider import AutomationRunsProvider

    config = provider_config(server.url, "automation-runs", name="history",
                             settings={"api_key": "k"})
    provider = AutomationRunsProvider(config)
    try:
        with pytest.raises(ProviderError) as caught:
            async for _event in provider.stream_events("r1"):
                pass
    finally:
        await provider.aclose()
    assert str(caught.value) == ("history: GET /api/v1/automation-runs/{run_id}/events streamed "
                                 "an event of more than 1 MiB; stopped reading it")


# --- credentials and unreachable servers -------------------------------------------------------


async def test_a_401_names_the_instance_and_the_variable_holding_its_token(server, monkeypatch):
    monkeypatch.setenv("STUDIO_TOKEN", "s3cret-value")
    api = client(server.url, settings={"token": "${env:STUDIO_TOKEN}"})
    error = await failure(api, api.call("GET", "/unauthenticated"))
    assert str(error) == ("studio: GET /unauthenticated answered 401 UNAUTHENTICATED: invalid "
                          "credential; check providers.studio.token (from the environment "
                          "variable STUDIO_TOKEN)")
    assert "s3cret-value" not in str(error)


async def test_an_unreachable_base_url_prints_a_line_per_retry_and_names_it(capsys):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("the host name does not resolve")

    config = provider_config("https://api.example.test", "workspace", max_retries=2)
    api = ApiClient(config, platform="workspace", auth=bearer_auth(config),
                    error_parser=aip_error, retry=RetryPolicy(base=0.001, jitter=False),
                    transport=httpx.MockTransport(refuse))
    error = await failure(api, api.call("GET", "/api/v1/automations"))
    assert str(error) == ("studio: GET /api/v1/automations at https://api.example.test failed "
                          "after 3 attempt(s): ConnectError: the host name does not resolve")
    assert capsys.readouterr().err.splitlines() == [
        "studio: ConnectError: the host name does not resolve on GET /api/v1/automations, "
        f"retry {n}/2 in 0 s" for n in (1, 2)]


async def test_a_delete_whose_answer_was_lost_then_answers_404_is_done():
    answers = [httpx.ReadError("connection reset by peer"),
               httpx.Response(404, json={"error": {"message": "not found"}})]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    config = provider_config("https://api.example.test", "workspace")
    api = ApiClient(config, platform="workspace", auth=bearer_auth(config),
                    error_parser=aip_error, retry=FAST, transport=httpx.MockTransport(handler))
    try:
        assert await api.call("DELETE", "/things/{id}", id="t1") == {}
    finally:
        await api.aclose()
    assert api.request_counts() == {"DELETE /things/{id}": 2}
