"""What every exchange module shares: credentials, the probe report, the HTTP client and the clock.

An exchange module (``mexc.py``, ``kucoin.py``) knows its own signing, endpoints and error codes,
and turns what the exchange says into a :class:`ProbeReport` of plain facts. It never decides the
connection's final status: ``backfuture.connection_test`` does that, the same way for every
exchange, so that an outcome means the same thing everywhere.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import httpx

from backfuture.clock import now_ms
from backfuture.errors import Outcome, WarningCode
from backfuture.exchanges.catalog import Credentials, ExchangeInfo, Market

# Re-exported: exchange modules import everything they share from base.
__all__ = ["Credentials", "ExchangeInfo", "Market", "now_ms"]


class CheckValue(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # an earlier check failed, so this one could not be judged
    UNKNOWN = "unknown"  # the exchange does not tell
    NOT_REQUESTED = "not_requested"
    MISSING = "missing"  # ip_whitelist only: the key has no IP restriction at all


CHECK_NAMES = (
    "credentials",
    "read",
    "trade",
    "withdraw_disabled",
    "futures",
    "ip_whitelist",
    "balance_access",
)


_EXCHANGE_CODE = re.compile(r"[A-Za-z0-9_.-]{1,24}")


class ExchangeFailure(Exception):
    """An exchange answer classified into a contract outcome.

    ``exchange_code`` keeps the exchange's own code (for support, in ``details``); the exchange's
    message text is never kept, because exchanges sometimes echo request material in it.
    ``check`` names the check that failed, so the report can mark it and skip the ones after it.
    """

    def __init__(
        self,
        outcome: Outcome,
        *,
        check: str = "credentials",
        exchange_code: str | None = None,
        http_status: int | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        self.outcome = outcome
        self.check = check
        # The code reaches the client (details.exchange_code): only a short token of safe
        # characters is kept, whatever the exchange put in that field.
        self.exchange_code = (
            exchange_code if exchange_code and _EXCHANGE_CODE.fullmatch(exchange_code) else None
        )
        self.http_status = http_status
        self.retry_after_s = retry_after_s
        super().__init__(
            f"{outcome.value} (check={check}, exchange_code={exchange_code}, http={http_status})"
        )


@dataclass(slots=True)
class ProbeReport:
    """Facts an exchange module found. Unset checks are filled in by ``connection_test``."""

    checks: dict[str, CheckValue] = field(default_factory=dict)
    permissions: dict[str, bool | None] = field(
        default_factory=lambda: {"read": None, "trade": None, "withdraw": None, "futures": None}
    )
    account: dict[str, Any] = field(default_factory=dict)
    # The key's IP whitelist as the exchange reports it: None = the exchange does not tell;
    # [] = no restriction. Entries may be masked ("203.**.154"); connection_test compares what it can.
    ip_whitelist: list[str] | None = None
    failure: ExchangeFailure | None = None
    warnings: list[WarningCode] = field(default_factory=list)
    clock_offset_ms: int | None = None
    key_expires_at: datetime | None = None
    unknown_permissions: list[str] = field(default_factory=list)  # names the platform does not know


class ExchangeProbe(Protocol):
    """One exchange: its description and its connection test."""

    info: ExchangeInfo

    async def probe(
        self, http: ExchangeHttp, credentials: Credentials, markets: frozenset[Market]
    ) -> ProbeReport: ...


# --------------------------------------------------------------------------------------------
# Base URLs
# --------------------------------------------------------------------------------------------


def base_url(env_var: str, default: str) -> str:
    """The exchange's fixed base URL; configuration may point it elsewhere for local use and tests.

    Never taken from a request: a user-chosen URL would turn the platform's whitelisted IPs into
    a proxy for anyone (SSRF).
    """
    return os.environ.get(env_var, default).rstrip("/")


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------

# Per-call limits. A connection test makes its calls concurrently, so the whole test takes about
# one call's time; the Lambda timeout leaves room for one clock re-sync and retry.
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 5.0
MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class ExchangeResponse:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None when the body was not JSON (HTML maintenance pages, truncation)

    def retry_after_s(self) -> int | None:
        """Seconds from a Retry-After header (delta-seconds form); None when absent or unparsable."""
        raw = self.headers.get("retry-after")
        if raw is None:
            return None
        try:
            return max(0, int(float(raw.strip())))
        except ValueError:
            return None


def new_http_client() -> httpx.AsyncClient:
    """The one HTTP client factory for exchange calls.

    No redirects followed (an exchange never redirects an API call; following one could send a
    signed request elsewhere), no proxy or certificate settings from the environment.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "BackFutureAI-ConnectionTest/1.0"},
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


