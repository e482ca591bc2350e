"""KuCoin: signing (official and computed vectors, byte-exact requests), the error tables, key info,
the allow-list, and the probe against the simulator for every demo key and the venue-wide faults."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
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
from backfuture.exchanges import Credentials, kucoin
from simulator.core import Simulator
from simulator.demo_keys import DemoKey
from simulator.kucoin import DEMO_KEYS, KucoinVenue
from tests.exchanges.conftest import BOTH, FUTURES, PLATFORM_IPS, SPOT, Prober

OK, FAILED = CheckValue.OK, CheckValue.FAILED
SPOT_BASE = "https://api.kucoin.com"


@pytest.fixture(scope="module")
def exchange_id() -> str:
    return "kucoin"


def call(name: str) -> Call:
    return next(c for c in kucoin.EXCHANGE.calls if c.name == name)


# The official universal SDK's test inputs (test_default_signer.py), time patched to 1234567890.
SDK_CREDENTIALS = Credentials("test_api_key", "test_api_secret", "test_passphrase")
SDK_TIMESTAMP_MS = 1_234_567_890_000
KEY_INFO_SIGNATURE = "6rS0lA+YnMWVg4UHPM8vGAaFOpAESbHf7jYe+AdWIVs="
PASSPHRASE_SIGNATURE = "Ikr9KjwgA4urCb5Az1TNKgQELW10z84iOq+wsZsRRz0="
ORDER_BODY = '{"clientOid":"abc","side":"buy","symbol":"BTC-USDT","type":"limit","price":"1","size":"1"}'
ORDER_SIGNATURE = "Bzy0OPnzP2PYxBIjwWpvDYwvRkMySMAocSIiKVb1UFM="


def reference_sign(secret: str, message: str) -> str:
    """An independent implementation of the documented recipe, to check the module against."""
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def sign(
    method: str, path: str, params: tuple[tuple[str, str], ...] = (), body: str | None = None, ts: int = 0
) -> Any:
    draft = Draft(host="spot", method=method, base_url=SPOT_BASE, path=path, params=params, body=body)
    return kucoin.sign(draft, SDK_CREDENTIALS, ts or SDK_TIMESTAMP_MS)


# --------------------------------------------------------------------------------------------
# Vectors
# --------------------------------------------------------------------------------------------


def test_official_sdk_vector() -> None:
    assert (
        kucoin.hmac_base64("test_api_secret", "test_plain") == "jie/gxS38wLFFaBwl/cAzFbAzlI8MIny96jSXrB+iP4="
    )


def test_passphrase_vector() -> None:
    assert kucoin.hmac_base64("test_api_secret", "test_passphrase") == PASSPHRASE_SIGNATURE


def test_get_key_info_vector() -> None:
    message = kucoin.prehash(SDK_TIMESTAMP_MS, "get", "/api/v1/user/api-key", "")
    assert message == "1234567890000GET/api/v1/user/api-key"
    assert kucoin.hmac_base64("test_api_secret", message) == KEY_INFO_SIGNATURE


def test_post_order_test_vector() -> None:
    message = kucoin.prehash(SDK_TIMESTAMP_MS, "POST", "/api/v1/hf/orders/test", ORDER_BODY)
    assert kucoin.hmac_base64("test_api_secret", message) == ORDER_SIGNATURE


# --------------------------------------------------------------------------------------------
# Whole requests, byte for byte
# --------------------------------------------------------------------------------------------


def test_get_without_query_is_signed_and_sent_as_documented() -> None:
    signed = sign("GET", "/api/v1/user/api-key")
    assert signed.url == f"{SPOT_BASE}/api/v1/user/api-key"
    assert signed.content is None
    assert signed.headers == {
        "KC-API-KEY": "test_api_key",
        "KC-API-SIGN": KEY_INFO_SIGNATURE,
        "KC-API-TIMESTAMP": "1234567890000",
        "KC-API-PASSPHRASE": PASSPHRASE_SIGNATURE,
        "KC-API-KEY-VERSION": "3",
        "Content-Type": "application/json",
    }
    assert kucoin.KEY_VERSION == "3"


def send(method: str, signed: Any, path: str) -> httpx.Request:
    """Send through ExchangeHttp (allowing this one endpoint) and capture the request as it left."""
    captured: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        captured.append(sent)
        return httpx.Response(200, json={})

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            http = ExchangeHttp(client, frozenset({(method, SPOT_BASE + path)}))
            await http.request(method, signed.url, headers=signed.headers, content=signed.content)

    asyncio.run(run())
    return captured[0]


def test_post_body_is_the_exact_compact_json_signed_and_sent() -> None:
    signed = sign("POST", "/api/v1/hf/orders/test", body=ORDER_BODY)
    assert signed.content == ORDER_BODY
    assert signed.url == f"{SPOT_BASE}/api/v1/hf/orders/test"
    assert signed.headers["KC-API-SIGN"] == ORDER_SIGNATURE
    sent = send("POST", signed, "/api/v1/hf/orders/test")
    assert sent.content == ORDER_BODY.encode()
    assert json.loads(sent.content)["clientOid"] == "abc"


def test_the_engine_sends_compact_json_in_declaration_order() -> None:
    # The body the engine drafts is the one signed and sent (the simulator checks the signature).
    body = {
        "clientOid": "abc",
        "side": "buy",
        "symbol": "BTC-USDT",
        "type": "limit",
        "price": "1",
        "size": "1",
    }
    assert probe_module._json(body) == ORDER_BODY


def test_query_is_signed_raw_and_sent_encoded() -> None:
    # The docs' example query, whose value needs encoding.
    params = (("apiKey", "67b3"), ("subName", "test"), ("passphrase", "abc!@#11"))
    signed = sign("GET", "/api/v1/sub/api-key", params)
    target = "/api/v1/sub/api-key?apiKey=67b3&subName=test&passphrase=abc%21%40%2311"
    assert signed.url == SPOT_BASE + target
    raw = "1234567890000GET/api/v1/sub/api-key?apiKey=67b3&subName=test&passphrase=abc!@#11"
    assert signed.headers["KC-API-SIGN"] == reference_sign("test_api_secret", raw)
    assert signed.headers["KC-API-SIGN"] != reference_sign("test_api_secret", "1234567890000GET" + target)
    assert send("GET", signed, "/api/v1/sub/api-key").url.raw_path.decode() == target


def test_plain_query_is_identical_raw_and_encoded() -> None:
    signed = sign("GET", "/api/v1/account-overview", (("currency", "USDT"),), ts=5)
    assert signed.url == f"{SPOT_BASE}/api/v1/account-overview?currency=USDT"
    assert signed.headers["KC-API-SIGN"] == reference_sign(
        "test_api_secret", "5GET/api/v1/account-overview?currency=USDT"
    )


def test_signed_request_repr_shows_no_key_material() -> None:
    text = repr(sign("GET", "/api/v1/user/api-key"))
    assert "6rS0lA" not in text
    assert "Ikr9Kj" not in text
    assert "test_api_key" not in text


# --------------------------------------------------------------------------------------------
# The allow-list: only declared calls leave the machine
# --------------------------------------------------------------------------------------------

FUTURES_BASE = "https://api-futures.kucoin.com"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", f"{SPOT_BASE}/api/v1/hf/orders"),  # a real spot order
        ("POST", f"{FUTURES_BASE}/api/v1/orders"),  # a real futures order
        ("POST", f"{SPOT_BASE}/api/v1/withdrawals"),
        ("POST", f"{SPOT_BASE}/api/v3/withdrawals"),
        ("POST", f"{SPOT_BASE}/api/v1/orders/test"),  # the futures test path, on the spot host
        ("GET", f"{FUTURES_BASE}/api/v1/user/api-key"),  # a spot path, on the futures host
    ],
)
def test_allow_list_refuses_real_orders_and_withdrawals_before_sending(method: str, url: str) -> None:
    def handler(_: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be reached
        raise AssertionError("a request left the machine")

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await ExchangeHttp(client, kucoin.EXCHANGE.allowed_endpoints()).request(method, url)

    with pytest.raises(ForbiddenCall):
        asyncio.run(run())


# --------------------------------------------------------------------------------------------
# Error tables, through classify() with the declared calls and hosts
# --------------------------------------------------------------------------------------------

R = Outcome.NO_READ_PERMISSION
C = "credentials"
MSG = "exchange text, never kept"
RESET_9S = {"gw-ratelimit-reset": "9000"}  # Retry-After wins over it


def kc(code: str | int) -> dict[str, object]:
    return {"code": code, "msg": MSG}


def classified(name: str, status: int, body: object, headers: dict[str, str] | None = None) -> Result:
    c = call(name)
    return classify(c, kucoin.EXCHANGE.host(c.host), ExchangeResponse(status, headers or {}, body))


def failure_of(
    name: str, status: int, body: object, headers: dict[str, str] | None = None
) -> ExchangeFailure:
    result = classified(name, status, body, headers)
    assert result.failure is not None, result
    return result.failure


# On the accounts call (spot read): DENIED reads as no_read_permission, other failures mark "read".
# Rate limits and unavailability now mark the call's check ("read"; the old classifier said
# "credentials"): the verdict never marks a check for them, and the futures part needs its own.
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
        (400, kc("400700"), {}, Outcome.ACCOUNT_RESTRICTED, "read", "400700", None),
        (400, kc("200009"), {}, Outcome.ACCOUNT_RESTRICTED, "read", "200009", None),
        (400, kc("126047"), {}, Outcome.ACCOUNT_RESTRICTED, "read", "126047", None),
        (429, kc("429000"), {"retry-after": "7"}, Outcome.RATE_LIMITED, "read", "429000", 7),
        (429, kc("429000"), {"gw-ratelimit-reset": "4200"}, Outcome.RATE_LIMITED, "read", "429000", 5),
        (429, kc("429000"), {"retry-after": "3", **RESET_9S}, Outcome.RATE_LIMITED, "read", "429000", 3),
        (200, kc("200002"), {}, Outcome.RATE_LIMITED, "read", "200002", None),
        (429, kc(1015), {}, Outcome.RATE_LIMITED, "read", "1015", None),
        (429, None, {"retry-after": "2"}, Outcome.RATE_LIMITED, "read", None, 2),
        (500, kc("500000"), {}, Outcome.EXCHANGE_UNAVAILABLE, "read", "500000", None),
        (503, None, {}, Outcome.EXCHANGE_UNAVAILABLE, "read", None, None),  # HTML maintenance page
        (502, kc("400100"), {}, Outcome.EXCHANGE_UNAVAILABLE, "read", "400100", None),
        (200, None, {}, Outcome.EXCHANGE_UNAVAILABLE, "read", None, None),  # truncated or malformed JSON
        (400, kc("400100"), {}, Outcome.EXCHANGE_ERROR, "read", "400100", None),
        (400, kc("400330"), {}, Outcome.EXCHANGE_ERROR, "read", "400330", None),  # 4003xx: exact codes only
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
    failure = failure_of("accounts", status, body, headers)
    assert failure.outcome == outcome
    assert failure.check == check
    assert failure.exchange_code == code
    assert failure.http_status == status
    assert failure.retry_after_s == retry_after


@pytest.mark.parametrize("body", [["not", "an", "object"], {}, {"data": []}])
def test_a_200_without_the_envelope_is_unavailable_not_an_exchange_error(body: object) -> None:
    # A regression found while porting (the first engine fell through to exchange_error): a 2xx
    # answer that is not KuCoin's {"code": ..., "data": ...} envelope at all (a list, an object
    # without a code) is a degraded gateway, like the HTML page and the malformed JSON above, so
    # "try again later", not "the exchange rejected the request".
    failure = failure_of("accounts", 200, body)
    assert failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


@pytest.mark.parametrize(
    ("name", "denied", "check"),
    [
        ("spot_order_test", Outcome.NO_TRADE_PERMISSION, "trade"),
        ("futures_overview", Outcome.FUTURES_NOT_ENABLED, "futures"),
        ("futures_order_test", Outcome.FUTURES_NOT_ENABLED, "futures"),
        ("key_info", Outcome.NO_READ_PERMISSION, "read"),
    ],
)
def test_permission_code_means_the_calls_own_permission(name: str, denied: Outcome, check: str) -> None:
    failure = failure_of(name, 401, {"code": "400007", "msg": "Access denied, requires more permission."})
    assert (failure.outcome, failure.check) == (denied, check)


OWN_DENIAL = {
    "spot_order_test": Outcome.NO_TRADE_PERMISSION,
    "futures_order_test": Outcome.FUTURES_NOT_ENABLED,
}


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        # 4003xx are matched exactly: the local-laws codes restrict the account...
        ("400301", Outcome.ACCOUNT_RESTRICTED),
        ("400302", Outcome.ACCOUNT_RESTRICTED),
        # ...the order-parameter codes next to them (and any business rejection) prove trade.
        ("400330", None),
        ("400350", None),
        ("400370", None),
        ("400100", None),
        ("300000", None),
        # gateway codes that say nothing about the order
        ("400001", Outcome.EXCHANGE_ERROR),
        ("404000", Outcome.EXCHANGE_ERROR),
        # the gateway's own verdicts on the key still win ("denied": the call's own permission)
        ("400003", Outcome.INVALID_KEY),
        ("400007", "denied"),
        ("411100", Outcome.ACCOUNT_RESTRICTED),
    ],
)
@pytest.mark.parametrize("name", sorted(OWN_DENIAL))
def test_order_test_rejections(name: str, code: str, outcome: Outcome | str | None) -> None:
    result = classified(name, 400, kc(code))
    if outcome is None:
        assert result.ok
        assert result.value is True
    else:
        assert result.failure is not None
        assert result.failure.outcome is (OWN_DENIAL[name] if outcome == "denied" else outcome)


def test_failure_never_keeps_the_exchange_message() -> None:
    failure = failure_of(
        "accounts", 401, {"code": "400006", "msg": "Invalid request IP, client IP is: 9.9.9.9"}
    )
    assert "9.9.9.9" not in str(failure)
    assert all("9.9.9.9" not in str(value) for value in vars(failure).values())


@pytest.mark.parametrize(("status", "ok"), [("open", True), ("close", False), ("cancelonly", False)])
def test_status_answers(status: str, ok: bool) -> None:
    result = classified("spot_status", 200, {"code": "200000", "data": {"status": status, "msg": ""}})
    assert result.ok is ok
    if not ok:
        assert result.failure is not None
        assert result.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


# --------------------------------------------------------------------------------------------
# Key info
# --------------------------------------------------------------------------------------------


def key_info(data: dict[str, object]) -> Facts:
    result = classified("key_info", 200, {"code": "200000", "data": data})
    assert isinstance(result.value, Facts), result.failure
    return result.value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, ()),  # absent: no restriction
        ({"ipWhitelist": None}, ()),
        ({"ipWhitelist": ""}, ()),
        ({"ipWhitelist": "203.**.154,103.**.34"}, ("203.**.154", "103.**.34")),
        ({"ipWhitelist": " 203.0.113.10 , 203.0.113.11,"}, ("203.0.113.10", "203.0.113.11")),
    ],
)
def test_key_info_whitelist_forms(raw: dict[str, object], expected: tuple[str, ...]) -> None:
    assert key_info({"permission": "General,Spot", "isMaster": True, **raw}).ip_whitelist == expected


def test_key_info_permissions_and_account() -> None:
    facts = key_info(
        {
            "permission": "General, Futures,Spot,Earn,InnerTransfer,Transfer,Margin",
            "isMaster": False,
            "subName": "s1",
        }
    )
    assert (facts.read, facts.spot_trade, facts.futures_trade, facts.withdraw) == (True, True, True, True)
    assert facts.unneeded is True  # Earn, InnerTransfer, Margin
    assert facts.unknown_permissions == ()
    assert facts.account == {"is_master": False, "sub_name": "s1"}


@pytest.mark.parametrize(
    ("permission", "withdraw", "unneeded"),
    [
        ("General,Spot", False, False),
        ("General,Spot,InnerTransfer", False, True),  # between the user's own accounts only
        ("General,Transfer", True, False),
        ("General,Withdrawal", True, False),
        ("General,Withdraw", True, False),
    ],
)
def test_key_info_withdraw_rights(permission: str, withdraw: bool, unneeded: bool) -> None:
    facts = key_info({"permission": permission})
    assert (facts.withdraw, facts.unneeded) == (withdraw, unneeded)


def test_unknown_permission_names_are_reported_and_leave_withdraw_unknown() -> None:
    info = classified("key_info", 200, {"code": "200000", "data": {"permission": "General,Spot,Staking"}})
    accounts = classified("accounts", 200, {"code": "200000", "data": []})
    order = classified("spot_order_test", 200, {"code": "200000", "data": {"orderId": "x"}})
    report = judge([info, accounts, order], SPOT, [])
    assert report.failure is None
    assert report.unknown_permissions == ["Staking"]
    assert report.permissions["withdraw"] is None
    assert "withdraw_disabled" not in report.checks
    assert report.checks["trade"] is OK


# --------------------------------------------------------------------------------------------
# The probe against the simulator: demo keys in detail (every key's outcome: test_every_exchange.py)
# --------------------------------------------------------------------------------------------


def key(label: str) -> DemoKey:
    matches = [k for k in DEMO_KEYS if k.api_key.startswith("6500demo" + label)]
    assert len(matches) == 1, label
    return matches[0]


def test_connected_key_reports_every_fact(run_probe: Prober) -> None:
    report = run_probe(key("connected0"), BOTH)
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
    assert report.ip_whitelist == PLATFORM_IPS
    assert report.account == {"is_master": True}
    assert report.warnings == []
    assert report.key_expires_at is None
    assert report.clock_offset_ms is not None
    assert abs(report.clock_offset_ms) < 1_000


def test_spot_only_connection_reports_futures_permission(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("connected0"), SPOT)
    assert report.failure is None
    assert "futures" not in report.checks
    assert report.permissions["futures"] is True  # connection_test turns it into unneeded_permission
    assert report.warnings == []
    assert run_probe.warnings(report, SPOT) == {WarningCode.UNNEEDED_PERMISSION.value}
    assert {r.venue for r in sim.requests} == {"kucoin-spot"}


def test_futures_only_connection_reads_the_futures_overview(run_probe: Prober, sim: Simulator) -> None:
    # Intended change: no /api/v1/accounts (nor the spot order test) for a futures-only connection.
    report = run_probe(key("connected0"), FUTURES)
    assert report.failure is None
    assert report.checks == {
        "credentials": OK,
        "read": OK,
        "balance_access": OK,
        "trade": OK,
        "futures": OK,
        "withdraw_disabled": OK,
    }
    called = {(r.method, r.path) for r in sim.requests}
    assert ("GET", "/api/v1/accounts") not in called
    assert ("POST", "/api/v1/hf/orders/test") not in called
    assert ("GET", "/api/v1/account-overview") in called


def test_masked_whitelist_is_reported_as_given(run_probe: Prober) -> None:
    report = run_probe(key("connectedmasked"), SPOT)
    assert report.failure is None
    assert report.ip_whitelist == ["203.0.**.10", "203.0.**.11"]


@pytest.mark.parametrize(
    ("label", "code"), [("invalidkey", "400003"), ("wrongsecret", "400005"), ("v2key", "400008")]
)
def test_credential_failures(run_probe: Prober, label: str, code: str) -> None:
    report = run_probe(key(label), BOTH)
    assert report.failure is not None
    assert report.failure.outcome == Outcome.INVALID_KEY
    assert report.failure.exchange_code == code
    assert report.failure.http_status == 401
    assert report.checks == {"credentials": FAILED}
    assert report.ip_whitelist is None


def test_login_password_instead_of_passphrase(run_probe: Prober) -> None:
    report = run_probe(key("badpassphrase"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.INVALID_PASSPHRASE, "400004")
    assert report.checks == {"credentials": FAILED}


def test_key_without_general_cannot_read(run_probe: Prober) -> None:
    report = run_probe(key("noread"), SPOT)
    assert report.failure is not None
    assert report.failure.outcome == Outcome.NO_READ_PERMISSION
    assert report.failure.check == "read"
    assert report.failure.exchange_code == "400007"
    assert report.checks["credentials"] == OK
    assert report.checks["read"] == FAILED
    assert report.checks["trade"] == OK
    assert report.permissions["read"] is False
    assert report.permissions["withdraw"] is None  # key info itself was refused
    assert "withdraw_disabled" not in report.checks
    assert report.ip_whitelist is None
    # withdraw_unverifiable is connection_test's now, and only once the key otherwise works.
    assert WarningCode.WITHDRAW_UNVERIFIABLE.value not in run_probe.warnings(report, SPOT)


def test_read_only_key_cannot_trade(run_probe: Prober) -> None:
    report = run_probe(key("notrade"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.NO_TRADE_PERMISSION, "trade")
    assert report.failure.exchange_code == "400007"
    assert report.checks["read"] == OK
    assert report.checks["trade"] == FAILED
    assert report.checks["withdraw_disabled"] == OK
    assert report.permissions == {"read": True, "trade": False, "withdraw": False, "futures": False}


def test_spot_key_on_futures(run_probe: Prober) -> None:
    spot_report = run_probe(key("nofutures"), SPOT)
    assert spot_report.failure is None
    report = run_probe(key("nofutures"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.FUTURES_NOT_ENABLED, "futures")
    assert report.failure.exchange_code == "400007"
    assert report.checks["futures"] == FAILED
    assert report.checks["trade"] == OK
    assert report.permissions["futures"] is False


def test_withdrawal_key_is_reported(run_probe: Prober) -> None:
    report = run_probe(key("withdrawal"), SPOT)
    assert report.permissions["withdraw"] is True
    assert report.checks["withdraw_disabled"] == FAILED


def test_ip_not_allowed(run_probe: Prober) -> None:
    report = run_probe(key("ipnotallowed"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.IP_NOT_ALLOWED, "400006")
    assert report.failure.check == "ip_whitelist"
    assert report.ip_whitelist is None


def test_whitelist_forms(run_probe: Prober) -> None:
    assert run_probe(key("noiprestriction"), SPOT).ip_whitelist == []
    assert run_probe(key("ipmismatch"), SPOT).ip_whitelist == PLATFORM_IPS[:1]


def test_inner_transfer_warns_but_is_not_withdrawal(run_probe: Prober) -> None:
    report = run_probe(key("innertransfer"), SPOT)
    assert report.failure is None
    assert report.permissions["withdraw"] is False
    assert report.warnings == [WarningCode.UNNEEDED_PERMISSION]
    assert report.ip_whitelist == []


def test_sub_account_key(run_probe: Prober) -> None:
    report = run_probe(key("subaccount"), SPOT)
    assert report.failure is None
    assert report.account == {"is_master": False, "sub_name": "bf-demo-sub"}


def test_account_restricted(run_probe: Prober) -> None:
    report = run_probe(key("restricted"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.ACCOUNT_RESTRICTED, "411100")
    assert report.checks["credentials"] == OK


def test_rate_limited_carries_retry_after(run_probe: Prober) -> None:
    report = run_probe(key("ratelimited"), SPOT)
    assert report.failure is not None
    assert report.failure.outcome == Outcome.RATE_LIMITED
    assert report.failure.exchange_code == "429000"
    assert report.failure.retry_after_s == 5


def test_unknown_code_is_kept(run_probe: Prober) -> None:
    report = run_probe(key("exchangeerror"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.EXCHANGE_ERROR, "400100")
    # a business rejection of the test order still shows the key may trade
    assert report.checks["trade"] == OK


def test_unavailable_key(run_probe: Prober) -> None:
    report = run_probe(key("unavailable"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.http_status) == (Outcome.EXCHANGE_UNAVAILABLE, 503)


# --------------------------------------------------------------------------------------------
# Venue-wide conditions
# --------------------------------------------------------------------------------------------


def venue(sim: Simulator, name: str) -> KucoinVenue:
    found = sim.venues[name]
    assert isinstance(found, KucoinVenue)
    return found


@pytest.fixture(autouse=True)
def open_venues(simulator: Simulator) -> None:
    """Both hosts open at the start of every test: the module's simulator outlives each test and
    ``Simulator.reset`` leaves the venues' service status alone."""
    for name in ("kucoin-spot", "kucoin-futures"):
        venue(simulator, name).service_status = "open"


