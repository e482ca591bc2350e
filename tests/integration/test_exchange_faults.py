"""The exchange fault matrix: every simulator fault, on each exchange's spot and futures venue.

Each case starts from a connection that tested Online, breaks the exchange, tests again and checks:

* the contract outcome (``exchange_unavailable``, or ``rate_limited`` with ``details.retry_after_s``
  honouring Retry-After), with status ``unavailable`` and ``trading_ready`` left as it was;
* the time bound: the test ends within the service's budget (a correctness bound, not a benchmark);
* consistency: the stored status document is the one returned, and the resource agrees with it.

Clock cases: the exchange's clock jumps after the offset was cached; the service re-syncs once and
the test passes.

Slow faults are shortened (per-call timeouts, the simulator's delays, and for the slow drip the
budget itself) so the file runs in well under a minute; each case asserts against the bounds it ran with.

The cost stays flat as exchanges are added: fault handling is the engine's, the same code for every
exchange, so the whole matrix runs end to end (HTTP API, AWS, simulator) for the registry's first
exchange, and every other venue of every registered exchange gets the fast faults at the probe level.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from backfuture import connection_test
from backfuture.engine import http as engine_http
from backfuture.engine.server_clock import server_clock
from backfuture.exchanges import Market, exchange, supported_ids
from simulator.core import Fault
from simulator.demo_keys import DemoKey
from tests.api_client import ApiClient
from tests.conftest import InProcessAws, reset_function_services

# Scheduling noise on a loaded 2-core machine; the bound itself is the service's budget.
MARGIN_S = 1.5
SHORT_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class Venue:
    exchange: str
    host: str  # the exchange host (simulator venue) the fault hits

    @property
    def name(self) -> str:
        return f"{self.exchange}-{self.host}"

    @property
    def markets(self) -> list[str]:
        """What a connection asks for to use this host: futures too when the host serves futures calls."""
        calls = [c for c in exchange(self.exchange).calls if c.host == self.host]
        serves_futures = any(c.markets == frozenset({Market.FUTURES}) for c in calls)
        return ["spot", "futures"] if serves_futures else ["spot"]


VENUES = [
    Venue(exchange_id, host.name) for exchange_id in supported_ids() for host in exchange(exchange_id).hosts
]
# The whole matrix end to end on one exchange's venues; the engine handles every exchange alike.
E2E_VENUES = [v for v in VENUES if v.exchange == supported_ids()[0]]
SPOT_VENUES = [v for v in VENUES if v.markets == ["spot"]]

UNAVAILABLE_FAULTS = [
    Fault.CONNECT_TIMEOUT,
    Fault.READ_TIMEOUT,
    Fault.RESET,
    Fault.HTTP_500,
    Fault.HTTP_503,
    Fault.HTML_MAINTENANCE,
    Fault.TRUNCATED_JSON,
    Fault.MALFORMED_JSON,
    Fault.SLOW_DRIP,
]
RATE_LIMIT_FAULTS = {Fault.RATE_LIMIT: 7, Fault.RATE_LIMIT_NO_RETRY_AFTER: None}
TIMEOUT_FAULTS = {Fault.CONNECT_TIMEOUT, Fault.READ_TIMEOUT}
# Faults that answer at once: cheap enough to run on every venue of every exchange.
FAST_FAULTS = [
    f for f in [*UNAVAILABLE_FAULTS, *RATE_LIMIT_FAULTS] if f not in TIMEOUT_FAULTS | {Fault.SLOW_DRIP}
]


def test_the_matrix_covers_every_simulator_fault() -> None:
    assert set(UNAVAILABLE_FAULTS) | set(RATE_LIMIT_FAULTS) == set(Fault) - {Fault.NONE}


# --------------------------------------------------------------------------------------------
# Fixtures: one moto account for the module, a fresh HTTP client per case
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_aws() -> Iterator[None]:
    from moto import mock_aws

    from backfuture.aws import reset_clients
    from backfuture.config import settings
    from local.aws import create_resources
    from local.moto_fidelity import serialize_dynamodb
    from local.template import ServiceTemplate

    serialize_dynamodb()
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        created = create_resources(InProcessAws(), ServiceTemplate.load())
        patch.setenv("TABLE_NAME", created.table_name)
        patch.setenv("KMS_KEY_ID", created.key_arn)
        patch.setenv("FINGERPRINT_SECRET_ARN", created.fingerprint_secret_arn)
        patch.setenv("SECRET_NAME_PREFIX", "backfuture/faults/connections/")
        settings.cache_clear()
        reset_clients()
        reset_function_services()
        yield
        settings.cache_clear()
        reset_clients()
        reset_function_services()


def _drop_http_client() -> None:
    """Forget the thread's cached event loop and HTTP client, so the next test builds a new client
    with the timeouts in force at that moment."""
    state = getattr(connection_test._local, "state", None)
    if state is not None:
        if state.client is not None:
            state.runner.run(state.client.aclose())
        state.runner.close()
    connection_test._local.__dict__.clear()


@pytest.fixture
def fresh_client() -> Iterator[None]:
    _drop_http_client()
    yield
    _drop_http_client()


@pytest.fixture
def api(module_aws: None, sim: Any, fresh_client: None, request: pytest.FixtureRequest) -> ApiClient:
    # One user per case: connections never meet the per-user cap or each other's names.
    return ApiClient(f"faults-{zlib.crc32(request.node.nodeid.encode()):08x}")


def connecting_key(venue: Venue) -> DemoKey:
    """The exchange's demo key that connects cleanly (no warnings) for the venue's markets."""
    from simulator import all_demo_keys

    return next(
        d
        for d in all_demo_keys()
        if d.exchange == venue.exchange
        and d.outcome == "connected"
        and not d.warnings
        and ("futures" in d.markets or venue.markets == ["spot"])
    )


def demo_body(venue: Venue) -> dict[str, Any]:
    demo = connecting_key(venue)
    body: dict[str, Any] = {
        "exchange": demo.exchange,
        "name": f"Fault {venue.name}",
        "api_key": demo.api_key,
        "api_secret": demo.api_secret,
        "markets": venue.markets,
    }
    if demo.passphrase is not None:
        body["passphrase"] = demo.passphrase
    return body


@pytest.fixture
def online(api: ApiClient, sim: Any, venue: Venue) -> Iterator[dict[str, Any]]:
    """A connection of ``venue``'s exchange that has just tested Online (trading_ready true)."""
    sim.configure(connecting_key(venue).sim_config)  # e.g. MEXC futures open to the API
    created = api.post("/connections", demo_body(venue))
    assert created.status == 201, created.body
    connection = dict(created.body)
    first = api.post(f"/connections/{connection['id']}/test")
    assert first.status == 200 and first.body["status"] == "connected", first.body
    assert api.get(f"/connections/{connection['id']}").body["trading_ready"] is True
    yield connection
    # The demo key can be connected once only: free it for the next case.
    assert api.delete(f"/connections/{connection['id']}").status == 204


