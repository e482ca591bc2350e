"""HTX: signing (the documented pre-signed text byte for byte, the HMAC cross-checked with the official
SDK's recipe), the error tables with the api-signature-not-valid message family, the key-info reader
on the documented examples, the rate-limit headers, and the probe of every demo key."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib import parse

import pytest

from backfuture.clock import now_ms
from backfuture.engine.http import ExchangeResponse
from backfuture.engine.probe import Result, classify
from backfuture.engine.report import CheckValue, ExchangeFailure
from backfuture.engine.spec import Call, Draft, Facts
from backfuture.errors import Outcome, WarningCode
from backfuture.exchanges import Credentials, htx
from simulator.core import SimResponse, Simulator
from simulator.demo_keys import DemoKey
from simulator.htx import DEMO_KEYS, VENUE_KEYS, demo_api_key, spot_error
from tests.exchanges.conftest import BOTH, FUTURES, PLATFORM_IPS, SPOT, Prober

OK, FAILED = CheckValue.OK, CheckValue.FAILED
DOC_KEY = "e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx"  # the docs' masked example key
SECRET = "b0xxxxxx-c6xxxxxx-94xxxxxx-dxxxx"
DOC_MS = int(datetime(2017, 5, 11, 15, 19, 30, 123_000, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(scope="module")
def exchange_id() -> str:
    return "htx"


def call(name: str) -> Call:
    return next(c for c in htx.EXCHANGE.calls if c.name == name)


def sdk_signature(secret: str, method: str, url: str, params: dict[str, str]) -> str:
    """HuobiRDCenter/huobi_Python huobi/utils/api_signature.py ``create_signature``, transcribed
    independently: hostname and path from the URL, keys sorted, values quoted (safe='')."""
    host = parse.urlparse(url).hostname
    path = parse.urlparse(url).path
    qs0 = "&".join(f"{k}={parse.quote(params[k], safe='')}" for k in sorted(params))
    payload0 = f"{method}\n{host}\n{path}\n{qs0}"
    return base64.b64encode(
        hmac.new(secret.encode("utf-8"), payload0.encode("utf-8"), hashlib.sha256).digest()
    ).decode()


def sign(path: str, params: tuple[tuple[str, str], ...], base: str = "https://api.huobi.pro") -> Any:
    draft = Draft(host="spot", method="GET", base_url=base, path=path, params=params, body=None)
    return htx.sign(draft, Credentials(DOC_KEY, SECRET), DOC_MS)


# --------------------------------------------------------------------------------------------
# Signing ([HTX-DOC] "Signature Method": the example's pre-signed text, byte for byte)
# --------------------------------------------------------------------------------------------

DOC_TEXT = (
    "GET\napi.huobi.pro\n/v1/order/orders\nAccessKeyId=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx&SignatureMethod="
    "HmacSHA256&SignatureVersion=2&Timestamp=2017-05-11T15%3A19%3A30&order-id=1234567890"
)


def test_docs_pre_signed_text_byte_for_byte() -> None:
    query = htx.encode(
        [("order-id", "1234567890"), ("AccessKeyId", DOC_KEY), ("SignatureMethod", "HmacSHA256"),
         ("SignatureVersion", "2"), ("Timestamp", htx.timestamp(DOC_MS))]
    )  # fmt: skip
    assert htx.pre_signed("get", "API.huobi.pro", "/v1/order/orders", query) == DOC_TEXT


def test_signed_url_matches_the_official_sdk() -> None:
    signed = sign("/v1/order/orders", (("order-id", "1234567890"),))
    query = DOC_TEXT.split("\n")[3]
    expected = sdk_signature(SECRET, "GET", "https://api.huobi.pro/v1/order/orders", {
        "order-id": "1234567890", "AccessKeyId": DOC_KEY, "SignatureMethod": "HmacSHA256",
        "SignatureVersion": "2", "Timestamp": "2017-05-11T15:19:30"})  # fmt: skip
    assert (
        signed.url
        == f"https://api.huobi.pro/v1/order/orders?{query}&Signature={parse.quote(expected, safe='')}"
    )
    assert htx.hmac_base64(SECRET, DOC_TEXT) == expected
    assert signed.headers == {} and signed.content is None


def test_timestamp_is_utc_to_the_second() -> None:
    assert htx.timestamp(DOC_MS) == "2017-05-11T15:19:30"
    assert htx.timestamp(DOC_MS + 876) == "2017-05-11T15:19:30"


def test_values_are_encoded_upper_case_and_sorted() -> None:
    assert htx.encode([("b", "x y/é"), ("a", "1:2")]) == "a=1%3A2&b=x%20y%2F%C3%A9"


def test_host_with_port_is_signed_as_the_request_host() -> None:
    # Off HTX (the simulator) the Host header carries the port: signed as host:port, lower case.
    signed = sign("/v2/user/uid", (), base="http://127.0.0.1:8900/htx-spot")
    query = signed.url.split("?", 1)[1].rsplit("&Signature=", 1)[0]
    text = f"GET\n127.0.0.1:8900\n/v2/user/uid\n{query}"
    assert signed.url.endswith("&Signature=" + parse.quote(htx.hmac_base64(SECRET, text), safe=""))
    assert signed.url.startswith("http://127.0.0.1:8900/htx-spot/v2/user/uid?AccessKeyId=")


def test_signed_request_repr_shows_no_key_material() -> None:
    assert SECRET not in repr(sign("/v2/user/uid", ()))
    assert DOC_KEY not in repr(sign("/v2/user/uid", ()))


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

C = "credentials"


def classified(name: str, status: int, body: object, headers: dict[str, str] | None = None) -> Result:
    c = call(name)
    return classify(c, htx.EXCHANGE.host(c.host), ExchangeResponse(status, headers or {}, body))


def failure_of(
    name: str, body: object, status: int = 200, headers: dict[str, str] | None = None
) -> ExchangeFailure:
    result = classified(name, status, body, headers)
    assert result.failure is not None, result
    return result.failure


def spot(code: str, msg: str = "text") -> dict[str, object]:
    return {"status": "error", "err-code": code, "err-msg": msg, "data": None}


SIG = "api-signature-not-valid"
ACCESS_KEY, VERIFY = "Incorrect Access key [Access key错误]", "Verification failure [校验失败]"
TIME = "Invalid submission time or incorrect time format [无效的提交时间，或时间格式错误]"  # noqa: RUF001
MAINTENANCE = "System is in maintenance!"
SPOT_TABLE = [
    (spot(SIG, f"Signature not valid: {ACCESS_KEY}"), Outcome.INVALID_KEY, C, "api-signature.key"),
    (spot(SIG, f"Signature not valid: {VERIFY}"), Outcome.INVALID_KEY, C, "api-signature.signature"),
    (spot(SIG, f"Signature not valid: {TIME}"), Outcome.CLOCK_SKEW, C, "api-signature.time"),
    (spot(SIG, "Signature not valid: Incorrect IP address [IP地址错误]:104.128.67.45"),
     Outcome.IP_NOT_ALLOWED, "ip_whitelist", "api-signature.ip"),
    (spot(SIG, "APIkey has expired"), Outcome.INVALID_KEY, C, "api-signature.expired"),
    (spot(SIG, "Signature not valid"), Outcome.INVALID_KEY, C, SIG),
    (spot("system-maintenance", MAINTENANCE), Outcome.EXCHANGE_UNAVAILABLE, "read", "system-maintenance"),
    (spot("gateway-internal-error"), Outcome.EXCHANGE_UNAVAILABLE, "read", "gateway-internal-error"),
    (spot("bad-request", "429 too many request"), Outcome.RATE_LIMITED, "read", "bad-request.429"),
    (spot("bad-request", "something else"), Outcome.EXCHANGE_ERROR, "read", "bad-request"),
    (spot("invalid-parameter"), Outcome.EXCHANGE_ERROR, "read", "invalid-parameter"),
    ({"code": 1003, "message": "invalid signature"}, Outcome.INVALID_KEY, C, "1003"),
    ({"code": 500, "message": "error"}, Outcome.EXCHANGE_UNAVAILABLE, "read", "500"),
    ({"code": 1002, "message": "unauthorized"}, Outcome.INVALID_KEY, C, "1002"),  # alone: a bad key
    ({"code": 2002, "message": "invalid field value"}, Outcome.EXCHANGE_ERROR, "read", "2002"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "outcome", "check", "code"), SPOT_TABLE)
def test_spot_error_table(body: dict[str, object], outcome: Outcome, check: str, code: str) -> None:
    failure = failure_of("spot_valuation", body)
    assert (failure.outcome, failure.check, failure.exchange_code) == (outcome, check, code)


def v1(code: int, msg: str = "text") -> dict[str, object]:
    return {"status": "error", "err_code": code, "err_msg": msg, "ts": 1}


def v5(code: int, msg: str = "text") -> dict[str, object]:
    return {"code": code, "message": msg, "data": None}


F = "futures"
FUTURES_TABLE = [
    (403, "Verification failure [校验失败]", Outcome.INVALID_KEY, C, "403.signature"),
    (403, "Invalid submission time or incorrect time format", Outcome.CLOCK_SKEW, C, "403.time"),
    (403, "Incorrect IP address [IP地址错误]:1.2.3.4", Outcome.IP_NOT_ALLOWED, "ip_whitelist", "403.ip"),
    (403, "unexplained", Outcome.INVALID_KEY, C, "403"),
    (1253, "Error in signature verification.", Outcome.INVALID_KEY, C, "1253"),
    (12004, "key expired", Outcome.INVALID_KEY, C, "12004"),
    (12005, "IP Address not allowed", Outcome.IP_NOT_ALLOWED, "ip_whitelist", "12005"),
    (1032, "The number of access exceeded the limit.", Outcome.RATE_LIMITED, F, "1032"),
    (1084, "Your contract API is disabled", Outcome.ACCOUNT_RESTRICTED, F, "1084"),
    (1220, "not opened contracts trading", Outcome.FUTURES_NOT_ENABLED, F, "1220"),
    *[(c, "eligibility", Outcome.ACCOUNT_RESTRICTED, F, str(c)) for c in (1221, 1226, 1231)],
    (1000, "System error", Outcome.EXCHANGE_UNAVAILABLE, F, "1000"),
    (1001, "System is unprepared.", Outcome.EXCHANGE_UNAVAILABLE, F, "1001"),
    (1004, "System busy. Please try again later.", Outcome.EXCHANGE_UNAVAILABLE, F, "1004"),
    (1232, "not mapped", Outcome.EXCHANGE_ERROR, F, "1232"),
]  # fmt: skip


@pytest.mark.parametrize("shape", [v1, v5], ids=["v1", "v5"])
@pytest.mark.parametrize(("code", "msg", "outcome", "check", "kept"), FUTURES_TABLE)
def test_futures_error_table_in_both_shapes(
    shape: Any, code: int, msg: str, outcome: Outcome, check: str, kept: str
) -> None:
    failure = failure_of("futures_balance", shape(code, msg))
    assert (failure.outcome, failure.check, failure.exchange_code) == (outcome, check, kept)


def test_futures_host_reads_the_spot_gateway_codes_too() -> None:
    failure = failure_of("futures_balance", spot(SIG, "Signature not valid: Incorrect Access key"))
    assert failure.outcome is Outcome.INVALID_KEY


def test_the_message_is_searched_never_kept() -> None:
    failure = failure_of("key_info", spot(SIG, "Signature not valid: Incorrect IP address:104.128.67.45"))
    assert "104.128" not in repr(failure)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [({"X-HB-RateLimit-Requests-Expire": "1500"}, 2), ({"ratelimit-reset": "200"}, 1), ({}, None)],
)
def test_rate_limit_headers_as_a_duration(headers: dict[str, str], seconds: int | None) -> None:
    failure = failure_of("spot_valuation", spot("bad-request", "429 too many request"), 429, headers)
    assert failure.outcome is Outcome.RATE_LIMITED and failure.retry_after_s == seconds


def test_rate_limit_header_as_an_epoch() -> None:
    headers = {"ratelimit-reset": str(now_ms() + 2_500)}
    failure = failure_of("futures_balance", v1(1032), 200, headers)
    assert failure.retry_after_s in (2, 3)


def test_success_shapes() -> None:
    assert classified("spot_time", 200, {"status": "ok", "data": 1637504261099}).value == 1637504261099
    assert classified("futures_time", 200, {"status": "ok", "ts": 1637504164707}).value == 1637504164707
    assert classified("uid", 200, {"code": 200, "data": 63628520}).value == 63628520
    valuation = {"code": 200, "data": {"balance": "34.75", "timestamp": 1594901254363}, "ok": True}
    assert classified("spot_valuation", 200, valuation).value.balances is True
    assert classified("futures_balance", 200, {"code": 200, "message": "Success", "data": {"equity": "1"}}).ok
    # a 200 status field without code or data is no success of a documented shape
    assert classified("spot_valuation", 200, {"status": "error"}).failure is not None


# --------------------------------------------------------------------------------------------
# The key-info reader on the documented examples
# --------------------------------------------------------------------------------------------

DOC_EXAMPLE = [{"accessKey": "4ba5cdf2-4a92c5da-718ba144-dbuqg6hkte", "status": "normal", "note": "62924133",
                "permission": "readOnly,trade", "ipAddresses": "1.1.1.1,1.1.1.2", "validDays": -1,
                "createTime": 1591348751000, "updateTime": 1591348751000}]  # fmt: skip


def test_documented_example() -> None:
    facts = htx.read_key_info(DOC_EXAMPLE)
    assert (facts.withdraw, facts.read, facts.spot_trade, facts.futures_trade) == (False, True, True, True)
    assert facts.ip_whitelist == ("1.1.1.1", "1.1.1.2")
    assert facts.expires_at is None and facts.unknown_permissions == ()
    assert facts.account == {"key_status": "normal"}


def test_second_example_withdraw_no_ips_seven_days() -> None:
    facts = htx.read_key_info([{**DOC_EXAMPLE[0], "permission": "readOnly,trade,withdraw", "ipAddresses": "",
                                "validDays": 7}])  # fmt: skip
    assert facts.withdraw is True and facts.ip_whitelist == ()
    assert facts.expires_at is not None
    left = facts.expires_at - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < left <= timedelta(days=7)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [({"permission": "readOnly"}, (False, False, None)), ({"ipAddresses": None}, (True, True, None)),
     ({"permission": "readOnly,trade,margin"}, (True, True, ("margin",)))],
)  # fmt: skip
def test_permission_and_ip_forms(entry: dict[str, Any], expected: tuple[Any, ...]) -> None:
    base = {k: v for k, v in DOC_EXAMPLE[0].items() if k != "ipAddresses"} | entry
    facts = htx.read_key_info([{k: v for k, v in base.items() if v is not None}])
    trade, futures, unknown = expected
    assert (facts.spot_trade, facts.futures_trade) == (trade, futures)
    assert facts.unknown_permissions == (unknown or ())
    assert facts.ip_whitelist is None  # absent: not reported


def test_expired_status_reads_as_expired_now() -> None:
    facts = htx.read_key_info([{**DOC_EXAMPLE[0], "status": "expired"}])
    assert facts.expires_at is not None and facts.expires_at <= datetime.now(UTC)


# JKorf's GetAccounts.txt (the docs' example): spot, otc and point accounts, all working.
ACCOUNTS = [{"id": 10000001, "type": "spot", "subtype": "", "state": "working"},
            {"id": 10000002, "type": "otc", "subtype": "", "state": "working"},
            {"id": 10000003, "type": "point", "subtype": "", "state": "working"}]  # fmt: skip


def accounts_with(spot: object, others: str = "working") -> list[dict[str, Any]]:
    return [{**a, "state": spot if a["type"] == "spot" else others} for a in ACCOUNTS]


@pytest.mark.parametrize(
    ("body", "restricted", "state"),
    [
        (ACCOUNTS, False, "working"),
        (accounts_with("lock"), True, "lock"),
        (accounts_with("normal"), False, "normal"),  # JKorf reads it as working
        (accounts_with("working", others="lock"), False, "working"),  # only the spot account counts
        (accounts_with("frozen-ish"), None, "frozen-ish"),  # undocumented: says nothing either way
        (accounts_with(None), None, "None"),
        ([a for a in ACCOUNTS if a["type"] != "spot"], None, None),  # no spot account listed
    ],
)
def test_spot_account_state(body: list[dict[str, Any]], restricted: bool | None, state: str | None) -> None:
    result = classified("accounts", 200, {"status": "ok", "data": body})
    assert isinstance(result.value, Facts), result.failure
    assert result.value.restricted is restricted
    assert result.value.account.get("spot_account_state") == state


@pytest.mark.parametrize("data", [None, {"id": 1}, ["spot"]])
def test_an_account_list_not_shaped_as_documented_is_not_read(data: object) -> None:
    result = classified("accounts", 200, {"status": "ok", "data": data})
    assert result.failure is not None and result.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


def test_several_entries_are_not_a_documented_answer() -> None:
    result = classified("key_info", 200, {"code": 200, "data": DOC_EXAMPLE * 2})
    assert result.failure is not None and result.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


# --------------------------------------------------------------------------------------------
# The probe against the simulator: demo keys in detail (every key's outcome: test_every_exchange.py)
# --------------------------------------------------------------------------------------------


def key(label: str) -> DemoKey:
    matches = [k for k in DEMO_KEYS if k.api_key == demo_api_key(label)]
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
    assert report.account == {"key_status": "normal", "spot_account_state": "working"}
    assert report.key_expires_at is None
    assert report.clock_offset_ms is not None and abs(report.clock_offset_ms) < 1_000
    paths = [r.path for r in sim.requests]
    assert paths.count("/v1/common/timestamp") == 1 and paths.count("/api/v1/timestamp") == 1
    assert {"/v2/user/uid", "/v2/user/api-key", "/v2/account/asset-valuation", "/v5/account/balance",
            "/v1/account/accounts"} <= set(paths)  # fmt: skip
    # the key info names the tested key (never the whole list of the uid's keys)
    query = next(r.query for r in sim.requests if r.path == "/v2/user/api-key")
    assert "uid=" in query and "&Signature=" not in query  # the simulator's log drops signatures
    assert {c.method for c in htx.EXCHANGE.calls} == {"GET"}  # reads only, no order test


def test_spot_only_connection_makes_no_futures_call(run_probe: Prober, sim: Simulator) -> None:
    assert run_probe(key("connected"), SPOT).failure is None
    assert not [r for r in sim.requests if r.venue == "htx-futures"]


def test_futures_only_connection_reads_no_spot_balance(run_probe: Prober, sim: Simulator) -> None:
    assert run_probe(key("connected"), FUTURES).failure is None
    assert not {"/v2/account/asset-valuation", "/v1/account/accounts"} & {r.path for r in sim.requests}


def test_a_locked_spot_account_is_restricted_though_every_call_passes(run_probe: Prober) -> None:
    for markets in (SPOT, BOTH):
        report = run_probe(key("spotlocked"), markets)
        assert report.failure is not None
        assert (report.failure.outcome, report.failure.check, report.failure.exchange_code) == (
            Outcome.ACCOUNT_RESTRICTED, "credentials", None)  # fmt: skip
        assert report.checks["credentials"] is OK and report.checks["read"] is OK
        assert report.permissions["withdraw"] is False
        assert report.account["spot_account_state"] == "lock"
    assert run_probe(key("spotlocked"), FUTURES).failure is None  # the spot account is not read then


@pytest.mark.parametrize("answer", [
    spot_error("invalid-parameter", "invalid parameter"),
    spot_error("system-maintenance", "System is in maintenance!"),
    SimResponse(200, {"status": "ok", "data": None}),  # not shaped as documented
])  # fmt: skip
def test_the_account_list_failing_never_fails_the_test_by_itself(
    run_probe: Prober, sim: Simulator, monkeypatch: pytest.MonkeyPatch, answer: SimResponse
) -> None:
    demo = key("connected")
    keys = dict(VENUE_KEYS)
    keys[demo.api_key] = replace(keys[demo.api_key], answers={"accounts": answer})
    monkeypatch.setattr(sim.venues["htx-spot"], "keys", keys)
    report = run_probe(demo, SPOT)
    assert report.failure is None and "spot_account_state" not in report.account
    assert report.permissions["withdraw"] is False


def test_credential_failures_keep_the_family_code(run_probe: Prober) -> None:
    for label, code in (("invalidkey", "api-signature.key"), ("wrongsecret", "api-signature.signature")):
        report = run_probe(key(label), BOTH)
        assert report.failure is not None and report.failure.exchange_code == code
        assert report.checks["credentials"] is FAILED


def test_wrong_secret_is_refused_on_futures_too(run_probe: Prober, sim: Simulator) -> None:
    demo = key("connected")
    report = run_probe(Credentials(demo.api_key, "0" * 8 + demo.api_secret[8:]), FUTURES)
    assert report.failure is not None and report.failure.outcome is Outcome.INVALID_KEY


def test_read_only_key(run_probe: Prober) -> None:
    report = run_probe(key("readonly"), SPOT)
    assert report.failure is not None and report.failure.outcome is Outcome.NO_TRADE_PERMISSION
    assert report.permissions["trade"] is False
    report = run_probe(key("readonly"), FUTURES)
    assert report.failure is not None and report.failure.outcome is Outcome.FUTURES_NOT_ENABLED


def test_unopened_futures_connects_for_spot(run_probe: Prober) -> None:
    assert run_probe(key("nofutures"), SPOT).failure is None
    report = run_probe(key("nofutures"), FUTURES)
    assert report.failure is not None and report.failure.exchange_code == "1220"


def test_whitelist_forms(run_probe: Prober) -> None:
    assert run_probe(key("noiprestriction"), SPOT).ip_whitelist == []
    assert run_probe(key("ipmismatch"), SPOT).ip_whitelist == PLATFORM_IPS[:1]
    report = run_probe(key("ipnotallowed"), BOTH)
    assert report.failure is not None and report.failure.exchange_code == "api-signature.ip"


def test_expiring_key(run_probe: Prober) -> None:
    report = run_probe(key("expiring"), SPOT)
    assert report.key_expires_at is not None
    assert report.key_expires_at - datetime.now(UTC) < timedelta(days=7, minutes=1)
    assert WarningCode.KEY_EXPIRES_SOON.value in run_probe.warnings(report, SPOT)


def test_rate_limited_carries_the_window(run_probe: Prober) -> None:
    report = run_probe(key("ratelimited"), SPOT)
    assert report.failure is not None and report.failure.retry_after_s == 2


def test_clock_skew_after_a_resync(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("clockskew"), BOTH)
    assert report.failure is not None and report.failure.outcome is Outcome.CLOCK_SKEW
    assert [r.path for r in sim.requests].count("/v1/common/timestamp") == 2


def test_simulator_refuses_a_stale_timestamp(run_probe: Prober, sim: Simulator) -> None:
    sim.configure({"clock_offset_ms": 0})
    demo = key("connected")
    credentials = Credentials(demo.api_key, demo.api_secret)
    draft = Draft("spot", "GET", htx.SPOT.base_url(), "/v2/user/uid", (), None)
    signed = htx.sign(draft, credentials, now_ms() - 120_000)
    import httpx

    body = httpx.get(signed.url).json()
    assert body["err-code"] == SIG and "submission time" in body["err-msg"]
