"""OKX: signing (computed vectors cross-checked with the official SDK's recipe, byte-exact requests),
the error table, the status and key-info readers, the allow-list, and the probe against the
simulator for every demo key and the venue-wide conditions."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hmac
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
from backfuture.exchanges import Credentials, okx
from simulator.core import Simulator
from simulator.demo_keys import DemoKey
from simulator.okx import DEMO_KEYS, OkxVenue, maintenance
from tests.exchanges.conftest import BOTH, FUTURES, PLATFORM_IPS, SPOT, Prober

OK, FAILED = CheckValue.OK, CheckValue.FAILED
BASE = "https://openapi.okx.com"


@pytest.fixture(scope="module")
def exchange_id() -> str:
    return "okx"


def call(name: str) -> Call:
    return next(c for c in okx.EXCHANGE.calls if c.name == name)


# The docs' example SecretKey and timestamp ([OKX-DOCS] #overview-rest-authentication). OKX publishes
# no secret/signature pair, so the signatures below were computed once with the recipe of the official
# SDK (python-okx okx/utils.py: base64(hmac.new(secret, ts + METHOD + path + body, 'sha256'))) and
# are re-derived by reference_sign() from the datetime module on every run.
DOC_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
DOC_CREDENTIALS = Credentials("985d5b66-57ce-40fb-b714-afc0b9787083", DOC_SECRET, "doc-passphrase")
DOC_STAMP = "2020-12-08T09:08:57.715Z"
DOC_MS = 1_607_418_537_715
BALANCE_BTC_SIGNATURE = "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
CONFIG_SIGNATURE = "Kr/8IrbDYujS4cg2KkmB+tO2HMUXxyayG6ZwNb4H/yA="
DOC_BODY = '{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}'
DOC_BODY_SIGNATURE = "eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8="


def reference_sign(secret: str, timestamp_ms: int, method: str, request_path: str, body: str = "") -> str:
    """python-okx's recipe, independently: isoformat timestamp, upper-case method, path, body."""
    stamp = dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC).replace(tzinfo=None)
    prehash = stamp.isoformat("T", "milliseconds") + "Z" + method.upper() + request_path + body
    return base64.b64encode(hmac.new(secret.encode(), prehash.encode(), "sha256").digest()).decode()


def sign(method: str, path: str, params: tuple[tuple[str, str], ...] = (), body: str | None = None) -> Any:
    draft = Draft(host="api", method=method, base_url=BASE, path=path, params=params, body=body)
    return okx.sign(draft, DOC_CREDENTIALS, DOC_MS)


# --------------------------------------------------------------------------------------------
# Vectors
# --------------------------------------------------------------------------------------------


def test_timestamp_is_iso_8601_utc_with_milliseconds() -> None:
    assert okx.iso_timestamp(DOC_MS) == DOC_STAMP
    assert okx.iso_timestamp(1_607_418_537_000) == "2020-12-08T09:08:57.000Z"
    assert okx.iso_timestamp(1_607_418_537_999) == "2020-12-08T09:08:57.999Z"
    assert okx.iso_timestamp(0) == "1970-01-01T00:00:00.000Z"


def test_docs_example_request_vector() -> None:
    # The docs' own example prehash: timestamp + 'GET' + '/api/v5/account/balance?ccy=BTC'.
    assert (
        okx.signature(DOC_SECRET, DOC_STAMP + "GET/api/v5/account/balance?ccy=BTC") == BALANCE_BTC_SIGNATURE
    )
    assert (
        reference_sign(DOC_SECRET, DOC_MS, "GET", "/api/v5/account/balance?ccy=BTC") == BALANCE_BTC_SIGNATURE
    )


def test_docs_example_body_vector() -> None:
    # The docs' example body is signed as the exact JSON text.
    assert okx.signature(DOC_SECRET, DOC_STAMP + "POST/api/v5/account/set-leverage" + DOC_BODY) == (
        DOC_BODY_SIGNATURE
    )
    assert reference_sign(DOC_SECRET, DOC_MS, "post", "/api/v5/account/set-leverage", DOC_BODY) == (
        DOC_BODY_SIGNATURE
    )


# --------------------------------------------------------------------------------------------
# Whole requests, byte for byte
# --------------------------------------------------------------------------------------------


