"""The local HTTP API: API Gateway's part of a request, on 127.0.0.1 only.

Per request: payload limit (413), route selection (404), the JWT authorizer stand-in (401), the
payload 2.0 event, the function call, and the function's response written back.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.dev_routes import DevRoutes
from local.events import (
    INTERNAL_ERROR,
    MAX_PAYLOAD_BYTES,
    NOT_FOUND,
    TOO_LARGE,
    UNAUTHORIZED,
    HttpRequest,
    HttpResponse,
    build_event,
    dev_user,
    json_response,
    jwt_claims,
    new_request_id,
    to_http_response,
)
from local.functions import FunctionRunner, report_crash
from local.routes import match_route
from local.template import HttpRoute


class _Server(ThreadingHTTPServer):
    # The stdlib's backlog of 5 resets connections in a burst (the load run opens 32 at once).
    request_queue_size = 128


class PayloadTooLargeError(Exception):
    pass


class LocalApi:
    def __init__(
        self,
        routes: Sequence[HttpRoute],
        runner: FunctionRunner,
        host: str = "127.0.0.1",
        port: int = 0,
        access_log: bool = False,
        dev_routes: DevRoutes | None = None,
    ) -> None:
        self.routes = list(routes)
        self.runner = runner
        self.dev_routes = dev_routes
        self.access_log = access_log
        self._server = _Server((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalApi:
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def handle(self, request: HttpRequest) -> HttpResponse:
        """API Gateway's answer to one request (no sockets involved: unit-testable)."""
        request_id = new_request_id()
        if self.dev_routes is not None:
            answer = self.dev_routes.handle(request)
            if answer is not None:
                return answer
        match = match_route(self.routes, request.method, request.raw_path)
        if match is None:
            return json_response(*NOT_FOUND, request_id)
        claims = None
        if not match.route.public:
            user = dev_user(request.header("authorization"))
            if user is None:
                response = json_response(*UNAUTHORIZED, request_id)
                response.headers.append(("WWW-Authenticate", "Bearer"))
                return response
            claims = jwt_claims(user, int(time.time()))
        event = build_event(request, match, claims, request_id=request_id)
        try:
            result = self.runner.invoke(match.route.function, event)
        except Exception as error:
            report_crash(match.route.function, error)
            return json_response(*INTERNAL_ERROR, request_id)
        response = to_http_response(result)
        response.headers.append(("Apigw-Requestid", request_id))
        return response


def _handler_for(api: LocalApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "backfuture-local"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass  # replaced by the access log below, which never shows query strings or bodies

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            self._dispatch()

        def do_PUT(self) -> None:
            self._dispatch()

        def do_PATCH(self) -> None:
            self._dispatch()

        def do_DELETE(self) -> None:
            self._dispatch()

        def do_OPTIONS(self) -> None:
            self._dispatch()

        def do_HEAD(self) -> None:
            self._dispatch()

        def __getattr__(self, name: str) -> Any:
            # Every other method (TRACE, CONNECT, made-up ones): API Gateway answers those too, with
            # its 404 (no route has that method), never the stdlib's 501 HTML page.
            if name.startswith("do_") and name[3:].isupper():
                return self._dispatch
            raise AttributeError(name)

        def _dispatch(self) -> None:
            started = time.monotonic()
            try:
                body = self._read_body()
            except PayloadTooLargeError:
                self.close_connection = True  # the rest of the body is never read
                self._send(json_response(*TOO_LARGE))
                return
            except ValueError:
                self.close_connection = True
                self._send(json_response(400, {"message": "Bad Request"}))
                return
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=str(self.client_address[0]),
                protocol=self.request_version,
            )
            response = api.handle(request)
            self._send(response)
            if api.access_log:
                elapsed_ms = (time.monotonic() - started) * 1000
                print(
                    f"{self.command} {request.raw_path} -> {response.status} ({elapsed_ms:.0f} ms)",
                    file=sys.stderr,
                )

        def _read_body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError("negative Content-Length")
            if length > MAX_PAYLOAD_BYTES:
                raise PayloadTooLargeError
            return self.rfile.read(length) if length else b""

        def _read_chunked(self) -> bytes:
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_PAYLOAD_BYTES:
                    raise PayloadTooLargeError
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)

        def _send(self, response: HttpResponse) -> None:
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            try:
                if self.command != "HEAD":
                    self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away

    return Handler
