"""MEXC signing (official vectors, bytes on the wire) and the error-code tables."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from backfuture.exchanges.base import Credentials, ExchangeFailure, ExchangeHttp, ExchangeResponse

from backfuture.errors import Outcome
from backfuture.exchanges import mexc

# [MX-DOC] "SIGNED Endpoint Examples for POST /api/v3/order"
DOC_KEY = "mx0aBYs33eIilxBWC5"
DOC_SECRET = "45d0b3c26f2644f19bfb98b07741b2f5"
DOC_PARAMS = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
DOC_SIGNATURE = "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"


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
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": 1, "price": 11}
    query = mexc.signed_spot_query(DOC_SECRET, params, timestamp_ms=1644489390087)
    assert query == f"{DOC_PARAMS}&signature={DOC_SIGNATURE}"


def test_futures_signature_matches_the_computed_reference_vector() -> None:
    signature = mexc.sign_futures(DOC_SECRET, DOC_KEY, "1644489390087", "")
    assert signature == "8c0d829f0a56a0c771c2e0623e07a8f20d55a32b83a7eeb3b9c1c75d20c153b6"


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
# Bytes on the wire: what is sent is exactly what was signed
# --------------------------------------------------------------------------------------------

CREDS = Credentials(DOC_KEY, DOC_SECRET)
ALL_CALLS = mexc.ALLOWED_CALLS | {("GET", "/api/v1/private/position/list"), ("POST", "/api/v1/private/x")}


def _send(request: mexc.SignedRequest) -> httpx.Request:
    captured: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        captured.append(sent)
        return httpx.Response(200, json={})

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            http = ExchangeHttp(client, ALL_CALLS)
            await http.request(
                request.method,
                request.url,
                path=request.path,
                headers=request.headers,
                content=request.content,
            )

    asyncio.run(run())
    return captured[0]


def _spot_signature_ok(sent: httpx.Request) -> bool:
    raw_query = sent.url.query.decode()
    unsigned, _, signature = raw_query.rpartition("&signature=")
    body = sent.content.decode()
    return hmac.compare_digest(mexc.sign_spot(DOC_SECRET, unsigned + body), signature)


def test_spot_get_with_params_sends_the_signed_query_byte_for_byte() -> None:
    request = mexc.build_spot_request(
        CREDS, "GET", "https://api.mexc.com", "/api/v3/apiKeyInfo", {"accessKey": DOC_KEY}, 1644489390087
    )
    sent = _send(request)
    assert sent.method == "GET"
    assert sent.url.path == "/api/v3/apiKeyInfo"
    assert sent.url.query.decode().startswith(f"accessKey={DOC_KEY}&recvWindow=5000&timestamp=1644489390087&")
    assert sent.headers["X-MEXC-APIKEY"] == DOC_KEY
    assert sent.content == b""
    assert _spot_signature_ok(sent)


def test_spot_get_without_params_signs_only_window_and_timestamp() -> None:
    request = mexc.build_spot_request(
        CREDS, "GET", "https://api.mexc.com", "/api/v3/account", {}, 1644489390087
    )
    sent = _send(request)
    expected = mexc.sign_spot(DOC_SECRET, "recvWindow=5000&timestamp=1644489390087")
    assert sent.url.query.decode() == f"recvWindow=5000&timestamp=1644489390087&signature={expected}"
    assert _spot_signature_ok(sent)


def test_spot_post_puts_everything_in_the_query_with_an_empty_body() -> None:
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": 1, "price": 11}
    request = mexc.build_spot_request(
        CREDS, "POST", "https://api.mexc.com", "/api/v3/order/test", params, 1644489390087
    )
    sent = _send(request)
    assert sent.method == "POST"
    assert sent.content == b""
    assert sent.url.query.decode() == f"{DOC_PARAMS}&signature={DOC_SIGNATURE}"


def test_spot_post_with_encoded_values_is_signed_as_sent() -> None:
    params = {"symbol": "BTCUSDT", "note": "BEP20(BSC) x,y"}
    request = mexc.build_spot_request(CREDS, "POST", "https://api.mexc.com", "/api/v3/order/test", params, 1)
    sent = _send(request)
    assert "note=BEP20%28BSC%29%20x%2Cy" in sent.url.query.decode()
    assert _spot_signature_ok(sent)


def _futures_signature(sent: httpx.Request, param_string: str) -> str:
    message = f"{DOC_KEY}{sent.headers['Request-Time']}{param_string}"
    return hmac.new(DOC_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_futures_get_without_params_has_no_query_and_signs_key_and_time() -> None:
    request = mexc.build_futures_request(
        CREDS, "GET", "https://api.mexc.com", "/api/v1/private/account/assets", 1644489390087
    )
    sent = _send(request)
    assert sent.url.query == b""
    assert sent.headers["ApiKey"] == DOC_KEY
    assert sent.headers["Request-Time"] == "1644489390087"
    assert sent.headers["Signature"] == "8c0d829f0a56a0c771c2e0623e07a8f20d55a32b83a7eeb3b9c1c75d20c153b6"
    assert "Recv-Window" not in sent.headers  # unit UNCONFIRMED: the default ±10 s applies
    assert sent.content == b""


def test_futures_get_with_params_sends_the_sorted_string_it_signed() -> None:
    request = mexc.build_futures_request(
        CREDS,
        "GET",
        "https://api.mexc.com",
        "/api/v1/private/position/list",
        1644489390087,
        params={"symbol": "BTC_USDT", "page_num": 1},
    )
    sent = _send(request)
    assert sent.url.query == b"page_num=1&symbol=BTC_USDT"
    assert sent.headers["Signature"] == _futures_signature(sent, "page_num=1&symbol=BTC_USDT")


def test_futures_post_signs_the_exact_body_bytes() -> None:
    body = json.dumps({"symbol": "BTC_USDT", "vol": 1}, separators=(",", ":"))
    request = mexc.build_futures_request(
        CREDS, "POST", "https://api.mexc.com", "/api/v1/private/x", 1644489390087, body=body
    )
    sent = _send(request)
    assert sent.content == body.encode()
    assert sent.url.query == b""
    assert sent.headers["Signature"] == _futures_signature(sent, body)


def test_allow_list_refuses_real_orders_and_key_changes_before_sending() -> None:
    async def run(method: str, path: str) -> None:
        def handler(_: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be reached
            raise AssertionError("a request left the machine")

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await ExchangeHttp(client, mexc.ALLOWED_CALLS).request(
                method, f"https://api.mexc.com{path}", path=path
            )

    for method, path in [
        ("POST", "/api/v3/order"),
        ("POST", "/api/v3/apiKeyInfo"),
        ("POST", "/api/v3/capital/withdraw"),
    ]:
        with pytest.raises(PermissionError):
            asyncio.run(run(method, path))


# --------------------------------------------------------------------------------------------
# Error mapping
# --------------------------------------------------------------------------------------------


def _response(status: int, body: Any, headers: dict[str, str] | None = None) -> ExchangeResponse:
    return ExchangeResponse(status, httpx.Headers(headers or {}), body)


SPOT_CASES: list[tuple[int, Any, dict[str, str], Outcome, str | None]] = [
    (400, {"code": 400, "msg": "api key required"}, {}, Outcome.INVALID_KEY, "400"),
    (401, {"code": 401, "msg": "No authority"}, {}, Outcome.INVALID_KEY, "401"),
    (400, {"code": 10072, "msg": "Api key info invalid"}, {}, Outcome.INVALID_KEY, "10072"),
    (400, {"code": 700001, "msg": "API-key format invalid."}, {}, Outcome.INVALID_KEY, "700001"),
    (400, {"code": 10001, "msg": "user does not exist"}, {}, Outcome.INVALID_KEY, "10001"),
    (
        400,
        {"code": 700002, "msg": "Signature for this request is not valid."},
        {},
        Outcome.INVALID_KEY,
        "700002",
    ),
    (
        400,
        {"code": 700006, "msg": "IP [203.0.113.10] not in the ip white list"},
        {},
        Outcome.IP_NOT_ALLOWED,
        "700006",
    ),
    (400, {"code": 10075, "msg": "IP not in the ip white list"}, {}, Outcome.IP_NOT_ALLOWED, "10075"),
    (400, {"code": 700003, "msg": "Timestamp for this request is outside"}, {}, Outcome.CLOCK_SKEW, "700003"),
    (400, {"code": 10073, "msg": "invalid Request-Time"}, {}, Outcome.CLOCK_SKEW, "10073"),
    (
        400,
        {"code": 700007, "msg": "No permission to access the endpoint."},
        {},
        Outcome.NO_TRADE_PERMISSION,
        "700007",
    ),
    (400, {"code": 30020, "msg": "no permission for the symbol"}, {}, Outcome.NO_TRADE_PERMISSION, "30020"),
    (400, {"code": 70011, "msg": "Pair user ban trade apikey."}, {}, Outcome.NO_TRADE_PERMISSION, "70011"),
    (400, {"code": 60005, "msg": "your account is abnormal"}, {}, Outcome.ACCOUNT_RESTRICTED, "60005"),
    (400, {"code": 30018, "msg": "account suspended"}, {}, Outcome.ACCOUNT_RESTRICTED, "30018"),
    (429, {"code": 429, "msg": "Too Many Requests"}, {"Retry-After": "12"}, Outcome.RATE_LIMITED, "429"),
    (418, None, {"Retry-After": "120"}, Outcome.RATE_LIMITED, None),
    (200, {"code": 429, "msg": "Too Many Requests"}, {}, Outcome.RATE_LIMITED, "429"),
    (500, {"code": 500, "msg": "Internal error"}, {}, Outcome.EXCHANGE_UNAVAILABLE, None),
    (503, {"code": 503, "msg": "service not available"}, {}, Outcome.EXCHANGE_UNAVAILABLE, None),
    (504, None, {}, Outcome.EXCHANGE_UNAVAILABLE, None),
    (
        200,
        {"code": 500, "message": "Under maintenance, please try again later"},
        {},
        Outcome.EXCHANGE_UNAVAILABLE,
        "500",
    ),
    (
        400,
        {"code": 11444, "msg": "This feature is temporarily unavailable"},
        {},
        Outcome.EXCHANGE_UNAVAILABLE,
        "11444",
    ),
    (200, {"code": 503, "msg": "service not available"}, {}, Outcome.EXCHANGE_UNAVAILABLE, "503"),
    (200, None, {}, Outcome.EXCHANGE_UNAVAILABLE, None),  # HTML maintenance page, truncated JSON
    (403, None, {}, Outcome.EXCHANGE_UNAVAILABLE, None),  # WAF page
    (400, {"code": 26, "msg": "operation not allowed"}, {}, Outcome.EXCHANGE_ERROR, "26"),
    (400, {"code": 700005, "msg": "recvWindow must less than 60000"}, {}, Outcome.EXCHANGE_ERROR, "700005"),
    (200, {"code": 500, "msg": "Internal error"}, {}, Outcome.EXCHANGE_ERROR, "500"),
    (404, {"msg": "Not Found"}, {}, Outcome.EXCHANGE_ERROR, None),
]


@pytest.mark.parametrize(("status", "body", "headers", "outcome", "code"), SPOT_CASES)
def test_spot_error_mapping(
    status: int, body: Any, headers: dict[str, str], outcome: Outcome, code: str | None
) -> None:
    failure = mexc.classify_spot(_response(status, body, headers), denied=Outcome.NO_TRADE_PERMISSION)
    assert failure is not None
    assert (failure.outcome, failure.exchange_code, failure.http_status) == (outcome, code, status)
    if outcome is Outcome.RATE_LIMITED:
        assert failure.retry_after_s == (int(headers["Retry-After"]) if headers else None)


def test_spot_permission_codes_fail_the_check_of_the_call() -> None:
    body = {"code": 700007, "msg": "No permission to access the endpoint."}
    read = mexc.classify_spot(_response(400, body), denied=Outcome.NO_READ_PERMISSION, check="read")
    trade = mexc.classify_spot(_response(400, body), denied=Outcome.NO_TRADE_PERMISSION, check="trade")
    assert read is not None
    assert (read.outcome, read.check) == (Outcome.NO_READ_PERMISSION, "read")
    assert trade is not None
    assert (trade.outcome, trade.check) == (Outcome.NO_TRADE_PERMISSION, "trade")


@pytest.mark.parametrize(
    ("body", "proves_trade"),
    [
        ({"code": 30002, "msg": "Minimum transaction volume"}, True),
        ({"code": 30004, "msg": "Insufficient position"}, True),
        ({"code": 10101, "msg": "Insufficient balance"}, True),
        ({"code": 400, "msg": "price and quantity must be positive"}, True),
        ({"code": 700007, "msg": "No permission"}, False),
        ({"code": 26, "msg": "operation not allowed"}, False),
    ],
)
def test_order_test_rejections_that_prove_trade_permission(body: Any, proves_trade: bool) -> None:
    failure = mexc.classify_spot(_response(400, body), denied=Outcome.NO_TRADE_PERMISSION, check="trade")
    assert failure is not None
    assert mexc._proves_trade(failure) is proves_trade


@pytest.mark.parametrize(
    "body", [{}, {"serverTime": 1}, {"code": 200, "data": {"x": 1}}, {"code": 0}, {"balances": []}]
)
def test_spot_successes(body: Any) -> None:
    assert mexc.classify_spot(_response(200, body), denied=Outcome.NO_READ_PERMISSION) is None


FUTURES_CASES: list[tuple[int, Any, dict[str, str], Outcome, str | None]] = [
    (
        200,
        {"success": False, "code": 401, "message": "Not logged in or login has expired"},
        {},
        Outcome.INVALID_KEY,
        "401",
    ),
    (200, {"success": False, "code": 402, "message": "Api_key expired"}, {}, Outcome.INVALID_KEY, "402"),
    (200, {"success": False, "code": 602, "message": "Verify failed"}, {}, Outcome.INVALID_KEY, "602"),
    (
        200,
        {"success": False, "code": 406, "message": "not in the whitelist"},
        {},
        Outcome.IP_NOT_ALLOWED,
        "406",
    ),
    (200, {"success": False, "code": 513, "message": "Invalid request"}, {}, Outcome.CLOCK_SKEW, "513"),
    (200, {"success": False, "code": 510, "message": "Excessive frequency"}, {}, Outcome.RATE_LIMITED, "510"),
    (
        429,
        {"success": False, "code": 510, "message": "Excessive frequency"},
        {"Retry-After": "3"},
        Outcome.RATE_LIMITED,
        "510",
    ),
    (200, {"success": False, "code": 501, "message": "System busy"}, {}, Outcome.EXCHANGE_UNAVAILABLE, "501"),
    (
        200,
        {"success": False, "code": 604, "message": "feature under maintenance"},
        {},
        Outcome.EXCHANGE_UNAVAILABLE,
        "604",
    ),
    (
        200,
        {"success": False, "code": 801, "message": "System under maintenance"},
        {},
        Outcome.EXCHANGE_UNAVAILABLE,
        "801",
    ),
    (
        200,
        {"success": False, "code": 500, "message": "Under maintenance"},
        {},
        Outcome.EXCHANGE_UNAVAILABLE,
        "500",
    ),
    (502, None, {}, Outcome.EXCHANGE_UNAVAILABLE, None),
    (
        200,
        {"success": False, "code": 701, "message": "Account read permission is required"},
        {},
        Outcome.FUTURES_NOT_ENABLED,
        "701",
    ),
    (
        200,
        {"success": False, "code": 703, "message": "Trade information read permission"},
        {},
        Outcome.FUTURES_NOT_ENABLED,
        "703",
    ),
    (
        200,
        {"success": False, "code": 511, "message": "Endpoint inaccessible"},
        {},
        Outcome.FUTURES_NOT_ENABLED,
        "511",
    ),
    (
        200,
        {"success": False, "code": 1000, "message": "Please open contract account first!"},
        {},
        Outcome.FUTURES_NOT_ENABLED,
        "1000",
    ),
    (
        200,
        {"success": False, "code": 506, "message": "Unknown source of request"},
        {},
        Outcome.EXCHANGE_ERROR,
        "506",
    ),
    (200, {"success": False, "code": 500, "message": "Internal error"}, {}, Outcome.EXCHANGE_ERROR, "500"),
]


@pytest.mark.parametrize(("status", "body", "headers", "outcome", "code"), FUTURES_CASES)
def test_futures_error_mapping(
    status: int, body: Any, headers: dict[str, str], outcome: Outcome, code: str | None
) -> None:
    failure = mexc.classify_futures(_response(status, body, headers))
    assert failure is not None
    assert (failure.outcome, failure.exchange_code) == (outcome, code)
    if headers:
        assert failure.retry_after_s == int(headers["Retry-After"])


def test_futures_successes() -> None:
    assert mexc.classify_futures(_response(200, {"success": True, "code": 0, "data": []})) is None
    assert mexc.classify_futures(_response(200, {"code": 0, "data": 1})) is None


def test_no_exchange_text_survives_in_a_failure() -> None:
    body = {"code": 700006, "msg": "IP [203.0.113.10] not in the ip white list mx0secretish"}
    failure = mexc.classify_spot(_response(400, body), denied=Outcome.NO_READ_PERMISSION)
    assert isinstance(failure, ExchangeFailure)
    assert "white list" not in str(failure)
    assert "mx0secretish" not in repr(vars(failure))


# --------------------------------------------------------------------------------------------
# apiKeyInfo shapes (UNCONFIRMED: both read)
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


def test_key_info_recorded_live_shape() -> None:
    info = mexc.parse_key_info(RECORDED)
    assert info is not None
    assert info.ip_whitelist == []
    assert info.remaining_days == 82
    assert not info.can_withdraw
    assert not info.can_trade_futures
    assert "SPOT_DEAL_WRITE" in info.permissions


def test_key_info_in_envelope_with_lists_and_short_forms() -> None:
    body = {
        "code": 200,
        "data": {
            "permissions": ["SPOT_ACCOUNT_R", "SPOT_WITHDRAW_W", "CONTRACT_DEAL_W"],
            "ipWhiteList": ["1.2.3.4"],
        },
    }
    info = mexc.parse_key_info(body)
    assert info is not None
    assert info.can_withdraw
    assert info.can_trade_futures
    assert info.ip_whitelist == ["1.2.3.4"]
    assert info.remaining_days is None


@pytest.mark.parametrize("body", [None, {}, {"code": 200, "data": {}}, {"permissions": 7}, []])
def test_key_info_without_permissions_is_unreadable(body: Any) -> None:
    assert mexc.parse_key_info(body) is None


def test_key_info_without_ip_field_means_unknown_whitelist() -> None:
    info = mexc.parse_key_info({"permissions": "SPOT_ACCOUNT_READ"})
    assert info is not None
    assert info.ip_whitelist is None