def test_get_without_query_is_signed_and_sent_as_documented() -> None:
    signed = sign("GET", "/api/v5/account/config")
    assert signed.url == f"{BASE}/api/v5/account/config"
    assert signed.content is None
    # Exactly these headers: the passphrase in plain text, and never x-simulated-trading (demo).
    assert signed.headers == {
        "OK-ACCESS-KEY": "985d5b66-57ce-40fb-b714-afc0b9787083",
        "OK-ACCESS-SIGN": CONFIG_SIGNATURE,
        "OK-ACCESS-TIMESTAMP": DOC_STAMP,
        "OK-ACCESS-PASSPHRASE": "doc-passphrase",
        "Content-Type": "application/json",
    }


def send(method: str, signed: Any, path: str) -> httpx.Request:
    """Send through ExchangeHttp (allowing this one endpoint) and capture the request as it left."""
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


def test_query_is_part_of_the_signed_request_path_and_sent_as_signed() -> None:
    signed = sign("GET", "/api/v5/account/balance", (("ccy", "BTC"),))
    assert signed.url == f"{BASE}/api/v5/account/balance?ccy=BTC"
    assert signed.headers["OK-ACCESS-SIGN"] == BALANCE_BTC_SIGNATURE
    sent = send("GET", signed, "/api/v5/account/balance")
    assert sent.url.raw_path.decode() == "/api/v5/account/balance?ccy=BTC"
    assert "x-simulated-trading" not in sent.headers


def test_a_query_needing_encoding_is_signed_as_sent() -> None:
    signed = sign("GET", "/api/v5/account/balance", (("ccy", "BTC,USDT"),))
    assert signed.url == f"{BASE}/api/v5/account/balance?ccy=BTC%2CUSDT"
    assert signed.headers["OK-ACCESS-SIGN"] == reference_sign(
        DOC_SECRET, DOC_MS, "GET", "/api/v5/account/balance?ccy=BTC%2CUSDT"
    )
    assert send("GET", signed, "/api/v5/account/balance").url.raw_path.decode().endswith("ccy=BTC%2CUSDT")


def test_body_is_signed_and_sent_as_the_exact_json() -> None:
    signed = sign("POST", "/api/v5/account/set-leverage", body=DOC_BODY)
    assert signed.content == DOC_BODY
    assert signed.headers["OK-ACCESS-SIGN"] == DOC_BODY_SIGNATURE


def test_signed_request_repr_shows_no_key_material() -> None:
    text = repr(sign("GET", "/api/v5/account/config"))
    assert CONFIG_SIGNATURE[:8] not in text
    assert "doc-passphrase" not in text
    assert "985d5b66" not in text


