"""KuCoin signing (official and computed vectors, byte-exact requests) and the error mapping."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from backfuture.exchanges.base import Credentials, ExchangeResponse

from backfuture.errors import Outcome
from backfuture.exchanges.kucoin import (
    KEY_VERSION,
    classify,
    encrypt_passphrase,
    parse_key_info,
    prehash,
    sign,
    signed_request,
)

# The official universal SDK's test inputs (test_default_signer.py), time patched to 1234567890.
SDK_CREDENTIALS = Credentials("test_api_key", "test_api_secret", "test_passphrase")
SDK_TIMESTAMP_MS = 1_234_567_890_000


def reference_sign(secret: str, message: str) -> str:
    """An independent implementation of the documented recipe, to check the module against."""
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


# --------------------------------------------------------------------------------------------
# Vectors
# --------------------------------------------------------------------------------------------


def test_official_sdk_vector() -> None:
    assert sign("test_api_secret", "test_plain") == "jie/gxS38wLFFaBwl/cAzFbAzlI8MIny96jSXrB+iP4="


def test_passphrase_vector() -> None:
    assert (
        encrypt_passphrase("test_api_secret", "test_passphrase")
        == "Ikr9KjwgA4urCb5Az1TNKgQELW10z84iOq+wsZsRRz0="
    )


def test_get_key_info_vector() -> None:
    message = prehash(SDK_TIMESTAMP_MS, "get", "/api/v1/user/api-key", "")
    assert message == "1234567890000GET/api/v1/user/api-key"
    assert sign("test_api_secret", message) == "6rS0lA+YnMWVg4UHPM8vGAaFOpAESbHf7jYe+AdWIVs="


def test_post_order_test_vector() -> None:
    body = '{"clientOid":"abc","side":"buy","symbol":"BTC-USDT","type":"limit","price":"1","size":"1"}'
    message = prehash(SDK_TIMESTAMP_MS, "POST", "/api/v1/hf/orders/test", body)
    assert sign("test_api_secret", message) == "Bzy0OPnzP2PYxBIjwWpvDYwvRkMySMAocSIiKVb1UFM="


# --------------------------------------------------------------------------------------------
# Whole requests, byte for byte
# --------------------------------------------------------------------------------------------


def test_get_without_query_is_signed_and_sent_as_documented() -> None:
    # Given the SDK's credentials and time
    # When a GET without query is built
    request = signed_request(SDK_CREDENTIALS, "GET", "/api/v1/user/api-key", timestamp_ms=SDK_TIMESTAMP_MS)
    # Then it carries exactly the SDK's headers and the computed signature, and no body
    assert request.target == "/api/v1/user/api-key"
    assert request.content is None
    assert request.headers == {
        "KC-API-KEY": "test_api_key",
        "KC-API-SIGN": "6rS0lA+YnMWVg4UHPM8vGAaFOpAESbHf7jYe+AdWIVs=",
        "KC-API-TIMESTAMP": "1234567890000",
        "KC-API-PASSPHRASE": "Ikr9KjwgA4urCb5Az1TNKgQELW10z84iOq+wsZsRRz0=",
        "KC-API-KEY-VERSION": "3",
        "Content-Type": "application/json",
    }
    assert KEY_VERSION == "3"


def test_post_body_is_the_exact_compact_json_signed() -> None:
    body = {
        "clientOid": "abc",
        "side": "buy",
        "symbol": "BTC-USDT",
        "type": "limit",
        "price": "1",
        "size": "1",
    }
    request = signed_request(
        SDK_CREDENTIALS, "POST", "/api/v1/hf/orders/test", timestamp_ms=SDK_TIMESTAMP_MS, body=body
    )
    assert (
        request.content
        == '{"clientOid":"abc","side":"buy","symbol":"BTC-USDT","type":"limit","price":"1","size":"1"}'
    )
    assert request.target == "/api/v1/hf/orders/test"
    assert request.headers["KC-API-SIGN"] == "Bzy0OPnzP2PYxBIjwWpvDYwvRkMySMAocSIiKVb1UFM="
    assert json.loads(request.content) == body


def test_query_is_signed_raw_and_sent_encoded() -> None:
    # Given the docs' example query whose value needs encoding
    params = [("apiKey", "67b3"), ("subName", "test"), ("passphrase", "abc!@#11")]
    # When the request is built
    request = signed_request(
        SDK_CREDENTIALS, "GET", "/api/v1/sub/api-key", timestamp_ms=SDK_TIMESTAMP_MS, params=params
    )
    # Then the URL carries the encoded query, in order
    assert request.target == "/api/v1/sub/api-key?apiKey=67b3&subName=test&passphrase=abc%21%40%2311"
    # And the signature covers the raw one
    raw = "1234567890000GET/api/v1/sub/api-key?apiKey=67b3&subName=test&passphrase=abc!@#11"
    assert request.headers["KC-API-SIGN"] == reference_sign("test_api_secret", raw)
    encoded = "1234567890000GET" + request.target
    assert request.headers["KC-API-SIGN"] != reference_sign("test_api_secret", encoded)


def test_plain_query_is_identical_raw_and_encoded() -> None:
    request = signed_request(
        SDK_CREDENTIALS, "GET", "/api/v1/account-overview", timestamp_ms=5, params=[("currency", "USDT")]
    )
    assert request.target == "/api/v1/account-overview?currency=USDT"
    assert request.headers["KC-API-SIGN"] == reference_sign(
        "test_api_secret", "5GET/api/v1/account-overview?currency=USDT"
    )


def test_signed_request_repr_shows_no_key_material() -> None:
    request = signed_request(SDK_CREDENTIALS, "GET", "/api/v1/user/api-key", timestamp_ms=SDK_TIMESTAMP_MS)
    text = repr(request)
    assert "6rS0lA" not in text
    assert "Ikr9Kj" not in text
    assert "test_api_key" not in text


# --------------------------------------------------------------------------------------------
# Error mapping
# --------------------------------------------------------------------------------------------

R = Outcome.NO_READ_PERMISSION
C = "credentials"
MSG = "exchange text, never kept"
RESET_9S = {"gw-ratelimit-reset": "9000"}  # Retry-After wins over it


def kc(code: str | int) -> dict[str, object]:
    return {"code": code, "msg": MSG}


@pytest.mark.parametrize(
    ("status", "body", "headers", "outcome", "check", "code", "retry_after"),
    [
        (401, kc("400003"), {}, Outcome.INVALID_KEY, C, "400003", None),
        (401, kc("400005"), {}, Outcome.INVALID_KEY, C, "400005", None),
        (401, kc("400004"), {}, Outcome.INVALID_PASSPHRASE, C, "400004", None),
        (401, kc("400006"), {}, Outcome.IP_NOT_ALLOWED, "ip_whitelist", "400006", None),
        (401, kc("400007"), {}, R, "read", "400007", None),
        (401, kc("400010"), {}, R, "read", "400010", None),
        (401, kc("400002"), {}, Outcome.CLOCK_SKEW, C, "400002", None),
        (401, kc("400008"), {}, Outcome.INVALID_KEY, C, "400008", None),
        (401, kc("400009"), {}, Outcome.INVALID_KEY, C, "400009", None),
        (400, kc("411100"), {}, Outcome.ACCOUNT_RESTRICTED, "read", "411100", None),
        (400, kc("400301"), {}, Outcome.ACCOUNT_RESTRICTED, "read", "400301", None),
        (400, kc("400302"), {}, Outcome.ACCOUNT_RESTRICTED, "read", "400302", None),
        (400, kc("400500"), {}, Outcome.ACCOUNT_RESTRICTED, "read", "400500", None),
        (429, kc("429000"), {"retry-after": "7"}, Outcome.RATE_LIMITED, C, "429000", 7),
        (429, kc("429000"), {"gw-ratelimit-reset": "4200"}, Outcome.RATE_LIMITED, C, "429000", 5),
        (429, kc("429000"), {"retry-after": "3", **RESET_9S}, Outcome.RATE_LIMITED, C, "429000", 3),
        (200, kc("200002"), {}, Outcome.RATE_LIMITED, C, "200002", None),
        (429, kc(1015), {}, Outcome.RATE_LIMITED, C, "1015", None),
        (429, None, {"retry-after": "2"}, Outcome.RATE_LIMITED, C, None, 2),
        (500, kc("500000"), {}, Outcome.EXCHANGE_UNAVAILABLE, C, "500000", None),
        (503, None, {}, Outcome.EXCHANGE_UNAVAILABLE, C, None, None),  # HTML maintenance page
        (502, kc("400100"), {}, Outcome.EXCHANGE_UNAVAILABLE, C, "400100", None),
        (200, None, {}, Outcome.EXCHANGE_UNAVAILABLE, C, None, None),  # truncated or malformed JSON
        (200, ["not", "an", "object"], {}, Outcome.EXCHANGE_UNAVAILABLE, C, None, None),
        (400, kc("400100"), {}, Outcome.EXCHANGE_ERROR, "read", "400100", None),
        (200, kc("987654"), {}, Outcome.EXCHANGE_ERROR, "read", "987654", None),
        (401, kc("400001"), {}, Outcome.EXCHANGE_ERROR, "read", "400001", None),
    ],
)  # fmt: skip
def test_error_mapping(
    status: int,
    body: object,
    headers: dict[str, str],
    outcome: Outcome,
    check: str,
    code: str | None,
    retry_after: int | None,
) -> None:
    failure = classify(ExchangeResponse(status, headers, body), check="read", denied=R)
    assert failure.outcome == outcome
    assert failure.check == check
    assert failure.exchange_code == code
    assert failure.http_status == status
    assert failure.retry_after_s == retry_after


@pytest.mark.parametrize(
    ("denied", "check"),
    [(Outcome.NO_TRADE_PERMISSION, "trade"), (Outcome.FUTURES_NOT_ENABLED, "futures")],
)
def test_permission_code_means_the_calls_own_permission(denied: Outcome, check: str) -> None:
    response = ExchangeResponse(
        401, {}, {"code": "400007", "msg": "Access denied, requires more permission."}
    )
    failure = classify(response, check=check, denied=denied)
    assert (failure.outcome, failure.check) == (denied, check)


def test_failure_never_keeps_the_exchange_message() -> None:
    response = ExchangeResponse(
        401, {}, {"code": "400006", "msg": "Invalid request IP, client IP is: 9.9.9.9"}
    )
    failure = classify(response, check="read", denied=R)
    assert "9.9.9.9" not in str(failure)
    assert all("9.9.9.9" not in str(value) for value in vars(failure).values())


# --------------------------------------------------------------------------------------------
# Key info
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, []),  # absent: no restriction
        ({"ipWhitelist": None}, []),
        ({"ipWhitelist": ""}, []),
        ({"ipWhitelist": "203.**.154,103.**.34"}, ["203.**.154", "103.**.34"]),
        ({"ipWhitelist": " 203.0.113.10 , 203.0.113.11,"}, ["203.0.113.10", "203.0.113.11"]),
    ],
)
def test_key_info_whitelist_forms(raw: dict[str, object], expected: list[str]) -> None:
    info = parse_key_info({"permission": "General,Spot", "isMaster": True, **raw})
    assert info.ip_whitelist == expected


def test_key_info_permissions_and_account() -> None:
    info = parse_key_info(
        {
            "permission": "General, Futures,Spot,Earn,InnerTransfer,Transfer,Margin",
            "isMaster": False,
            "subName": "s1",
        }
    )
    assert info.permissions == {"General", "Futures", "Spot", "Earn", "InnerTransfer", "Transfer", "Margin"}
    assert info.is_master is False
    assert info.sub_name == "s1"
