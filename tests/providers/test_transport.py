"""The wire under the HTTP layer, over real loopback HTTP: what is sent, what comes back, and
which failures count as "the request may have landed"."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.errors import ProviderError
from reconciler.providers.automation_runs.shapes import detail_error
from reconciler.providers.http import (
    ApiClient,
    OutcomeUnknown,
    RetryPolicy,
    bearer_auth,
)
from reconciler.providers.transport import AiohttpTransport
from reconciler.sandbox.server import LoopbackServer, bind_loopback
from tests.providers.conftest import provider_config

pytestmark = pytest.mark.anyio
FAST = RetryPolicy(base=0.001, cap=0.01)


async def echo(request: Request) -> Response:
    return JSONResponse({"path": request.scope["raw_path"].decode(),
                         "query": request.scope["query_string"].decode(),
                         "headers": {k.decode(): v.decode() for k, v in request.scope["headers"]},
                         "body": (await request.body()).decode()})


async def set_cookie(request: Request) -> Response:
    response = JSONResponse({})
    response.set_cookie("session", "from-the-server")
    return response


async def zipped(request: Request) -> Response:
    return Response(gzip.compress(b'{"zipped": true}'),
                    headers={"content-encoding": "gzip", "content-type": "application/json"})


async def slow(request: Request) -> Response:
    # the answer comes after the client stopped waiting
    await request.body()
    await anyio.sleep(0.5)
    return JSONResponse({})


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    app = Starlette(routes=[
        Route("/echo/{rest:path}", echo, methods=["GET", "POST"]),
        Route("/set-cookie", set_cookie), Route("/zipped", zipped),
        Route("/slow", slow, methods=["GET", "POST"]),
    ])
    with LoopbackServer(app) as running:
        yield running


def client(url: str, **overrides) -> ApiClient:
    config = provider_config(url, "outlit", **overrides)
    return ApiClient(config, platform="outlit", auth=bearer_auth(config),
                     error_parser=detail_error, retry=FAST)


async def test_a_request_arrives_as_built(server):
    api = client(server.url)
    try:
        body = await api.call("POST", "/echo/{name}", name="a b/c", json={"k": "v"},
                              idempotent=False)
    finally:
        await api.aclose()
    # the path value stays one segment, percent-encoded exactly once
    assert body["path"] == "/echo/a%20b%2Fc"
    assert body["body"] == '{"k":"v"}'
    assert body["headers"]["authorization"] == "Bearer test-token"
    assert body["headers"]["content-type"] == "application/json"


async def test_query_parameters_are_encoded_as_httpx_would(server):
    api = client(server.url)
    params = {"filter": 'stage = "DRAFT"', "includeArchived": False, "id": ["a", "b&c"],
              "page_token": None, "limit": 50}
    try:
        body = await api.call("GET", "/echo/list", params=params)
    finally:
        await api.aclose()
    expected = str(httpx.QueryParams({k: v for k, v in params.items() if v is not None}))
    assert httpx.QueryParams(body["query"]) == httpx.QueryParams(expected)
    assert "page_token" not in body["query"]


async def test_cookies_a_platform_sets_are_never_sent_back(server):
    api = client(server.url)
    try:
        await api.call("GET", "/set-cookie")
        body = await api.call("GET", "/echo/after")
    finally:
        await api.aclose()
    assert "cookie" not in body["headers"]


async def test_a_compressed_answer_is_decoded(server):
    api = client(server.url)
    try:
        assert await api.call("GET", "/zipped") == {"zipped": True}
    finally:
        await api.aclose()


async def test_a_refused_connection_to_loopback_fails_at_once_naming_instance_and_url(capsys):
    # nothing listens on this port: the request never left (so it is no lost create), and on
    # loopback a refusal means the server is not running: retrying would only add silence
    with bind_loopback() as closed:
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    api = client(url, max_retries=5)
    try:
        with pytest.raises(ProviderError) as caught:
            await api.call("POST", "/api/automations", json={}, idempotent=False)
    finally:
        await api.aclose()
    assert not isinstance(caught.value, OutcomeUnknown)
    message = str(caught.value)
    assert message == f"growth: cannot connect to {url} (connection refused): is the server " \
                      "running?"
    assert "ssl:default" not in message and "outlit" not in message
    assert api.request_counts() == {"POST /api/automations": 1}
    assert capsys.readouterr().err == ""


async def test_a_read_timeout_after_sending_makes_a_create_outcome_unknown(server):
    api = client(server.url, timeout=0.1, max_retries=2)
    try:
        with pytest.raises(OutcomeUnknown) as caught:
            await api.call("POST", "/slow", json={}, idempotent=False)
        assert "ReadTimeout" in str(caught.value)
        assert api.request_counts() == {"POST /slow": 1}  # never blindly re-sent
        with pytest.raises(ProviderError, match="after 3 attempt"):
            await api.call("GET", "/slow")  # a read is retried, then given up
    finally:
        await api.aclose()


async def test_a_header_that_cannot_be_sent_is_refused_without_quoting_it(server):
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=1))
    request = httpx.Request("GET", server.url + "/echo/x",
                            headers={"x-key": "s3cret\r\nInjected: yes"})
    try:
        with pytest.raises(httpx.LocalProtocolError) as caught:
            await transport.handle_async_request(request)
    finally:
        await transport.aclose()
    assert "s3cret" not in str(caught.value)


def test_proxies_come_from_the_environment_and_no_proxy_is_honoured(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=1))
    assert transport._proxy_for(httpx.URL("https://api.example.com/x")) == \
        "http://proxy.internal:3128"
    assert transport._proxy_for(httpx.URL("https://api.internal.example/x")) is None
    assert transport._proxy_for(httpx.URL("http://api.example.com/x")) is None


@pytest.fixture
def self_signed_tls(tmp_path) -> Iterator[str]:
    """A TLS server on loopback whose certificate no authority signed: every handshake fails on
    the client's side."""
    import shutil
    import ssl
    import subprocess
    import threading

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate to serve")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = bind_loopback()
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()
    handshakes: list[int] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            handshakes.append(1)
            try:
                context.wrap_socket(connection, server_side=True).close()
            except (ssl.SSLError, OSError):
                connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


async def test_a_certificate_that_is_not_accepted_fails_at_once(self_signed_tls, capsys):
    # retrying cannot make a certificate acceptable: one attempt, no retry lines, a message that
    # says what to check
    api = client(self_signed_tls, max_retries=5)
    try:
        with pytest.raises(ProviderError) as caught:
            await api.call("GET", "/api/automations")
    finally:
        await api.aclose()
    message = str(caught.value)
    assert message.startswith(f"growth: cannot connect to {self_signed_tls}: the server's TLS "
                              "certificate was not accepted"), message
    assert api.request_counts() == {"GET /api/automations": 1}
    assert "retry" not in capsys.readouterr().err