# --------------------------------------------------------------------------------------------
# The allow-list: only declared calls leave the machine
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v5/trade/order",
        "/api/v5/trade/batch-orders",
        "/api/v5/trade/order-precheck",
        "/api/v5/account/set-leverage",
        "/api/v5/account/set-account-level",
        "/api/v5/asset/transfer",
        "/api/v5/asset/withdrawal",
    ],
)
def test_allow_list_refuses_orders_settings_transfers_and_withdrawals(path: str) -> None:
    def handler(_: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be reached
        raise AssertionError("a request left the machine")

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await ExchangeHttp(client, okx.EXCHANGE.allowed_endpoints()).request("POST", BASE + path)

    with pytest.raises(ForbiddenCall):
        asyncio.run(run())


def test_one_host_and_its_base_url_variable() -> None:
    assert [(h.name, h.env_var, h.default_url) for h in okx.EXCHANGE.hosts] == [
        ("api", "OKX_BASE_URL", "https://openapi.okx.com")
    ]
    assert okx.EXCHANGE.info.needs_passphrase is True
    assert okx.EXCHANGE.credentials.passphrase is True
    assert any(f.topic == "IP rate limit" for f in okx.FACTS)
    assert {c.method for c in okx.EXCHANGE.calls} == {"GET"}  # no order test: OKX has none


# --------------------------------------------------------------------------------------------
# Error table, through classify() with the declared calls and host
# --------------------------------------------------------------------------------------------

C = "credentials"
R = "read"
MSG = "exchange text, never kept"


def ok_body(code: str) -> dict[str, object]:
    return {"code": code, "msg": MSG, "data": []}


def classified(name: str, status: int, body: object, headers: dict[str, str] | None = None) -> Result:
    c = call(name)
    return classify(c, okx.EXCHANGE.host(c.host), ExchangeResponse(status, headers or {}, body))


def failure_of(
    name: str, status: int, body: object, headers: dict[str, str] | None = None
) -> ExchangeFailure:
    result = classified(name, status, body, headers)
    assert result.failure is not None, result
    return result.failure


# Every row of the table, on the spot balance call; HTTP statuses as documented ([OKX-REF] 3.5).
@pytest.mark.parametrize(
    ("status", "code", "outcome", "check"),
    [
        (401, "50111", Outcome.INVALID_KEY, C),
        (200, "50119", Outcome.INVALID_KEY, C),  # a key of another OKX site
        (401, "50119", Outcome.INVALID_KEY, C),  # either status
        (401, "50101", Outcome.INVALID_KEY, C),  # a demo-trading key
        (401, "50113", Outcome.INVALID_KEY, C),
        (401, "50114", Outcome.INVALID_KEY, C),
        (401, "50105", Outcome.INVALID_PASSPHRASE, C),
        (401, "50104", Outcome.INVALID_PASSPHRASE, C),
        (401, "50102", Outcome.CLOCK_SKEW, C),
        (401, "50110", Outcome.IP_NOT_ALLOWED, "ip_whitelist"),
        (200, "50120", Outcome.NO_READ_PERMISSION, R),
        (200, "50030", Outcome.NO_READ_PERMISSION, R),
        (400, "50100", Outcome.ACCOUNT_RESTRICTED, R),
        (200, "50007", Outcome.ACCOUNT_RESTRICTED, R),
        (200, "50009", Outcome.ACCOUNT_RESTRICTED, R),
        (200, "50012", Outcome.ACCOUNT_RESTRICTED, R),
        (200, "50027", Outcome.ACCOUNT_RESTRICTED, R),
        (200, "50029", Outcome.ACCOUNT_RESTRICTED, R),
        (200, "51024", Outcome.ACCOUNT_RESTRICTED, R),
        (200, "50051", Outcome.ACCOUNT_RESTRICTED, R),
        (200, "50052", Outcome.ACCOUNT_RESTRICTED, R),
        (200, "51155", Outcome.ACCOUNT_RESTRICTED, R),
        (200, "50121", Outcome.ACCOUNT_RESTRICTED, R),
        (200, "50011", Outcome.RATE_LIMITED, R),  # 50011 with HTTP 200...
        (429, "50011", Outcome.RATE_LIMITED, R),  # ...or 429
        (429, "50013", Outcome.RATE_LIMITED, R),  # an HTTP 429 is a rate limit whatever the code
        (200, "50013", Outcome.EXCHANGE_UNAVAILABLE, R),
        (503, "50001", Outcome.EXCHANGE_UNAVAILABLE, R),
        (500, "50026", Outcome.EXCHANGE_UNAVAILABLE, R),
        (400, "50004", Outcome.EXCHANGE_UNAVAILABLE, R),
        (200, "51000", Outcome.EXCHANGE_ERROR, R),  # unknown here: kept for support
        (401, "50112", Outcome.EXCHANGE_ERROR, R),  # a malformed timestamp: our bug, not the user's
        (200, "50035", Outcome.EXCHANGE_ERROR, R),
    ],
)  # fmt: skip
def test_error_mapping(status: int, code: str, outcome: Outcome, check: str) -> None:
    failure = failure_of("balance", status, ok_body(code))
    assert (failure.outcome, failure.check, failure.exchange_code, failure.http_status) == (
        outcome,
        check,
        code,
        status,
    )


def test_rate_limit_keeps_a_retry_after_if_ever_sent() -> None:
    assert failure_of("balance", 429, ok_body("50011"), {"retry-after": "3"}).retry_after_s == 3
    assert failure_of("balance", 429, ok_body("50011")).retry_after_s is None  # none documented


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, None),
        (200, None),
        (502, ok_body("50000")),
        (200, ["not", "an", "envelope"]),
        (200, {"data": []}),
    ],
)
def test_broken_or_foreign_answers_are_unavailable(status: int, body: object) -> None:
    assert failure_of("balance", status, body).outcome is Outcome.EXCHANGE_UNAVAILABLE