class ExchangeHttp:
    """Sends an exchange module's requests, and only those it declared safe.

    Each exchange module lists the (method, path) pairs it may call; anything else raises before a
    byte leaves the machine. The list is the code-level guarantee that a connection test never
    places an order, moves funds or changes key settings.
    """

    def __init__(self, client: httpx.AsyncClient, allowed: frozenset[tuple[str, str]]) -> None:
        self._client = client
        self._allowed = allowed

    async def request(
        self,
        method: str,
        url: str,
        *,
        path: str,
        headers: Mapping[str, str] | None = None,
        content: str | None = None,
    ) -> ExchangeResponse:
        """Send one request. ``url`` is complete (query included, exactly as signed); ``path`` is
        the bare path checked against the allow-list.

        Raises ExchangeFailure(EXCHANGE_UNAVAILABLE) on timeouts and transport errors.
        """
        if (method, path) not in self._allowed:
            raise PermissionError(f"{method} {path} is not an allowed exchange call")
        try:
            async with self._client.stream(
                method, url, headers=headers, content=content.encode() if content is not None else None
            ) as response:
                raw = bytearray()
                async for chunk in response.aiter_bytes():
                    raw += chunk
                    if len(raw) > MAX_BODY_BYTES:
                        break
        except (httpx.TimeoutException, httpx.TransportError):
            # `from None`: an httpx error holds the request, and so the signed headers.
            raise ExchangeFailure(Outcome.EXCHANGE_UNAVAILABLE, check="credentials") from None
        return ExchangeResponse(response.status_code, response.headers, _parse_json(bytes(raw)))


def _parse_json(raw: bytes) -> Any:
    if len(raw) > MAX_BODY_BYTES:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# Clock
# --------------------------------------------------------------------------------------------


class ServerClock:
    """Per-host offset between the exchange's clock and ours, kept while the Lambda container lives.

    A warm container signs with the cached offset and saves a round trip; a timestamp rejection
    calls :meth:`forget`, and the connection test re-syncs once before it reports ``clock_skew``.
    """

    MAX_AGE_S = 300.0

    def __init__(self) -> None:
        self._offsets: dict[str, tuple[int, float]] = {}

    def cached(self, host: str) -> int | None:
        entry = self._offsets.get(host)
        if entry is None or time.monotonic() - entry[1] > self.MAX_AGE_S:
            return None
        return entry[0]

    async def offset_ms(self, host: str, fetch_server_ms: Callable[[], Awaitable[int]]) -> int:
        """The cached offset, or a fresh one: server time minus the midpoint of our request."""
        # No lock: a probe awaits its clock once before it fans out, and event loops do not share
        # asyncio locks (each Lambda container runs one loop per thread, see connection_test).
        cached = self.cached(host)
        if cached is not None:
            return cached
        sent = now_ms()
        server = await fetch_server_ms()
        received = now_ms()
        offset = server - (sent + received) // 2
        self._offsets[host] = (offset, time.monotonic())
        return offset

    def forget(self, host: str | None = None) -> None:
        if host is None:
            self._offsets.clear()
        else:
            self._offsets.pop(host, None)


# One per process: the offset is a fact about the exchange, not about a request.
server_clock = ServerClock()


# When concurrent calls of one probe fail differently, the most fundamental cause is the one the
# user must fix first: a wrong key makes every other answer meaningless.
_FAILURE_PRECEDENCE = (
    Outcome.INVALID_KEY,
    Outcome.INVALID_PASSPHRASE,
    Outcome.IP_NOT_ALLOWED,
    Outcome.CLOCK_SKEW,
    Outcome.ACCOUNT_RESTRICTED,
    Outcome.RATE_LIMITED,
    Outcome.EXCHANGE_UNAVAILABLE,
    Outcome.NO_READ_PERMISSION,
    Outcome.NO_TRADE_PERMISSION,
    Outcome.FUTURES_NOT_ENABLED,
    Outcome.EXCHANGE_ERROR,
)


def pick_failure(*failures: ExchangeFailure | None) -> ExchangeFailure | None:
    """The failure to report among several (None entries are ignored)."""
    present = [f for f in failures if f is not None]
    if not present:
        return None
    rank = {outcome: i for i, outcome in enumerate(_FAILURE_PRECEDENCE)}
    return min(present, key=lambda f: rank.get(f.outcome, len(rank)))
