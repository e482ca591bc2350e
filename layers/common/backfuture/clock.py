"""The service's one clock: epoch milliseconds and the ISO timestamps the API returns."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_now() -> str:
    """UTC with milliseconds and a Z, as in the contract's examples."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
