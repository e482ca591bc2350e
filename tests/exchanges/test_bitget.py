"""Bitget: signing (the docs' prehash strings, byte-exact requests, the HMAC cross-checked with the
official SDK's recipe), the error table, both key-info readers on the documented examples, the
unified-account fallbacks, the allow-list, and the probe against the simulator for every demo key."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Mapping
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
from backfuture.exchanges import Credentials, bitget
from simulator.bitget import DEMO_KEYS
from simulator.core import Simulator
from simulator.demo_keys import DemoKey
from tests.exchanges.conftest import BOTH, FUTURES, PLATFORM_IPS, SPOT, Prober

OK, FAILED = CheckValue.OK, CheckValue.FAILED
BASE = "https://api.bitget.com"


@pytest.fixture(scope="module")
def exchange_id() -> str:
    return "bitget"


def call(name: str) -> Call:
    return next(c for c in bitget.EXCHANGE.calls if c.name == name)


CREDENTIALS = Credentials("bg_test_api_key", "test_api_secret", "test_passphrase")
DOC_TIMESTAMP = 16273667805456  # the docs' example timestamp, as printed
DOC_BODY = (
    '{"productType":"usdt-futures","symbol":"BTCUSDT","size":"8","marginMode":"crossed","side":"buy",'
    '"orderType":"limit","clientOid":"channel#123456"}'
)


def sdk_signature(secret: str, timestamp: int, method: str, request_path: str, body: str) -> str:
    """The official SDK's recipe (v3-bitget-api-sdk bitget-python-sdk-api/bitget/utils.py
    ``signature``), rewritten here as an independent check of the module's signer."""
    message = str(timestamp) + method.upper() + request_path + body
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), digestmod="sha256").digest()).decode()


def sign(method: str, path: str, params: tuple[tuple[str, str], ...] = (), body: str | None = None) -> Any:
    draft = Draft(host="api", method=method, base_url=BASE, path=path, params=params, body=body)
    return bitget.sign(draft, CREDENTIALS, DOC_TIMESTAMP)


# --------------------------------------------------------------------------------------------
# Vectors: the docs publish prehash strings only ([BG-SIGN]); the HMAC is checked against the SDK's
# --------------------------------------------------------------------------------------------


def test_docs_get_prehash_sorts_the_query() -> None:
    # The docs' GET example, from parameters given unsorted: keys sorted ascending, raw.
    message = bitget.prehash(
        DOC_TIMESTAMP, "get", "/api/mix/v2/market/depth", (("symbol", "BTCUSDT"), ("limit", "20")), ""
    )
    assert message == "16273667805456GET/api/mix/v2/market/depth?limit=20&symbol=BTCUSDT"


def test_docs_post_prehash_appends_the_exact_body() -> None:
    message = bitget.prehash(DOC_TIMESTAMP, "POST", "/api/v2/mix/order/place-order", (), DOC_BODY)
    assert message == "16273667805456POST/api/v2/mix/order/place-order" + DOC_BODY


def test_hmac_matches_the_official_sdk_recipe() -> None:
    expected = sdk_signature("test_api_secret", DOC_TIMESTAMP, "GET", "/api/v2/spot/account/info", "")
    assert bitget.hmac_base64("test_api_secret", "16273667805456GET/api/v2/spot/account/info") == expected
    # pinned, so a change of encoding or digest shows here
    assert (
        expected
        == base64.b64encode(
            hmac.new(
                b"test_api_secret", b"16273667805456GET/api/v2/spot/account/info", hashlib.sha256
            ).digest()
        ).decode()
    )


# --------------------------------------------------------------------------------------------
# Whole requests, byte for byte
# --------------------------------------------------------------------------------------------


def test_get_without_query_is_signed_and_sent_as_documented() -> None:
    signed = sign("GET", "/api/v2/spot/account/info")
    assert signed.url == f"{BASE}/api/v2/spot/account/info"
    assert signed.content is None
    assert signed.headers == {
        "ACCESS-KEY": "bg_test_api_key",
        "ACCESS-SIGN": sdk_signature(
            "test_api_secret", DOC_TIMESTAMP, "GET", "/api/v2/spot/account/info", ""
        ),
        "ACCESS-TIMESTAMP": "16273667805456",
        "ACCESS-PASSPHRASE": "test_passphrase",  # plain, not signed ([BG-SIGN])
        "Content-Type": "application/json",
        "locale": "en-US",
    }


