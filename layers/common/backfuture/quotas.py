"""How much the platform as a whole may send to each exchange: the shared egress IPs' budget.

The figures live with each exchange, in its module's ``budget`` (``engine.spec.RequestBudget``,
with the documented IP limit it stays under and its source) and, where the exchange bans for error
answers, its ``error_budget`` (``engine.spec.ErrorBudget``); callers ask here, so the policy has one
entry point. ``ConnectionService`` spends the request budget in the same DynamoDB transaction as the
user's quota, and checks the error counters there too (a condition, no extra call); a probe's error
answers are added afterwards, with one write per endpoint that answered errors (none on a healthy test).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backfuture.engine.spec import ErrorBudget, RequestBudget
from backfuture.exchanges import Market, exchange

# The partition of the error counters: one item per exchange, endpoint and window (TTL-removed).
PLATFORM_ERRORS = "PLATFORM#errors"


def platform_budget(exchange_id: str) -> RequestBudget:
    """The platform-wide budget of one exchange (all users, all egress IPs together)."""
    return exchange(exchange_id).budget


def error_budget(exchange_id: str) -> ErrorBudget | None:
    """The platform-wide error budget of one exchange, if it bans for error answers."""
    return exchange(exchange_id).error_budget


@dataclass(frozen=True, slots=True)
class ErrorCounter:
    """One endpoint's error counter in the current window."""

    sk: str  # under PLATFORM_ERRORS
    window_end_s: int
    errors: int  # the error answers to add to it


def error_counters(exchange_id: str, errors: Mapping[str, int], now_s: int) -> list[ErrorCounter]:
    """The current window's counters of these endpoints (paths, with their error answers), one per
    counter of the budget's scope; none when the exchange has no error budget."""
    budget = error_budget(exchange_id)
    if budget is None:
        return []
    window = now_s // budget.window_s
    end = (window + 1) * budget.window_s
    scoped: dict[str, int] = {}
    for path, count in errors.items():
        endpoint = budget.endpoint(path)
        scoped[endpoint] = scoped.get(endpoint, 0) + count
    return [ErrorCounter(f"{exchange_id}#{e}#{budget.window_s}#{window}", end, n) for e, n in scoped.items()]


def endpoints_tested(exchange_id: str, markets: Iterable[Market]) -> list[str]:
    """Every path a test of these markets may call (the clock's included), in declaration order."""
    wanted = frozenset(markets)
    return list(dict.fromkeys(c.path for c in exchange(exchange_id).calls if c.markets & wanted))
