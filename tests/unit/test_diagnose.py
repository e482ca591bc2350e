"""``diagnose()``: the one place that turns a probe's facts into a status document, table-driven."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backfuture.connection_test import diagnose, whitelist_entry_matches
from backfuture.engine.report import CHECK_NAMES, CheckValue, ExchangeFailure, ProbeReport
from backfuture.errors import Outcome, WarningCode
from backfuture.exchanges import Market

IPS = ["203.0.113.10", "203.0.113.11"]
SPOT = frozenset({Market.SPOT})
BOTH = frozenset({Market.SPOT, Market.FUTURES})
OK = CheckValue.OK


def clean(**overrides: Any) -> ProbeReport:
    report = ProbeReport(
        checks={"credentials": OK, "read": OK, "trade": OK, "withdraw_disabled": OK, "balance_access": OK},
        permissions={"read": True, "trade": True, "withdraw": False, "futures": False},
        ip_whitelist=list(IPS),
    )
    for name, value in overrides.items():
        setattr(report, name, value)
    return report


@dataclass(frozen=True)
class Row:
    name: str
    report: ProbeReport
    status: str
    code: str | None = None
    warnings: tuple[WarningCode, ...] = ()
    trading_ready: bool | None = False
    markets: frozenset[Market] = SPOT
    checks: dict[str, str] = field(default_factory=dict)


ROWS = [
    Row(
        "clean",
        clean(),
        "connected",
        trading_ready=True,
        checks={"ip_whitelist": "ok", "futures": "not_requested"},
    ),
    Row(
        "withdraw refuses whatever else is true",
        clean(
            permissions={"read": True, "trade": True, "withdraw": True, "futures": False},
            failure=ExchangeFailure(Outcome.NO_TRADE_PERMISSION, check="trade"),
        ),
        "refused",
        "withdrawal_enabled",
        checks={"withdraw_disabled": "failed"},
    ),
    Row(
        "a failure marks its check and skips the unjudged ones",
        ProbeReport(failure=ExchangeFailure(Outcome.INVALID_KEY)),
        "failed",
        "invalid_key",
        checks={"credentials": "failed", "read": "skipped", "ip_whitelist": "skipped"},
    ),
    Row(
        "unavailable leaves trading readiness as it was",
        ProbeReport(failure=ExchangeFailure(Outcome.EXCHANGE_UNAVAILABLE)),
        "unavailable",
        "exchange_unavailable",
        trading_ready=None,
        checks={"credentials": "skipped"},
    ),
    Row(
        "rate limited",
        ProbeReport(failure=ExchangeFailure(Outcome.RATE_LIMITED, retry_after_s=9)),
        "unavailable",
        "rate_limited",
        trading_ready=None,
    ),
    Row(
        "withdraw unknown: Online with a warning, not trading-ready",
        clean(
            permissions={"read": True, "trade": True, "withdraw": None, "futures": False},
            checks={"credentials": OK, "read": OK, "trade": OK},
        ),
        "connected",
        warnings=(WarningCode.WITHDRAW_UNVERIFIABLE,),
        trading_ready=False,
        checks={"withdraw_disabled": "unknown"},
    ),
    Row(
        "no whitelist",
        clean(ip_whitelist=[]),
        "connected",
        warnings=(WarningCode.IP_RESTRICTION_MISSING,),
        trading_ready=True,
        checks={"ip_whitelist": "missing"},
    ),
    Row(
        "a whitelist without one platform IP",
        clean(ip_whitelist=IPS[:1]),
        "connected",
        warnings=(WarningCode.IP_WHITELIST_MISMATCH,),
        trading_ready=True,
        checks={"ip_whitelist": "failed"},
    ),
    Row(
        "whitelist not reported",
        clean(ip_whitelist=None),
        "connected",
        trading_ready=True,
        checks={"ip_whitelist": "unknown"},
    ),
    Row(
        "futures right on a spot-only connection",
        clean(permissions={"read": True, "trade": True, "withdraw": False, "futures": True}),
        "connected",
        warnings=(WarningCode.UNNEEDED_PERMISSION,),
        trading_ready=True,
    ),
    Row(
        "futures right that comes with the trade right, on a spot-only connection: no warning to follow",
        clean(
            permissions={"read": True, "trade": True, "withdraw": False, "futures": True},
            futures_with_trade=True,
        ),
        "connected",
        trading_ready=True,
    ),
    Row(
        "futures asked for and refused",
        clean(failure=ExchangeFailure(Outcome.FUTURES_NOT_ENABLED, check="futures")),
        "failed",
        "futures_not_enabled",
        markets=BOTH,
        checks={"futures": "failed"},
    ),
    Row(
        "the exchange takes no futures orders by API",
        clean(failure=ExchangeFailure(Outcome.FUTURES_API_UNAVAILABLE, check="futures")),
        "failed",
        "futures_api_unavailable",
        markets=BOTH,
        checks={"futures": "failed"},
    ),
    Row(
        "expires in 3 days",
        clean(key_expires_at=datetime.now(UTC) + timedelta(days=3)),
        "connected",
        warnings=(WarningCode.KEY_EXPIRES_SOON,),
        trading_ready=True,
    ),
    Row(
        "expires in 30 days",
        clean(key_expires_at=datetime.now(UTC) + timedelta(days=30)),
        "connected",
        trading_ready=True,
    ),
    Row(
        "IP not allowed names the IPs",
        ProbeReport(failure=ExchangeFailure(Outcome.IP_NOT_ALLOWED, check="ip_whitelist")),
        "failed",
        "ip_not_allowed",
        checks={"ip_whitelist": "failed"},
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_diagnose(row: Row) -> None:
    result = diagnose(row.report, row.markets, IPS, duration_ms=5)
    doc = result.document
    assert doc["status"] == row.status
    assert (doc["error"] or {}).get("code") == row.code
    assert [w["code"] for w in doc["warnings"]] == [w.value for w in row.warnings]
    assert result.trading_ready is row.trading_ready
    assert set(doc["checks"]) == set(CHECK_NAMES)
    for name, value in row.checks.items():
        assert doc["checks"][name] == value, (name, doc["checks"])
    if doc["error"] is not None:
        assert doc["error"]["message"] and doc["error"]["remedy"]


def test_details_carry_the_code_the_retry_and_the_ips() -> None:
    limited = diagnose(
        ProbeReport(failure=ExchangeFailure(Outcome.RATE_LIMITED, exchange_code="429")), SPOT, IPS, 1
    ).document
    assert limited["error"]["details"] == {"exchange_code": "429", "retry_after_s": 60}
    blocked = diagnose(ProbeReport(failure=ExchangeFailure(Outcome.IP_NOT_ALLOWED)), SPOT, IPS, 1).document
    assert blocked["error"]["details"] == {"egress_ips": IPS}
    assert all(ip in blocked["error"]["remedy"] for ip in IPS)


@pytest.mark.parametrize(
    ("entry", "ip", "matches"),
    [
        ("203.0.113.10", "203.0.113.10", True),
        ("203.0.113.0/24", "203.0.113.10", True),
        ("203.**.10", "203.0.113.10", True),
        ("203.**.11", "203.0.113.10", False),
        ("198.51.100.1", "203.0.113.10", False),
        ("not an ip", "203.0.113.10", False),
    ],
)
def test_whitelist_entries(entry: str, ip: str, matches: bool) -> None:
    assert whitelist_entry_matches(entry, ip) is matches
