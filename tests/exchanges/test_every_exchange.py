"""What every supported exchange must do against its simulator, written once for all of them.

Parametrised over the registry (``backfuture.exchanges.supported_ids()``) and each exchange's
simulator demo keys: every demo key gives its outcome, its warnings exactly (no more, none fewer) and
its trading readiness for each market set of its note; the probe makes only declared calls and
never a forbidden one; broken answers are ``exchange_unavailable`` and a venue-wide rate limit is
``rate_limited``; each host's clock is measured once, cached, and measured again once after a jump.
Where an exchange differs, the difference is data (``DemoKey.unknown_permissions``,
``DemoKey.unneeded_on_spot``, the notes' markets, the registry's calls), never a branch on its id.
Each exchange's own module (``tests/exchanges/test_<id>.py``) holds what only it has: signing
vectors, error tables, readers, the details of its demo keys, its call plan and clock window.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest

from backfuture.connection_test import diagnose
from backfuture.engine.report import CheckValue
from backfuture.engine.spec import ExchangeSpec, Role
from backfuture.errors import Outcome, WarningCode
from backfuture.exchanges import Market, exchange, supported_ids
from backfuture.models import Status
from simulator import all_venues
from simulator.core import Fault, Simulator
from simulator.demo_keys import DemoKey
from simulator.kit import RouteVenue
from tests.exchanges.conftest import PLATFORM_IPS, Prober, markets_for

SUPPORTED = supported_ids()
BROKEN = [Fault.HTTP_503, Fault.HTML_MAINTENANCE, Fault.MALFORMED_JSON, Fault.TRUNCATED_JSON]
_UNAVAILABLE = {Outcome.RATE_LIMITED, Outcome.EXCHANGE_UNAVAILABLE}


def demo_keys(exchange_id: str) -> list[DemoKey]:
    keys: list[DemoKey] = importlib.import_module(f"simulator.{exchange_id}").DEMO_KEYS
    return keys


def connected(exchange_id: str) -> DemoKey:
    """The exchange's plain working key: its first demo key that connects."""
    return next(k for k in demo_keys(exchange_id) if k.outcome == "connected")


def name(markets: frozenset[Market]) -> str:
    return "+".join(sorted(markets))


def label(demo: DemoKey) -> str:
    return demo.api_key.rsplit("/", 1)[-1].rstrip("0")


DEMO_CASES = [
    pytest.param(id_, demo, markets, id=f"{id_}-{label(demo)}-{name(markets)}")
    for id_ in SUPPORTED
    for demo in demo_keys(id_)
    for markets in markets_for(demo.markets)
]
# The plain working key of each exchange, on each market set of its note.
CONNECTED_CASES = [
    pytest.param(id_, markets, id=f"{id_}-{name(markets)}")
    for id_ in SUPPORTED
    for markets in markets_for(connected(id_).markets)
]


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    """One server for every exchange's venues: each test points its own exchange's hosts at it."""
    sim = Simulator(all_venues()).start()
    yield sim
    sim.stop()


@pytest.fixture
def spec(exchange_id: str) -> ExchangeSpec:
    return exchange(exchange_id)


def forbidden_calls(sim: Simulator) -> list[object]:
    """Every call the service must never make that any venue accepted (orders, withdrawals, key edits)."""
    calls: list[object] = []
    for venue in sim.venues.values():
        assert isinstance(venue, RouteVenue)
        calls.extend(venue.forbidden_calls)
    return calls


def assert_only_declared_calls(sim: Simulator, run_probe: Prober) -> None:
    assert {(r.method, r.path) for r in sim.requests} <= run_probe.declared()
    assert forbidden_calls(sim) == []


