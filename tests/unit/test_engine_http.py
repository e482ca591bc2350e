"""The exchange HTTP client: only declared calls (method, host and path of the URL actually
requested), no redirects, no proxies, bounded bodies."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from backfuture.engine.http import (
    MAX_BODY_BYTES,
    ExchangeHttp,
    ExchangeResponse,
    ForbiddenCall,
    new_http_client,
)
from backfuture.engine.report import ExchangeFailure
from backfuture.errors import Outcome
from backfuture.exchanges import exchange, supported_ids


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/huge":
            payload = b'{"pad":"' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        else:
            payload = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def fetch(
    url: str, path: str, method: str = "GET", allowed: frozenset[tuple[str, str]] | None = None
) -> ExchangeResponse:
    declared = allowed if allowed is not None else frozenset((m, url + p) for m, p in ALLOWED_PATHS)

    async def run() -> ExchangeResponse:
        async with new_http_client() as client:
            return await ExchangeHttp(client, declared).request(method, url + path)

    return asyncio.run(run())


ALLOWED_PATHS = {("GET", "/ok"), ("GET", "/redirect"), ("GET", "/huge")}


def test_a_call_outside_the_allow_list_never_leaves(server: str) -> None:
    with pytest.raises(ForbiddenCall):
        fetch(server, "/api/v3/order")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "https://api.example.com/ok"),  # a declared path with another method
        ("GET", "https://evil.example.com/ok"),  # a declared path on another host
        ("GET", "http://api.example.com/ok"),  # another scheme
        ("GET", "https://api.example.com:8443/ok"),  # another port
        ("GET", "https://api.example.com/ok/../api/v3/order"),  # a path that walks out
        ("GET", "https://api.example.com/OK"),
    ],
)
def test_the_url_actually_requested_is_checked_not_a_declared_label(method: str, url: str) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(record)

    async def run() -> None:
        async with httpx.AsyncClient(transport=transport) as client:
            http = ExchangeHttp(client, frozenset({("GET", "https://api.example.com/ok")}))
            await http.request(method, url)

    with pytest.raises(ForbiddenCall):
        asyncio.run(run())
    assert sent == []


def test_a_declared_call_with_its_query_goes_out() -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"a": 1})

    transport = httpx.MockTransport(record)

    async def run() -> ExchangeResponse:
        async with httpx.AsyncClient(transport=transport) as client:
            http = ExchangeHttp(client, frozenset({("GET", "https://api.example.com/ok")}))
            return await http.request("GET", "https://api.example.com/ok?x=1&signature=abc")

    assert asyncio.run(run()).body == {"a": 1}
    assert [str(r.url) for r in sent] == ["https://api.example.com/ok?x=1&signature=abc"]


@pytest.mark.parametrize("exchange_id", supported_ids())
def test_every_exchange_declares_only_its_configured_hosts(exchange_id: str) -> None:
    spec = exchange(exchange_id)
    bases = {httpx.URL(h.base_url()).host for h in spec.hosts}
    for method, url in spec.allowed_endpoints():
        assert method in {"GET", "POST"}
        assert httpx.URL(url).host in bases


def test_redirects_are_not_followed(server: str) -> None:
    response = fetch(server, "/redirect")
    assert response.status == 302


def test_proxy_settings_in_the_environment_are_ignored(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy that does not exist: honouring it would fail the call.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert fetch(server, "/ok").body == {"ok": True}


def test_an_oversized_body_is_not_parsed(server: str) -> None:
    assert fetch(server, "/huge").body is None


def test_an_unreachable_exchange_is_unavailable() -> None:
    with pytest.raises(ExchangeFailure) as failure:
        fetch("http://127.0.0.1:9", "/ok")  # the discard port: nothing listens
    assert failure.value.outcome is Outcome.EXCHANGE_UNAVAILABLE
