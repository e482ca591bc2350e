"""The exchanges' clocks: the offset from ours, measured per host and kept while the container lives."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from backfuture.clock import now_ms


class ServerClock:
    """A warm container signs with the cached offset and saves a round trip; a timestamp rejection
    makes the engine :meth:`forget` the exchange's hosts and re-sync once before it reports
    ``clock_skew``."""

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