@pytest.mark.parametrize(("exchange_id", "demo", "markets"), DEMO_CASES)
def test_every_demo_key_gives_its_outcome(
    run_probe: Prober, sim: Simulator, demo: DemoKey, markets: frozenset[Market]
) -> None:
    report = run_probe(demo, markets)
    result = diagnose(report, markets, PLATFORM_IPS, duration_ms=0)
    document = result.document
    # Exactly the warnings the key's description promises (plus unneeded_permission for a futures
    # right on a spot-only connection, where the key is marked so): nothing extra, nothing missing.
    assert {w["code"] for w in document["warnings"]} == demo.warnings_on(markets)
    assert report.unknown_permissions == list(demo.unknown_permissions)
    if demo.outcome == "connected":
        assert report.failure is None, report.failure
        unverifiable = WarningCode.WITHDRAW_UNVERIFIABLE.value in demo.warnings
        assert report.permissions["withdraw"] is (None if unverifiable else False)
        assert (result.status, result.trading_ready) == (Status.CONNECTED, demo.trading_ready)
    elif demo.outcome == "withdrawal_enabled":
        assert report.failure is None, report.failure
        assert report.permissions["withdraw"] is True
        assert report.checks["withdraw_disabled"] is CheckValue.FAILED
        assert (result.status, result.trading_ready) == (Status.REFUSED, False)
        assert document["error"]["code"] == demo.outcome
    else:
        assert report.failure is not None
        assert report.failure.outcome == Outcome(demo.outcome)
        if report.failure.outcome in _UNAVAILABLE:  # the key was not judged
            assert (result.status, result.trading_ready) == (Status.UNAVAILABLE, None)
        else:
            assert (result.status, result.trading_ready) == (Status.FAILED, False)
        assert document["error"]["code"] == demo.outcome
    assert_only_declared_calls(sim, run_probe)


@pytest.mark.parametrize("exchange_id", SUPPORTED)
def test_probe_makes_only_declared_calls_on_every_market(
    exchange_id: str, spec: ExchangeSpec, run_probe: Prober, sim: Simulator
) -> None:
    """Every demo key on every market the exchange's keys are tested on, all at once: the cases above
    cover the keys whose note includes them; here the others, and the plain key reaching every host."""
    keys = demo_keys(exchange_id)
    widest = frozenset(m for demo in keys for markets in markets_for(demo.markets) for m in markets)
    for demo in [connected(exchange_id), *(k for k in keys if widest not in markets_for(k.markets))]:
        run_probe(demo, widest)
    assert {r.venue for r in sim.requests} == {f"{exchange_id}-{host.name}" for host in spec.hosts}
    assert_only_declared_calls(sim, run_probe)


@pytest.mark.parametrize("fault", BROKEN)
@pytest.mark.parametrize(("exchange_id", "markets"), CONNECTED_CASES)
def test_broken_answers_are_unavailable(
    exchange_id: str, run_probe: Prober, sim: Simulator, markets: frozenset[Market], fault: Fault
) -> None:
    sim.config.fault = fault
    report = run_probe(connected(exchange_id), markets)
    assert report.failure is not None
    assert report.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE
    result = diagnose(report, markets, PLATFORM_IPS, duration_ms=0)
    assert (result.status, result.trading_ready) == (Status.UNAVAILABLE, None)


@pytest.mark.parametrize(("exchange_id", "markets"), CONNECTED_CASES)
def test_venue_wide_rate_limit(
    exchange_id: str, run_probe: Prober, sim: Simulator, markets: frozenset[Market]
) -> None:
    sim.config.fault = Fault.RATE_LIMIT  # HTTP 429 with Retry-After: 7 on every venue
    report = run_probe(connected(exchange_id), markets)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.retry_after_s) == (Outcome.RATE_LIMITED, 7)


@pytest.mark.parametrize("exchange_id", SUPPORTED)
def test_clock_is_synced_cached_and_resynced_once_after_a_jump(
    exchange_id: str, spec: ExchangeSpec, run_probe: Prober, sim: Simulator
) -> None:
    """Two minutes off (beyond every exchange's window) either way: the signed calls pass because each
    host's clock is measured once when cold, not again when warm, and once more after the jump."""
    demo = connected(exchange_id)
    narrowest, widest = markets_for(demo.markets)[0], markets_for(demo.markets)[-1]
    clocks = {call.path for call in spec.calls if call.role is Role.SERVER_TIME}

    def measured() -> int:
        return sum(r.path in clocks for r in sim.requests)

    def hosts_called() -> int:
        return len({r.venue for r in sim.requests})

    sim.config.clock_offset_ms = 120_000
    report = run_probe(demo, widest)
    assert report.failure is None, report.failure
    assert report.clock_offset_ms is not None and abs(report.clock_offset_ms - 120_000) < 1_000
    assert measured() == hosts_called()  # one measure per host (every host with signed calls has one)
    sim.requests.clear()
    assert run_probe(demo, widest).failure is None
    assert measured() == 0
    sim.config.clock_offset_ms = -120_000  # while the offset is cached: rejected, measured again, once
    sim.requests.clear()
    report = run_probe(demo, narrowest)
    assert report.failure is None, report.failure
    assert report.clock_offset_ms is not None and abs(report.clock_offset_ms + 120_000) < 1_000
    assert measured() == hosts_called()