def send(method: str, signed: Any, path: str) -> httpx.Request:
    captured: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        captured.append(sent)
        return httpx.Response(200, json={})

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            http = ExchangeHttp(client, frozenset({(method, BASE + path)}))
            await http.request(method, signed.url, headers=signed.headers, content=signed.content)

    asyncio.run(run())
    return captured[0]


def test_query_is_sent_in_the_signed_sorted_order() -> None:
    params = (("symbol", "BTCUSDT"), ("productType", "USDT-FUTURES"))
    signed = sign("GET", "/api/v2/mix/account/account", params)
    target = "/api/v2/mix/account/account?productType=USDT-FUTURES&symbol=BTCUSDT"
    assert signed.url == BASE + target
    assert signed.headers["ACCESS-SIGN"] == sdk_signature("test_api_secret", DOC_TIMESTAMP, "GET", target, "")
    assert send("GET", signed, "/api/v2/mix/account/account").url.raw_path.decode() == target


def test_query_is_signed_raw_and_sent_encoded() -> None:
    # [CCXT]: "bitget signs the raw (non-percent-encoded) query string".
    signed = sign("GET", "/api/v2/x", (("clientOid", "channel#1"),))
    assert signed.url == f"{BASE}/api/v2/x?clientOid=channel%231"
    assert signed.headers["ACCESS-SIGN"] == sdk_signature(
        "test_api_secret", DOC_TIMESTAMP, "GET", "/api/v2/x?clientOid=channel#1", ""
    )


def test_post_body_is_signed_as_sent() -> None:
    signed = sign("POST", "/api/v2/mix/order/place-order", body=DOC_BODY)
    assert signed.content == DOC_BODY
    assert signed.headers["ACCESS-SIGN"] == sdk_signature(
        "test_api_secret", DOC_TIMESTAMP, "POST", "/api/v2/mix/order/place-order", DOC_BODY
    )


def test_signed_request_repr_shows_no_key_material() -> None:
    signed = sign("GET", "/api/v2/spot/account/info")
    text = repr(signed)
    assert "bg_test_api_key" not in text
    assert "test_passphrase" not in text
    assert signed.headers["ACCESS-SIGN"] not in text