@pytest.mark.parametrize(
    ("name", "denied", "check"),
    [
        ("key_info", Outcome.NO_READ_PERMISSION, "read"),
        ("balance", Outcome.NO_READ_PERMISSION, "read"),
        ("futures_balance", Outcome.FUTURES_NOT_ENABLED, "futures"),
    ],
)
@pytest.mark.parametrize("code", ["50120", "50030"])
def test_permission_codes_mean_the_calls_own_right(name: str, denied: Outcome, check: str, code: str) -> None:
    failure = failure_of(name, 200, ok_body(code))
    assert (failure.outcome, failure.check) == (denied, check)


def test_failure_never_keeps_the_exchange_message() -> None:
    body = {
        "code": "50110",
        "msg": "Your IP 9.9.9.9 is not included in your API key's IP whitelist.",
        "data": [],
    }
    failure = failure_of("balance", 401, body)
    assert "9.9.9.9" not in str(failure)
    assert all("9.9.9.9" not in str(value) for value in vars(failure).values())


# --------------------------------------------------------------------------------------------
# Server time and maintenance
# --------------------------------------------------------------------------------------------


def test_server_time_reads_the_docs_example() -> None:
    result = classified("time", 200, {"code": "0", "msg": "", "data": [{"ts": "1597026383085"}]})
    assert result.value == 1_597_026_383_085


@pytest.mark.parametrize(
    ("events", "open_"),
    [
        ([], True),
        ([maintenance("completed", "8")], True),  # the docs' example event
        ([maintenance("scheduled")], True),
        ([maintenance("pre_open")], True),
        ([maintenance("ongoing", "5")], False),  # the trading service
        ([maintenance("ongoing", "8")], False),  # in batches of accounts: maybe this one
        ([maintenance("ongoing", "9")], False),
        ([maintenance("ongoing", "99")], False),
        ([maintenance("ongoing", "0")], True),  # WebSocket only
        ([maintenance("ongoing", "7")], True),  # trading bots
        ([maintenance("ongoing", "11")], True),  # copy trading
        ([maintenance("ongoing", "5", env="2")], True),  # demo trading
        ([maintenance("scheduled"), maintenance("ongoing", "5")], False),
    ],
)
def test_status_events(events: list[dict[str, str]], open_: bool) -> None:
    result = classified("status", 200, {"code": "0", "msg": "", "data": events})
    assert result.ok is open_
    if not open_:
        assert result.failure is not None
        assert result.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


# --------------------------------------------------------------------------------------------
# Key info (GET /api/v5/account/config)
# --------------------------------------------------------------------------------------------

# The docs' example answer ([OKX-REF] 3.3), verbatim.
DOC_CONFIG = {
    "acctLv": "2", "acctStpMode": "cancel_maker", "autoLoan": False, "ctIsoMode": "automatic",
    "enableSpotBorrow": False, "greeksType": "PA", "feeType": "0", "ip": "", "type": "0", "kycLv": "3",
    "label": "v5 test", "level": "Lv1", "levelTmp": "", "liquidationGear": "-1",
    "mainUid": "44705892343619584", "mgnIsoMode": "automatic", "opAuth": "1",
    "perm": "read_only,withdraw,trade", "posMode": "long_short_mode", "roleType": "0",
    "spotBorrowAutoRepay": False, "spotOffsetType": "", "spotRoleType": "0", "spotTraderInsts": [],
    "stgyType": "0", "traderInsts": [], "uid": "44705892343619584", "settleCcy": "USDC",
    "settleCcyList": ["USD", "USDC", "USDG"],
}  # fmt: skip


def key_info(**changes: object) -> Facts:
    data = {k: v for k, v in {**DOC_CONFIG, **changes}.items() if v is not None}
    result = classified("key_info", 200, {"code": "0", "data": [data], "msg": ""})
    assert isinstance(result.value, Facts), result.failure
    return result.value


