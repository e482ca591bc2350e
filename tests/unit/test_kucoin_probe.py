"""The KuCoin probe against the in-process simulator, for every demo key and the venue-wide faults."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

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
from backfuture.exchanges.kucoin import ALLOWED_CALLS, EXCHANGE
from simulator.core import Fault, Simulator
from simulator.demo_keys import DemoKey
from simulator.kucoin import DEMO_KEYS, KucoinVenue, venues

PLATFORM_IPS = ["203.0.113.10", "203.0.113.11"]
SPOT = frozenset({Market.SPOT})
FUTURES = frozenset({Market.FUTURES})
BOTH = frozenset({Market.SPOT, Market.FUTURES})
OK, FAILED = CheckValue.OK, CheckValue.FAILED


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    sim = Simulator(venues()).start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    monkeypatch.setenv("EGRESS_IPS", ",".join(PLATFORM_IPS))
    monkeypatch.setenv("KUCOIN_SPOT_BASE_URL", simulator.base_url("kucoin-spot"))
    monkeypatch.setenv("KUCOIN_FUTURES_BASE_URL", simulator.base_url("kucoin-futures"))
    simulator.reset()
    simulator.config.client_ip = PLATFORM_IPS[0]
    for venue in simulator.venues.values():
        assert isinstance(venue, KucoinVenue)
        venue.service_status = "open"
    server_clock.forget()
    yield simulator
    server_clock.forget()


def key(label: str) -> DemoKey:
    matches = [k for k in DEMO_KEYS if k.api_key.startswith("6500demo" + label)]
    assert len(matches) == 1, label
    return matches[0]


def probe(demo: DemoKey, markets: frozenset[Market]) -> ProbeReport:
    async def run() -> ProbeReport:
        async with new_http_client() as client:
            http = ExchangeHttp(client, ALLOWED_CALLS)
            return await EXCHANGE.probe(
                http, Credentials(demo.api_key, demo.api_secret, demo.passphrase), markets
            )

    return asyncio.run(run())


def markets_for(note: str) -> list[frozenset[Market]]:
    return {"spot": [SPOT], "futures": [FUTURES, BOTH], "spot or futures": [SPOT, FUTURES, BOTH]}[note]


# --------------------------------------------------------------------------------------------
# Every demo key gives its advertised outcome
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("demo", "markets"),
    [(demo, markets) for demo in DEMO_KEYS for markets in markets_for(demo.markets)],
    ids=lambda v: v.api_key if isinstance(v, DemoKey) else "+".join(sorted(v)),
)
def test_every_demo_key_gives_its_outcome(sim: Simulator, demo: DemoKey, markets: frozenset[Market]) -> None:
    report = probe(demo, markets)
    if demo.outcome == "connected":
        assert report.failure is None, report.failure
        assert report.permissions["withdraw"] is False
    elif demo.outcome == "withdrawal_enabled":
        # connection_test refuses it; the probe only reports the fact
        assert report.failure is None
        assert report.permissions["withdraw"] is True
    else:
        assert report.failure is not None
        assert report.failure.outcome == Outcome(demo.outcome)


def test_probe_never_calls_order_or_withdrawal_endpoints(sim: Simulator) -> None:
    for demo in DEMO_KEYS:
        probe(demo, BOTH)
    called = {(r.method, r.path) for r in sim.requests}
    assert called <= ALLOWED_CALLS
    assert ("POST", "/api/v1/hf/orders") not in called
    assert ("POST", "/api/v1/orders") not in called
    assert not any("withdrawals" in path for _, path in called)
    # the probe did make its calls on both hosts
    assert {r.venue for r in sim.requests} == {"kucoin-spot", "kucoin-futures"}


# --------------------------------------------------------------------------------------------
# Facts per key
# --------------------------------------------------------------------------------------------


def test_connected_key_reports_every_fact(sim: Simulator) -> None:
    report = probe(key("connected0"), BOTH)
    assert report.failure is None
    assert report.checks == {
        "credentials": OK,
        "read": OK,
        "balance_access": OK,
        "trade": OK,
        "futures": OK,
        "withdraw_disabled": OK,
    }
    assert report.permissions == {"read": True, "trade": True, "withdraw": False, "futures": True}
    assert report.ip_whitelist == PLATFORM_IPS
    assert report.account == {"is_master": True}
    assert report.warnings == []
    assert report.clock_offset_ms is not None
    assert abs(report.clock_offset_ms) < 1_000


def test_spot_only_connection_reports_futures_permission(sim: Simulator) -> None:
    report = probe(key("connected0"), SPOT)
    assert report.failure is None
    assert "futures" not in report.checks
    assert report.permissions["futures"] is True  # connection_test turns it into unneeded_permission
    assert report.warnings == []
    assert {r.venue for r in sim.requests} == {"kucoin-spot"}


def test_masked_whitelist_is_reported_as_given(sim: Simulator) -> None:
    report = probe(key("connectedmasked"), SPOT)
    assert report.failure is None
    assert report.ip_whitelist == ["203.0.**.10", "203.0.**.11"]


@pytest.mark.parametrize(
    ("label", "code"), [("invalidkey", "400003"), ("wrongsecret", "400005"), ("v2key", "400008")]
)
def test_credential_failures(sim: Simulator, label: str, code: str) -> None:
    report = probe(key(label), BOTH)
    assert report.failure is not None
    assert report.failure.outcome == Outcome.INVALID_KEY
    assert report.failure.exchange_code == code
    assert report.failure.http_status == 401
    assert report.checks == {"credentials": FAILED}
    assert report.ip_whitelist is None


def test_login_password_instead_of_passphrase(sim: Simulator) -> None:
    report = probe(key("badpassphrase"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.INVALID_PASSPHRASE, "400004")
    assert report.checks == {"credentials": FAILED}


def test_key_without_general_cannot_read(sim: Simulator) -> None:
    report = probe(key("noread"), SPOT)
    assert report.failure is not None
    assert report.failure.outcome == Outcome.NO_READ_PERMISSION
    assert report.failure.check == "read"
    assert report.failure.exchange_code == "400007"
    assert report.checks["credentials"] == OK
    assert report.checks["read"] == FAILED
    assert report.checks["trade"] == OK
    assert report.permissions["read"] is False
    assert report.permissions["withdraw"] is None
    assert report.ip_whitelist is None  # key info itself was refused
    assert WarningCode.WITHDRAW_UNVERIFIABLE in report.warnings


def test_read_only_key_cannot_trade(sim: Simulator) -> None:
    report = probe(key("notrade"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.NO_TRADE_PERMISSION, "trade")
    assert report.failure.exchange_code == "400007"
    assert report.checks["read"] == OK
    assert report.checks["trade"] == FAILED
    assert report.checks["withdraw_disabled"] == OK
    assert report.permissions == {"read": True, "trade": False, "withdraw": False, "futures": False}


def test_spot_key_on_futures(sim: Simulator) -> None:
    spot_report = probe(key("nofutures"), SPOT)
    assert spot_report.failure is None
    report = probe(key("nofutures"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.FUTURES_NOT_ENABLED, "futures")
    assert report.failure.exchange_code == "400007"
    assert report.checks["futures"] == FAILED
    assert report.checks["trade"] == OK
    assert report.permissions["futures"] is False


def test_withdrawal_key_is_reported(sim: Simulator) -> None:
    report = probe(key("withdrawal"), SPOT)
    assert report.permissions["withdraw"] is True
    assert report.checks["withdraw_disabled"] == FAILED


def test_ip_not_allowed(sim: Simulator) -> None:
    report = probe(key("ipnotallowed"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.IP_NOT_ALLOWED, "400006")
    assert report.failure.check == "ip_whitelist"
    assert report.ip_whitelist is None


def test_whitelist_forms(sim: Simulator) -> None:
    assert probe(key("noiprestriction"), SPOT).ip_whitelist == []
    assert probe(key("ipmismatch"), SPOT).ip_whitelist == PLATFORM_IPS[:1]


def test_inner_transfer_warns_but_is_not_withdrawal(sim: Simulator) -> None:
    report = probe(key("innertransfer"), SPOT)
    assert report.failure is None
    assert report.permissions["withdraw"] is False
    assert report.warnings == [WarningCode.UNNEEDED_PERMISSION]
    assert report.ip_whitelist == []


def test_sub_account_key(sim: Simulator) -> None:
    report = probe(key("subaccount"), SPOT)
    assert report.failure is None
    assert report.account == {"is_master": False, "sub_name": "bf-demo-sub"}


def test_account_restricted(sim: Simulator) -> None:
    report = probe(key("restricted"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.ACCOUNT_RESTRICTED, "411100")
    assert report.checks["credentials"] == OK


def test_rate_limited_carries_retry_after(sim: Simulator) -> None:
    report = probe(key("ratelimited"), SPOT)
    assert report.failure is not None
    assert report.failure.outcome == Outcome.RATE_LIMITED
    assert report.failure.exchange_code == "429000"
    assert report.failure.retry_after_s == 5


def test_unknown_code_is_kept(sim: Simulator) -> None:
    report = probe(key("exchangeerror"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.EXCHANGE_ERROR, "400100")
    # a business rejection of the test order still shows the key may trade
    assert report.checks["trade"] == OK


def test_unavailable_key(sim: Simulator) -> None:
    report = probe(key("unavailable"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.http_status) == (Outcome.EXCHANGE_UNAVAILABLE, 503)


# --------------------------------------------------------------------------------------------
# Venue-wide conditions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["close", "cancelonly"])
def test_spot_status_not_open_is_unavailable(sim: Simulator, status: str) -> None:
    venue = sim.venues["kucoin-spot"]
    assert isinstance(venue, KucoinVenue)
    venue.service_status = status
    report = probe(key("connected0"), SPOT)
    assert report.failure is not None
    assert report.failure.outcome == Outcome.EXCHANGE_UNAVAILABLE


def test_futures_status_not_open_only_matters_for_futures(sim: Simulator) -> None:
    venue = sim.venues["kucoin-futures"]
    assert isinstance(venue, KucoinVenue)
    venue.service_status = "close"
    assert probe(key("connected0"), SPOT).failure is None
    report = probe(key("connected0"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.EXCHANGE_UNAVAILABLE, "futures")


@pytest.mark.parametrize(
    "fault", [Fault.HTTP_503, Fault.HTML_MAINTENANCE, Fault.MALFORMED_JSON, Fault.TRUNCATED_JSON]
)
def test_broken_answers_are_unavailable(sim: Simulator, fault: Fault) -> None:
    sim.config.fault = fault
    report = probe(key("connected0"), SPOT)
    assert report.failure is not None
    assert report.failure.outcome == Outcome.EXCHANGE_UNAVAILABLE


def test_venue_wide_rate_limit(sim: Simulator) -> None:
    sim.config.fault = Fault.RATE_LIMIT
    report = probe(key("connected0"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.retry_after_s) == (Outcome.RATE_LIMITED, 7)


def test_clock_is_synced_cached_and_skew_detected(sim: Simulator) -> None:
    # Given an exchange clock one minute ahead
    sim.config.clock_offset_ms = 60_000
    # When probing cold, the probe syncs first and signs with the exchange's time
    report = probe(key("connected0"), BOTH)
    assert report.failure is None
    assert report.clock_offset_ms is not None
    assert abs(report.clock_offset_ms - 60_000) < 1_000
    assert sum(r.path == "/api/v1/timestamp" for r in sim.requests) == 2  # one per host
    # When probing warm, no time call is made
    sim.requests.clear()
    assert probe(key("connected0"), BOTH).failure is None
    assert not any(r.path == "/api/v1/timestamp" for r in sim.requests)
    # When the exchange clock jumps while the offset is cached, KuCoin's 400002 shows as clock skew
    sim.config.clock_offset_ms = -60_000
    report = probe(key("connected0"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.CLOCK_SKEW, "400002")
    # And after connection_test's forget() the next probe passes again
    server_clock.forget()
    assert probe(key("connected0"), SPOT).failure is None
