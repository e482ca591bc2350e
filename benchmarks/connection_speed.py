"""Connection-test time per exchange and market, warm and cold, against the simulator.

Every run goes end to end through ``backfuture.connection_test.run_connection_test`` (probe, clock,
diagnosis) with a demo key that connects, while the simulator holds every response for a fixed
latency. The figure that matters is the ratio to that one round trip: a test whose calls run
concurrently costs about one round trip warm (cached clock offset) and two cold (one server-time
call, then the fan-out).

* warm: one worker thread, so one event loop and one HTTP client with keep-alive connections, as in
  a warm Lambda container; one unmeasured run first fills the clock-offset cache and the pool.
* cold: every run in a new thread (a new event loop and HTTP client, so new connections) after
  ``server_clock.forget()``, as in a new container.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING, Literal

from benchmarks._env import percentile, scoped_env

if TYPE_CHECKING:
    from simulator.core import Simulator
    from simulator.demo_keys import DemoKey

Mode = Literal["warm", "cold"]
TARGETS: dict[Mode, float] = {"warm": 1.5, "cold": 2.5}


@dataclass(frozen=True)
class Case:
    exchange: str
    label: str  # as printed: "spot", "futures (spot+futures)", "futures only"
    markets: tuple[str, ...]


# "futures" rows ask for spot and futures (what a futures trader connects: both hosts, both clocks,
# the most calls); "futures only" rows skip the spot calls.
def all_cases() -> tuple[Case, ...]:
    """Every registered exchange, for each market it offers."""
    from backfuture.exchanges import Market, info, supported_ids

    cases: list[Case] = []
    for exchange_id in supported_ids():
        cases.append(Case(exchange_id, "spot", ("spot",)))
        if Market.FUTURES in info(exchange_id).markets:
            cases.append(Case(exchange_id, "futures (spot+futures)", ("spot", "futures")))
            cases.append(Case(exchange_id, "futures only", ("futures",)))
    return tuple(cases)


@dataclass(frozen=True)
class SpeedRow:
    case: Case
    mode: Mode
    latency_ms: int
    samples_ms: tuple[float, ...]
    exchange_calls: int  # requests the simulator received during one measured test

    @property
    def median_ms(self) -> float:
        return median(self.samples_ms)

    @property
    def p90_ms(self) -> float:
        return percentile(list(self.samples_ms), 0.9)

    @property
    def ratio(self) -> float | None:
        """Median over the simulated round trip; None when no latency was simulated."""
        return self.median_ms / self.latency_ms if self.latency_ms else None

    @property
    def target(self) -> float:
        return TARGETS[self.mode]

    @property
    def passed(self) -> bool | None:
        return None if self.ratio is None else self.ratio <= self.target


@dataclass(frozen=True)
class SpeedReport:
    rows: list[SpeedRow]


def measure_connection_tests(
    repetitions: int = 15, latency_ms: int = 100, cases: tuple[Case, ...] | None = None
) -> SpeedReport:
    from simulator import all_venues, base_url_variables
    from simulator.core import Simulator

    sim = Simulator(all_venues())
    sim.start()
    try:
        env = {variable: sim.base_url(venue) for variable, venue in base_url_variables().items()}
        with scoped_env(env):
            sim.config.latency_ms = latency_ms
            rows = [
                _measure(sim, case, mode, repetitions, latency_ms)
                for case in cases or all_cases()
                for mode in ("warm", "cold")
            ]
    finally:
        sim.stop()
    return SpeedReport(rows)


def _measure(sim: Simulator, case: Case, mode: Mode, repetitions: int, latency_ms: int) -> SpeedRow:
    from backfuture.engine.server_clock import server_clock

    run = _connected_test(case)
    sim.configure(demo_key(case.exchange).sim_config)  # e.g. MEXC futures open to the API
    samples: list[float] = []
    calls = 0
    if mode == "warm":
        with _worker() as submit:
            submit(run)  # fills the clock-offset cache and the connection pool
            for _ in range(repetitions):
                before = len(sim.requests)
                samples.append(submit(run))
                calls = len(sim.requests) - before
    else:
        for _ in range(repetitions):
            server_clock.forget()
            before = len(sim.requests)
            with _worker() as submit:
                samples.append(submit(run))
            calls = len(sim.requests) - before
    return SpeedRow(case, mode, latency_ms, tuple(samples), calls)


def _connected_test(case: Case) -> Callable[[], float]:
    """One timed connection test with the case's demo key; fails loudly if it does not connect."""
    from backfuture.connection_test import run_connection_test
    from backfuture.exchanges import Credentials, Market
    from simulator.demo_keys import platform_ips

    demo = demo_key(case.exchange)
    credentials = Credentials(demo.api_key, demo.api_secret, demo.passphrase)
    markets = frozenset(Market(m) for m in case.markets)
    egress_ips = platform_ips()

    def run() -> float:
        started = time.perf_counter()
        result = run_connection_test(case.exchange, credentials, markets, egress_ips)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if result.status.value != "connected":
            raise RuntimeError(f"{case.exchange} {case.label}: demo key gave {result.status.value}")
        return elapsed_ms

    return run


def demo_key(exchange: str) -> DemoKey:
    """The exchange's plain connecting demo key: outcome connected, futures included where the exchange
    offers futures, no warnings."""
    import importlib

    from backfuture.exchanges import Market, info

    market = "futures" if Market.FUTURES in info(exchange).markets else "spot"
    keys: list[DemoKey] = importlib.import_module(f"simulator.{exchange}").DEMO_KEYS
    for key in keys:
        if key.outcome == "connected" and market in key.markets and not key.warnings:
            return key
    raise LookupError(f"no connecting demo key for {exchange}")


@contextmanager
def _worker() -> Iterator[Callable[[Callable[[], float]], float]]:
    """A thread of its own: connection_test keeps its event loop and HTTP client per thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:

        def submit(call: Callable[[], float]) -> float:
            return pool.submit(call).result()

        try:
            yield submit
        finally:
            pool.submit(_close_thread_state).result()


def _close_thread_state() -> None:
    """Close this thread's HTTP client and loop (what a container's end would do)."""
    from backfuture import connection_test

    state = getattr(connection_test._local, "state", None)
    if state is None:
        return
    if state.client is not None:
        state.runner.run(state.client.aclose())
    state.runner.close()
    del connection_test._local.state