# --------------------------------------------------------------------------------------------
# The allow-list: only declared calls leave the machine
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", f"{BASE}/api/v2/spot/trade/place-order"),
        ("POST", f"{BASE}/api/v2/mix/order/place-order"),
        ("POST", f"{BASE}/api/v3/trade/place-order"),
        ("POST", f"{BASE}/api/v2/spot/wallet/withdrawal"),
        ("POST", f"{BASE}/api/v2/spot/wallet/transfer"),
        ("POST", f"{BASE}/api/v2/spot/account/upgrade"),  # would switch the account to UTA
        ("POST", f"{BASE}/api/v2/spot/account/info"),  # a declared path with another method
    ],
)
def test_allow_list_refuses_orders_transfers_and_upgrades_before_sending(method: str, url: str) -> None:
    def handler(_: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be reached
        raise AssertionError("a request left the machine")

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await ExchangeHttp(client, bitget.EXCHANGE.allowed_endpoints()).request(method, url)

    with pytest.raises(ForbiddenCall):
        asyncio.run(run())


def test_declared_as_needing_a_passphrase() -> None:
    assert bitget.EXCHANGE.info.needs_passphrase is True
    assert bitget.EXCHANGE.credentials.passphrase is True
    assert [h.env_var for h in bitget.EXCHANGE.hosts] == ["BITGET_BASE_URL"]
    assert [f.topic for f in bitget.FACTS].count("IP rate limit") == 1
    assert {c.method for c in bitget.EXCHANGE.calls} == {"GET"}  # reads only, no order test


# --------------------------------------------------------------------------------------------
# Error table, through classify() with the declared calls and host
# --------------------------------------------------------------------------------------------

C = "credentials"
MSG = "exchange text, never kept"


def bg(code: str) -> dict[str, object]:
    return {"code": code, "msg": MSG, "requestTime": 1, "data": None}


def classified(name: str, status: int, body: object, headers: dict[str, str] | None = None) -> Result:
    c = call(name)
    return classify(c, bitget.EXCHANGE.host(c.host), ExchangeResponse(status, headers or {}, body))


def failure_of(
    name: str, status: int, body: object, headers: dict[str, str] | None = None
) -> ExchangeFailure:
    result = classified(name, status, body, headers)
    assert result.failure is not None, result
    return result.failure


# Statuses are UNCONFIRMED (FACTS "error status"): each code is checked with 400 and with 200.
TABLE = [
    ("40006", Outcome.INVALID_KEY, C),
    ("40037", Outcome.INVALID_KEY, C),
    ("40009", Outcome.INVALID_KEY, C),
    ("40010", Outcome.INVALID_KEY, C),
    ("40012", Outcome.INVALID_PASSPHRASE, C),
    ("40011", Outcome.INVALID_PASSPHRASE, C),
    ("40018", Outcome.IP_NOT_ALLOWED, "ip_whitelist"),
    ("40014", Outcome.NO_READ_PERMISSION, "read"),
    ("40004", Outcome.CLOCK_SKEW, C),
    ("40008", Outcome.CLOCK_SKEW, C),
    ("40005", Outcome.CLOCK_SKEW, C),
    ("40013", Outcome.ACCOUNT_RESTRICTED, "read"),
    ("40016", Outcome.ACCOUNT_RESTRICTED, "read"),
    ("40031", Outcome.ACCOUNT_RESTRICTED, "read"),
    ("50010", Outcome.ACCOUNT_RESTRICTED, "read"),
    ("429", Outcome.RATE_LIMITED, "read"),
    ("1001", Outcome.RATE_LIMITED, "read"),
    ("40200", Outcome.EXCHANGE_UNAVAILABLE, "read"),
    ("40015", Outcome.EXCHANGE_UNAVAILABLE, "read"),
    ("40604", Outcome.EXCHANGE_UNAVAILABLE, "read"),
    ("40085", Outcome.EXCHANGE_ERROR, "read"),  # unified account: the fallback answers instead
    ("40034", Outcome.EXCHANGE_ERROR, "read"),
    ("40808", Outcome.EXCHANGE_ERROR, "read"),
]


@pytest.mark.parametrize("status", [400, 200])
@pytest.mark.parametrize(("code", "outcome", "check"), TABLE)
def test_error_table(code: str, outcome: Outcome, check: str, status: int) -> None:
    failure = failure_of("spot_assets", status, bg(code))
    assert (failure.outcome, failure.check, failure.exchange_code) == (outcome, check, code)
    assert failure.http_status == status
    assert failure.retry_after_s is None


@pytest.mark.parametrize(
    ("status", "body", "headers", "outcome", "retry_after"),
    [
        (429, bg("429"), {}, Outcome.RATE_LIMITED, None),  # no Retry-After documented
        (429, None, {"retry-after": "3"}, Outcome.RATE_LIMITED, 3),  # honoured should one come
        (500, bg("40015"), {}, Outcome.EXCHANGE_UNAVAILABLE, None),
        (503, "<html>maintenance</html>", {}, Outcome.EXCHANGE_UNAVAILABLE, None),
        (502, bg("40034"), {}, Outcome.EXCHANGE_UNAVAILABLE, None),
        (200, None, {}, Outcome.EXCHANGE_UNAVAILABLE, None),
        (200, {"msg": "success", "data": []}, {}, Outcome.EXCHANGE_UNAVAILABLE, None),  # no code
    ],
)
def test_http_level_answers(
    status: int, body: object, headers: dict[str, str], outcome: Outcome, retry_after: int | None
) -> None:
    failure = failure_of("spot_assets", status, body, headers)
    assert (failure.outcome, failure.retry_after_s) == (outcome, retry_after)


@pytest.mark.parametrize(
    ("name", "denied", "check"),
    [
        ("key_info", Outcome.NO_READ_PERMISSION, "read"),
        ("spot_assets", Outcome.NO_READ_PERMISSION, "read"),
        ("futures_accounts", Outcome.FUTURES_NOT_ENABLED, "futures"),
        ("uta_key_info", Outcome.NO_READ_PERMISSION, "read"),
        ("uta_futures_assets", Outcome.FUTURES_NOT_ENABLED, "futures"),
    ],
)
def test_permission_code_means_the_calls_own_right(name: str, denied: Outcome, check: str) -> None:
    failure = failure_of(name, 400, bg("40014"))
    assert (failure.outcome, failure.check) == (denied, check)


def test_failure_never_keeps_the_exchange_message() -> None:
    failure = failure_of("key_info", 400, {"code": "40018", "msg": "Invalid IP 9.9.9.9"})
    assert all("9.9.9.9" not in str(value) for value in vars(failure).values())


@pytest.mark.parametrize("served", ["1700111073740", 1700111073740])
def test_server_time_read_as_string_or_number(served: object) -> None:
    body = {"code": "00000", "msg": "success", "requestTime": 1, "data": {"serverTime": served}}
    assert classified("time", 200, body).value == 1700111073740


# --------------------------------------------------------------------------------------------
# Key info: classic (v2) and unified (v3), on the documented examples and both readings
# --------------------------------------------------------------------------------------------


def facts_of(name: str, data: Mapping[str, object]) -> Facts:
    result = classified(name, 200, {"code": "00000", "msg": "success", "requestTime": 1, "data": data})
    assert isinstance(result.value, Facts), result.failure
    return result.value


# [BG-INFO]'s example, verbatim (legacy authorities).
V2_DOC = {"userId": "**********", "inviterId": "**********", "ips": "127.0.0.1",
          "authorities": ["trade", "readonly"], "parentId": 1, "traderType": "trader", "channelCode": "XXX",
          "channel": "YYY", "regisTime": "1246566789345"}  # fmt: skip
# [BG-UTA]'s example, verbatim.
V3_DOC = {"uid": "123456789", "inviterId": "987654321", "parentId": "", "channelCode": "6258",
          "channel": "official", "ips": "192.168.1.1,192.168.1.2", "permType": "read-and-write",
          "permissions": ["uta_mgt", "uta_trade", "withdraw", "copy_futures_position", "copy_futures_order"],
          "regisTime": "1704067200000"}  # fmt: skip


def test_v2_documented_example_with_legacy_authorities() -> None:
    facts = facts_of("key_info", V2_DOC)
    assert (facts.read, facts.spot_trade, facts.futures_trade) == (True, True, True)
    assert facts.withdraw is None  # the legacy vocabulary does not tell
    assert facts.unknown_permissions == ()
    assert facts.ip_whitelist == ("127.0.0.1",)
    # parentId 1 differs from the (masked) userId: read as a sub-account (FACTS "master/sub")
    assert facts.account == {"account_mode": "classic", "is_master": False, "parent_uid": "1"}
    assert facts.expires_at is None


def test_v3_documented_example() -> None:
    facts = facts_of("uta_key_info", V3_DOC)
    assert (facts.read, facts.spot_trade, facts.futures_trade, facts.withdraw) == (True, True, True, True)
    assert facts.unneeded is True  # uta_mgt, copy trading
    assert facts.unknown_permissions == ()
    assert facts.ip_whitelist == ("192.168.1.1", "192.168.1.2")
    assert facts.account == {"account_mode": "unified", "is_master": True}


@pytest.mark.parametrize(
    ("authorities", "withdraw", "spot", "futures", "unneeded"),
    [
        (["stor", "stow", "coor", "coow", "cpor", "cpow"], False, True, True, False),
        (["stor", "coor", "cpor"], False, False, False, False),
        (["stor", "stow"], False, True, False, False),
        (["stor", "stow", "wwow"], True, True, False, False),
        (["stor", "stow", "wtow"], False, True, False, True),  # own-account transfers: warned, not refused
        (["stor", "stow", "smow"], False, True, False, True),
        (["STOR", " stow "], False, True, False, False),  # case and spaces tolerated
        ("stor,stow,wwow", True, True, False, False),  # a string, should it come as one
        # legacy names (FACTS "legacy authorities"): withdraw refused, transfer warned, else unknown
        (["readonly", "trade", "withdraw"], True, True, True, False),
        (["readonly", "trade", "transfer"], None, True, True, True),
        (["readonly"], None, False, False, False),
    ],
)
def test_v2_authorities(
    authorities: list[str] | str, withdraw: bool | None, spot: bool, futures: bool, unneeded: bool
) -> None:
    facts = facts_of("key_info", {"userId": "1", "authorities": authorities, "ips": "1.2.3.4"})
    assert facts.read is True
    assert (facts.withdraw, facts.spot_trade, facts.futures_trade, facts.unneeded) == (
        withdraw, spot, futures, unneeded
    )  # fmt: skip


def test_unknown_authority_is_reported() -> None:
    facts = facts_of("key_info", {"userId": "1", "authorities": ["stor", "stow", "zzow"]})
    assert facts.unknown_permissions == ("zzow",)


@pytest.mark.parametrize(
    ("perm_type", "permissions", "trade", "withdraw"),
    [
        ("read-and-write", ["uta_trade"], True, False),
        ("read-only", ["uta_trade"], False, False),  # the type wins over the name
        ("read-and-write", [], False, False),
        ("read-only", ["withdraw"], False, True),
    ],
)
def test_v3_rights(perm_type: str, permissions: list[str], trade: bool, withdraw: bool) -> None:
    facts = facts_of("uta_key_info", {"uid": "1", "permType": perm_type, "permissions": permissions})
    assert (facts.spot_trade, facts.futures_trade, facts.withdraw) == (trade, trade, withdraw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, None),  # not reported
        ({"ips": None}, None),
        ({"ips": ""}, ()),  # no restriction
        ({"ips": "203.0.113.10, 203.0.113.11,"}, ("203.0.113.10", "203.0.113.11")),
        ({"ips": ["203.0.113.10"]}, ("203.0.113.10",)),  # a list, should it come as one
    ],
)
def test_ips_forms(raw: dict[str, object], expected: tuple[str, ...] | None) -> None:
    assert facts_of("key_info", {"userId": "1", "authorities": ["stor"], **raw}).ip_whitelist == expected
    assert (
        facts_of("uta_key_info", {"uid": "1", "permType": "read-only", "permissions": [], **raw}).ip_whitelist
        == expected
    )


