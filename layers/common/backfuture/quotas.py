"""How much the platform as a whole may send to each exchange: the shared egress IPs' budget.

Every user's connection test leaves through the same two Elastic IPs, and exchanges limit (and ban)
by IP. So besides each user's own quota, all tests of one exchange together draw from one budget
per time window, set well under the exchange's documented IP limit (a fifth of it, or less where
the figure is unconfirmed). The budget counts both IPs as one, which is conservative: each IP sees
at most the whole budget.

``units_per_test`` is what one test spends in the exchange's own unit (requests or request weight):
the calls of one probe pass, from the exchange module's allow-list. A clock re-sync repeats a pass
at most once; the margin under the limit covers it.

Sources are the project's exchange references (shared/reference/exchanges.md, exchanges-next.md);
``confirmed`` says whether the IP limit itself is stated there from the exchange's documentation.
These figures are meant to move into the exchange modules; callers use ``platform_budget`` only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlatformBudget:
    exchange_id: str
    window_s: int
    max_units: int  # per window, all of the platform's IPs together
    units_per_test: int
    unit: str
    exchange_limit: str  # the documented limit the budget stays under
    source: str
    confirmed: bool


_BUDGETS: dict[str, PlatformBudget] = {
    budget.exchange_id: budget
    for budget in (
        PlatformBudget(
            "mexc",
            window_s=10,
            max_units=100,
            # time, apiKeyInfo, account, order/test, futures ping, futures assets
            units_per_test=6,
            unit="requests",
            exchange_limit="500 requests per 10 s per endpoint (IP); GET /api/v3/account 2 req/s",
            source="exchanges.md 1.1 Rate limits [MX-DOC LIMITS]; 100/6 = 16 tests per 10 s keeps the "
            "account endpoint under 2 req/s too",
            confirmed=True,
        ),
        PlatformBudget(
            "kucoin",
            window_s=30,
            max_units=400,
            # weights: timestamp 3 + futures timestamp 2 + api-key 20 + accounts 5 + order test 2
            # + futures overview 5 + futures order test 2, plus status
            units_per_test=40,
            unit="request weight",
            exchange_limit="resource pools per 30 s (public pool by IP); pool sizes not in the reference",
            source="exchanges.md KuCoin endpoint table (weights) and [KC-RL]; the pool size of 2000 per "
            "30 s is UNCONFIRMED, so a fifth of it counts every call, private ones included",
            confirmed=False,
        ),
        PlatformBudget(
            "binance",
            window_s=60,
            max_units=1200,
            # time 1 + apiRestrictions 1 + account 20 + order/test 1 + fapi time 1 + balance 5
            # + accountConfig 5
            units_per_test=34,
            unit="request weight",
            exchange_limit="request weight per IP per minute (header X-MBX-USED-WEIGHT-1M); 6000 UNCONFIRMED",
            source="exchanges-next.md 1.6 Risky endpoints / weights: 'The limits on the API are based on "
            "the IPs, not the API keys'",
            confirmed=False,
        ),
        PlatformBudget(
            "bybit",
            window_s=5,
            max_units=120,
            units_per_test=6,
            unit="requests",
            exchange_limit="600 requests per 5 s per IP (403 'access too frequent', wait >= 10 min)",
            source="exchanges-next.md Bybit error table and limits (rate-limit.mdx)",
            confirmed=True,
        ),
        PlatformBudget(
            "okx",
            window_s=2,
            max_units=2,
            # the only IP-limited call of a test is the server time
            units_per_test=1,
            unit="public/time requests",
            exchange_limit="GET /api/v5/public/time 10 requests per 2 s per IP; private calls per user",
            source="exchanges-next.md OKX limits: public/time 10/2 s per IP",
            confirmed=True,
        ),
        PlatformBudget(
            "bitget",
            window_s=60,
            max_units=1200,
            units_per_test=6,
            unit="requests",
            exchange_limit="6000 requests per minute per IP overall",
            source="exchanges-next.md Bitget limits: 'The overall rate limit is 6000/IP/Min'",
            confirmed=True,
        ),
        PlatformBudget(
            "gateio",
            window_s=10,
            max_units=40,
            units_per_test=6,
            unit="requests",
            exchange_limit="public 200 requests per 10 s per endpoint per IP; private per key",
            source="exchanges-next.md Gate.io 1.6 limits (JKorf GateIoExchange.cs, mirrors the docs)",
            confirmed=False,
        ),
        PlatformBudget(
            "htx",
            window_s=10,
            max_units=20,
            units_per_test=6,
            unit="requests",
            exchange_limit="no IP figure in the reference; legacy 10 requests/s per API key",
            source="exchanges-next.md HTX limits; the per-key figure is applied to the IP as a guess "
            "(UNCONFIRMED)",
            confirmed=False,
        ),
        PlatformBudget(
            "bingx",
            window_s=10,
            max_units=4,
            # one apiPermissions call per test
            units_per_test=1,
            unit="apiPermissions requests",
            exchange_limit="GET /openApi/v1/account/apiPermissions ip-rate-limitation 2 (per second)",
            source="exchanges-next.md BingX apiPermissions (doc bundle KPwr); the unit of 2 is UNCONFIRMED",
            confirmed=False,
        ),
        PlatformBudget(
            "coinbase",
            window_s=10,
            max_units=20,
            units_per_test=6,
            unit="requests",
            exchange_limit="public 10 requests/s per IP; private 30 requests/s per user",
            source="exchanges-next.md Coinbase limits (advanced-trade rest-api-rate-limits, via API "
            "Evangelist); every call counted against the IP figure",
            confirmed=False,
        ),
    )
}

# An exchange without figures gets the smallest budget above, until someone looks its limits up.
_UNKNOWN = PlatformBudget(
    "unknown",
    window_s=10,
    max_units=12,
    units_per_test=6,
    unit="requests",
    exchange_limit="not looked up",
    source="none: a deliberately small default",
    confirmed=False,
)


def platform_budget(exchange_id: str) -> PlatformBudget:
    """The platform-wide budget of one exchange (all users, all egress IPs together)."""
    return _BUDGETS.get(exchange_id, _UNKNOWN)