@pytest.mark.parametrize("status", ["close", "cancelonly"])
def test_spot_status_not_open_is_unavailable(run_probe: Prober, sim: Simulator, status: str) -> None:
    venue(sim, "kucoin-spot").service_status = status
    report = run_probe(key("connected0"), SPOT)
    assert report.failure is not None
    assert report.failure.outcome == Outcome.EXCHANGE_UNAVAILABLE


def test_futures_status_not_open_only_matters_for_futures(run_probe: Prober, sim: Simulator) -> None:
    # A regression found while porting (the first engine marked "credentials": Role.STATUS names no
    # check): a closed futures host is a futures-only problem, as the old probe reported it.
    venue(sim, "kucoin-futures").service_status = "close"
    assert run_probe(key("connected0"), SPOT).failure is None
    report = run_probe(key("connected0"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.EXCHANGE_UNAVAILABLE, "futures")


def test_clock_skew_when_a_fresh_offset_does_not_help(
    run_probe: Prober, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Our signing clock runs a minute late whatever offset is measured: 400002 on both attempts.
    monkeypatch.setattr(probe_module, "now_ms", lambda: now_ms() - 60_000)
    report = run_probe(key("connected0"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.CLOCK_SKEW, "400002")
    assert sum(r.path == "/api/v1/timestamp" for r in sim.requests) == 2  # measured, forgotten, again