@pytest.mark.parametrize(
    ("uid", "parent", "account"),
    [
        ("42", None, {"is_master": True}),
        ("42", "", {"is_master": True}),
        ("42", 0, {"is_master": True}),
        ("42", 42, {"is_master": True}),  # the own uid: a master (one reading)
        ("42", "42", {"is_master": True}),
        ("42", 7, {"is_master": False, "parent_uid": "7"}),
        ("42", "7" * 80, {"is_master": False, "parent_uid": "7" * 64}),  # capped
    ],
)
def test_master_and_sub_read_both_ways(uid: str, parent: object, account: dict[str, object]) -> None:
    data: dict[str, object] = {"userId": uid, "authorities": ["stor"]}
    if parent is not None:
        data["parentId"] = parent
    assert facts_of("key_info", data).account == {"account_mode": "classic", **account}


def test_unified_refusal_runs_the_v3_fallbacks_only_then() -> None:
    refused = classified("key_info", 400, bg("40085"))
    accepted = classified("uta_key_info", 200, {"code": "00000", "data": V3_DOC})
    report = judge([refused, accepted], SPOT, [])
    # the v3 answer stands in for the refused v2 call
    assert report.failure is None or report.failure.exchange_code != "40085"
    fallback = call("uta_key_info")
    assert fallback.needs == ("key_info",)
    assert fallback.when is not None
    from backfuture.engine.spec import Inputs

    creds = Credentials("k", "s", "p")
    assert fallback.when(Inputs(creds, {}, {"key_info": "40085"})) is True
    assert fallback.when(Inputs(creds, {}, {"key_info": "40014"})) is False
    assert fallback.when(Inputs(creds, {"key_info": Facts()}, {})) is False


