"""The MEXC probe against the in-process simulator, for every demo key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from backfuture.exchanges.base import (
    CheckValue,
    Credentials,
    ExchangeHttp,
    Market,
    ProbeReport,
    new_http_client,
    server_clock,
)

from backfuture.errors import Outcome, WarningCode
from backfuture.exchanges import mexc
from simulator.core import Simulator
from simulator.demo_keys import platform_ips
from simulator.mexc import DEMO_KEYS, MexcSpotVenue, venues

SPOT = frozenset({Market.SPOT})
FUTURES = frozenset({Market.FUTURES})
BOTH = frozenset({Market.SPOT, Market.FUTURES})
OK = CheckValue.OK
FAILED = CheckValue.FAILED


@pytest.fixture(scope="module")
def mexc_sim() -> Iterator[Simulator]:
    sim = Simulator(venues()).start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(mexc_sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    monkeypatch.delenv("EGRESS_IPS", raising=False)
    monkeypatch.setenv("MEXC_SPOT_BASE_URL", mexc_sim.base_url("mexc-spot"))
    monkeypatch.setenv("MEXC_FUTURES_BASE_URL", mexc_sim.base_url("mexc-futures"))
    mexc_sim.reset()
    server_clock.forget()
    return mexc_sim


def probe(api_key: str, markets: frozenset[Market], secret: str | None = None) -> ProbeReport:
    demo = next(k for k in DEMO_KEYS if k.api_key == api_key)

    async def run() -> ProbeReport:
        client = new_http_client()
        try:
            http = ExchangeHttp(client, mexc.ALLOWED_CALLS)
            return await mexc.EXCHANGE.probe(http, Credentials(api_key, secret or demo.api_secret), markets)
        finally:
            await client.aclose()

    return asyncio.run(run())


@dataclass(frozen=True)
class Expect:
    markets: frozenset[Market]
    failure: Outcome | None = None
    code: str | None = None
    checks: dict[str, CheckValue] | None = None
    permissions: dict[str, bool | None] | None = None
    whitelist: str = "platform"  # "platform", "first", "none", "unknown"
    warnings: tuple[WarningCode, ...] = ()
    expires_in_days: int | None = None


SPOT_OK = {"credentials": OK, "read": OK, "trade": OK, "withdraw_disabled": OK, "balance_access": OK}
CLEAN: dict[str, bool | None] = {"read": True, "trade": True, "withdraw": False, "futures": False}

EXPECTED: dict[str, Expect] = {
    "mx0demoConnectedSpot": Expect(SPOT, checks=SPOT_OK, permissions=CLEAN),
    "mx0demoConnectedFutures": Expect(
        BOTH, checks=SPOT_OK | {"futures": OK}, permissions=CLEAN | {"futures": True}
    ),
    "mx0demoNoReadPermission": Expect(
        SPOT,
        Outcome.NO_READ_PERMISSION,
        "700007",
        checks={"credentials": OK, "read": FAILED, "trade": OK, "withdraw_disabled": OK},
        permissions=CLEAN | {"read": False},
    ),
    "mx0demoNoTradePermission": Expect(
        SPOT,
        Outcome.NO_TRADE_PERMISSION,
        "700007",
        checks={
            "credentials": OK,
            "read": OK,
            "trade": FAILED,
            "withdraw_disabled": OK,
            "balance_access": OK,
        },
        permissions=CLEAN | {"trade": False},
    ),
    "mx0demoFuturesNotEnabled": Expect(
        BOTH, Outcome.FUTURES_NOT_ENABLED, "701", checks=SPOT_OK | {"futures": FAILED}, permissions=CLEAN
    ),
    "mx0demoWithdrawEnabled": Expect(
        SPOT, checks=SPOT_OK | {"withdraw_disabled": FAILED}, permissions=CLEAN | {"withdraw": True}
    ),
    "mx0demoIpNotAllowed": Expect(SPOT, Outcome.IP_NOT_ALLOWED, "700006", checks={}, whitelist="unknown"),
    "mx0demoNoIpRestriction": Expect(
        SPOT, checks=SPOT_OK, permissions=CLEAN, whitelist="none", expires_in_days=80
    ),
    "mx0demoWhitelistMismatch": Expect(SPOT, checks=SPOT_OK, permissions=CLEAN, whitelist="first"),
    "mx0demoAccountRestricted": Expect(
        SPOT, Outcome.ACCOUNT_RESTRICTED, "60005", checks={"credentials": OK, "withdraw_disabled": OK}
    ),
    "mx0demoMaintenance": Expect(BOTH, Outcome.EXCHANGE_UNAVAILABLE, "500", checks={}, whitelist="unknown"),
    "mx0demoRateLimited": Expect(BOTH, Outcome.RATE_LIMITED, "429", checks={}, whitelist="unknown"),
    "mx0demoUnknownError": Expect(
        SPOT, Outcome.EXCHANGE_ERROR, "26", checks={"credentials": OK, "withdraw_disabled": OK}
    ),
    "mx0demoExpiresSoon": Expect(
        SPOT, checks=SPOT_OK, permissions=CLEAN, whitelist="none", expires_in_days=3
    ),
    "mx0demoKeyInfoRefused": Expect(
        SPOT,
        checks={"credentials": OK, "read": OK, "trade": OK, "balance_access": OK},
        permissions={"read": True, "trade": True, "withdraw": None, "futures": None},
        whitelist="unknown",
    ),
    "mx0demoFuturesUnneeded": Expect(
        SPOT,
        checks=SPOT_OK,
        permissions=CLEAN | {"futures": True},
        warnings=(WarningCode.UNNEEDED_PERMISSION,),
    ),
    "mx0demoInvalidKey": Expect(BOTH, Outcome.INVALID_KEY, "10072", checks={}, whitelist="unknown"),
    "mx0demoWrongSecret": Expect(BOTH, Outcome.INVALID_KEY, "700002", checks={}, whitelist="unknown"),
}


def test_every_demo_key_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(k.api_key for k in DEMO_KEYS)
    assert len({k.api_key for k in DEMO_KEYS}) == len(DEMO_KEYS)


def test_demo_keys_look_like_mexc_keys() -> None:
    for key in DEMO_KEYS:
        assert key.exchange == "mexc"
        assert key.passphrase is None
        assert key.api_key.startswith("mx0")
        assert key.api_key.isalnum()
        assert len(key.api_secret) == 32
        assert int(key.api_secret, 16) >= 0


@pytest.mark.parametrize("api_key", sorted(EXPECTED))
def test_probe_reports_each_demo_key(sim: Simulator, api_key: str) -> None:
    expect = EXPECTED[api_key]
    demo = next(k for k in DEMO_KEYS if k.api_key == api_key)

    report = probe(api_key, expect.markets)

    if expect.failure is None:
        assert report.failure is None, report.failure
    else:
        assert report.failure is not None
        assert (report.failure.outcome, report.failure.exchange_code) == (expect.failure, expect.code)
        assert demo.outcome == expect.failure.value
    if expect.checks is not None:
        assert report.checks == expect.checks
    if expect.permissions is not None:
        assert report.permissions == expect.permissions
    whitelist = {"platform": platform_ips(), "first": platform_ips()[:1], "none": [], "unknown": None}
    assert report.ip_whitelist == whitelist[expect.whitelist]
    assert set(report.warnings) == set(expect.warnings)
    if expect.expires_in_days is None:
        assert report.key_expires_at is None
    else:
        assert report.key_expires_at is not None
        remaining = report.key_expires_at - datetime.now(UTC)
        assert timedelta(days=expect.expires_in_days) - timedelta(minutes=1) < remaining
        assert remaining <= timedelta(days=expect.expires_in_days)
    assert report.clock_offset_ms is not None
    assert abs(report.clock_offset_ms) < 1000


def test_rate_limit_carries_retry_after(sim: Simulator) -> None:
    report = probe("mx0demoRateLimited", SPOT)
    assert report.failure is not None
    assert (report.failure.retry_after_s, report.failure.http_status) == (30, 429)


def test_wrong_secret_and_unknown_key_on_futures_only(sim: Simulator) -> None:
    wrong = probe("mx0demoWrongSecret", FUTURES)
    unknown = probe("mx0demoInvalidKey", FUTURES)
    assert wrong.failure is not None
    assert wrong.failure.outcome is Outcome.INVALID_KEY
    assert unknown.failure is not None
    assert unknown.failure.outcome is Outcome.INVALID_KEY
    assert WarningCode.WITHDRAW_UNVERIFIABLE not in wrong.warnings  # the key was not judged at all


def test_futures_only_connection_reads_the_futures_account(sim: Simulator) -> None:
    report = probe("mx0demoConnectedFutures", FUTURES)
    assert report.failure is None
    assert report.checks == {
        "credentials": OK,
        "read": OK,
        "balance_access": OK,
        "futures": OK,
        "trade": OK,
        "withdraw_disabled": OK,
    }
    paths = {(r.method, r.path) for r in sim.requests}
    assert ("GET", "/api/v3/account") not in paths
    assert ("POST", "/api/v3/order/test") not in paths


def test_futures_requested_with_a_spot_only_key_on_futures_only(sim: Simulator) -> None:
    report = probe("mx0demoFuturesNotEnabled", FUTURES)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.FUTURES_NOT_ENABLED, "futures")


def test_cold_probe_takes_one_time_call_then_concurrent_calls_and_warm_skips_it(sim: Simulator) -> None:
    probe("mx0demoConnectedFutures", BOTH)
    cold = [(r.venue, r.method, r.path) for r in sim.requests]
    assert sorted(cold[:2]) == [
        ("mexc-futures", "GET", "/api/v1/contract/ping"),
        ("mexc-spot", "GET", "/api/v3/time"),
    ]
    assert sorted(cold[2:]) == sorted(
        [
            ("mexc-futures", "GET", "/api/v1/private/account/assets"),
            ("mexc-spot", "GET", "/api/v3/account"),
            ("mexc-spot", "GET", "/api/v3/apiKeyInfo"),
            ("mexc-spot", "POST", "/api/v3/order/test"),
        ]
    )
    sim.requests.clear()
    probe("mx0demoConnectedFutures", BOTH)
    assert all(r.path not in ("/api/v3/time", "/api/v1/contract/ping") for r in sim.requests)
    assert len(sim.requests) == 4


def test_the_probe_never_places_an_order_or_changes_a_key(sim: Simulator) -> None:
    for demo in DEMO_KEYS:
        probe(demo.api_key, BOTH)
    spot = next(v for v in sim.venues.values() if isinstance(v, MexcSpotVenue))
    assert spot.orders_placed == []
    assert spot.key_changes == []
    assert {(r.method, r.path) for r in sim.requests} <= mexc.ALLOWED_CALLS


def test_stale_cached_offset_gives_clock_skew_and_a_fresh_one_recovers(sim: Simulator) -> None:
    probe("mx0demoConnectedSpot", SPOT)  # caches an offset of about 0
    sim.config.clock_offset_ms = 30_000  # the exchange's clock jumps: our cached offset is now wrong
    stale = probe("mx0demoConnectedSpot", SPOT)
    assert stale.failure is not None
    assert (stale.failure.outcome, stale.failure.exchange_code) == (Outcome.CLOCK_SKEW, "700003")
    server_clock.forget()
    fresh = probe("mx0demoConnectedSpot", SPOT)
    assert fresh.failure is None
    assert fresh.clock_offset_ms is not None
    assert abs(fresh.clock_offset_ms - 30_000) < 1000


def test_futures_clock_is_measured_on_the_futures_host(sim: Simulator) -> None:
    sim.config.clock_offset_ms = -15_000  # outside the futures ±10 s unless the offset is applied
    report = probe("mx0demoConnectedFutures", BOTH)
    assert report.failure is None
    assert report.checks["futures"] is OK


def test_whole_venue_faults_are_unavailable_or_rate_limited(sim: Simulator) -> None:
    from simulator.core import Fault

    for fault, outcome in [
        (Fault.HTML_MAINTENANCE, Outcome.EXCHANGE_UNAVAILABLE),
        (Fault.HTTP_503, Outcome.EXCHANGE_UNAVAILABLE),
        (Fault.MALFORMED_JSON, Outcome.EXCHANGE_UNAVAILABLE),
        (Fault.RATE_LIMIT, Outcome.RATE_LIMITED),
    ]:
        sim.config.fault = fault
        server_clock.forget()
        report = probe("mx0demoConnectedSpot", SPOT)
        assert report.failure is not None, fault
        assert report.failure.outcome is outcome, fault


def test_futures_venue_fault_only_fails_the_futures_part(sim: Simulator) -> None:
    from simulator.core import Fault

    probe("mx0demoConnectedFutures", BOTH)  # warm both clocks
    sim.config.fault = Fault.HTTP_503
    sim.config.fault_venue = "mexc-futures"
    report = probe("mx0demoConnectedFutures", BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.EXCHANGE_UNAVAILABLE, "futures")
    assert report.checks["trade"] is OK
    assert report.checks["read"] is OK


def test_report_keeps_no_exchange_message_or_secret(sim: Simulator) -> None:
    demo = next(k for k in DEMO_KEYS if k.api_key == "mx0demoWrongSecret")
    report = probe(demo.api_key, BOTH)
    text = repr(report) + str(report.failure) + repr(vars(report.failure))
    assert "Signature for this request" not in text
    assert demo.api_secret not in text