def test_key_info_docs_example() -> None:
    facts = key_info()
    assert (facts.read, facts.spot_trade, facts.futures_trade, facts.withdraw) == (True, True, True, True)
    assert facts.unneeded is False
    assert facts.unknown_permissions == ()
    assert facts.ip_whitelist == ()
    assert facts.expires_at is None  # OKX reports no date
    assert facts.account == {"is_master": True, "account_mode": "futures", "expires_if_idle_days": 14}


@pytest.mark.parametrize(
    ("perm", "read", "trade", "withdraw"),
    [
        ("read_only", True, False, False),
        ("read_only,trade", True, True, False),
        ("trade", True, True, False),  # no read_only listed: the answer itself proves Read
        (" read_only , withdraw ", True, False, True),
    ],
)
def test_key_info_rights(perm: str, read: bool, trade: bool, withdraw: bool) -> None:
    facts = key_info(perm=perm)
    assert (facts.read, facts.spot_trade, facts.withdraw) == (read, trade, withdraw)
    assert facts.unneeded is False  # trade's own-account transfers cannot be switched off alone


@pytest.mark.parametrize(
    ("level", "perm", "futures", "mode"),
    [
        ("1", "read_only,trade", False, "spot"),
        ("2", "read_only,trade", True, "futures"),
        ("3", "read_only,trade", True, "multi_currency_margin"),
        ("4", "read_only,trade", True, "portfolio_margin"),
        ("2", "read_only", False, "futures"),
        ("7", "read_only,trade", None, None),  # a mode the docs do not list: the calls decide
        (None, "read_only,trade", None, None),  # absent
        (None, "read_only", False, None),
    ],
)
def test_account_mode_decides_futures(
    level: str | None, perm: str, futures: bool | None, mode: str | None
) -> None:
    facts = key_info(acctLv=level, perm=perm, ip="203.0.113.10")
    assert facts.futures_trade is futures
    assert facts.account.get("account_mode") == mode
    assert ("futures_note" in facts.account) is (level == "1")
    assert all(len(v) <= 64 for v in facts.account.values() if isinstance(v, str))


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("", ()),
        ("117.37.203.58,117.37.203.57", ("117.37.203.58", "117.37.203.57")),
        (" 203.0.113.0/24 , 2001:db8::/32,", ("203.0.113.0/24", "2001:db8::/32")),
        (None, None),  # absent: not reported (UNCONFIRMED form, read both ways)
    ],
)
def test_key_info_whitelist_forms(ip: str | None, expected: tuple[str, ...] | None) -> None:
    assert key_info(ip=ip).ip_whitelist == expected


@pytest.mark.parametrize(
    ("ip", "perm", "idle_expiry"),
    [
        ("", "read_only,trade", True),
        ("", "read_only,withdraw", True),
        ("", "read_only", False),  # read-only keys do not lapse
        ("203.0.113.10", "read_only,trade", False),  # whitelisted keys do not lapse
    ],
)
def test_idle_expiry_is_a_fact_not_a_date(ip: str, perm: str, idle_expiry: bool) -> None:
    facts = key_info(ip=ip, perm=perm)
    assert ("expires_if_idle_days" in facts.account) is idle_expiry
    assert facts.expires_at is None


def test_sub_account_key() -> None:
    assert key_info(uid="44705892343619999").account["is_master"] is False


def test_unknown_permission_names_are_reported_and_leave_withdraw_unknown() -> None:
    info = classified(
        "key_info", 200, {"code": "0", "data": [{**DOC_CONFIG, "perm": "read_only,trade,earn"}], "msg": ""}
    )
    balance = classified("balance", 200, {"code": "0", "data": [{"details": []}], "msg": ""})
    report = judge([info, balance], SPOT, [])
    assert report.unknown_permissions == ["earn"]
    assert report.permissions["withdraw"] is None
    assert "withdraw_disabled" not in report.checks


@pytest.mark.parametrize("data", [[], {}, [{"perm": 1}], ["x"], [{}]])
def test_key_info_not_shaped_as_documented_is_unavailable(data: object) -> None:
    result = classified("key_info", 200, {"code": "0", "data": data, "msg": ""})
    assert result.failure is not None
    assert result.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


# --------------------------------------------------------------------------------------------
# The probe against the simulator: demo keys in detail (every key's outcome: test_every_exchange.py)
# --------------------------------------------------------------------------------------------