# --------------------------------------------------------------------------------------------
# The probe against the simulator: demo keys in detail (every key's outcome: test_every_exchange.py)
# --------------------------------------------------------------------------------------------


def key(label: str) -> DemoKey:
    matches = [k for k in DEMO_KEYS if k.api_key.startswith("bg_demo" + label + "0")]
    assert len(matches) == 1, label
    return matches[0]


def test_connected_key_reports_every_fact(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("connected"), BOTH)
    assert report.failure is None
    assert report.checks == dict.fromkeys(
        ("credentials", "read", "balance_access", "trade", "futures", "withdraw_disabled"), OK
    )
    assert report.permissions == {"read": True, "trade": True, "withdraw": False, "futures": True}
    assert report.ip_whitelist == PLATFORM_IPS
    assert report.account == {"account_mode": "classic", "is_master": True}
    assert report.key_expires_at is None
    assert report.clock_offset_ms is not None and abs(report.clock_offset_ms) < 1_000
    # one clock call, then one signed round: no v3 call for a classic account
    paths = [r.path for r in sim.requests]
    assert paths.count("/api/v2/public/time") == 1
    assert not any(p.startswith("/api/v3/") for p in paths)
    assert "/api/v2/mix/account/accounts" in paths


def test_spot_only_connection_makes_no_futures_call(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("connected"), SPOT)
    assert report.failure is None
    assert "futures" not in report.checks
    assert report.permissions["futures"] is True  # connection_test turns it into unneeded_permission
    assert "/api/v2/mix/account/accounts" not in {r.path for r in sim.requests}


