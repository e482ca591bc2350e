"""The probe engine on a made-up exchange: clocks, dependencies, fallbacks, one classification.

The exchange here is invented on purpose (no real exchange's table is under test): it shows that the
engine's behaviour comes from declarations alone.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from backfuture.connection_test import diagnose
from backfuture.engine.http import ExchangeHttp, ExchangeResponse
from backfuture.engine.probe import classify, forget_cached_answers, probe
from backfuture.engine.report import CheckValue, ProbeReport
from backfuture.engine.server_clock import server_clock
from backfuture.engine.spec import (
    DENIED,
    KEY_OR_DENIED,
    KEY_OR_UNAVAILABLE,
    PROVES_RIGHT,
    Call,
    Draft,
    Envelope,
    Errors,
    ExchangeSpec,
    Facts,
    Host,
    Inputs,
    RequestBudget,
    Role,
    Signed,
)
from backfuture.errors import Outcome
from backfuture.exchanges import Credentials, ExchangeInfo, Market

BASE = "https://api.test.example"
SPOT = frozenset({Market.SPOT})
BOTH = frozenset({Market.SPOT, Market.FUTURES})

ERRORS = Errors(
    exact={
        "1": Outcome.INVALID_KEY,
        "2": DENIED,
        "3": KEY_OR_DENIED,
        "4": Outcome.CLOCK_SKEW,
        "5": Outcome.ACCOUNT_RESTRICTED,
        "6": Outcome.RATE_LIMITED,
        "7": KEY_OR_UNAVAILABLE,
    },
    http={403: Outcome.RATE_LIMITED},
    maintenance_words=("maintenance",),
)
HOST = Host("main", "TEST_EXCHANGE_BASE_URL", BASE, Envelope(ok_codes=frozenset({"0"})), ERRORS)


def sign(draft: Draft, credentials: Credentials, timestamp_ms: int) -> Signed:
    query = "&".join(f"{k}={v}" for k, v in (*draft.params, ("ts", str(timestamp_ms))))
    return Signed(f"{draft.base_url}{draft.path}?{query}", {"X-KEY": credentials.api_key}, draft.body)


def key_facts(data: Any) -> Facts:
    return Facts(
        withdraw=data["withdraw"],
        spot_trade=data.get("trade"),
        futures_trade=data.get("futures"),
        ip_whitelist=tuple(data.get("ips", ())),
        unknown_permissions=tuple(data.get("unknown", ())),
        restricted=data.get("restricted"),
    )


def spec(*calls: Call) -> ExchangeSpec:
    time_call = Call("time", Role.SERVER_TIME, "GET", "main", "/time", signed=False)
    return ExchangeSpec(
        info=ExchangeInfo("testex", "Test", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
        hosts=(HOST,),
        calls=(time_call, *calls),
        sign=sign,
        budget=RequestBudget(10, 100, 1, "requests", "none: made up", "this test", confirmed=False),
    )


KEY_INFO = Call("key", Role.KEY_INFO, "GET", "main", "/key", read=key_facts)
BALANCES = Call("balances", Role.SPOT_READ, "GET", "main", "/balances", read=lambda d: Facts(balances=True))
ORDER_TEST = Call(
    "order", Role.SPOT_TRADE, "POST", "main", "/order/test", errors=Errors(exact={"77": PROVES_RIGHT})
)

Answer = tuple[int, Any]
Routes = Mapping[str, Answer | Callable[[httpx.Request], Answer]]

CLEAN_KEY = {"withdraw": False, "trade": True, "futures": True, "ips": ["203.0.113.10"]}


def ok(data: Any) -> Answer:
    return 200, {"code": "0", "data": data}


def err(code: str, status: int = 400, msg: str = "") -> Answer:
    return status, {"code": code, "msg": msg}


class Exchange:
    """A MockTransport that answers per path and records what was sent, in order."""

    def __init__(self, routes: Routes) -> None:
        self.routes = {"/time": ok(1_700_000_000_000), **routes}
        self.sent: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.url.path)
        answer = self.routes[request.url.path]
        status, body = answer(request) if callable(answer) else answer
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)


def run(
    exchange_spec: ExchangeSpec, routes: Routes, markets: frozenset[Market] = SPOT
) -> tuple[ProbeReport, Exchange]:
    exchange = Exchange(routes)

    async def go() -> ProbeReport:
        async with httpx.AsyncClient(transport=httpx.MockTransport(exchange.handler)) as client:
            http = ExchangeHttp(client, exchange_spec.allowed_endpoints())
            return await probe(exchange_spec, http, Credentials("key-0123456789abcdef", "secret"), markets)

    return asyncio.run(go()), exchange


@pytest.fixture(autouse=True)
def fresh_state() -> None:
    server_clock.forget()
    forget_cached_answers()


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def test_a_healthy_key_is_fully_judged_and_the_clock_is_read_once() -> None:
    report, exchange = run(
        spec(KEY_INFO, BALANCES, ORDER_TEST),
        {"/key": ok(CLEAN_KEY), "/balances": ok([]), "/order/test": ok({})},
    )
    assert report.failure is None
    assert report.checks == {
        "credentials": CheckValue.OK,
        "read": CheckValue.OK,
        "balance_access": CheckValue.OK,
        "trade": CheckValue.OK,
        "withdraw_disabled": CheckValue.OK,
    }
    assert report.permissions == {"read": True, "trade": True, "withdraw": False, "futures": True}
    assert report.ip_whitelist == ["203.0.113.10"]
    assert exchange.sent.count("/time") == 1 and exchange.sent[0] == "/time"


def test_a_warm_container_signs_with_the_cached_offset() -> None:
    routes = {"/key": ok(CLEAN_KEY), "/balances": ok([]), "/order/test": ok({})}
    run(spec(KEY_INFO, BALANCES, ORDER_TEST), routes)
    _, exchange = run(spec(KEY_INFO, BALANCES, ORDER_TEST), routes)
    assert "/time" not in exchange.sent


def test_a_timestamp_rejection_resyncs_the_clock_once_then_reports_clock_skew() -> None:
    report, exchange = run(spec(KEY_INFO), {"/key": err("4")})
    assert report.failure is not None and report.failure.outcome is Outcome.CLOCK_SKEW
    assert exchange.sent == ["/time", "/key", "/time", "/key"]


def test_a_dependent_call_starts_once_its_input_is_known_and_uses_it() -> None:
    uid = Call("uid", Role.LOOKUP, "GET", "main", "/uid", read=lambda d: d["uid"])
    key = Call(
        "key", Role.KEY_INFO, "GET", "main", "/key", needs=("uid",), read=key_facts,
        params=lambda inputs: {"uid": inputs.value("uid"), "accessKey": inputs.api_key},
    )  # fmt: skip
    seen: list[str] = []

    def key_answer(request: httpx.Request) -> Answer:
        seen.append(str(request.url.params["uid"]))
        return ok(CLEAN_KEY)

    report, exchange = run(spec(uid, key), {"/uid": ok({"uid": 42}), "/key": key_answer})
    assert seen == ["42"]
    assert exchange.sent.index("/uid") < exchange.sent.index("/key")
    assert report.permissions["withdraw"] is False


def test_a_dependent_call_does_not_run_when_its_input_failed() -> None:
    uid = Call("uid", Role.LOOKUP, "GET", "main", "/uid", read=lambda d: d["uid"])
    key = Call("key", Role.KEY_INFO, "GET", "main", "/key", needs=("uid",), read=key_facts)
    report, exchange = run(spec(uid, key), {"/uid": err("1", 401), "/key": ok(CLEAN_KEY)})
    assert "/key" not in exchange.sent
    assert report.failure is not None and report.failure.outcome is Outcome.INVALID_KEY


def test_a_fallback_answers_in_place_of_the_call_it_replaces() -> None:
    fallback = Call(
        "key_v3", Role.KEY_INFO, "GET", "main", "/v3/key", needs=("key",), read=key_facts,
        when=lambda inputs: inputs.failed_with("key") == "85",
    )  # fmt: skip
    report, exchange = run(spec(KEY_INFO, fallback), {"/key": err("85"), "/v3/key": ok(CLEAN_KEY)})
    assert report.failure is None and report.permissions["withdraw"] is False
    assert exchange.sent[-1] == "/v3/key"
    # Not needed: the fallback stays silent.
    _, exchange = run(spec(KEY_INFO, fallback), {"/key": ok(CLEAN_KEY)})
    assert "/v3/key" not in exchange.sent


def test_public_answers_that_change_rarely_are_cached() -> None:
    symbols = Call("symbols", Role.LOOKUP, "GET", "main", "/symbols", signed=False, cache_s=3600)
    order = Call(
        "order", Role.SPOT_TRADE, "POST", "main", "/order/test", needs=("symbols",),
        params=lambda inputs: {"symbol": inputs.value("symbols")[0]},
    )  # fmt: skip
    routes: Routes = {"/symbols": ok(["MXUSDT"]), "/order/test": ok({})}
    run(spec(symbols, order), routes)
    report, exchange = run(spec(symbols, order), routes)
    assert exchange.sent == ["/order/test"] and report.checks["trade"] is CheckValue.OK


def test_calls_for_markets_not_asked_for_are_not_made() -> None:
    futures = Call(
        "futures", Role.FUTURES_READ, "GET", "main", "/futures", markets=frozenset({Market.FUTURES})
    )
    _, exchange = run(spec(KEY_INFO, futures), {"/key": ok(CLEAN_KEY), "/futures": ok({})})
    assert "/futures" not in exchange.sent


# --------------------------------------------------------------------------------------------
# Judging
# --------------------------------------------------------------------------------------------


def test_an_ambiguous_code_is_invalid_key_when_nothing_else_passed() -> None:
    report, _ = run(spec(BALANCES, ORDER_TEST), {"/balances": err("3", 401), "/order/test": err("3", 401)})
    assert report.failure is not None and report.failure.outcome is Outcome.INVALID_KEY


def test_an_ambiguous_code_is_a_denial_when_another_signed_call_passed() -> None:
    report, _ = run(spec(BALANCES, ORDER_TEST), {"/balances": ok([]), "/order/test": err("3", 401)})
    assert report.failure is not None and report.failure.outcome is Outcome.NO_TRADE_PERMISSION
    assert report.failure.exchange_code == "3"
    assert report.checks["credentials"] is CheckValue.OK and report.checks["trade"] is CheckValue.FAILED


def test_a_key_or_unavailable_answer_is_invalid_key_alone_and_an_outage_beside_a_proven_key() -> None:
    alone, _ = run(spec(BALANCES, ORDER_TEST), {"/balances": err("7", 401), "/order/test": err("7", 401)})
    assert alone.failure is not None and alone.failure.outcome is Outcome.INVALID_KEY
    proven, _ = run(spec(BALANCES, ORDER_TEST), {"/balances": ok([]), "/order/test": err("7", 401)})
    assert proven.failure is not None and proven.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE
    assert proven.failure.exchange_code == "7" and proven.checks["credentials"] is CheckValue.OK


def test_a_best_effort_call_failing_never_fails_the_test_by_itself() -> None:
    best_effort = Call("key", Role.KEY_INFO, "GET", "main", "/key", read=key_facts, best_effort=True)
    for answer in [(404, "<html>Not Found</html>"), err("1", 401), err("2"), (503, "down")]:
        report, _ = run(
            spec(best_effort, BALANCES, ORDER_TEST),
            {"/key": answer, "/balances": ok([]), "/order/test": ok({})},
        )
        assert report.failure is None, answer
        assert report.permissions["withdraw"] is None  # unknown: connection_test warns, not trading-ready
    report, _ = run(spec(best_effort, BALANCES), {"/key": err("6"), "/balances": ok([])})
    assert report.failure is not None and report.failure.outcome is Outcome.RATE_LIMITED


def test_the_keys_own_facts_deny_a_right_even_when_a_call_passed() -> None:
    report, _ = run(
        spec(KEY_INFO, BALANCES, ORDER_TEST),
        {"/key": ok({**CLEAN_KEY, "trade": False}), "/balances": ok([]), "/order/test": ok({})},
    )
    assert report.failure is not None and report.failure.outcome is Outcome.NO_TRADE_PERMISSION


def test_unknown_permission_names_leave_withdrawal_unverified() -> None:
    report, _ = run(
        spec(KEY_INFO, BALANCES), {"/key": ok({**CLEAN_KEY, "unknown": ["WALLET_X"]}), "/balances": ok([])}
    )
    assert report.permissions["withdraw"] is None and report.unknown_permissions == ["WALLET_X"]
    assert "withdraw_disabled" not in report.checks


def test_a_closed_futures_api_comes_before_the_keys_futures_rights() -> None:
    api = Call(
        "futures_api",
        Role.FUTURES_API,
        "GET",
        "main",
        "/contract",
        signed=False,
        read=lambda d: d["apiAllowed"],
    )
    routes: dict[str, Answer] = {
        "/key": ok({**CLEAN_KEY, "futures": False}),
        "/contract": ok({"apiAllowed": False}),
    }
    report, _ = run(spec(KEY_INFO, api), routes, BOTH)
    assert report.failure is not None and report.failure.outcome is Outcome.FUTURES_API_UNAVAILABLE
    routes["/contract"] = ok({"apiAllowed": True})
    report, _ = run(spec(KEY_INFO, api), routes, BOTH)
    assert report.failure is not None and report.failure.outcome is Outcome.FUTURES_NOT_ENABLED


def test_the_most_fundamental_failure_is_reported() -> None:
    report, _ = run(
        spec(KEY_INFO, BALANCES, ORDER_TEST),
        {"/key": err("5"), "/balances": err("2"), "/order/test": err("1", 401)},
    )
    assert report.failure is not None and report.failure.outcome is Outcome.INVALID_KEY


def test_a_restriction_the_key_reports_is_account_restricted_on_the_credentials_check() -> None:
    routes: dict[str, Answer] = {"/key": ok({**CLEAN_KEY, "restricted": True}), "/balances": ok([])}
    report, _ = run(spec(KEY_INFO, BALANCES), routes)
    assert report.failure is not None and report.failure.outcome is Outcome.ACCOUNT_RESTRICTED
    assert report.failure.check == "credentials" and report.failure.exchange_code is None
    assert report.permissions["withdraw"] is False and report.checks["read"] is CheckValue.OK
    result = diagnose(report, SPOT, ["203.0.113.10"], 1)
    assert result.status.value == "failed" and result.document["error"]["code"] == "account_restricted"
    assert result.document["checks"]["credentials"] == "failed" and result.trading_ready is False
    # Not restricted, or not said: the same key connects.
    for said in (False, None):
        routes["/key"] = ok({**CLEAN_KEY, "restricted": said})
        report, _ = run(spec(KEY_INFO, BALANCES), routes)
        assert report.failure is None, said


def test_a_restricted_key_that_can_withdraw_is_still_refused() -> None:
    report, _ = run(
        spec(KEY_INFO, BALANCES), {"/key": ok({**CLEAN_KEY, "withdraw": True, "restricted": True}),
                                   "/balances": ok([])},
    )  # fmt: skip
    assert report.failure is not None and report.failure.outcome is Outcome.ACCOUNT_RESTRICTED
    assert report.permissions["withdraw"] is True
    result = diagnose(report, SPOT, ["203.0.113.10"], 1)
    assert result.refused and result.document["error"]["code"] == "withdrawal_enabled"


def test_a_reported_restriction_takes_its_place_among_the_failures() -> None:
    key_and_balances = spec(KEY_INFO, BALANCES)
    restricted = ok({**CLEAN_KEY, "restricted": True})
    # Behind a more fundamental failure of another call...
    report, _ = run(key_and_balances, {"/key": restricted, "/balances": err("1", 401)})
    assert report.failure is not None and report.failure.outcome is Outcome.INVALID_KEY
    # ...ahead of a missing right, whether a call or the key's facts report it.
    report, _ = run(key_and_balances, {"/key": restricted, "/balances": err("2")})
    assert report.failure is not None and report.failure.outcome is Outcome.ACCOUNT_RESTRICTED
    report, _ = run(spec(KEY_INFO, BALANCES, ORDER_TEST),
                    {"/key": ok({**CLEAN_KEY, "trade": False, "restricted": True}), "/balances": ok([]),
                     "/order/test": ok({})})  # fmt: skip
    assert report.failure is not None and report.failure.outcome is Outcome.ACCOUNT_RESTRICTED


def test_any_answer_reporting_a_restriction_counts() -> None:
    account = Call("account", Role.KEY_INFO, "GET", "main", "/account",
                   read=lambda d: Facts(restricted=d["state"] != "working"))  # fmt: skip
    routes: dict[str, Answer] = {
        "/key": ok({**CLEAN_KEY, "restricted": False}),
        "/account": ok({"state": "lock"}),
    }
    report, _ = run(spec(KEY_INFO, account), routes)
    assert report.failure is not None and report.failure.outcome is Outcome.ACCOUNT_RESTRICTED
    routes["/account"] = ok({"state": "working"})
    report, _ = run(spec(KEY_INFO, account), routes)
    assert report.failure is None


def test_read_with_sees_the_tested_key_to_pick_its_entry() -> None:
    def mine(data: Any, inputs: Inputs) -> Facts:
        return key_facts(next(entry for entry in data if entry["key"] == inputs.api_key))

    keys = Call("keys", Role.KEY_INFO, "GET", "main", "/keys", read=key_facts, read_with=mine)
    other = {**CLEAN_KEY, "key": "key-other", "withdraw": True}
    listed = ok([other, {**CLEAN_KEY, "key": "key-0123456789abcdef"}])
    report, _ = run(spec(keys), {"/keys": listed})
    assert report.failure is None and report.permissions["withdraw"] is False
    # Read on its own (a recorded answer), the answer goes to ``read``.
    assert not classify(keys, HOST, response(*listed)).ok


# --------------------------------------------------------------------------------------------
# Classifying one answer
# --------------------------------------------------------------------------------------------


def response(status: int, body: Any, headers: dict[str, str] | None = None) -> ExchangeResponse:
    parsed = body if not isinstance(body, str) else None
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    return ExchangeResponse(status, httpx.Headers(headers or {}), parsed)


@pytest.mark.parametrize(
    ("call", "status", "body", "headers", "outcome", "retry_after"),
    [
        (BALANCES, 400, {"code": "1"}, {}, Outcome.INVALID_KEY, None),
        (BALANCES, 400, {"code": "2"}, {}, Outcome.NO_READ_PERMISSION, None),
        (ORDER_TEST, 400, {"code": "2"}, {}, Outcome.NO_TRADE_PERMISSION, None),
        (BALANCES, 429, {"code": "x"}, {"Retry-After": "7"}, Outcome.RATE_LIMITED, 7),
        (BALANCES, 418, None, {}, Outcome.RATE_LIMITED, None),
        (BALANCES, 403, "<html>WAF</html>", {}, Outcome.RATE_LIMITED, None),
        (BALANCES, 500, {"code": "500", "msg": "Under MAINTENANCE"}, {}, Outcome.EXCHANGE_UNAVAILABLE, None),
        (BALANCES, 200, {"code": "999", "msg": "maintenance window"}, {}, Outcome.EXCHANGE_UNAVAILABLE, None),
        (BALANCES, 502, "<html>bad gateway</html>", {}, Outcome.EXCHANGE_UNAVAILABLE, None),
        (BALANCES, 200, "{truncated", {}, Outcome.EXCHANGE_UNAVAILABLE, None),
        (BALANCES, 400, {"code": "424242", "msg": "secret echo key-0123"}, {}, Outcome.EXCHANGE_ERROR, None),
        (KEY_INFO, 200, {"code": "0", "data": {"no": "permissions"}}, {}, Outcome.EXCHANGE_UNAVAILABLE, None),
    ],
)
def test_classify(
    call: Call, status: int, body: Any, headers: dict[str, str], outcome: Outcome, retry_after: int | None
) -> None:
    result = classify(call, HOST, response(status, body, headers))
    assert result.failure is not None and result.failure.outcome is outcome
    assert result.failure.retry_after_s == retry_after
    assert "secret echo" not in str(result.failure)  # the exchange's message is never kept


def test_an_order_rejection_proves_the_right() -> None:
    assert classify(ORDER_TEST, HOST, response(400, {"code": "77"})).ok
    assert not classify(BALANCES, HOST, response(400, {"code": "77"})).ok


def test_a_success_is_read_by_the_call() -> None:
    result = classify(KEY_INFO, HOST, response(200, {"code": "0", "data": CLEAN_KEY}))
    assert result.ok and isinstance(result.value, Facts) and result.value.withdraw is False


def test_an_exchange_code_that_could_carry_input_is_not_kept() -> None:
    result = classify(BALANCES, HOST, response(400, {"code": "key-0123456789abcdef and more"}))
    assert result.failure is not None and result.failure.exchange_code is None


# --------------------------------------------------------------------------------------------
# Counting error answers (the platform's error budget: engine.spec.ErrorBudget)
# --------------------------------------------------------------------------------------------


def test_a_healthy_test_gives_no_error_answers() -> None:
    report, _ = run(
        spec(KEY_INFO, BALANCES, ORDER_TEST),
        {"/key": ok(CLEAN_KEY), "/balances": ok([]), "/order/test": ok({})},
    )
    assert report.error_answers == {}


def test_error_answers_are_counted_by_endpoint() -> None:
    report, _ = run(
        spec(KEY_INFO, BALANCES, ORDER_TEST),
        # a denial, and an order rejection that proves the right: the exchange counts both as errors
        {"/key": ok(CLEAN_KEY), "/balances": err("2", 403), "/order/test": err("77")},
    )
    assert report.failure is not None and report.failure.outcome is Outcome.NO_READ_PERMISSION
    assert report.checks["trade"] is CheckValue.OK
    assert report.error_answers == {"/balances": 1, "/order/test": 1}


def test_a_rejected_key_counts_on_each_pass_of_a_clock_resync() -> None:
    report, _ = run(spec(KEY_INFO), {"/key": err("4")})
    assert report.error_answers == {"/key": 2}
    report, _ = run(spec(KEY_INFO), {"/key": err("1", 401)})
    assert report.error_answers == {"/key": 1}


def test_rate_limits_and_clock_errors_are_error_answers_but_silence_is_not() -> None:
    def timeout(request: httpx.Request) -> Answer:
        raise httpx.ReadTimeout("slow", request=request)

    report, _ = run(spec(KEY_INFO, BALANCES), {"/key": (429, {}), "/balances": timeout})
    assert report.error_answers == {"/key": 1}
    server_clock.forget()
    report, _ = run(spec(KEY_INFO), {"/time": err("9", 400), "/key": ok(CLEAN_KEY)})
    assert report.error_answers == {"/time": 1}


def test_a_success_the_call_cannot_read_is_not_an_error_answer() -> None:
    report, _ = run(spec(KEY_INFO), {"/key": ok({"no": "permissions"})})
    assert report.failure is not None and report.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE
    assert report.error_answers == {}
