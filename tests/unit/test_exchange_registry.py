"""Contract tests over the registry: what every supported exchange must bring, checked for each.

Adding an exchange (docs/adding-an-exchange.md) is a module, a simulator module and a test module;
these tests fail until all three are there and agree, without naming any exchange.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from backfuture.engine.spec import DENIED, KEY_OR_DENIED, ExchangeSpec, Role, Verdict
from backfuture.errors import OUTCOMES, REQUEST_ERRORS, WARNINGS, Outcome
from backfuture.exchanges import exchange, planned, supported_ids
from simulator import base_url_variables

ROOT = Path(__file__).resolve().parents[2]
SUPPORTED = supported_ids()

# The outcomes every exchange can produce whatever its tables say: the engine's own.
# (ip_not_allowed only where the exchange's table has a code for it: some answer a foreign IP with
# the code of a bad key, and invalid_key's remedy says so.)
ALWAYS = {"connected", Outcome.INVALID_KEY, Outcome.RATE_LIMITED, Outcome.EXCHANGE_UNAVAILABLE,
          Outcome.EXCHANGE_ERROR, Outcome.WITHDRAWAL_ENABLED}  # fmt: skip
_DENIAL = {
    Role.KEY_INFO: Outcome.NO_READ_PERMISSION,
    Role.SPOT_READ: Outcome.NO_READ_PERMISSION,
    Role.SPOT_TRADE: Outcome.NO_TRADE_PERMISSION,
    Role.FUTURES_READ: Outcome.FUTURES_NOT_ENABLED,
    Role.FUTURES_TRADE: Outcome.FUTURES_NOT_ENABLED,
}


def producible(spec: ExchangeSpec) -> set[str]:
    """Every outcome the exchange's declarations can lead to."""
    outcomes: set[str] = set(ALWAYS)
    for host in spec.hosts:
        for answer in [*host.errors.exact.values(), *host.errors.http.values()]:
            if isinstance(answer, Outcome):
                outcomes.add(answer)
    denies = any(a in (DENIED, KEY_OR_DENIED) for h in spec.hosts for a in h.errors.exact.values())
    for call in spec.calls:
        if denies and call.role in _DENIAL and not call.best_effort:
            outcomes.add(call.denied or _DENIAL[call.role])
        if call.role is Role.FUTURES_API:
            outcomes.add(Outcome.FUTURES_API_UNAVAILABLE)
    return outcomes


@pytest.mark.parametrize("exchange_id", SUPPORTED)
def test_the_module_declares_itself_under_its_own_id(exchange_id: str) -> None:
    spec = exchange(exchange_id)
    assert spec.info.id == exchange_id
    assert spec.info.needs_passphrase is spec.credentials.passphrase or not spec.credentials.passphrase
    names = [c.name for c in spec.calls]
    assert len(names) == len(set(names)), "call names are unique"
    hosts = {h.name for h in spec.hosts}
    for call in spec.calls:
        assert call.host in hosts, call.name
        assert all(n in names[: names.index(call.name)] for n in call.needs), (
            f"{call.name} needs a later call"
        )
    signed_hosts = {c.host for c in spec.calls if c.signed}
    timed_hosts = {c.host for c in spec.calls if c.role is Role.SERVER_TIME}
    assert signed_hosts <= timed_hosts, "every host with signed calls has a server-time call"


@pytest.mark.parametrize("exchange_id", SUPPORTED)
def test_no_declared_call_can_place_an_order_or_move_funds(exchange_id: str) -> None:
    for call in exchange(exchange_id).calls:
        if call.method != "GET":
            assert call.role in (Role.SPOT_TRADE, Role.FUTURES_TRADE), call.name
            assert re.search(r"test|preview", call.path), f"{call.path} is not an order test or preview"


@pytest.mark.parametrize("exchange_id", SUPPORTED)
def test_every_fact_has_a_source(exchange_id: str) -> None:
    facts = exchange(exchange_id).facts
    assert facts, "the module lists the exchange facts it relies on"
    for fact in facts:
        assert fact.topic and fact.statement and fact.source, fact


@pytest.mark.parametrize("exchange_id", SUPPORTED)
def test_the_simulator_stands_in_for_every_host(exchange_id: str) -> None:
    module = importlib.import_module(f"simulator.{exchange_id}")
    venues = {venue.name for venue in module.venues()}
    variables = base_url_variables()
    for host in exchange(exchange_id).hosts:
        assert variables[host.env_var] == f"{exchange_id}-{host.name}"
        assert f"{exchange_id}-{host.name}" in venues


def test_base_url_variables_are_distinct_across_exchanges() -> None:
    names = [h.env_var for id_ in SUPPORTED for h in exchange(id_).hosts]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("exchange_id", SUPPORTED)
def test_a_demo_key_for_every_outcome_the_exchange_can_produce(exchange_id: str) -> None:
    keys = importlib.import_module(f"simulator.{exchange_id}").DEMO_KEYS
    assert all(k.exchange == exchange_id for k in keys)
    have = {k.outcome for k in keys}
    missing = producible(exchange(exchange_id)) - have
    assert not missing, f"no demo key for {sorted(missing)}"
    if exchange(exchange_id).info.needs_passphrase:
        assert Outcome.INVALID_PASSPHRASE in have


@pytest.mark.parametrize("exchange_id", SUPPORTED)
def test_a_test_module_with_its_vectors_and_tables(exchange_id: str) -> None:
    assert (ROOT / "tests" / "exchanges" / f"test_{exchange_id}.py").is_file()


def test_no_user_facing_text_names_an_exchange() -> None:
    """Messages, remedies and the models' field descriptions stay true for every exchange (the
    models' request examples may show one: they are examples)."""
    from pydantic import BaseModel

    from backfuture import models

    names = {exchange(i).info.name for i in SUPPORTED} | {p.name for p in planned().values()}
    texts = [t.message + " " + t.remedy for t in [*OUTCOMES.values(), *WARNINGS.values()]]
    texts += [e.message + " " + e.remedy for _, e in REQUEST_ERRORS.values()]

    def descriptions(node: object) -> list[str]:
        if isinstance(node, dict):
            found = [node["description"]] if isinstance(node.get("description"), str) else []
            return found + [
                d for key, value in node.items() if key != "examples" for d in descriptions(value)
            ]
        if isinstance(node, list):
            return [d for item in node for d in descriptions(item)]
        return []

    for model in vars(models).values():
        if isinstance(model, type) and issubclass(model, BaseModel) and model is not BaseModel:
            texts += descriptions(model.model_json_schema())
    for name in names:
        pattern = re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE)
        assert not [t for t in texts if pattern.search(t)], name


def test_verdicts_are_the_only_non_outcome_answers() -> None:
    for id_ in SUPPORTED:
        for host in exchange(id_).hosts:
            for answer in host.errors.exact.values():
                assert isinstance(answer, Outcome | Verdict)