def test_futures_query_is_the_usdt_product(run_probe: Prober, sim: Simulator) -> None:
    assert run_probe(key("connected"), FUTURES).failure is None
    queries = [r.query for r in sim.requests if r.path == "/api/v2/mix/account/accounts"]
    assert queries == ["productType=USDT-FUTURES"]


@pytest.mark.parametrize(("label", "code"), [("invalidkey", "40037"), ("wrongsecret", "40009")])
def test_credential_failures(run_probe: Prober, label: str, code: str) -> None:
    report = run_probe(key(label), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.INVALID_KEY, code)
    assert report.checks == {"credentials": FAILED}
    assert report.ip_whitelist is None


def test_wrong_passphrase(run_probe: Prober) -> None:
    report = run_probe(key("badpassphrase"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.INVALID_PASSPHRASE, "40012")
    assert report.checks == {"credentials": FAILED}


def test_key_without_spot_read(run_probe: Prober) -> None:
    report = run_probe(key("noread"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.NO_READ_PERMISSION, "40014")
    assert report.checks["credentials"] == OK
    assert report.checks["read"] == FAILED
    assert report.permissions["withdraw"] is None  # key info itself was refused


def test_read_only_key_cannot_trade(run_probe: Prober) -> None:
    report = run_probe(key("readonly"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.NO_TRADE_PERMISSION, "trade")
    assert report.checks["read"] == OK
    assert report.checks["trade"] == FAILED
    assert report.permissions == {"read": True, "trade": False, "withdraw": False, "futures": False}


def test_spot_key_on_futures(run_probe: Prober) -> None:
    assert run_probe(key("nofutures"), SPOT).failure is None
    report = run_probe(key("nofutures"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.FUTURES_NOT_ENABLED, "futures")
    assert report.failure.exchange_code == "40014"
    assert report.checks["trade"] == OK


def test_withdrawal_key(run_probe: Prober) -> None:
    report = run_probe(key("withdrawal"), SPOT)
    assert report.permissions["withdraw"] is True
    assert report.checks["withdraw_disabled"] == FAILED


def test_ip_not_allowed(run_probe: Prober) -> None:
    report = run_probe(key("ipnotallowed"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.IP_NOT_ALLOWED, "40018")
    assert report.failure.check == "ip_whitelist"


def test_whitelist_forms(run_probe: Prober) -> None:
    assert run_probe(key("noiprestriction"), SPOT).ip_whitelist == []
    assert run_probe(key("ipmismatch"), SPOT).ip_whitelist == PLATFORM_IPS[:1]


def test_own_account_transfer_warns_but_is_not_withdrawal(run_probe: Prober) -> None:
    report = run_probe(key("transfer"), BOTH)
    assert report.failure is None
    assert report.permissions["withdraw"] is False
    assert report.warnings == [WarningCode.UNNEEDED_PERMISSION]


def test_sub_account_key(run_probe: Prober) -> None:
    report = run_probe(key("subaccount"), SPOT)
    assert report.failure is None
    assert report.account == {"account_mode": "classic", "is_master": False, "parent_uid": "4000000001"}


def test_legacy_authorities_leave_withdrawal_unverifiable(run_probe: Prober) -> None:
    report = run_probe(key("legacy"), BOTH)
    assert report.failure is None
    assert report.permissions["withdraw"] is None
    assert "withdraw_disabled" not in report.checks
    assert WarningCode.WITHDRAW_UNVERIFIABLE.value in run_probe.warnings(report, BOTH)


@pytest.mark.parametrize(
    ("label", "outcome", "code"),
    [("restricted", Outcome.ACCOUNT_RESTRICTED, "40013"),
     ("unavailable", Outcome.EXCHANGE_UNAVAILABLE, "40200"),
     ("exchangeerror", Outcome.EXCHANGE_ERROR, "40034"),
     ("ratelimited", Outcome.RATE_LIMITED, "429")],
)  # fmt: skip
def test_scripted_account_and_venue_answers(
    run_probe: Prober, label: str, outcome: Outcome, code: str
) -> None:
    report = run_probe(key(label), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (outcome, code)
    if outcome is Outcome.RATE_LIMITED:
        assert report.failure.http_status == 429
        assert report.failure.retry_after_s is None  # Bitget documents no header


# -- unified trading accounts ------------------------------------------------------------------


def test_unified_account_answers_through_v3(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("uta"), BOTH)
    assert report.failure is None, report.failure
    assert report.checks == {
        "credentials": OK, "read": OK, "balance_access": OK, "trade": OK, "withdraw_disabled": OK,
        "futures": OK,
    }  # fmt: skip
    assert report.permissions == {"read": True, "trade": True, "withdraw": False, "futures": True}
    assert report.account == {"account_mode": "unified", "is_master": True}
    assert report.ip_whitelist == PLATFORM_IPS
    paths = [r.path for r in sim.requests]
    assert {"/api/v3/account/info", "/api/v3/account/assets"} <= set(paths)
    assert paths.count("/api/v3/account/assets") == 2  # once for each market's balance check


def test_unified_account_futures_check_is_ok(run_probe: Prober) -> None:
    assert run_probe(key("uta"), BOTH).checks.get("futures") == OK


def test_unified_read_only_key(run_probe: Prober) -> None:
    report = run_probe(key("utareadonly"), SPOT)
    assert report.failure is not None
    assert report.failure.outcome is Outcome.NO_TRADE_PERMISSION
    assert report.checks["read"] == OK


def test_unified_withdraw_and_management_rights(run_probe: Prober) -> None:
    assert run_probe(key("utawithdraw"), SPOT).permissions["withdraw"] is True
    report = run_probe(key("utamgt"), BOTH)
    assert report.failure is None
    assert report.warnings == [WarningCode.UNNEEDED_PERMISSION]


def test_unified_fallback_failure_is_reported(
    run_probe: Prober, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The v3 answer failing (a rate limit there) is what the user sees, not a bare 40085.
    from simulator import bitget as sim_bitget
    from simulator.kit import VenueKey

    uta = sim_bitget.VENUE_KEYS[key("uta").api_key]
    limited = sim_bitget.BitgetKey(
        api_key=uta.api_key, secret=uta.secret, permissions=uta.permissions, unified=True,
        passphrase=uta.passphrase, answers={"key_info": sim_bitget.error(400, "1001", "too frequent")},
    )  # fmt: skip
    keys: dict[str, VenueKey] = dict(sim_bitget.VENUE_KEYS)
    keys[uta.api_key] = limited
    monkeypatch.setattr(sim.venues["bitget-api"], "keys", keys)
    report = run_probe(key("uta"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.RATE_LIMITED, "1001")


# --------------------------------------------------------------------------------------------
# Venue-wide conditions and the clock
# --------------------------------------------------------------------------------------------


def test_clock_skew_when_a_fresh_offset_does_not_help(
    run_probe: Prober, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe_module, "now_ms", lambda: now_ms() - 90_000)
    report = run_probe(key("connected"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.CLOCK_SKEW, "40008")
    assert sum(r.path == "/api/v2/public/time" for r in sim.requests) == 2