def key(label: str) -> DemoKey:
    matches = [k for k in DEMO_KEYS if k.api_key == f"okx-demo-key-{label}"]
    assert len(matches) == 1, label
    return matches[0]


@pytest.fixture(autouse=True)
def no_maintenance(simulator: Simulator) -> None:
    """No announced event at the start of each test (the module's simulator outlives tests)."""
    venue(simulator).events = []


def venue(sim: Simulator) -> OkxVenue:
    found = sim.venues["okx-api"]
    assert isinstance(found, OkxVenue)
    return found


def test_connected_key_reports_every_fact(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("connected"), BOTH)
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
    assert report.account == {"is_master": True, "account_mode": "futures"}
    assert report.warnings == []
    assert report.key_expires_at is None
    assert report.clock_offset_ms is not None
    assert abs(report.clock_offset_ms) < 1_000
    # one signed round after the clock: key info and both balance reads
    paths = sorted(f"{r.path}?{r.query}" if r.query else r.path for r in sim.requests)
    assert paths == [
        "/api/v5/account/balance",
        "/api/v5/account/balance?ccy=USDT",
        "/api/v5/account/config",
        "/api/v5/public/time",
        "/api/v5/system/status",
    ]


def test_spot_only_connection_reads_the_whole_account(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("connected"), SPOT)
    assert report.failure is None
    assert "futures" not in report.checks
    assert report.permissions["futures"] is True
    assert not any(r.query for r in sim.requests if r.path == "/api/v5/account/balance")


def test_futures_only_connection_reads_the_usdt_margin(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("connected"), FUTURES)
    assert report.failure is None
    assert report.checks["futures"] == OK
    assert report.checks["balance_access"] == OK
    assert [r.query for r in sim.requests if r.path == "/api/v5/account/balance"] == ["ccy=USDT"]


def test_cidr_whitelist_covers_the_platform(run_probe: Prober) -> None:
    report = run_probe(key("cidr"), SPOT)
    assert report.failure is None
    assert report.ip_whitelist == ["203.0.113.0/24"]
    assert WarningCode.IP_WHITELIST_MISMATCH.value not in run_probe.warnings(report, SPOT)


@pytest.mark.parametrize(
    ("label", "code", "status"),
    [("invalidkey", "50111", 401), ("wrongsecret", "50113", 401), ("regional", "50119", 200),
     ("demotrading", "50101", 401)],
)  # fmt: skip
def test_credential_failures(run_probe: Prober, label: str, code: str, status: int) -> None:
    report = run_probe(key(label), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.INVALID_KEY, code)
    assert report.failure.http_status == status
    assert report.checks == {"credentials": FAILED}
    assert report.ip_whitelist is None


