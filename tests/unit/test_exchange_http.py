"""The exchange HTTP client: only allow-listed calls, no redirects, no proxies, bounded bodies."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from backfuture.exchanges.base import (
    MAX_BODY_BYTES,
    ExchangeFailure,
    ExchangeHttp,
    ExchangeResponse,
    new_http_client,
)

from backfuture.errors import Outcome


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


ALLOWED = frozenset({("GET", "/ok"), ("GET", "/redirect"), ("GET", "/huge")})


def fetch(url: str, path: str) -> ExchangeResponse:
    async def run() -> ExchangeResponse:
        async with new_http_client() as client:
            return await ExchangeHttp(client, ALLOWED).request("GET", url + path, path=path)

    return asyncio.run(run())


def test_a_call_outside_the_allow_list_never_leaves(server: str) -> None:
    with pytest.raises(PermissionError):
        fetch(server, "/api/v3/order")


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
