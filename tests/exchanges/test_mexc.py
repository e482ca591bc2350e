"""MEXC: signing (official vectors, bytes on the wire), the error tables, apiKeyInfo, the allow-list,
and the probe against the simulator for every demo key."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from backfuture.exchanges import Credentials, Market, mexc
from simulator.core import Fault, Simulator
from simulator.demo_keys import DemoKey
from simulator.mexc import DEMO_KEYS
from tests.exchanges.conftest import BOTH, FUTURES, PLATFORM_IPS, SPOT, Prober

OK, FAILED = CheckValue.OK, CheckValue.FAILED


@pytest.fixture(scope="module")
def exchange_id() -> str:
    return "mexc"


def call(name: str) -> Call:
    return next(c for c in mexc.EXCHANGE.calls if c.name == name)


# [MX-DOC] "SIGNED Endpoint Examples for POST /api/v3/order"
DOC_KEY = "mx0aBYs33eIilxBWC5"
DOC_SECRET = "45d0b3c26f2644f19bfb98b07741b2f5"
DOC_PARAMS = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
DOC_SIGNATURE = "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
DOC_TIME = 1644489390087
FUTURES_EMPTY_SIGNATURE = "8c0d829f0a56a0c771c2e0623e07a8f20d55a32b83a7eeb3b9c1c75d20c153b6"
CREDS = Credentials(DOC_KEY, DOC_SECRET)
BASE = "https://api.mexc.com"
DOC_ORDER = (("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "LIMIT"), ("quantity", "1"), ("price", "11"))


# --------------------------------------------------------------------------------------------
# Vectors
# --------------------------------------------------------------------------------------------


def test_spot_signature_matches_docs_examples_1_and_2() -> None:
    assert mexc.sign_spot(DOC_SECRET, DOC_PARAMS) == DOC_SIGNATURE


def test_spot_signature_matches_docs_example_3_query_and_body_joined_without_ampersand() -> None:
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT"
    body = "quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
    expected = "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"
    assert mexc.sign_spot(DOC_SECRET, query + body) == expected
    assert mexc.sign_spot(DOC_SECRET, f"{query}&{body}") != expected


def test_signed_spot_query_reproduces_the_docs_request() -> None:
    query = mexc.signed_spot_query(DOC_SECRET, dict(DOC_ORDER), timestamp_ms=DOC_TIME)
    assert query == f"{DOC_PARAMS}&signature={DOC_SIGNATURE}"


def test_futures_signature_matches_the_computed_reference_vector() -> None:
    assert mexc.sign_futures(DOC_SECRET, DOC_KEY, str(DOC_TIME), "") == FUTURES_EMPTY_SIGNATURE


def test_spot_query_encodes_values_with_uppercase_hex_and_keeps_order() -> None:
    query = mexc.build_spot_query({"network": "BEP20(BSC)", "coin": "USDT", "list": "a,b c"})
    assert query == "network=BEP20%28BSC%29&coin=USDT&list=a%2Cb%20c"


def test_futures_param_string_sorts_get_params_and_signs_raw_post_body() -> None:
    assert mexc.futures_param_string("GET", {"symbol": "BTC_USDT", "page_size": 10, "x": None}) == (
        "page_size=10&symbol=BTC_USDT"
    )
    assert mexc.futures_param_string("GET") == ""
    body = '{"symbol":"BTC_USDT","vol":1}'
    assert mexc.futures_param_string("POST", body=body) == body


# --------------------------------------------------------------------------------------------
# Bytes on the wire: what mexc.sign builds is exactly what is sent, and what was signed
# --------------------------------------------------------------------------------------------


def draft(
    host: str, method: str, path: str, params: tuple[tuple[str, str], ...] = (), body: str | None = None
) -> Draft:
    return Draft(host=host, method=method, base_url=BASE, path=path, params=params, body=body)


def send(method: str, url: str, headers: Any, content: str | None, path: str) -> httpx.Request:
    """Send through ExchangeHttp (allowing this one endpoint) and capture the request as it left."""
    captured: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        captured.append(sent)
        return httpx.Response(200, json={})

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            http = ExchangeHttp(client, frozenset({(method, BASE + path)}))
            await http.request(method, url, headers=headers, content=content)

    asyncio.run(run())
    return captured[0]


def signed_and_sent(d: Draft, timestamp_ms: int = DOC_TIME) -> httpx.Request:
    signed = mexc.sign(d, CREDS, timestamp_ms)
    return send(d.method, signed.url, signed.headers, signed.content, d.path)


def spot_signature_ok(sent: httpx.Request) -> bool:
    unsigned, _, signature = sent.url.query.decode().rpartition("&signature=")
    return hmac.compare_digest(mexc.sign_spot(DOC_SECRET, unsigned + sent.content.decode()), signature)


def test_spot_get_with_params_sends_the_signed_query_byte_for_byte() -> None:
    sent = signed_and_sent(draft("spot", "GET", "/api/v3/apiKeyInfo", (("accessKey", DOC_KEY),)))
    assert sent.method == "GET"
    assert sent.url.path == "/api/v3/apiKeyInfo"
    assert sent.url.query.decode().startswith(f"accessKey={DOC_KEY}&recvWindow=5000&timestamp=1644489390087&")
    assert sent.headers["X-MEXC-APIKEY"] == DOC_KEY
    assert sent.content == b""
    assert spot_signature_ok(sent)


def test_spot_get_without_params_signs_only_window_and_timestamp() -> None:
    sent = signed_and_sent(draft("spot", "GET", "/api/v3/account"))
    expected = mexc.sign_spot(DOC_SECRET, "recvWindow=5000&timestamp=1644489390087")
    assert sent.url.query.decode() == f"recvWindow=5000&timestamp=1644489390087&signature={expected}"
    assert spot_signature_ok(sent)


def test_spot_post_puts_everything_in_the_query_with_an_empty_body() -> None:
    signed = mexc.sign(draft("spot", "POST", "/api/v3/order/test", DOC_ORDER), CREDS, DOC_TIME)
    assert signed.url == f"{BASE}/api/v3/order/test?{DOC_PARAMS}&signature={DOC_SIGNATURE}"
    assert signed.content is None
    sent = send("POST", signed.url, signed.headers, signed.content, "/api/v3/order/test")
    assert sent.method == "POST"
    assert sent.content == b""
    assert sent.url.query.decode() == f"{DOC_PARAMS}&signature={DOC_SIGNATURE}"


def test_spot_post_with_encoded_values_is_signed_as_sent() -> None:
    params = (("symbol", "BTCUSDT"), ("note", "BEP20(BSC) x,y"))
    sent = signed_and_sent(draft("spot", "POST", "/api/v3/order/test", params), timestamp_ms=1)
    assert "note=BEP20%28BSC%29%20x%2Cy" in sent.url.query.decode()
    assert spot_signature_ok(sent)


def futures_signature(sent: httpx.Request, param_string: str) -> str:
    message = f"{DOC_KEY}{sent.headers['Request-Time']}{param_string}"
    return hmac.new(DOC_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_futures_get_without_params_has_no_query_and_signs_key_and_time() -> None:
    sent = signed_and_sent(draft("futures", "GET", "/api/v1/private/account/assets"))
    assert sent.url.query == b""
    assert sent.headers["ApiKey"] == DOC_KEY
    assert sent.headers["Request-Time"] == "1644489390087"
    assert sent.headers["Signature"] == FUTURES_EMPTY_SIGNATURE
    assert "Recv-Window" not in sent.headers  # unit UNCONFIRMED: the default ±10 s applies
    assert sent.content == b""


def test_futures_get_with_params_sends_the_sorted_string_it_signed() -> None:
    params = (("symbol", "BTC_USDT"), ("page_num", "1"))
    sent = signed_and_sent(draft("futures", "GET", "/api/v1/private/position/list", params))
    assert sent.url.query == b"page_num=1&symbol=BTC_USDT"
    assert sent.headers["Signature"] == futures_signature(sent, "page_num=1&symbol=BTC_USDT")


def test_futures_post_signs_the_exact_body_bytes() -> None:
    body = json.dumps({"symbol": "BTC_USDT", "vol": 1}, separators=(",", ":"))
    sent = signed_and_sent(draft("futures", "POST", "/api/v1/private/x", body=body))
    assert sent.content == body.encode()
    assert sent.url.query == b""
    assert sent.headers["Signature"] == futures_signature(sent, body)


def test_signed_request_repr_shows_no_key_material() -> None:
    signed = mexc.sign(draft("futures", "GET", "/api/v1/private/account/assets"), CREDS, DOC_TIME)
    assert DOC_KEY not in repr(signed)
    assert FUTURES_EMPTY_SIGNATURE not in repr(signed)


# --------------------------------------------------------------------------------------------
# The allow-list: only declared calls leave the machine
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", f"{BASE}/api/v3/order"),  # a real order
        ("POST", f"{BASE}/api/v3/apiKeyInfo"),  # edits the key's IP list
        ("POST", f"{BASE}/api/v3/capital/withdraw"),
        ("POST", f"{BASE}/api/v3/capital/transfer"),
        ("GET", "https://api.mexc.co/api/v3/account"),  # a declared path on another host
    ],
)
def test_allow_list_refuses_real_orders_and_key_changes_before_sending(method: str, url: str) -> None:
    def handler(_: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be reached
        raise AssertionError("a request left the machine")

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await ExchangeHttp(client, mexc.EXCHANGE.allowed_endpoints()).request(method, url)

    with pytest.raises(ForbiddenCall):
        asyncio.run(run())


def test_declared_calls_place_no_order_and_change_no_key() -> None:
    declared = {(c.method, c.path) for c in mexc.EXCHANGE.calls}
    assert ("POST", "/api/v3/order") not in declared
    assert ("POST", "/api/v3/apiKeyInfo") not in declared
    assert ("POST", "/api/v3/order/test") in declared
    assert not any("withdraw" in path or "transfer" in path for _, path in declared)


# --------------------------------------------------------------------------------------------
# Error tables, through classify() with the declared calls and hosts
# --------------------------------------------------------------------------------------------


def response(status: int, body: Any, headers: dict[str, str] | None = None) -> ExchangeResponse:
    return ExchangeResponse(status, httpx.Headers(headers or {}), body)


def failure_of(name: str, resp: ExchangeResponse) -> ExchangeFailure:
    c = call(name)
    result = classify(c, mexc.EXCHANGE.host(c.host), resp)
    assert result.failure is not None, result
    return result.failure


def mx(code: int, msg: str) -> dict[str, object]:
    return {"code": code, "msg": msg}


def fu(code: int, message: str) -> dict[str, object]:
    return {"success": False, "code": code, "message": message}


KEY, IP, SKEW = Outcome.INVALID_KEY, Outcome.IP_NOT_ALLOWED, Outcome.CLOCK_SKEW
NO_READ = Outcome.NO_READ_PERMISSION
RESTRICTED, LIMITED, DOWN = Outcome.ACCOUNT_RESTRICTED, Outcome.RATE_LIMITED, Outcome.EXCHANGE_UNAVAILABLE
ERROR, NO_FUTURES = Outcome.EXCHANGE_ERROR, Outcome.FUTURES_NOT_ENABLED

# On the account call (spot read), so DENIED reads as no_read_permission.
SPOT_CASES: list[tuple[int, Any, dict[str, str], Outcome, str | None]] = [
    (400, mx(400, "api key required"), {}, KEY, "400"),
    (401, mx(401, "No authority"), {}, KEY, "401"),  # alone: see below
    (400, mx(10072, "Api key info invalid"), {}, KEY, "10072"),
    (400, mx(700001, "API-key format invalid."), {}, KEY, "700001"),
    (400, mx(10001, "user does not exist"), {}, KEY, "10001"),
    (400, mx(700002, "Signature for this request is not valid."), {}, KEY, "700002"),
    (400, mx(700006, "IP [203.0.113.10] not in the ip white list"), {}, IP, "700006"),
    (400, mx(10075, "IP not in the ip white list"), {}, IP, "10075"),
    (400, mx(700003, "Timestamp for this request is outside"), {}, SKEW, "700003"),
    (400, mx(10073, "invalid Request-Time"), {}, SKEW, "10073"),
    (400, mx(700007, "No permission to access the endpoint."), {}, NO_READ, "700007"),
    (400, mx(30020, "no permission for the symbol"), {}, NO_READ, "30020"),
    (400, mx(70011, "Pair user ban trade apikey."), {}, NO_READ, "70011"),
    (400, mx(60005, "your account is abnormal"), {}, RESTRICTED, "60005"),
    (400, mx(30018, "account suspended"), {}, RESTRICTED, "30018"),
    (429, mx(429, "Too Many Requests"), {"Retry-After": "12"}, LIMITED, "429"),
    (418, None, {"Retry-After": "120"}, LIMITED, None),
    (200, mx(429, "Too Many Requests"), {}, LIMITED, "429"),
    # 5xx keep MEXC's code for support now (the old classifier dropped it): still unavailable.
    (500, mx(500, "Internal error"), {}, DOWN, "500"),
    (503, mx(503, "service not available"), {}, DOWN, "503"),
    (504, None, {}, DOWN, None),
    (200, {"code": 500, "message": "Under maintenance, please try again later"}, {}, DOWN, "500"),
    (400, mx(11444, "This feature is temporarily unavailable"), {}, DOWN, "11444"),
    (200, mx(503, "service not available"), {}, DOWN, "503"),
    (200, None, {}, DOWN, None),  # HTML maintenance page, truncated JSON
    (403, None, {}, DOWN, None),  # WAF page
    (400, mx(26, "operation not allowed"), {}, ERROR, "26"),
    (400, mx(700005, "recvWindow must less than 60000"), {}, ERROR, "700005"),
    (200, mx(500, "Internal error"), {}, ERROR, "500"),
    (404, {"msg": "Not Found"}, {}, ERROR, None),
]  # fmt: skip


@pytest.mark.parametrize(("status", "body", "headers", "outcome", "code"), SPOT_CASES)
def test_spot_error_mapping(
    status: int, body: Any, headers: dict[str, str], outcome: Outcome, code: str | None
) -> None:
    failure = failure_of("account", response(status, body, headers))
    assert (failure.outcome, failure.exchange_code, failure.http_status) == (outcome, code, status)
    if outcome is Outcome.RATE_LIMITED:
        assert failure.retry_after_s == (int(headers["Retry-After"]) if headers else None)


def test_spot_permission_codes_fail_the_check_of_the_call() -> None:
    body = {"code": 700007, "msg": "No permission to access the endpoint."}
    read = failure_of("account", response(400, body))
    trade = failure_of("order_test", response(400, body))
    info = failure_of("key_info", response(400, body))
    assert (read.outcome, read.check) == (NO_READ, "read")
    assert (trade.outcome, trade.check) == (Outcome.NO_TRADE_PERMISSION, "trade")
    assert (info.outcome, info.check) == (NO_READ, "read")


@pytest.mark.parametrize(
    ("body", "proves_trade", "outcome"),
    [
        ({"code": 30002, "msg": "Minimum transaction volume"}, True, None),
        ({"code": 30004, "msg": "Insufficient position"}, True, None),
        ({"code": 10101, "msg": "Insufficient balance"}, True, None),
        ({"code": 400, "msg": "price and quantity must be positive"}, True, None),
        ({"code": 700007, "msg": "No permission"}, False, Outcome.NO_TRADE_PERMISSION),
        ({"code": 26, "msg": "operation not allowed"}, False, Outcome.EXCHANGE_ERROR),
    ],
)
def test_order_test_rejections_that_prove_trade_permission(
    body: Any, proves_trade: bool, outcome: Outcome | None
) -> None:
    result = classify(call("order_test"), mexc.SPOT, response(400, body))
    assert result.ok is proves_trade
    if proves_trade:
        assert result.value is True
    else:
        assert result.failure is not None
        assert result.failure.outcome is outcome


def test_code_400_means_a_bad_key_everywhere_but_on_the_order_test() -> None:
    body = {"code": 400, "msg": "api key required"}
    assert failure_of("key_info", response(400, body)).outcome is Outcome.INVALID_KEY
    assert classify(call("order_test"), mexc.SPOT, response(400, body)).ok


@pytest.mark.parametrize(
    "body", [{}, {"serverTime": 1}, {"code": 200, "data": {"x": 1}}, {"code": 0}, {"balances": []}]
)
def test_spot_successes(body: Any) -> None:
    assert mexc.SPOT.envelope.succeeded(200, body)
    assert classify(call("order_test"), mexc.SPOT, response(200, body)).ok
    assert classify(call("account"), mexc.SPOT, response(200, body)).ok


def test_spot_time_and_account_answers_are_read() -> None:
    assert classify(call("spot_time"), mexc.SPOT, response(200, {"serverTime": 1_700_000_000_123})).value == (
        1_700_000_000_123
    )
    account = classify(call("account"), mexc.SPOT, response(200, {"accountType": "SPOT", "balances": []}))
    assert account.value == Facts(balances=True, account={"account_type": "SPOT"})
    # A success without the documented shape is a degraded gateway, not a verdict on the key.
    broken = classify(call("spot_time"), mexc.SPOT, response(200, {"time": 1}))
    assert broken.failure is not None
    assert broken.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


# On the futures assets call (futures read), so DENIED reads as futures_not_enabled.
FUTURES_CASES: list[tuple[int, Any, dict[str, str], Outcome, str | None]] = [
    (200, fu(401, "Not logged in or login has expired"), {}, KEY, "401"),
    (200, fu(402, "Api_key expired"), {}, KEY, "402"),
    (200, fu(602, "Verify failed"), {}, KEY, "602"),
    (200, fu(406, "not in the whitelist"), {}, IP, "406"),
    (200, fu(513, "Invalid request"), {}, SKEW, "513"),
    (200, fu(510, "Excessive frequency"), {}, LIMITED, "510"),
    (429, fu(510, "Excessive frequency"), {"Retry-After": "3"}, LIMITED, "510"),
    (200, fu(501, "System busy"), {}, DOWN, "501"),
    (200, fu(604, "feature under maintenance"), {}, DOWN, "604"),
    (200, fu(801, "System under maintenance"), {}, DOWN, "801"),
    (200, fu(500, "Under maintenance"), {}, DOWN, "500"),
    (502, None, {}, DOWN, None),
    (200, fu(701, "Account read permission is required"), {}, NO_FUTURES, "701"),
    (200, fu(703, "Trade information read permission"), {}, NO_FUTURES, "703"),
    (200, fu(511, "Endpoint inaccessible"), {}, NO_FUTURES, "511"),
    (200, fu(1000, "Please open contract account first!"), {}, NO_FUTURES, "1000"),
    (200, fu(506, "Unknown source of request"), {}, ERROR, "506"),
    (200, fu(500, "Internal error"), {}, ERROR, "500"),
]  # fmt: skip


@pytest.mark.parametrize(("status", "body", "headers", "outcome", "code"), FUTURES_CASES)
def test_futures_error_mapping(
    status: int, body: Any, headers: dict[str, str], outcome: Outcome, code: str | None
) -> None:
    failure = failure_of("futures_assets", response(status, body, headers))
    assert (failure.outcome, failure.exchange_code) == (outcome, code)
    if headers:
        assert failure.retry_after_s == int(headers["Retry-After"])
    if outcome is Outcome.FUTURES_NOT_ENABLED:
        assert failure.check == "futures"


def test_futures_successes() -> None:
    assets = classify(
        call("futures_assets"), mexc.FUTURES, response(200, {"success": True, "code": 0, "data": []})
    )
    assert assets.value == Facts(balances=True)
    assert classify(call("futures_assets"), mexc.FUTURES, response(200, {"code": 0, "data": 1})).ok
    ping = classify(
        call("futures_time"), mexc.FUTURES, response(200, {"success": True, "code": 0, "data": 7})
    )
    assert ping.value == 7


def test_no_exchange_text_survives_in_a_failure() -> None:
    body = {"code": 700006, "msg": "IP [203.0.113.10] not in the ip white list mx0secretish"}
    failure = failure_of("account", response(400, body))
    assert "white list" not in str(failure)
    assert "mx0secretish" not in repr(vars(failure))


# --------------------------------------------------------------------------------------------
# apiKeyInfo (undocumented shape, UNCONFIRMED: with and without an envelope, both read)
# --------------------------------------------------------------------------------------------

RECORDED = {
    "note": "note2",
    "accessKey": "mx0...",
    "createTime": "2026-09-14T18:53:36.000+00:00",
    "permissions": (
        "CONTRACT_ACCOUNT_READ,CONTRACT_DEAL_READ,SPOT_ACCOUNT_READ,SPOT_DEAL_WRITE,SPOT_DEAL_READ"
    ),
    "remainingValidity": 82,
    "ipWhiteList": "",
    "status": "VALID",
}


def key_info(body: Any) -> Facts:
    result = classify(call("key_info"), mexc.SPOT, response(200, body))
    assert isinstance(result.value, Facts), result.failure
    return result.value


def test_key_info_recorded_live_shape() -> None:
    facts = key_info(RECORDED)
    assert facts.ip_whitelist == ()
    assert facts.expires_at is not None
    remaining = facts.expires_at - datetime.now(UTC)
    assert timedelta(days=82) - timedelta(minutes=1) < remaining <= timedelta(days=82)
    assert facts.withdraw is False
    assert facts.futures_trade is False
    assert facts.unknown_permissions == ()
    assert facts.unneeded is False


def test_key_info_in_envelope_with_lists_and_short_forms() -> None:
    facts = key_info(
        {
            "code": 200,
            "data": {
                "permissions": ["SPOT_ACCOUNT_R", "SPOT_WITHDRAW_W", "CONTRACT_DEAL_W"],
                "ipWhiteList": ["1.2.3.4"],
            },
        }
    )
    assert facts.withdraw is True
    assert facts.futures_trade is True
    assert facts.ip_whitelist == ("1.2.3.4",)
    assert facts.expires_at is None
    assert facts.unknown_permissions == ()


def test_withdraw_read_alone_is_not_a_withdrawal_right() -> None:
    # Intended change: SPOT_WITHDRAW_READ only reads history and addresses ([MX-DOC]; FACTS).
    assert key_info({"permissions": "SPOT_ACCOUNT_READ,SPOT_WITHDRAW_READ"}).withdraw is False
    assert key_info({"permissions": "SPOT_ACCOUNT_READ,SPOT_WITHDRAW_R"}).withdraw is False
    assert key_info({"permissions": "SPOT_WITHDRAW_READ,SPOT_WITHDRAW_WRITE"}).withdraw is True


def test_transfer_rights_are_unneeded_not_withdrawal() -> None:
    facts = key_info({"permissions": "SPOT_ACCOUNT_READ,SPOT_TRANSFER_WRITE"})
    assert (facts.withdraw, facts.unneeded) == (False, True)


@pytest.mark.parametrize("body", [None, {}, {"code": 200, "data": {}}, {"permissions": 7}, []])
def test_key_info_without_permissions_is_unreadable(body: Any) -> None:
    # Not a verdict on the key: a degraded answer, and apiKeyInfo is best effort (judge ignores it).
    failure = failure_of("key_info", response(200, body))
    assert failure.outcome is Outcome.EXCHANGE_UNAVAILABLE
    assert call("key_info").best_effort


def test_key_info_without_ip_field_means_unknown_whitelist() -> None:
    assert key_info({"permissions": "SPOT_ACCOUNT_READ"}).ip_whitelist is None


# --------------------------------------------------------------------------------------------
# Judging (no network): the intended rules for best-effort key info, 401 and unknown names
# --------------------------------------------------------------------------------------------


def results(**answers: ExchangeResponse) -> list[Result]:
    return [classify(call(name), mexc.EXCHANGE.host(call(name).host), resp) for name, resp in answers.items()]


ACCOUNT_OK = response(200, {"accountType": "SPOT", "balances": []})
ORDER_OK = response(200, {})
NO_AUTHORITY = response(401, {"code": 401, "msg": "No authority"})


def test_401_is_invalid_key_unless_another_signed_call_passed() -> None:
    alone = judge(results(account=NO_AUTHORITY, order_test=NO_AUTHORITY), SPOT, [])
    assert alone.failure is not None
    assert (alone.failure.outcome, alone.failure.exchange_code) == (Outcome.INVALID_KEY, "401")
    assert alone.checks["credentials"] is FAILED

    trade = judge(results(account=ACCOUNT_OK, order_test=NO_AUTHORITY), SPOT, [])
    assert trade.failure is not None
    assert (trade.failure.outcome, trade.failure.check, trade.failure.exchange_code) == (
        Outcome.NO_TRADE_PERMISSION,
        "trade",
        "401",
    )
    assert (trade.checks["credentials"], trade.checks["trade"]) == (OK, FAILED)

    read = judge(results(account=NO_AUTHORITY, order_test=ORDER_OK), SPOT, [])
    assert read.failure is not None
    assert (read.failure.outcome, read.failure.check) == (Outcome.NO_READ_PERMISSION, "read")


@pytest.mark.parametrize(
    ("key_info_answer", "reported"),
    [
        (response(400, {"code": 700007, "msg": "No permission"}), None),
        (response(400, {"code": 10072, "msg": "Api key info invalid"}), None),
        (response(503, None), None),
        (response(200, {"unexpected": True}), None),
        (
            response(429, mx(429, "Too Many Requests"), {"Retry-After": "9"}),
            Outcome.RATE_LIMITED,
        ),
    ],
)
def test_key_info_is_best_effort_except_for_rate_limits(
    key_info_answer: ExchangeResponse, reported: Outcome | None
) -> None:
    report = judge(results(key_info=key_info_answer, account=ACCOUNT_OK, order_test=ORDER_OK), SPOT, [])
    if reported is None:
        assert report.failure is None
        assert report.checks == {"credentials": OK, "read": OK, "trade": OK, "balance_access": OK}
        assert report.permissions["withdraw"] is None  # unknown: connection_test warns
    else:
        assert report.failure is not None
        assert (report.failure.outcome, report.failure.retry_after_s) == (reported, 9)


def test_unknown_permission_names_are_reported_and_leave_withdraw_unknown() -> None:
    info = response(
        200, {"permissions": "SPOT_ACCOUNT_READ,SPOT_DEAL_WRITE,SPOT_MAGIC_WRITE", "ipWhiteList": ""}
    )
    report = judge(results(key_info=info, account=ACCOUNT_OK, order_test=ORDER_OK), SPOT, [])
    assert report.failure is None
    assert report.unknown_permissions == ["SPOT_MAGIC_WRITE"]
    assert report.permissions["withdraw"] is None
    assert "withdraw_disabled" not in report.checks
    # A withdrawal right the platform knows is still refused, unknown names or not.
    info = response(200, {"permissions": "SPOT_WITHDRAW_WRITE,SPOT_MAGIC_WRITE"})
    report = judge(results(key_info=info, account=ACCOUNT_OK, order_test=ORDER_OK), SPOT, [])
    assert report.permissions["withdraw"] is True
    assert report.checks["withdraw_disabled"] is FAILED


# --------------------------------------------------------------------------------------------
# The probe against the simulator, for every demo key
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    markets: frozenset[Market]
    failure: Outcome | None = None
    code: str | None = None
    checks: dict[str, CheckValue] | None = None
    permissions: dict[str, bool | None] | None = None
    whitelist: str = "platform"  # "platform", "first", "none", "unknown"
    warnings: tuple[WarningCode, ...] = ()  # in the probe's own report (connection_test adds more)
    expires_in_days: int | None = None
    unknown: tuple[str, ...] = ()  # permission names the platform does not know


SPOT_OK = {"credentials": OK, "read": OK, "trade": OK, "withdraw_disabled": OK, "balance_access": OK}
CLEAN: dict[str, bool | None] = {"read": True, "trade": True, "withdraw": False, "futures": False}
# apiKeyInfo unreadable (best effort): everything judged but withdrawal.
UNVERIFIED = {"credentials": OK, "read": OK, "trade": OK, "balance_access": OK}
UNREAD: dict[str, bool | None] = {"read": True, "trade": True, "withdraw": None, "futures": None}

EXPECTED: dict[str, Expect] = {
    "mx0demoConnectedSpot": Expect(SPOT, checks=SPOT_OK, permissions=CLEAN),
    "mx0demoConnectedFutures": Expect(
        BOTH, checks=SPOT_OK | {"futures": OK}, permissions=CLEAN | {"futures": True}
    ),
    "mx0demoNoReadPermission": Expect(
        SPOT,
        Outcome.NO_READ_PERMISSION,
        "700007",
        checks={
            "credentials": OK,
            "read": FAILED,
            "trade": OK,
            "withdraw_disabled": OK,
            "balance_access": FAILED,
        },
        permissions=CLEAN | {"read": False},
    ),
    "mx0demoNoTradePermission": Expect(
        SPOT,
        Outcome.NO_TRADE_PERMISSION,
        "700007",
        checks=SPOT_OK | {"trade": FAILED},
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
    # The futures right on a spot connection: the probe reports it (permissions), connection_test
    # turns it into unneeded_permission (checked below through diagnose).
    "mx0demoFuturesUnneeded": Expect(SPOT, checks=SPOT_OK, permissions=CLEAN | {"futures": True}),
    "mx0demoInvalidKey": Expect(
        BOTH, Outcome.INVALID_KEY, "10072", checks={"credentials": FAILED}, whitelist="unknown"
    ),
    "mx0demoWrongSecret": Expect(
        BOTH, Outcome.INVALID_KEY, "700002", checks={"credentials": FAILED}, whitelist="unknown"
    ),
    "mx0demoClockSkew": Expect(BOTH, Outcome.CLOCK_SKEW, "700003", checks={}, whitelist="unknown"),
    # Issue 10: MEXC as it really is.
    "mx0demoFuturesApiClosed": Expect(
        BOTH, Outcome.FUTURES_API_UNAVAILABLE, None, checks=SPOT_OK, permissions=CLEAN | {"futures": True}
    ),
    "mx0demoSelfSymbols": Expect(SPOT, checks=SPOT_OK, permissions=CLEAN),
    "mx0demoPairBanned": Expect(SPOT, checks=SPOT_OK, permissions=CLEAN),
    "mx0demoWithdrawRead": Expect(SPOT, checks=SPOT_OK, permissions=CLEAN),
    "mx0demoKeyInfoMissing": Expect(SPOT, checks=UNVERIFIED, permissions=UNREAD, whitelist="unknown"),
    "mx0demoNoAuthority": Expect(SPOT, checks=UNVERIFIED, permissions=UNREAD, whitelist="unknown"),
    "mx0demoUnknownPermission": Expect(
        SPOT, checks=UNVERIFIED, permissions=CLEAN | {"withdraw": None}, unknown=("SPOT_COPYTRADING_WRITE",)
    ),
    "mx0demoUnusualStatus": Expect(
        SPOT, Outcome.ACCOUNT_RESTRICTED, "730100", checks={"credentials": OK, "withdraw_disabled": OK}
    ),
    "mx0demoSubForbidden": Expect(
        SPOT, Outcome.ACCOUNT_RESTRICTED, "140002", checks={"credentials": OK, "withdraw_disabled": OK}
    ),
    "mx0demoRiskControl": Expect(
        SPOT,
        Outcome.ACCOUNT_RESTRICTED,
        "10098",
        checks={"credentials": OK, "read": OK, "balance_access": OK, "withdraw_disabled": OK},
    ),
}


def key(api_key: str) -> DemoKey:
    return next(k for k in DEMO_KEYS if k.api_key == api_key)


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
def test_probe_reports_each_demo_key(run_probe: Prober, api_key: str) -> None:
    expect = EXPECTED[api_key]
    demo = key(api_key)

    report = run_probe(demo, expect.markets)

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
    whitelist = {"platform": PLATFORM_IPS, "first": PLATFORM_IPS[:1], "none": [], "unknown": None}
    assert report.ip_whitelist == whitelist[expect.whitelist]
    assert set(report.warnings) == set(expect.warnings)
    assert report.unknown_permissions == list(expect.unknown)
    if expect.expires_in_days is None:
        assert report.key_expires_at is None
    else:
        assert report.key_expires_at is not None
        remaining = report.key_expires_at - datetime.now(UTC)
        assert timedelta(days=expect.expires_in_days) - timedelta(minutes=1) < remaining
        assert remaining <= timedelta(days=expect.expires_in_days)
    assert report.clock_offset_ms is not None
    assert abs(report.clock_offset_ms) < 1000
    # The verdict's warnings are the ones the demo key's description promises.
    assert run_probe.warnings(report, expect.markets) == demo.warnings


def test_rate_limit_carries_retry_after(run_probe: Prober) -> None:
    report = run_probe(key("mx0demoRateLimited"), SPOT)
    assert report.failure is not None
    assert (report.failure.retry_after_s, report.failure.http_status) == (30, 429)


def test_wrong_secret_and_unknown_key_on_futures_only(run_probe: Prober) -> None:
    wrong = run_probe(key("mx0demoWrongSecret"), FUTURES)
    unknown = run_probe(key("mx0demoInvalidKey"), FUTURES)
    assert wrong.failure is not None
    assert (wrong.failure.outcome, wrong.failure.exchange_code) == (Outcome.INVALID_KEY, "602")
    assert unknown.failure is not None
    assert (unknown.failure.outcome, unknown.failure.exchange_code) == (Outcome.INVALID_KEY, "401")
    # The key was not judged at all: no withdraw warning from the verdict either.
    assert WarningCode.WITHDRAW_UNVERIFIABLE.value not in run_probe.warnings(wrong, FUTURES)


def test_futures_only_connection_reads_the_futures_account(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("mx0demoConnectedFutures"), FUTURES)
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


def test_futures_requested_with_a_spot_only_key_on_futures_only(run_probe: Prober) -> None:
    report = run_probe(key("mx0demoFuturesNotEnabled"), FUTURES)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.FUTURES_NOT_ENABLED, "futures")


def test_cold_probe_takes_one_time_call_then_concurrent_calls_and_warm_skips_it(
    run_probe: Prober, sim: Simulator
) -> None:
    run_probe(key("mx0demoConnectedFutures"), BOTH)
    cold = [(r.venue, r.method, r.path) for r in sim.requests]
    time_calls = {"mexc-spot": ("mexc-spot", "GET", "/api/v3/time"),
                  "mexc-futures": ("mexc-futures", "GET", "/api/v1/contract/ping")}  # fmt: skip
    public = [
        ("mexc-spot", "GET", "/api/v3/defaultSymbols"),
        ("mexc-futures", "GET", "/api/v1/contract/detail"),
    ]
    signed = [
        ("mexc-futures", "GET", "/api/v1/private/account/assets"),
        ("mexc-spot", "GET", "/api/v3/account"),
        ("mexc-spot", "GET", "/api/v3/apiKeyInfo"),
        ("mexc-spot", "POST", "/api/v3/order/test"),
    ]
    assert sorted(cold) == sorted([*time_calls.values(), *public, *signed])
    # Public calls go out with the clock sync; each host's signed calls start once that host's
    # clock is known, and the order test once the symbols open to API orders are known.
    for call in signed:
        assert cold.index(time_calls[call[0]]) < cold.index(call), cold
    assert cold.index(public[0]) < cold.index(("mexc-spot", "POST", "/api/v3/order/test"))
    sim.requests.clear()
    run_probe(key("mx0demoConnectedFutures"), BOTH)
    # Warm: no clock, and the public answers are cached: one round of the four signed calls.
    assert sorted((r.venue, r.method, r.path) for r in sim.requests) == sorted(signed)


def test_clock_skew_is_reported_when_a_fresh_offset_does_not_help(
    run_probe: Prober, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Our signing clock runs a minute late whatever offset is measured: 700003 on both attempts.
    monkeypatch.setattr(probe_module, "now_ms", lambda: now_ms() - 60_000)
    report = run_probe(key("mx0demoConnectedSpot"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.CLOCK_SKEW, "700003")
    assert report.failure.check == "credentials"
    assert sum(r.path == "/api/v3/time" for r in sim.requests) == 2  # measured, forgotten, measured again


def test_futures_clock_is_measured_on_the_futures_host(run_probe: Prober, sim: Simulator) -> None:
    sim.config.clock_offset_ms = -15_000  # outside the futures ±10 s unless the offset is applied
    report = run_probe(key("mx0demoConnectedFutures"), BOTH)
    assert report.failure is None
    assert report.checks["futures"] is OK


def test_futures_venue_fault_only_fails_the_futures_part(run_probe: Prober, sim: Simulator) -> None:
    run_probe(key("mx0demoConnectedFutures"), BOTH)  # warm both clocks
    sim.config.fault = Fault.HTTP_503
    sim.config.fault_venue = "mexc-futures"
    report = run_probe(key("mx0demoConnectedFutures"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.EXCHANGE_UNAVAILABLE, "futures")
    assert report.checks["trade"] is OK
    assert report.checks["read"] is OK


def test_report_keeps_no_exchange_message_or_secret(run_probe: Prober) -> None:
    demo = key("mx0demoWrongSecret")
    report = run_probe(demo, BOTH)
    assert report.failure is not None
    text = repr(report) + str(report.failure) + repr(vars(report.failure))
    assert "Signature for this request" not in text
    assert demo.api_secret not in text
