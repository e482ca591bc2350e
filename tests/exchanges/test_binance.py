"""Binance: the official HMAC vectors byte for byte, whole requests, the allow-list, every error-table
row through classify(), apiRestrictions on the documented bodies, and the probe of every demo key
against the simulator (with -2015 judged from the other calls)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from backfuture.clock import now_ms
from backfuture.engine import probe as probe_module
from backfuture.engine.http import ExchangeHttp, ExchangeResponse, ForbiddenCall
from backfuture.engine.probe import Result, classify, judge
from backfuture.engine.report import CheckValue, ExchangeFailure
from backfuture.engine.spec import Call, Draft, Facts
from backfuture.errors import Outcome, WarningCode
from backfuture.exchanges import Credentials, Market, binance
from simulator.binance import DEMO_KEYS, BinanceVenue
from simulator.core import Fault, Simulator
from simulator.demo_keys import DemoKey
from tests.exchanges.conftest import BOTH, FUTURES, SPOT, Prober

OK, FAILED, UNKNOWN = CheckValue.OK, CheckValue.FAILED, CheckValue.UNKNOWN
SPOT_BASE = "https://api.binance.com"
FUTURES_BASE = "https://fapi.binance.com"


@pytest.fixture(scope="module")
def exchange_id() -> str:
    return "binance"


def call(name: str) -> Call:
    return next(c for c in binance.EXCHANGE.calls if c.name == name)


# --------------------------------------------------------------------------------------------
# The official vectors (binance-spot-api-docs rest-api.md, "SIGNED Endpoint Examples for POST
# /api/v3/order", HMAC Keys), byte for byte
# --------------------------------------------------------------------------------------------

DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_TS = 1_499_827_319_559
DOC_ORDER = (("symbol", "LTCBTC"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"),
             ("quantity", "1"), ("price", "0.1"))  # fmt: skip
DOC_PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
# The non-ASCII example: a symbol of the six full-width digits 1-6, percent-encoded before signing.
DOC_UNICODE_SYMBOL = "\uff11\uff12\uff13\uff14\uff15\uff16"
DOC_UNICODE_PAYLOAD = (
    "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC"
    "&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
DOC_UNICODE_SIGNATURE = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"


def doc_sign(params: tuple[tuple[str, str], ...], host: str = "spot", path: str = "/api/v3/order") -> Any:
    base = SPOT_BASE if host == "spot" else FUTURES_BASE
    draft = Draft(host=host, method="POST", base_url=base, path=path, params=params, body=None)
    return binance.sign(draft, Credentials(DOC_KEY, DOC_SECRET), DOC_TS)


def test_official_hmac_vector() -> None:
    assert binance.signature(DOC_SECRET, DOC_PAYLOAD) == DOC_SIGNATURE


def test_official_non_ascii_vector() -> None:
    assert binance.signature(DOC_SECRET, DOC_UNICODE_PAYLOAD) == DOC_UNICODE_SIGNATURE


def test_signed_request_is_the_documented_curl_line() -> None:
    # rest-api.md: curl -H "X-MBX-APIKEY: $apiKey" -X POST "https://api.binance.com/api/v3/order?<payload>&signature=…"
    signed = doc_sign(DOC_ORDER)
    assert signed.url == f"{SPOT_BASE}/api/v3/order?{DOC_PAYLOAD}&signature={DOC_SIGNATURE}"
    assert signed.headers == {"X-MBX-APIKEY": DOC_KEY}
    assert signed.content is None


def test_non_ascii_request_is_encoded_then_signed() -> None:
    signed = doc_sign((("symbol", DOC_UNICODE_SYMBOL), *DOC_ORDER[1:]))
    assert signed.url == f"{SPOT_BASE}/api/v3/order?{DOC_UNICODE_PAYLOAD}&signature={DOC_UNICODE_SIGNATURE}"


def test_futures_host_signs_the_same_way() -> None:
    signed = doc_sign(DOC_ORDER, "futures", "/fapi/v1/order/test")
    assert signed.url == f"{FUTURES_BASE}/fapi/v1/order/test?{DOC_PAYLOAD}&signature={DOC_SIGNATURE}"


def test_the_vector_through_an_independent_implementation() -> None:
    # The openssl command of rest-api.md, redone with hmac directly.
    expected = hmac.new(DOC_SECRET.encode(), DOC_PAYLOAD.encode(), hashlib.sha256).hexdigest()
    assert expected == DOC_SIGNATURE


def test_a_get_without_parameters_signs_recv_window_and_timestamp() -> None:
    draft = Draft("spot", "GET", SPOT_BASE, "/sapi/v1/account/apiRestrictions", (), None)
    signed = binance.sign(draft, Credentials(DOC_KEY, DOC_SECRET), DOC_TS)
    query = "recvWindow=5000&timestamp=1499827319559"
    expected = binance.signature(DOC_SECRET, query)
    assert signed.url == f"{SPOT_BASE}/sapi/v1/account/apiRestrictions?{query}&signature={expected}"


def test_signed_request_repr_shows_no_key_material() -> None:
    text = repr(doc_sign(DOC_ORDER))
    assert DOC_KEY not in text and DOC_SIGNATURE not in text


def test_what_is_sent_is_what_was_signed() -> None:
    captured: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        captured.append(sent)
        return httpx.Response(200, json={})

    signed = doc_sign((("symbol", DOC_UNICODE_SYMBOL), *DOC_ORDER[1:]), path="/api/v3/order/test")

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            http = ExchangeHttp(client, frozenset({("POST", SPOT_BASE + "/api/v3/order/test")}))
            await http.request("POST", signed.url, headers=signed.headers, content=signed.content)

    asyncio.run(run())
    sent = captured[0]
    assert sent.url.query.decode() == f"{DOC_UNICODE_PAYLOAD}&signature={DOC_UNICODE_SIGNATURE}"
    assert sent.content == b""


# --------------------------------------------------------------------------------------------
# The allow-list
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", f"{SPOT_BASE}/api/v3/order"),
        ("POST", f"{FUTURES_BASE}/fapi/v1/order"),
        ("POST", f"{FUTURES_BASE}/fapi/v1/leverage"),
        ("POST", f"{SPOT_BASE}/sapi/v1/capital/withdraw/apply"),
        ("POST", f"{SPOT_BASE}/sapi/v1/asset/transfer"),
        ("POST", f"{SPOT_BASE}/fapi/v1/order/test"),  # a futures path on the spot host
        ("GET", f"{FUTURES_BASE}/sapi/v1/account/apiRestrictions"),  # a spot path on the futures host
    ],
)
def test_allow_list_refuses_orders_transfers_and_withdrawals(method: str, url: str) -> None:
    def handler(_: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be reached
        raise AssertionError("a request left the machine")

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await ExchangeHttp(client, binance.EXCHANGE.allowed_endpoints()).request(method, url)

    with pytest.raises(ForbiddenCall):
        asyncio.run(run())


# --------------------------------------------------------------------------------------------
# Error tables, through classify()
# --------------------------------------------------------------------------------------------

C, R = "credentials", "read"


def bn(code: int, msg: str = "exchange text, never kept") -> dict[str, object]:
    return {"code": code, "msg": msg}


def classified(name: str, status: int, body: object, headers: dict[str, str] | None = None) -> Result:
    c = call(name)
    return classify(c, binance.EXCHANGE.host(c.host), ExchangeResponse(status, headers or {}, body))


def failure_of(
    name: str, status: int, body: object, headers: dict[str, str] | None = None
) -> ExchangeFailure:
    result = classified(name, status, body, headers)
    assert result.failure is not None, result
    return result.failure


@pytest.mark.parametrize(
    ("status", "body", "headers", "outcome", "check", "code", "retry_after"),
    [
        (401, bn(-2015), {}, Outcome.INVALID_KEY, C, "-2015", None),  # ambiguous: judged with the others
        (401, bn(-1002), {}, Outcome.INVALID_KEY, C, "-1002", None),
        (401, {"msg": "You are not authorized to execute this request."}, {}, Outcome.INVALID_KEY, C, None,
         None),
        (400, bn(-2014), {}, Outcome.INVALID_KEY, C, "-2014", None),
        (401, bn(-2008), {}, Outcome.INVALID_KEY, C, "-2008", None),
        (400, bn(-1022), {}, Outcome.INVALID_KEY, C, "-1022", None),
        (400, bn(-1021), {}, Outcome.CLOCK_SKEW, C, "-1021", None),
        (429, bn(-1003), {"retry-after": "42"}, Outcome.RATE_LIMITED, R, "-1003", 42),
        (418, bn(-1003), {"retry-after": "120"}, Outcome.RATE_LIMITED, R, "-1003", 120),
        (400, bn(-1015), {}, Outcome.RATE_LIMITED, R, "-1015", None),
        (403, None, {}, Outcome.RATE_LIMITED, R, None, None),  # WAF block, HTML body
        (500, bn(-1000), {}, Outcome.EXCHANGE_UNAVAILABLE, R, "-1000", None),
        (400, bn(-1001), {}, Outcome.EXCHANGE_UNAVAILABLE, R, "-1001", None),
        (400, bn(-1006), {}, Outcome.EXCHANGE_UNAVAILABLE, R, "-1006", None),
        (400, bn(-1007), {}, Outcome.EXCHANGE_UNAVAILABLE, R, "-1007", None),
        (400, bn(-1008), {}, Outcome.EXCHANGE_UNAVAILABLE, R, "-1008", None),
        (400, bn(-1016), {}, Outcome.EXCHANGE_UNAVAILABLE, R, "-1016", None),
        (503, bn(1, "System is under maintenance."), {"retry-after": "60"}, Outcome.EXCHANGE_UNAVAILABLE, R,
         "1", 60),
        (200, bn(1, "System is under maintenance."), {}, Outcome.EXCHANGE_UNAVAILABLE, R, "1", None),
        (400, bn(-3022), {}, Outcome.ACCOUNT_RESTRICTED, R, "-3022", None),
        (502, None, {}, Outcome.EXCHANGE_UNAVAILABLE, R, None, None),
        (200, None, {}, Outcome.EXCHANGE_UNAVAILABLE, R, None, None),  # truncated or malformed JSON
        (400, bn(-1020), {}, Outcome.EXCHANGE_ERROR, R, "-1020", None),
        (400, bn(-1131), {}, Outcome.EXCHANGE_ERROR, R, "-1131", None),  # our bug, kept for support
        (400, bn(-1013), {}, Outcome.EXCHANGE_ERROR, R, "-1013", None),  # proves trade only on an order test
        (400, bn(-5028), {}, Outcome.EXCHANGE_ERROR, R, "-5028", None),  # a futures code on the spot host
    ],
)  # fmt: skip
def test_spot_error_mapping(
    status: int,
    body: object,
    headers: dict[str, str],
    outcome: Outcome,
    check: str,
    code: str | None,
    retry_after: int | None,
) -> None:
    failure = failure_of("account", status, body, headers)
    assert (failure.outcome, failure.check, failure.exchange_code) == (outcome, check, code)
    assert failure.http_status == status
    assert failure.retry_after_s == retry_after


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (-5028, Outcome.CLOCK_SKEW),
        (-1021, Outcome.CLOCK_SKEW),
        (-4087, Outcome.ACCOUNT_RESTRICTED),
        (-4088, Outcome.ACCOUNT_RESTRICTED),
        (-4192, Outcome.ACCOUNT_RESTRICTED),
        (-4400, Outcome.ACCOUNT_RESTRICTED),
        (-4401, Outcome.ACCOUNT_RESTRICTED),
        (-4402, Outcome.ACCOUNT_RESTRICTED),
        (-2015, Outcome.INVALID_KEY),
        (-4164, Outcome.EXCHANGE_ERROR),  # an order rejection means nothing on the balance call
    ],
)
def test_futures_error_mapping(code: int, outcome: Outcome) -> None:
    failure = failure_of("futures_balance", 400, bn(code))
    assert (failure.outcome, failure.exchange_code) == (outcome, str(code))


@pytest.mark.parametrize(
    ("msg", "outcome", "code"),
    [
        ("This action is disabled on this account.", Outcome.ACCOUNT_RESTRICTED, "-2010.disabled"),
        ("This account may not place or cancel orders.", Outcome.ACCOUNT_RESTRICTED, "-2010.disabled"),
        ("This symbol is not permitted for this account.", Outcome.ACCOUNT_RESTRICTED, "-2010.symbol"),
        ("This symbol is restricted for this account.", Outcome.ACCOUNT_RESTRICTED, "-2010.symbol"),
        ("Rest API trading is not enabled.", Outcome.EXCHANGE_UNAVAILABLE, "-2010.api_off"),
        ("Account has insufficient balance for requested action.", None, None),
        ("Market is closed.", None, None),
        ("Some message Binance adds later", None, None),  # -2010 is a rejection of the order by default
    ],
)
@pytest.mark.parametrize("name", ["spot_order_test", "futures_order_test"])
def test_order_test_minus_2010_by_its_documented_message(
    name: str, msg: str, outcome: Outcome | None, code: str | None
) -> None:
    result = classified(name, 400, bn(-2010, msg))
    if outcome is None:
        assert result.ok and result.value is True
    else:
        assert result.failure is not None
        assert (result.failure.outcome, result.failure.exchange_code) == (outcome, code)


@pytest.mark.parametrize("code", [-1013])
def test_spot_filter_failures_prove_the_trade_right(code: int) -> None:
    result = classified("spot_order_test", 400, bn(code, "Filter failure: PERCENT_PRICE_BY_SIDE"))
    assert result.ok and result.value is True


@pytest.mark.parametrize(
    "code",
    [-1013, -2018, -2019, -2027, -2028, -4003, -4004, -4005, -4013, -4014, -4016, -4023, -4024, -4131, -4164],
)
def test_futures_order_rejections_prove_the_trade_right(code: int) -> None:
    result = classified("futures_order_test", 400, bn(code))
    assert result.ok and result.value is True


@pytest.mark.parametrize(
    ("name", "denied", "check"),
    [
        ("spot_order_test", Outcome.NO_TRADE_PERMISSION, "trade"),
        ("futures_balance", Outcome.FUTURES_NOT_ENABLED, "futures"),
        ("futures_order_test", Outcome.FUTURES_NOT_ENABLED, "futures"),
        ("account", Outcome.NO_READ_PERMISSION, "read"),
    ],
)
def test_minus_2015_is_the_calls_right_once_another_signed_call_passed(
    name: str, denied: Outcome, check: str
) -> None:
    key_info = classified(
        "key_info", 200, dict(DOC_KEY_INFO, enableSpotAndMarginTrading=True, enableFutures=True)
    )
    rejected = classified(name, 401, bn(-2015, "Invalid API-key, IP, or permissions for action."))
    assert rejected.ambiguous
    report = judge([key_info, rejected], BOTH, [])
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check, report.failure.exchange_code) == (
        denied,
        check,
        "-2015",
    )
    assert report.checks["credentials"] == OK


def test_futures_balance_readable_without_enable_futures_still_fails_futures() -> None:
    # UNCONFIRMED whether fapi balances answer a key without enableFutures: read both ways.
    info = classified("key_info", 200, dict(DOC_KEY_INFO, enableSpotAndMarginTrading=True))
    balance = classified("futures_balance", 200, [{"asset": "USDT", "balance": "0"}])
    order = classified("futures_order_test", 401, bn(-2015))
    for results in ([info, balance, order], [info, balance]):
        report = judge(results, FUTURES, [])
        assert report.failure is not None
        assert (report.failure.outcome, report.failure.check) == (Outcome.FUTURES_NOT_ENABLED, "futures")
        assert report.checks["futures"] == FAILED


def test_minus_2015_everywhere_is_an_invalid_key() -> None:
    results = [classified(n, 401, bn(-2015)) for n in ("key_info", "account", "spot_order_test")]
    report = judge(results, SPOT, [])
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.INVALID_KEY, "-2015")
    assert report.checks == {"credentials": FAILED}


def test_failure_never_keeps_the_exchange_message() -> None:
    failure = failure_of(
        "futures_balance", 401, bn(-2015, "Invalid API-key, IP, or permissions, request ip: 9.9.9.9")
    )
    assert all("9.9.9.9" not in str(value) for value in vars(failure).values())


@pytest.mark.parametrize(("status", "ok"), [(0, True), (1, False)])
def test_system_status(status: int, ok: bool) -> None:
    result = classified(
        "system_status", 200, {"status": status, "msg": "normal" if ok else "system_maintenance"}
    )
    assert result.ok is ok
    if not ok:
        assert result.failure is not None and result.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


def test_balances_answers() -> None:
    account = classified("account", 200, {"accountType": "SPOT", "balances": [], "canWithdraw": True})
    assert account.value == Facts(balances=True, account={"account_type": "SPOT"})
    assert classified("futures_balance", 200, [{"asset": "USDT", "balance": "1"}]).value == Facts(
        balances=True
    )
    assert classified("futures_balance", 200, {"asset": "USDT"}).failure is not None
    assert classified("spot_order_test", 200, {}).ok


# --------------------------------------------------------------------------------------------
# apiRestrictions
# --------------------------------------------------------------------------------------------

# The documented example body (developers.binance.com api-key-permission; reference §1.3), as is.
DOC_KEY_INFO: dict[str, Any] = {
    "ipRestrict": False,
    "createTime": 1698645219000,
    "enableReading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "enableMargin": False,
    "enableFutures": False,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enableFixApiTrade": False,
    "enableFixReadOnly": True,
    "enableSpotAndMarginTrading": False,
    "enablePortfolioMarginTrading": True,
}


def key_info(**changes: Any) -> Facts:
    result = classified("key_info", 200, {**DOC_KEY_INFO, **changes})
    assert isinstance(result.value, Facts), result.failure
    return result.value


def test_documented_example() -> None:
    facts = key_info()
    assert (facts.read, facts.spot_trade, facts.futures_trade, facts.withdraw) == (True, False, False, False)
    assert facts.unneeded is False
    assert facts.unknown_permissions == ()
    assert facts.ip_whitelist == ()  # ipRestrict false: no restriction
    assert facts.expires_at is None
    assert facts.account == {}  # master/sub is not reported


def test_restricted_key_whitelist_is_unknown_not_guessed() -> None:
    assert key_info(ipRestrict=True).ip_whitelist is None
    info = dict(DOC_KEY_INFO)
    del info["ipRestrict"]
    result = classified("key_info", 200, info)
    assert isinstance(result.value, Facts) and result.value.ip_whitelist is None


@pytest.mark.parametrize(
    ("changes", "withdraw", "unneeded"),
    [
        ({"enableWithdrawals": True, "ipRestrict": True}, True, False),
        ({"enableInternalTransfer": True}, False, True),
        ({"permitsUniversalTransfer": True}, False, True),
        ({"enableMargin": True}, False, True),
        ({"enableVanillaOptions": True}, False, True),
        ({"enableSpotAndMarginTrading": True, "enableFutures": True}, False, False),
    ],
)
def test_withdraw_and_unneeded_rights(changes: dict[str, Any], withdraw: bool, unneeded: bool) -> None:
    facts = key_info(**changes)
    assert (facts.withdraw, facts.unneeded) == (withdraw, unneeded)


def test_trading_authority_expiry_both_ways() -> None:
    # Older docs and SDK fixtures (binance-connector-go) carry it; the current SDK type does not.
    facts = key_info(tradingAuthorityExpirationTime=1640978149000)
    assert facts.expires_at == datetime(2021, 12, 31, 19, 15, 49, tzinfo=UTC)
    assert key_info().expires_at is None
    assert key_info(tradingAuthorityExpirationTime=0).expires_at is None
    assert key_info(tradingAuthorityExpirationTime=None).expires_at is None


def test_an_unknown_right_that_is_on_is_reported() -> None:
    assert key_info(enableCopyTrading=True).unknown_permissions == ("enableCopyTrading",)
    assert key_info(enableCopyTrading=False).unknown_permissions == ()


@pytest.mark.parametrize("field", ["enableWithdrawals", "enableReading", "ipRestrict"])
def test_a_flag_that_is_not_a_flag_is_a_degraded_answer(field: str) -> None:
    result = classified("key_info", 200, {**DOC_KEY_INFO, field: "false"})
    assert result.failure is not None and result.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


# --------------------------------------------------------------------------------------------
# The probe against the simulator: demo keys in detail (every key's outcome: test_every_exchange.py)
# --------------------------------------------------------------------------------------------


def key(label: str) -> DemoKey:
    matches = [k for k in DEMO_KEYS if k.api_key.startswith("bfdemo" + label + "0")]
    assert len(matches) == 1, label
    return matches[0]


def test_connected_key_reports_every_fact(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("Connected"), BOTH)
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
    assert report.ip_whitelist is None  # restricted, list not reported
    assert report.account == {"account_type": "SPOT"}
    assert report.warnings == [] and run_probe.warnings(report, BOTH) == set()
    assert report.key_expires_at is None
    assert report.clock_offset_ms is not None and abs(report.clock_offset_ms) < 1_000
    # One signed round: both order tests were sent and rejected on the price band, as live.
    paths = [r.path for r in sim.requests]
    assert paths.count("/api/v3/order/test") == 1 and paths.count("/fapi/v1/order/test") == 1


def test_spot_only_connection_stays_on_the_spot_host(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("Connected"), SPOT)
    assert report.failure is None
    assert report.permissions["futures"] is True
    assert run_probe.warnings(report, SPOT) == {WarningCode.UNNEEDED_PERMISSION.value}
    assert {r.venue for r in sim.requests} == {"binance-spot"}


def test_futures_only_connection_reads_futures_balances(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("Connected"), FUTURES)
    assert report.failure is None
    assert report.checks["read"] == OK and report.checks["futures"] == OK and report.checks["trade"] == OK
    called = {(r.method, r.path) for r in sim.requests}
    assert ("GET", "/api/v3/account") not in called and ("POST", "/api/v3/order/test") not in called
    assert ("GET", "/sapi/v1/account/apiRestrictions") in called and ("GET", "/fapi/v3/balance") in called


@pytest.mark.parametrize(
    ("label", "code"), [("InvalidKey", "-2015"), ("WrongSecret", "-1022"), ("IpNotAllowed", "-2015")]
)
def test_credential_failures(run_probe: Prober, label: str, code: str) -> None:
    report = run_probe(key(label), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.INVALID_KEY, code)
    assert report.checks == {"credentials": FAILED}


def test_read_only_key_minus_2015_is_the_trade_right(run_probe: Prober) -> None:
    report = run_probe(key("ReadOnly"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check, report.failure.exchange_code) == (
        Outcome.NO_TRADE_PERMISSION,
        "trade",
        "-2015",
    )
    assert report.checks["credentials"] == OK and report.checks["read"] == OK
    assert report.checks["trade"] == FAILED
    assert report.permissions == {"read": True, "trade": False, "withdraw": False, "futures": False}


@pytest.mark.parametrize("markets", [SPOT, FUTURES])
def test_key_without_reading(run_probe: Prober, markets: frozenset[Market]) -> None:
    report = run_probe(key("NoRead"), markets)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.NO_READ_PERMISSION, "read")
    assert report.checks["read"] == FAILED and report.permissions["read"] is False
    if markets == SPOT:  # /api/v3/account refused it (-2015 judged as the read right)
        assert report.checks["balance_access"] == FAILED
        assert report.failure.exchange_code == "-2015"


def test_spot_only_key_on_futures(run_probe: Prober) -> None:
    assert run_probe(key("SpotOnly"), SPOT).failure is None
    report = run_probe(key("SpotOnly"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.FUTURES_NOT_ENABLED, "futures")
    assert report.failure.exchange_code == "-2015"
    assert report.checks["futures"] == FAILED and report.checks["trade"] == OK


def test_withdrawal_key(run_probe: Prober) -> None:
    report = run_probe(key("Withdrawal"), SPOT)
    assert report.permissions["withdraw"] is True
    assert report.checks["withdraw_disabled"] == FAILED


def test_whitelist_forms(run_probe: Prober) -> None:
    assert run_probe(key("NoIpRestriction"), SPOT).ip_whitelist == []
    # Restricted to one platform IP only: Binance does not say which, so the check stays unknown.
    report = run_probe(key("WhitelistOneIp"), BOTH)
    assert report.failure is None and report.ip_whitelist is None
    assert run_probe.warnings(report, BOTH) == set()


@pytest.mark.parametrize("label", ["InternalTransfer", "UniversalTransfer"])
def test_own_account_transfers_warn_but_are_not_withdrawal(run_probe: Prober, label: str) -> None:
    report = run_probe(key(label), BOTH)
    assert report.failure is None
    assert report.permissions["withdraw"] is False
    assert report.warnings == [WarningCode.UNNEEDED_PERMISSION]


def test_expiring_trading_right(run_probe: Prober) -> None:
    report = run_probe(key("ExpiresSoon"), SPOT)
    assert report.failure is None and report.key_expires_at is not None
    days = (report.key_expires_at - datetime.now(UTC)).total_seconds() / 86_400
    assert 4.9 < days < 5.1
    assert {
        WarningCode.KEY_EXPIRES_SOON.value,
        WarningCode.IP_RESTRICTION_MISSING.value,
    } <= run_probe.warnings(report, SPOT)


@pytest.mark.parametrize(("markets", "code"), [(SPOT, "-2010.disabled"), (FUTURES, "-4088")])
def test_account_restricted(run_probe: Prober, markets: frozenset[Market], code: str) -> None:
    report = run_probe(key("Restricted"), markets)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.ACCOUNT_RESTRICTED, code)
    assert report.checks["credentials"] == OK


def test_insufficient_balance_still_proves_trade(run_probe: Prober) -> None:
    report = run_probe(key("Insufficient"), SPOT)
    assert report.failure is None and report.checks["trade"] == OK


def test_rate_limited_carries_retry_after(run_probe: Prober) -> None:
    report = run_probe(key("RateLimited"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code, report.failure.retry_after_s) == (
        Outcome.RATE_LIMITED,
        "-1003",
        42,
    )


def test_maintenance_body(run_probe: Prober) -> None:
    report = run_probe(key("Maintenance"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.EXCHANGE_UNAVAILABLE, "1")


def test_unknown_code_is_kept(run_probe: Prober) -> None:
    report = run_probe(key("UnknownError"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.EXCHANGE_ERROR, "-1020")
    assert report.checks["trade"] == OK


# --------------------------------------------------------------------------------------------
# Venue-wide conditions
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def normal_status(simulator: Simulator) -> None:
    for venue in simulator.venues.values():
        assert isinstance(venue, BinanceVenue)
        venue.system_status = 0


def test_system_maintenance_flag_is_unavailable(run_probe: Prober, sim: Simulator) -> None:
    spot = sim.venues["binance-spot"]
    assert isinstance(spot, BinanceVenue)
    spot.system_status = 1
    report = run_probe(key("Connected"), SPOT)
    assert report.failure is not None and report.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE
    assert "failed" not in {v.value for v in report.checks.values()}


def test_futures_fault_only_matters_for_futures(run_probe: Prober, sim: Simulator) -> None:
    sim.config.fault, sim.config.fault_venue = Fault.HTTP_503, "binance-futures"
    assert run_probe(key("Connected"), SPOT).failure is None
    report = run_probe(key("Connected"), BOTH)
    assert report.failure is not None and report.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


def test_clock_skew_when_a_fresh_offset_does_not_help(
    run_probe: Prober, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe_module, "now_ms", lambda: now_ms() - 60_000)
    report = run_probe(key("Connected"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.CLOCK_SKEW, "-1021")
    assert sum(r.path == "/api/v3/time" for r in sim.requests) == 2


def test_simulator_refuses_a_timestamp_more_than_one_second_ahead(run_probe: Prober, sim: Simulator) -> None:
    demo = key("Connected")
    credentials = Credentials(demo.api_key, demo.api_secret)
    draft = Draft("spot", "GET", sim.base_url("binance-spot"), "/sapi/v1/account/apiRestrictions", (), None)
    ahead = binance.sign(draft, credentials, now_ms() + 1_500)
    answer = httpx.get(ahead.url, headers=dict(ahead.headers))
    assert answer.status_code == 400 and answer.json()["code"] == -1021
    inside = binance.sign(draft, credentials, now_ms() + 500)
    assert httpx.get(inside.url, headers=dict(inside.headers)).status_code == 200
    wrong = binance.sign(draft, Credentials(demo.api_key, "x" * 64), now_ms())
    assert httpx.get(wrong.url, headers=dict(wrong.headers)).json()["code"] == -1022