def run_test(api: ApiClient, connection_id: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    response = api.post(f"/connections/{connection_id}/test")
    elapsed = time.monotonic() - started
    assert response.status == 200, response.body
    return dict(response.body), elapsed


def assert_stored_consistently(api: ApiClient, connection_id: str, doc: dict[str, Any], ready: bool) -> None:
    assert api.get(f"/connections/{connection_id}/status").body == doc
    resource = api.get(f"/connections/{connection_id}").body
    assert resource["status"] == doc["status"]
    assert resource["error"] == doc["error"]
    assert resource["trading_ready"] is ready


# --------------------------------------------------------------------------------------------
# The matrix
# --------------------------------------------------------------------------------------------


# Cold: the exchange's time call meets the fault first. Warm (offset cached): the probe's own calls
# do. Slow faults run cold only, to keep the file short.
CASES = [
    pytest.param(fault, clock, id=f"{fault}-{clock}")
    for fault in UNAVAILABLE_FAULTS + list(RATE_LIMIT_FAULTS)
    for clock in ("cold", "warm")
    if clock == "cold" or fault not in TIMEOUT_FAULTS | {Fault.SLOW_DRIP}
]


@pytest.mark.parametrize("venue", E2E_VENUES, ids=lambda v: v.name)
@pytest.mark.parametrize(("fault", "clock"), CASES)
def test_fault_ends_in_its_contract_outcome(
    api: ApiClient,
    sim: Any,
    online: dict[str, Any],
    venue: Venue,
    fault: Fault,
    clock: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    budget = connection_test.TEST_BUDGET_S
    if fault in TIMEOUT_FAULTS:
        # The venue holds the answer longer than the (shortened) read timeout allows.
        monkeypatch.setattr(engine_http, "READ_TIMEOUT_S", SHORT_TIMEOUT_S)
        monkeypatch.setattr(engine_http, "CONNECT_TIMEOUT_S", SHORT_TIMEOUT_S)
        sim.config.read_timeout_delay_s = 2.0
    if fault is Fault.SLOW_DRIP:
        # Each byte arrives within the read timeout, so only the test's overall budget can end it.
        budget = 2.0
        monkeypatch.setattr(connection_test, "TEST_BUDGET_S", budget)
    _drop_http_client()
    if clock == "cold":
        server_clock.forget()
    sim.config.fault = fault
    sim.config.fault_venue = venue.name

    doc, elapsed = run_test(api, online["id"])

    sim.config.fault = Fault.NONE
    assert elapsed < budget + MARGIN_S, f"{fault} took {elapsed:.2f}s"
    assert doc["duration_ms"] <= (budget + MARGIN_S) * 1000
    assert doc["status"] == "unavailable" and doc["status_label"] == "Exchange unavailable", doc
    if fault in RATE_LIMIT_FAULTS:
        assert doc["error"]["code"] == "rate_limited", doc
        retry_after = doc["error"]["details"]["retry_after_s"]
        expected = RATE_LIMIT_FAULTS[fault]
        assert retry_after == expected if expected is not None else retry_after > 0, doc["error"]
    else:
        assert doc["error"]["code"] == "exchange_unavailable", doc
    assert doc["error"]["message"] and doc["error"]["remedy"]
    # The key was not judged: nothing is reported failed because of the exchange's trouble.
    assert "failed" not in doc["checks"].values(), doc["checks"]
    assert_stored_consistently(api, online["id"], doc, ready=True)
    assert_only_used_venues(sim, venue)


def assert_only_used_venues(sim: Any, venue: Venue) -> None:
    """A connection never touches a venue its markets do not need (a spot-only one, no futures host)."""
    used = {v.name for v in VENUES if v.exchange == venue.exchange and set(v.markets) <= set(venue.markets)}
    assert {r.venue for r in sim.requests} <= used, [(r.venue, r.path) for r in sim.requests]


@pytest.mark.parametrize("venue", VENUES, ids=lambda v: v.name)
@pytest.mark.parametrize("fault", FAST_FAULTS, ids=str)
def test_every_venue_of_every_exchange_reports_fast_faults_as_unavailable(
    sim: Any, fresh_client: None, venue: Venue, fault: Fault
) -> None:
    """The probe level (no AWS): the same faults on every venue, each answered at once."""
    from backfuture.exchanges import Credentials
    from simulator.demo_keys import platform_ips

    demo = connecting_key(venue)
    sim.configure(demo.sim_config)
    credentials = Credentials(demo.api_key, demo.api_secret, demo.passphrase)
    markets = frozenset(Market(m) for m in venue.markets)
    first = connection_test.run_connection_test(venue.exchange, credentials, markets, platform_ips())
    assert first.status.value == "connected", first.document
    sim.config.fault = fault
    sim.config.fault_venue = venue.name
    result = connection_test.run_connection_test(venue.exchange, credentials, markets, platform_ips())
    sim.config.fault = Fault.NONE
    doc = result.document
    expected = "rate_limited" if fault in RATE_LIMIT_FAULTS else "exchange_unavailable"
    assert result.status.value == "unavailable" and doc["error"]["code"] == expected, doc
    assert result.trading_ready is None  # left as it was
    assert "failed" not in doc["checks"].values(), doc["checks"]


@pytest.mark.parametrize("venue", SPOT_VENUES, ids=lambda v: v.name)
def test_recovery_after_a_fault_reports_online_again(
    api: ApiClient, sim: Any, online: dict[str, Any], venue: Venue
) -> None:
    sim.config.fault = Fault.HTTP_503
    doc, _ = run_test(api, online["id"])
    assert doc["status"] == "unavailable"
    sim.config.fault = Fault.NONE
    doc, _ = run_test(api, online["id"])
    assert doc["status"] == "connected" and doc["error"] is None, doc
    assert_stored_consistently(api, online["id"], doc, ready=True)


def test_unavailable_after_a_failure_keeps_trading_ready_false(
    api: ApiClient, sim: Any, module_aws: None
) -> None:
    from simulator import all_demo_keys

    demo = next(d for d in all_demo_keys() if d.outcome == "invalid_key")
    body: dict[str, Any] = {
        "exchange": demo.exchange,
        "name": "Wrong key",
        "api_key": demo.api_key,
        "api_secret": demo.api_secret,
    }
    if demo.passphrase is not None:
        body["passphrase"] = demo.passphrase
    connection = api.post("/connections", body).body
    failed, _ = run_test(api, connection["id"])
    assert failed["status"] == "failed"
    sim.config.fault = Fault.RATE_LIMIT
    doc, _ = run_test(api, connection["id"])
    assert doc["status"] == "unavailable" and doc["error"]["code"] == "rate_limited"
    assert_stored_consistently(api, connection["id"], doc, ready=False)
    api.delete(f"/connections/{connection['id']}")


# --------------------------------------------------------------------------------------------
# A wrong clock
# --------------------------------------------------------------------------------------------


def time_calls(sim: Any) -> int:
    return sum(1 for r in sim.requests if "time" in r.path.lower())


@pytest.mark.parametrize("venue", VENUES, ids=lambda v: v.name)
@pytest.mark.parametrize("offset_ms", [150_000, -150_000], ids=["ahead-150s", "behind-150s"])
def test_a_clock_jump_after_caching_resyncs_once_and_passes(
    api: ApiClient, sim: Any, online: dict[str, Any], venue: Venue, offset_ms: int
) -> None:
    # The offset cached by the first test is now 150 s wrong, beyond every exchange's window (5 s to
    # 60 s; Coinbase's JWT is valid 120 s from nbf, so 90 s behind would still pass there): the
    # exchange rejects the timestamps.
    sim.config.clock_offset_ms = offset_ms
    sim.requests.clear()
    doc, elapsed = run_test(api, online["id"])
    assert doc["status"] == "connected" and doc["error"] is None, doc
    assert abs(doc["clock_offset_ms"] - offset_ms) < 1_000, doc["clock_offset_ms"]
    assert elapsed < connection_test.TEST_BUDGET_S + MARGIN_S
    # One re-sync: the time is asked for again, once per clock the venue's calls use.
    assert 1 <= time_calls(sim) <= 2, [(r.venue, r.path) for r in sim.requests]
    assert_stored_consistently(api, online["id"], doc, ready=True)


@pytest.mark.parametrize("venue", E2E_VENUES, ids=lambda v: v.name)
def test_a_clock_that_keeps_moving_between_tests(
    api: ApiClient, sim: Any, online: dict[str, Any], venue: Venue
) -> None:
    # Each step is beyond every exchange's tolerance (5 s to 30 s), so each forces a re-sync.
    for offset_ms in (90_000, -90_000, 300_000, 0, -120_000):
        sim.config.clock_offset_ms = offset_ms
        doc, elapsed = run_test(api, online["id"])
        assert doc["status"] == "connected", (offset_ms, doc)
        assert abs(doc["clock_offset_ms"] - offset_ms) < 1_000
        assert elapsed < connection_test.TEST_BUDGET_S + MARGIN_S
        assert_stored_consistently(api, online["id"], doc, ready=True)


@pytest.mark.parametrize("venue", SPOT_VENUES, ids=lambda v: v.name)
def test_a_cold_start_with_a_wrong_clock_needs_no_retry(
    api: ApiClient, sim: Any, online: dict[str, Any], venue: Venue
) -> None:
    server_clock.forget()
    sim.config.clock_offset_ms = -90_000
    sim.requests.clear()
    doc, _ = run_test(api, online["id"])
    assert doc["status"] == "connected", doc
    assert time_calls(sim) == 1, [(r.venue, r.path) for r in sim.requests]
