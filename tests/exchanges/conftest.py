"""Running one exchange's probe against the in-process simulator, shared by every exchange's tests.

``test_every_exchange.py`` holds the cases every exchange shares, parametrised over the registry;
each ``test_<id>.py`` holds what only its exchange has.

A test module declares which exchange it tests by overriding the ``exchange_id`` fixture::

    @pytest.fixture(scope="module")
    def exchange_id() -> str:
        return "mexc"

and then uses ``sim`` (the simulator, reset, with the exchange's hosts pointed at it) and
``run_probe`` (``run_probe(demo_key, markets)``: a ``ProbeReport``, through the same
``ExchangeHttp`` allow-list the service uses).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator

import pytest

from backfuture.connection_test import diagnose
from backfuture.engine.http import ExchangeHttp, new_http_client
from backfuture.engine.probe import forget_cached_answers, probe
from backfuture.engine.report import ProbeReport
from backfuture.engine.server_clock import server_clock
from backfuture.engine.spec import ExchangeSpec
from backfuture.exchanges import Credentials, Market, exchange
from backfuture.models import AddConnectionRequest
from simulator import base_url_variables
from simulator.core import Simulator
from simulator.demo_keys import DemoKey

# The platform's egress IPs in these tests; the simulator sees requests come from the first.
PLATFORM_IPS = ["203.0.113.10", "203.0.113.11"]
SPOT = frozenset({Market.SPOT})
FUTURES = frozenset({Market.FUTURES})
BOTH = frozenset({Market.SPOT, Market.FUTURES})

# A demo key's ``markets`` note (DemoKey.markets, shown in the README) -> the connections to test it with.
_MARKETS_OF_NOTE: dict[str, list[frozenset[Market]]] = {
    "spot": [SPOT],
    "futures": [FUTURES, BOTH],
    "futures (or spot and futures)": [FUTURES, BOTH],
    "spot or futures": [SPOT, FUTURES, BOTH],
    "spot, futures or both": [SPOT, FUTURES, BOTH],
}


def markets_for(note: str) -> list[frozenset[Market]]:
    """The market sets a demo key's outcome holds for (KeyError for a note no exchange uses)."""
    return _MARKETS_OF_NOTE[note]


@pytest.fixture(scope="module")
def exchange_id() -> str:
    raise NotImplementedError("override the exchange_id fixture in the exchange's test module")


@pytest.fixture(scope="module")
def spec(exchange_id: str) -> ExchangeSpec:
    return exchange(exchange_id)


@pytest.fixture(scope="module")
def simulator(exchange_id: str) -> Iterator[Simulator]:
    """One simulator per test module, serving only this exchange's venues."""
    sim = Simulator(importlib.import_module(f"simulator.{exchange_id}").venues()).start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(simulator: Simulator, spec: ExchangeSpec, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """The simulator, reset, with this exchange's hosts pointed at their venues, and no clock offset
    or cached answer left over from an earlier test (both live as long as the process)."""
    monkeypatch.setenv("EGRESS_IPS", ",".join(PLATFORM_IPS))
    venue_of = base_url_variables()
    for host in spec.hosts:
        monkeypatch.setenv(host.env_var, simulator.base_url(venue_of[host.env_var]))
    simulator.reset()  # after EGRESS_IPS: the simulated client address is read from it
    _forget()
    yield simulator
    _forget()


def _forget() -> None:
    server_clock.forget()
    forget_cached_answers()


def pasted(demo: DemoKey) -> Credentials:
    """What the add route stores from a demo key's pasted values (a key file's "\\n" become line
    breaks, surrounding blanks go), as the service would test it."""
    request = AddConnectionRequest.model_validate(
        {"exchange": demo.exchange, "name": "demo", "api_key": demo.api_key, "api_secret": demo.api_secret}
        | ({"passphrase": demo.passphrase} if demo.passphrase is not None else {})
    )
    passphrase = request.passphrase.get_secret_value() if request.passphrase is not None else None
    return Credentials(request.api_key.get_secret_value(), request.api_secret.get_secret_value(), passphrase)


class Prober:
    """``run_probe(demo, markets)``: one probe with a fresh HTTP client, as a cold request would."""

    def __init__(self, spec: ExchangeSpec, sim: Simulator) -> None:
        self.spec = spec
        self.sim = sim

    def __call__(self, demo: DemoKey | Credentials, markets: frozenset[Market]) -> ProbeReport:
        if isinstance(demo, Credentials):
            credentials = demo
        else:
            credentials = pasted(demo)
            self.sim.configure(demo.sim_config)  # the settings the key's outcome holds under

        async def run() -> ProbeReport:
            async with new_http_client() as client:
                http = ExchangeHttp(client, self.spec.allowed_endpoints())
                return await probe(self.spec, http, credentials, markets)

        return asyncio.run(run())

    def declared(self) -> set[tuple[str, str]]:
        """(METHOD, path) of every declared call: all a probe may ever send."""
        return {(call.method, call.path) for call in self.spec.calls}

    @staticmethod
    def warnings(report: ProbeReport, markets: frozenset[Market]) -> set[str]:
        """The warning codes the contract's verdict (``connection_test.diagnose``) gives this report:
        what a demo key's description promises (``DemoKey.warnings``)."""
        result = diagnose(report, markets, PLATFORM_IPS, duration_ms=0)
        return {w["code"] for w in result.document["warnings"]}


@pytest.fixture
def run_probe(sim: Simulator, spec: ExchangeSpec) -> Prober:
    return Prober(spec, sim)