def test_login_password_instead_of_passphrase(run_probe: Prober) -> None:
    report = run_probe(key("badpassphrase"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.INVALID_PASSPHRASE, "50105")
    assert report.checks == {"credentials": FAILED}


def test_key_without_read(run_probe: Prober) -> None:
    report = run_probe(key("noread"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.NO_READ_PERMISSION, "50120")
    assert report.checks["credentials"] == OK
    assert report.checks["read"] == FAILED
    assert report.permissions["withdraw"] is None  # key info itself was refused


def test_read_only_key(run_probe: Prober) -> None:
    report = run_probe(key("readonly"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.NO_TRADE_PERMISSION, "trade")
    assert report.checks["read"] == OK
    assert report.checks["trade"] == FAILED
    assert report.permissions == {"read": True, "trade": False, "withdraw": False, "futures": False}
    futures = run_probe(key("readonly"), FUTURES)
    assert futures.failure is not None
    assert futures.failure.outcome is Outcome.FUTURES_NOT_ENABLED


def test_spot_mode_account_cannot_trade_futures(run_probe: Prober) -> None:
    spot = run_probe(key("spotmode"), SPOT)
    assert spot.failure is None
    assert spot.permissions["futures"] is False  # so no unneeded_permission for spot
    assert run_probe.warnings(spot, SPOT) == set()
    report = run_probe(key("spotmode"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.FUTURES_NOT_ENABLED, "futures")
    assert report.checks["futures"] == FAILED
    assert report.checks["trade"] == OK
    # the reason, for the user: the account mode, not the key
    assert report.account["account_mode"] == "spot"
    assert report.account["futures_note"] == okx.SPOT_MODE_NOTE


def test_withdrawal_key_is_reported(run_probe: Prober) -> None:
    report = run_probe(key("withdrawal"), SPOT)
    assert report.permissions["withdraw"] is True
    assert report.checks["withdraw_disabled"] == FAILED


def test_ip_not_allowed(run_probe: Prober) -> None:
    report = run_probe(key("ipnotallowed"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.IP_NOT_ALLOWED, "50110")
    assert report.failure.check == "ip_whitelist"


def test_no_whitelist_warns_and_tells_the_idle_expiry(run_probe: Prober) -> None:
    report = run_probe(key("noiprestriction"), BOTH)
    assert report.failure is None
    assert report.ip_whitelist == []
    assert report.account["expires_if_idle_days"] == 14
    assert report.key_expires_at is None
    assert run_probe.warnings(report, BOTH) == {WarningCode.IP_RESTRICTION_MISSING.value}


def test_whitelist_lacking_a_platform_ip(run_probe: Prober) -> None:
    report = run_probe(key("ipmismatch"), BOTH)
    assert report.ip_whitelist == PLATFORM_IPS[:1]
    assert run_probe.warnings(report, BOTH) == {WarningCode.IP_WHITELIST_MISMATCH.value}


def test_sub_account_key_probe(run_probe: Prober) -> None:
    report = run_probe(key("subaccount"), BOTH)
    assert report.failure is None
    assert report.account["is_master"] is False


@pytest.mark.parametrize(("label", "code"), [("restricted", "50007"), ("riskcontrol", "50029")])
def test_account_restricted(run_probe: Prober, label: str, code: str) -> None:
    report = run_probe(key(label), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.ACCOUNT_RESTRICTED, code)
    assert report.checks["credentials"] == OK


def test_rate_limited(run_probe: Prober) -> None:
    report = run_probe(key("ratelimited"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.RATE_LIMITED, "50011")
    assert report.failure.http_status == 429
    assert report.failure.retry_after_s is None  # the verdict's default wait applies


def test_unknown_code_is_kept(run_probe: Prober) -> None:
    report = run_probe(key("exchangeerror"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.EXCHANGE_ERROR, "51000")


def test_unavailable_key(run_probe: Prober) -> None:
    report = run_probe(key("unavailable"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.EXCHANGE_UNAVAILABLE, "50001")


# --------------------------------------------------------------------------------------------
# Venue-wide conditions
# --------------------------------------------------------------------------------------------


def test_ongoing_maintenance_is_unavailable(run_probe: Prober, sim: Simulator) -> None:
    venue(sim).events = [maintenance("ongoing", "5")]
    report = run_probe(key("connected"), SPOT)
    assert report.failure is not None
    assert report.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


def test_scheduled_maintenance_and_status_cache(run_probe: Prober, sim: Simulator) -> None:
    venue(sim).events = [maintenance("scheduled", "5")]
    assert run_probe(key("connected"), SPOT).failure is None
    # 1 request per 5 s per IP: a warm container does not ask again
    sim.requests.clear()
    assert run_probe(key("connected"), SPOT).failure is None
    assert not any(r.path == "/api/v5/system/status" for r in sim.requests)


def test_clock_skew_when_a_fresh_offset_does_not_help(
    run_probe: Prober, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe_module, "now_ms", lambda: now_ms() - 60_000)
    report = run_probe(key("connected"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.CLOCK_SKEW, "50102")
    assert sum(r.path == "/api/v5/public/time" for r in sim.requests) == 2


def test_a_demo_trading_header_is_refused_by_a_live_key(run_probe: Prober, sim: Simulator) -> None:
    # The venue itself honours the header, so never sending it is what keeps live keys working.
    def with_demo_header(draft: Draft, credentials: Credentials, ts: int) -> Any:
        signed = okx.sign(draft, credentials, ts)
        return type(signed)(signed.url, {**signed.headers, "x-simulated-trading": "1"}, signed.content)

    import dataclasses

    demo = key("connected")
    prober = Prober(dataclasses.replace(okx.EXCHANGE, sign=with_demo_header), sim)
    report = prober(Credentials(demo.api_key, demo.api_secret, demo.passphrase), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.INVALID_KEY, "50101")
