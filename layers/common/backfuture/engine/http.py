"""The one HTTP client for exchange calls, and the allow-list that guards what is really sent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from backfuture.engine.report import ExchangeFailure
from backfuture.errors import Outcome

# Per-call limits. A connection test makes its calls concurrently, so the whole test takes about
# one call's time; the Lambda timeout leaves room for one clock re-sync and retry.
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 5.0
MAX_BODY_BYTES = 1_000_000


class ForbiddenCall(PermissionError):
    """A request the exchange module did not declare: refused before a byte leaves the machine."""


@dataclass(frozen=True, slots=True)
class ExchangeResponse:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None when the body was not JSON (HTML maintenance pages, truncation)

    def header(self, name: str) -> str | None:
        """A header's value, its name matched without regard to case (HTTP field names are)."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    def retry_after_s(self) -> int | None:
        """Seconds from a Retry-After header (delta-seconds form); None when absent or unparsable."""
        raw = self.header("retry-after")
        if raw is None:
            return None
        try:
            return max(0, int(float(raw.strip())))
        except ValueError:
            return None


def new_http_client() -> httpx.AsyncClient:
    """No redirects followed (an exchange never redirects an API call; following one could send a
    signed request elsewhere), no proxy or certificate settings from the environment."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "BackFutureAI-ConnectionTest/1.0"},
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


def endpoint(url: str) -> str:
    """Scheme, host, port and path of a URL, normalised: what the allow-list compares."""
    return str(httpx.URL(url).copy_with(query=None, fragment=None))


class ExchangeHttp:
    """Sends an exchange module's requests, and only those it declared.

    ``allowed`` holds (METHOD, base URL + path) for every declared call. The URL actually requested
    (after signing, query and all) is parsed and its method, scheme, host, port and path must match
    one entry exactly; anything else raises :class:`ForbiddenCall` before it is sent. This is the
    code-level guarantee that a connection test never places an order, moves funds, changes key
    settings, or talks to a host the exchange module did not name.
    """

    def __init__(self, client: httpx.AsyncClient, allowed: frozenset[tuple[str, str]]) -> None:
        self._client = client
        self._allowed = frozenset((method, endpoint(url)) for method, url in allowed)

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, content: str | None = None
    ) -> ExchangeResponse:
        """Raises ExchangeFailure(EXCHANGE_UNAVAILABLE) on timeouts and transport errors."""
        if (method, endpoint(url)) not in self._allowed:
            raise ForbiddenCall(f"{method} {endpoint(url)} is not a declared exchange call")
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
            raise ExchangeFailure(Outcome.EXCHANGE_UNAVAILABLE) from None
        return ExchangeResponse(response.status_code, response.headers, _parse_json(bytes(raw)))


def _parse_json(raw: bytes) -> Any:
    if len(raw) > MAX_BODY_BYTES:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
