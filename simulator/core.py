"""The exchange simulator's server: one loopback HTTP server, one path prefix per venue.

A venue is one exchange market's API (``mexc-spot``, ``mexc-futures``, ``kucoin-spot``,
``kucoin-futures``). The server strips the prefix, so a venue sees the exact path a client signed:
``http://127.0.0.1:8900/mexc-spot`` is a drop-in base URL for ``https://api.mexc.com``.

Anything can be a client: venues verify signatures and timestamps exactly as the exchanges
document them, and know nothing about the service under test.

Control endpoints (under ``/_sim``) change behaviour at run time for tests and demos:

* ``GET /_sim/requests`` the request log (method, venue, path, query; never headers or bodies,
  which carry keys and signatures); ``DELETE /_sim/requests`` clears it.
* ``GET /_sim/config``, ``POST /_sim/config`` with any of ``latency_ms``, ``clock_offset_ms``,
  ``fault`` (see :class:`Fault`), ``fault_venue`` (limit the fault to one venue), ``client_ip``,
  ``mexc_futures_api_allowed``; ``POST /_sim/reset`` restores the defaults and each venue's state.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit


class _Server(ThreadingHTTPServer):
    # The stdlib's backlog of 5 resets connections in a burst (the load run opens 32 at once).
    request_queue_size = 128


class Fault(StrEnum):
    """Whole-venue faults, for the fault matrix and demos. Per-key outcomes live in each venue."""

    NONE = "none"
    CONNECT_TIMEOUT = "connect_timeout"  # accept nothing: the server holds the socket without answering
    READ_TIMEOUT = "read_timeout"  # answer after the client's read timeout
    RESET = "reset"  # close the connection without an answer
    HTTP_500 = "http_500"
    HTTP_503 = "http_503"
    RATE_LIMIT = "rate_limit"  # 429 with Retry-After
    RATE_LIMIT_NO_RETRY_AFTER = "rate_limit_no_retry_after"
    HTML_MAINTENANCE = "html_maintenance"
    TRUNCATED_JSON = "truncated_json"
    MALFORMED_JSON = "malformed_json"
    SLOW_DRIP = "slow_drip"  # a valid answer, one byte at a time


@dataclass
class SimConfig:
    latency_ms: int = 0
    clock_offset_ms: int = 0  # the exchange's clock minus real time
    fault: Fault = Fault.NONE
    fault_venue: str | None = None
    # The address the venues believe a request comes from (everything is 127.0.0.1 here): the first
    # of the platform's EGRESS_IPS, as an exchange would see the NAT gateway.
    client_ip: str = field(
        default_factory=lambda: (os.environ.get("EGRESS_IPS") or "203.0.113.10").split(",")[0].strip()
    )
    read_timeout_delay_s: float = 8.0
    # MEXC's contract detail reports "apiAllowed": false today (futures orders closed to the API,
    # ../shared/reference/exchanges.md section 6 #3); true simulates MEXC opening them again.
    mexc_futures_api_allowed: bool = False


@dataclass(frozen=True)
class SimRequest:
    method: str
    path: str  # without the venue prefix, exactly as the client signed it
    query: str  # the raw query string, undecoded
    headers: dict[str, str]  # lower-case names
    body: str
    client_ip: str
    config: SimConfig = field(default_factory=SimConfig)  # the run-time switches, read-only here


@dataclass
class SimResponse:
    status: int
    body: Any  # JSON-serialisable, or str for raw text (HTML pages)
    headers: dict[str, str] = field(default_factory=dict)


class Venue(Protocol):
    name: str  # the path prefix, e.g. "mexc-spot"

    def handle(self, request: SimRequest, clock_ms: Callable[[], int]) -> SimResponse: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class LoggedRequest:
    venue: str
    method: str
    path: str
    query: str
    at_ms: int


_UNLOGGED_PARAMETERS = ("signature=", "accesskey=", "accesskeyid=", "apikey=")


def query_without_secrets(query: str) -> str:
    """Strip signatures and keys from a logged query (MEXC's apiKeyInfo names the key in it)."""
    keep = [part for part in query.split("&") if not part.lower().startswith(_UNLOGGED_PARAMETERS)]
    return "&".join(keep)


class Simulator:
    """Start with :meth:`start`; base URLs come from :meth:`base_url`."""

    def __init__(self, venues: list[Venue], host: str = "127.0.0.1", port: int = 0) -> None:
        self.venues = {venue.name: venue for venue in venues}
        self.config = SimConfig()
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._server = _Server((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def base_url(self, venue: str) -> str:
        return f"http://127.0.0.1:{self.port}/{venue}"

    def start(self) -> Simulator:
        # A short poll: stop() waits for the loop to notice (the default 0.5 s, paid by every test
        # module's simulator).
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def clock_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.config.clock_offset_ms

    def reset(self) -> None:
        with self._lock:
            self.config = SimConfig()
            self.requests.clear()
        for venue in self.venues.values():
            venue.reset()

    def configure(self, changes: Mapping[str, Any]) -> None:
        """Apply ``SimConfig`` changes by name (``/_sim/config``, and a demo key's ``sim_config``)."""
        for key, value in changes.items():
            if not hasattr(self.config, key):
                raise ValueError(key)
            setattr(self.config, key, Fault(value) if key == "fault" else value)

    def log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(entry)


def _handler_for(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle's algorithm and the client's delayed
        # ACK each answer would wait ~40 ms for nothing (measured: docs/benchmarks.md).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the request log is the record; stderr noise would hide the dev server's output

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            self._dispatch()

        def do_DELETE(self) -> None:
            self._dispatch()

        def do_PUT(self) -> None:
            self._dispatch()

        def _dispatch(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            segments = parts.path.split("/", 2)
            prefix = segments[1] if len(segments) > 1 else ""
            rest = "/" + segments[2] if len(segments) > 2 else "/"
            if prefix == "_sim":
                self._control(rest, body)
                return
            venue = sim.venues.get(prefix)
            if venue is None:
                self._send(SimResponse(404, {"error": f"no venue {prefix!r}"}))
                return
            config = sim.config
            sim.log(
                LoggedRequest(prefix, self.command, rest, query_without_secrets(parts.query), sim.clock_ms())
            )
            if config.latency_ms:
                time.sleep(config.latency_ms / 1000)
            if config.fault != Fault.NONE and config.fault_venue in (None, prefix):
                self._fault(config)
                return
            request = SimRequest(
                method=self.command,
                path=rest,
                query=parts.query,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                client_ip=config.client_ip,
                config=config,
            )
            try:
                response = venue.handle(request, sim.clock_ms)
            except Exception as error:  # a simulator bug must show, not hang the client
                response = SimResponse(500, {"simulator_error": type(error).__name__})
            self._send(response)

        def _control(self, path: str, body: str) -> None:
            if path == "/requests" and self.command == "GET":
                self._send(SimResponse(200, [asdict(r) for r in sim.requests]))
            elif path == "/requests" and self.command == "DELETE":
                with sim._lock:
                    sim.requests.clear()
                self._send(SimResponse(200, {}))
            elif path == "/config" and self.command == "GET":
                self._send(SimResponse(200, asdict(sim.config)))
            elif path == "/config" and self.command == "POST":
                try:
                    sim.configure(json.loads(body or "{}"))
                except (ValueError, TypeError, AttributeError) as error:
                    self._send(SimResponse(400, {"error": f"bad config: {error}"}))
                    return
                self._send(SimResponse(200, asdict(sim.config)))
            elif path == "/reset" and self.command == "POST":
                sim.reset()
                self._send(SimResponse(200, {}))
            else:
                self._send(SimResponse(404, {"error": "unknown control path"}))

        def _fault(self, config: SimConfig) -> None:
            fault = config.fault
            if fault == Fault.CONNECT_TIMEOUT or fault == Fault.READ_TIMEOUT:
                # Over loopback a connect cannot be made to hang once accepted; both look to the
                # client like a server that never answers in time.
                time.sleep(config.read_timeout_delay_s)
                self._send(SimResponse(504, "<html><body>Gateway Time-out</body></html>"))
            elif fault == Fault.RESET:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                self.connection.close()
                self.close_connection = True
            elif fault == Fault.HTTP_500:
                self._send(SimResponse(500, {"code": 500, "msg": "Internal error"}))
            elif fault == Fault.HTTP_503:
                self._send(SimResponse(503, {"code": 503, "msg": "service not available, please try again"}))
            elif fault == Fault.RATE_LIMIT:
                self._send(SimResponse(429, {"code": 429, "msg": "Too Many Requests"}, {"Retry-After": "7"}))
            elif fault == Fault.RATE_LIMIT_NO_RETRY_AFTER:
                self._send(SimResponse(429, {"code": 429, "msg": "Too Many Requests"}))
            elif fault == Fault.HTML_MAINTENANCE:
                page = "<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Upgrading</body>"
                self._send(SimResponse(503, page, {"Content-Type": "text/html"}))
            elif fault == Fault.TRUNCATED_JSON:
                self._send(SimResponse(200, '{"code":"200000","data":{"accountTy'))
            elif fault == Fault.MALFORMED_JSON:
                self._send(SimResponse(200, "{code: 200000, data: [1,2,,]}"))
            elif fault == Fault.SLOW_DRIP:
                payload = b'{"serverTime":0,"code":"200000","data":0}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                for byte in payload:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.5)

        def _send(self, response: SimResponse) -> None:
            if isinstance(response.body, str):
                payload = response.body.encode()
                content_type = response.headers.pop("Content-Type", "text/plain; charset=utf-8")
            else:
                payload = json.dumps(response.body, separators=(",", ":")).encode()
                content_type = "application/json"
            self.send_response(response.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            # The client may have given up already (timeouts); nothing to do then.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

    return Handler
