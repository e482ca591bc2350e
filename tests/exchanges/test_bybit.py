"""Bybit v5: signing (the docs' string-construction examples, checked against a transcription of the
official SDK), whole requests byte for byte, the allow-list, every error-table row through classify,
the key-info, status, clock and wallet readers on the documented bodies, and the probe of every demo
key against the simulator (plus the venue-wide maintenance, faults and clock)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from backfuture.clock import now_ms
from backfuture.engine import probe as probe_module
from backfuture.engine.http import ExchangeHttp, ExchangeResponse, ForbiddenCall
from backfuture.engine.probe import Result, classify
from backfuture.engine.report import CheckValue, ExchangeFailure
from backfuture.engine.spec import DENIED, Call, Draft, Facts, Signed
from backfuture.errors import Outcome, WarningCode
from backfuture.exchanges import Credentials, bybit
from simulator.bybit import DEMO_KEYS, BybitVenue
from simulator.core import Simulator
from simulator.demo_keys import DemoKey
from tests.exchanges.conftest import BOTH, FUTURES, PLATFORM_IPS, SPOT, Prober

OK, FAILED = CheckValue.OK, CheckValue.FAILED
BASE = "https://api.bybit.com"


@pytest.fixture(scope="module")
def exchange_id() -> str:
    return "bybit"


def call(name: str) -> Call:
    return next(c for c in bybit.EXCHANGE.calls if c.name == name)


# --------------------------------------------------------------------------------------------
# Vectors: docs/v5/guide.mdx publishes the strings to sign, not the secret behind its example
# signatures, so the strings are checked byte for byte and the signature against the official
# SDK's recipe (pybit @fdab314, _http_manager.py: _auth + generate_signature, transcribed below).
# --------------------------------------------------------------------------------------------

DOC_GET = "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"
DOC_POST = '1658385579423XXXXXXXXXX5000{"category": "option"}'
SECRET = "T3stS3cretT3stS3cretT3stS3cretT3stS3"  # 36 characters, as Bybit issues; not a real secret
KEY = "XXXXXXXXXX"


def pybit_signature(api_key: str, secret: str, payload: str, recv_window: int, timestamp: int) -> str:
    """pybit's _auth(): str(timestamp) + api_key + str(recv_window) + payload, then
    generate_signature(): hmac.new(bytes(secret, "utf-8"), param_str.encode("utf-8"), sha256).hexdigest()."""
    param_str = str(timestamp) + api_key + str(recv_window) + payload
    return hmac.new(bytes(secret, "utf-8"), param_str.encode("utf-8"), hashlib.sha256).hexdigest()


def test_docs_get_string_to_sign() -> None:
    query = "category=option&symbol=BTC-29JUL22-25000-C"
    assert bybit.prehash(1658384314791, KEY, 5000, query) == DOC_GET


def test_docs_post_string_to_sign() -> None:
    assert bybit.prehash(1658385579423, KEY, 5000, '{"category": "option"}') == DOC_POST


@pytest.mark.parametrize("message", [DOC_GET, DOC_POST])
def test_signature_is_lowercase_hex_hmac_sha256(message: str) -> None:
    signature = bybit.hmac_hex(SECRET, message)
    assert len(signature) == 64 and signature == signature.lower()
    assert int(signature, 16) >= 0


def sign(
    path: str, params: tuple[tuple[str, str], ...] = (), body: str | None = None, ts: int = 1658384314791
) -> Signed:
    draft = Draft("api", "POST" if body is not None else "GET", BASE, path, params, body)
    return bybit.sign(draft, Credentials(KEY, SECRET), ts)


def test_get_request_matches_the_sdk_byte_for_byte() -> None:
    signed = sign("/v5/market/instruments-info", (("category", "option"), ("symbol", "BTC-29JUL22-25000-C")))
    assert signed.url == f"{BASE}/v5/market/instruments-info?category=option&symbol=BTC-29JUL22-25000-C"
    assert signed.content is None
    assert signed.headers == {
        "X-BAPI-API-KEY": KEY,
        "X-BAPI-TIMESTAMP": "1658384314791",
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": pybit_signature(KEY, SECRET, "category=option&symbol=BTC-29JUL22-25000-C", 5000,
                                       1658384314791),
    }  # fmt: skip
    assert signed.headers["X-BAPI-SIGN"] == bybit.hmac_hex(SECRET, DOC_GET)


def test_post_body_is_signed_and_sent_as_is() -> None:
    body = '{"category": "option"}'
    signed = sign("/v5/order/pre-check", body=body, ts=1658385579423)
    assert signed.content == body
    assert signed.url == f"{BASE}/v5/order/pre-check"
    assert signed.headers["X-BAPI-SIGN"] == pybit_signature(KEY, SECRET, body, 5000, 1658385579423)
    assert signed.headers["X-BAPI-SIGN"] == bybit.hmac_hex(SECRET, DOC_POST)
    assert signed.headers["Content-Type"] == "application/json"


def test_signed_request_repr_shows_no_key_material() -> None:
    signed = sign("/v5/user/query-api")
    text = repr(signed)
    assert KEY not in text and signed.headers["X-BAPI-SIGN"] not in text


def send(signed: Signed, path: str) -> httpx.Request:
    """Through ExchangeHttp (allowing this one endpoint): the request as it left."""
    captured: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        captured.append(sent)
        return httpx.Response(200, json={})

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            http = ExchangeHttp(client, frozenset({("GET", BASE + path)}))
            await http.request("GET", signed.url, headers=signed.headers, content=signed.content)

    asyncio.run(run())
    return captured[0]


def test_the_wallet_query_is_sent_exactly_as_signed() -> None:
    declared = call("futures_wallet").params
    assert isinstance(declared, dict)
    params = tuple((k, str(v)) for k, v in declared.items())
    signed = sign("/v5/account/wallet-balance", params, ts=1700000000000)
    sent = send(signed, "/v5/account/wallet-balance")
    assert sent.url.raw_path.decode() == "/v5/account/wallet-balance?accountType=UNIFIED&coin=USDT"
    assert sent.headers["x-bapi-sign"] == pybit_signature(
        KEY, SECRET, "accountType=UNIFIED&coin=USDT", 5000, 1700000000000
    )
    assert "content-type" not in {k.lower() for k in signed.headers}  # GET: no body, as the docs show


# --------------------------------------------------------------------------------------------
# The allow-list: only declared calls leave the machine
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", f"{BASE}/v5/order/create"),
        ("POST", f"{BASE}/v5/order/pre-check"),
        ("POST", f"{BASE}/v5/asset/withdraw/create"),
        ("POST", f"{BASE}/v5/asset/transfer/inter-transfer"),
        ("POST", f"{BASE}/v5/asset/transfer/universal-transfer"),
        ("POST", f"{BASE}/v5/user/update-api"),
        ("POST", f"{BASE}/v5/user/delete-api"),
        ("POST", f"{BASE}/v5/position/set-leverage"),
        ("GET", "https://api.bytick.com/v5/user/query-api"),  # another host, even Bybit's own
        ("GET", "https://api.bybit.eu/v5/user/query-api"),
    ],
)
def test_allow_list_refuses_orders_funds_and_key_changes(method: str, url: str) -> None:
    def handler(_: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be reached
        raise AssertionError("a request left the machine")

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await ExchangeHttp(client, bybit.EXCHANGE.allowed_endpoints()).request(method, url)

    with pytest.raises(ForbiddenCall):
        asyncio.run(run())


def test_every_declared_call_is_a_get() -> None:
    assert {c.method for c in bybit.EXCHANGE.calls} == {"GET"}
    assert {h.name for h in bybit.EXCHANGE.hosts} == {"api"}
    assert bybit.API.env_var == "BYBIT_BASE_URL" and bybit.API.default_url == BASE
    assert any(f.topic == "IP rate limit" and "600" in f.statement for f in bybit.FACTS)


# --------------------------------------------------------------------------------------------
# Error tables, through classify() with the declared calls
# --------------------------------------------------------------------------------------------


def by(code: int, msg: str = "exchange text, never kept") -> dict[str, Any]:
    return {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": 1714065629010}


def classified(name: str, status: int, body: object, headers: dict[str, str] | None = None) -> Result:
    c = call(name)
    return classify(c, bybit.EXCHANGE.host(c.host), ExchangeResponse(status, headers or {}, body))


def failure_of(
    name: str, status: int, body: object, headers: dict[str, str] | None = None
) -> ExchangeFailure:
    result = classified(name, status, body, headers)
    assert result.failure is not None, result
    return result.failure


R = Outcome.NO_READ_PERMISSION
TABLE: dict[str, Outcome | str] = {
    "10003": Outcome.INVALID_KEY,
    "10004": Outcome.INVALID_KEY,
    "10007": Outcome.INVALID_KEY,
    "33004": Outcome.INVALID_KEY,
    "-2015": Outcome.INVALID_KEY,
    "10002": Outcome.CLOCK_SKEW,
    "10010": Outcome.IP_NOT_ALLOWED,
    "10005": "denied",
    "10008": Outcome.ACCOUNT_RESTRICTED,
    "10009": Outcome.ACCOUNT_RESTRICTED,
    "10024": Outcome.ACCOUNT_RESTRICTED,
    "10027": Outcome.ACCOUNT_RESTRICTED,
    "110066": Outcome.ACCOUNT_RESTRICTED,
    "110124": Outcome.ACCOUNT_RESTRICTED,
    "3100197": Outcome.ACCOUNT_RESTRICTED,
    "10006": Outcome.RATE_LIMITED,
    "10018": Outcome.RATE_LIMITED,
    "429": Outcome.RATE_LIMITED,
    "10000": Outcome.EXCHANGE_UNAVAILABLE,
    "10016": Outcome.EXCHANGE_UNAVAILABLE,
    "170001": Outcome.EXCHANGE_UNAVAILABLE,
    "170007": Outcome.EXCHANGE_UNAVAILABLE,
    "170032": Outcome.EXCHANGE_UNAVAILABLE,
    "180023": Outcome.EXCHANGE_UNAVAILABLE,
}
CHECK = {
    Outcome.INVALID_KEY: "credentials",
    Outcome.CLOCK_SKEW: "credentials",
    Outcome.IP_NOT_ALLOWED: "ip_whitelist",
    "denied": "read",
}


def test_the_table_above_is_the_modules_whole_table() -> None:
    assert set(TABLE) == set(bybit.ERRORS.exact)
    assert all((bybit.ERRORS.exact[c] is DENIED) == (o == "denied") for c, o in TABLE.items())


# Every row with HTTP 200 (how most retCode errors come) and 401 (how 10003 also comes: pybit#130).
@pytest.mark.parametrize("status", [200, 401])
@pytest.mark.parametrize(("code", "outcome"), sorted(TABLE.items()))
def test_every_row_on_the_spot_wallet(code: str, outcome: Outcome | str, status: int) -> None:
    failure = failure_of("spot_wallet", status, by(int(code)))
    assert failure.outcome is (R if outcome == "denied" else outcome)
    assert failure.exchange_code == code
    assert failure.http_status == status
    assert failure.check == CHECK.get(outcome, "read")


@pytest.mark.parametrize(
    ("name", "denied", "check"),
    [
        ("key_info", R, "read"),
        ("spot_wallet", R, "read"),
        # The same balance endpoint: its denial is a missing read right for futures too.
        ("futures_wallet", R, "read"),
        ("futures_wallet_classic", R, "read"),
    ],
)
def test_permission_denied_means_the_calls_own_right(name: str, denied: Outcome, check: str) -> None:
    failure = failure_of(name, 200, by(10005, "Permission denied, please check your API key permissions."))
    assert (failure.outcome, failure.check) == (denied, check)


RESET = "in 60 s"  # filled in when the test runs: X-Bapi-Limit-Reset-Timestamp is an epoch in ms


@pytest.mark.parametrize(
    ("status", "body", "headers", "outcome", "code", "retry_after"),
    [
        (401, None, {}, Outcome.INVALID_KEY, None, None),  # 401 without a body: no valid key
        (401, "", {}, Outcome.INVALID_KEY, None, None),
        (403, None, {}, Outcome.RATE_LIMITED, None, 600),  # "403, access too frequent": wait >= 10 min
        (429, None, {}, Outcome.RATE_LIMITED, None, None),  # system-level frequency protection
        (429, None, {"retry-after": "4"}, Outcome.RATE_LIMITED, None, 4),
        (200, by(10006), {"X-Bapi-Limit-Reset-Timestamp": RESET}, Outcome.RATE_LIMITED, "10006", 60),
        (200, by(10006), {"x-bapi-limit-reset-timestamp": "1"}, Outcome.RATE_LIMITED, "10006", 1),
        (200, by(10006), {"x-bapi-limit-reset-timestamp": "soon"}, Outcome.RATE_LIMITED, "10006", None),
        (200, by(10006), {}, Outcome.RATE_LIMITED, "10006", None),
        (500, None, {}, Outcome.EXCHANGE_UNAVAILABLE, None, None),
        (502, by(10001), {}, Outcome.EXCHANGE_UNAVAILABLE, "10001", None),
        (200, None, {}, Outcome.EXCHANGE_UNAVAILABLE, None, None),  # truncated or malformed JSON
        (200, {"ret_code": 0}, {}, Outcome.EXCHANGE_UNAVAILABLE, None, None),  # not the v5 envelope
        (200, by(10001), {}, Outcome.EXCHANGE_ERROR, "10001", None),  # our parameter bug: kept
        (200, by(10028), {}, Outcome.EXCHANGE_ERROR, "10028", None),  # UTA-only API, classic account
        (200, by(987654), {}, Outcome.EXCHANGE_ERROR, "987654", None),
        (404, None, {}, Outcome.EXCHANGE_ERROR, None, None),  # "category does not match account mode"
    ],
)  # fmt: skip
def test_transport_level_answers(
    status: int,
    body: object,
    headers: dict[str, str],
    outcome: Outcome,
    code: str | None,
    retry_after: int | None,
) -> None:
    headers = {k: str(now_ms() + 60_000) if v == RESET else v for k, v in headers.items()}
    failure = failure_of("spot_wallet", status, body, headers)
    assert failure.outcome is outcome
    assert failure.exchange_code == code
    if retry_after is not None and retry_after > 1:
        assert failure.retry_after_s is not None and retry_after - 2 <= failure.retry_after_s <= retry_after
    else:
        assert failure.retry_after_s == retry_after


def test_a_404_elsewhere_is_an_outage_not_a_verdict() -> None:
    assert failure_of("key_info", 404, None).outcome is Outcome.EXCHANGE_UNAVAILABLE


@pytest.mark.parametrize("message", ["OK", "success", "SUCCESS", ""])
def test_success_is_retcode_zero_whatever_the_message(message: str) -> None:
    body = {"retCode": 0, "retMsg": message, "result": {"list": []}, "retExtInfo": {}, "time": 1}
    assert classified("spot_wallet", 200, body).ok


def test_failure_never_keeps_the_exchange_message() -> None:
    failure = failure_of(
        "spot_wallet",
        200,
        by(10002, "req_timestamp[1706972576658],server_timestamp[1706972587026],recv_window[5000] 9.9.9.9"),
    )
    assert all("9.9.9.9" not in str(value) for value in [str(failure), *vars(failure).values()])


# --------------------------------------------------------------------------------------------
# Readers, on the documented bodies
# --------------------------------------------------------------------------------------------

# docs/v5/user/apikey-info.mdx, response example (verbatim but for layout).
DOCS_KEY_INFO: dict[str, Any] = {
    "id": "2208369", "note": "testnet", "apiKey": "XXXXXXXX", "readOnly": 1, "secret": "",
    "permissions": {
        "ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"],
        "Wallet": ["AccountTransfer", "SubMemberTransfer"], "Options": [],
        "Derivatives": ["DerivativesTrade"], "CopyTrading": [], "BlockTrade": [],
        "Exchange": ["ExchangeHistory"], "NFT": [], "Affiliate": [], "Earn": ["Earn"],
        "FiatP2P": ["FiatP2POrder", "Advertising"], "FiatConvertBroker": ["FiatConvertBrokerOrder"],
        "FiatGlobalPay": [], "FiatBitPay": ["FaitPayOrder"], "BitCard": ["BitCard"], "ByXPost": ["ByXPost"],
    },
    "ips": ["18.181.170.164", "13.212.45.47", "13.212.45.48"], "type": 1, "deadlineDay": -2,
    "expiredAt": "1970-01-01T00:00:00Z", "createdAt": "2025-10-13T03:20:45Z", "unified": 0, "uta": 1,
    "userID": 1448939, "inviterID": 0, "vipLevel": "PRO-1", "mktMakerLevel": "0", "affiliateID": 0,
    "rsaPublicKey": "", "isMaster": True, "parentUid": "0", "kycLevel": "LEVEL_1", "kycRegion": "MYS",
    "userIDInt64": "0", "inviterIDInt64": "0", "affiliateIDInt64": "0",
}  # fmt: skip


def key_info(data: dict[str, Any]) -> Facts:
    result = classified("key_info", 200, {"retCode": 0, "retMsg": "", "result": data, "retExtInfo": {}})
    assert isinstance(result.value, Facts), result.failure
    return result.value


def with_permissions(readonly: int = 0, **groups: list[str]) -> dict[str, Any]:
    return {**DOCS_KEY_INFO, "readOnly": readonly, "permissions": groups}


def test_the_documented_example() -> None:
    facts = key_info(DOCS_KEY_INFO)
    # readOnly 1 wins over the trade permissions the same example lists (FACTS: read-only keys).
    assert (facts.spot_trade, facts.futures_trade) == (False, False)
    # P2P, Bybit Pay and the card pay other people: refused like a withdrawal (FACTS: withdraw right).
    assert facts.withdraw is True
    assert facts.unneeded is True  # AccountTransfer, SubMemberTransfer, Earn, convert...
    assert facts.unknown_permissions == ()  # every listed name is documented; FiatGlobalPay is empty
    assert facts.ip_whitelist == ("18.181.170.164", "13.212.45.47", "13.212.45.48")
    assert facts.expires_at is None  # IP-bound: deadlineDay -2, expiredAt 1970
    assert facts.account == {"is_master": True, "account_mode": "unified"}
    assert facts.read is None  # told by the balance calls


@pytest.mark.parametrize(
    ("readonly", "groups", "spot", "futures"),
    [
        (0, {"Spot": ["SpotTrade"], "ContractTrade": ["Order", "Position"]}, True, True),
        (0, {"Spot": ["SpotTrade"], "Derivatives": ["DerivativesTrade"]}, True, True),  # either right counts
        (0, {"ContractTrade": ["Position"]}, False, False),  # positions without orders
        (0, {"Spot": [], "ContractTrade": []}, False, False),  # read-write but nothing to trade
        (1, {"Spot": ["SpotTrade"], "ContractTrade": ["Order"]}, False, False),
        (1, {}, False, False),  # read-only keys may also list nothing: same answer
    ],
)
def test_trade_rights_read_both_ways(
    readonly: int, groups: dict[str, list[str]], spot: bool, futures: bool
) -> None:
    facts = key_info(with_permissions(readonly, **groups))
    assert (facts.spot_trade, facts.futures_trade) == (spot, futures)


@pytest.mark.parametrize(
    ("groups", "withdraw", "unneeded"),
    [
        ({"Spot": ["SpotTrade"]}, False, False),
        ({"Wallet": ["Withdraw"]}, True, False),
        ({"Wallet": ["AccountTransfer"]}, False, True),
        ({"Wallet": ["SubMemberTransfer"]}, False, True),
        ({"Wallet": ["SubMemberTransferList"]}, False, True),
        ({"FiatP2P": ["Advertising"]}, True, False),
        ({"FiatBitPay": ["FaitPayOrder"]}, True, False),
        ({"BitCard": ["BitCard"]}, True, False),
        ({"Earn": ["Earn"], "Options": ["OptionsTrade"]}, False, True),
        ({"NFT": [], "CopyTrading": [], "FiatBitPay": []}, False, False),  # empty groups say nothing
    ],
)
def test_withdraw_and_unneeded_rights(groups: dict[str, list[str]], withdraw: bool, unneeded: bool) -> None:
    facts = key_info(with_permissions(0, **groups))
    assert (facts.withdraw, facts.unneeded, facts.unknown_permissions) == (withdraw, unneeded, ())


def test_unknown_names_are_reported() -> None:
    facts = key_info(with_permissions(0, Spot=["SpotTrade"], FiatGlobalPay=["GlobalPay"], Affiliate=["Read"]))
    assert facts.unknown_permissions == ("Affiliate:Read", "FiatGlobalPay:GlobalPay")
    assert facts.withdraw is False  # the engine leaves withdraw unknown while names are unknown


@pytest.mark.parametrize(
    ("ips", "expected"),
    [
        (["*"], ()),
        ([], ()),
        ("*", ()),
        (["203.0.113.10"], ("203.0.113.10",)),
        (["203.0.113.10,203.0.113.11"], ("203.0.113.10", "203.0.113.11")),
        ("203.0.113.10, 203.0.113.11", ("203.0.113.10", "203.0.113.11")),
    ],
)
def test_whitelist_forms(ips: object, expected: tuple[str, ...]) -> None:
    assert key_info({**DOCS_KEY_INFO, "ips": ips}).ip_whitelist == expected


def test_whitelist_not_reported() -> None:
    data = {k: v for k, v in DOCS_KEY_INFO.items() if k != "ips"}
    assert key_info(data).ip_whitelist is None


def test_expiry_forms() -> None:
    at = key_info({**DOCS_KEY_INFO, "expiredAt": "2026-12-01T08:00:00Z", "deadlineDay": 2}).expires_at
    assert at == datetime(2026, 12, 1, 8, tzinfo=UTC)
    for data in (
        {"deadlineDay": 5},
        {"expiredAt": "", "deadlineDay": 5},
        {"expiredAt": "bad", "deadlineDay": 5},
    ):
        base = {k: v for k, v in DOCS_KEY_INFO.items() if k not in ("expiredAt", "deadlineDay")}
        found = key_info({**base, **data}).expires_at
        assert found is not None and abs(found - (datetime.now(UTC) + timedelta(days=5))) < timedelta(
            minutes=1
        )
    for data in ({"deadlineDay": -2, "expiredAt": "1970-01-01T00:00:00Z"}, {"deadlineDay": -1}, {}):
        base = {k: v for k, v in DOCS_KEY_INFO.items() if k not in ("expiredAt", "deadlineDay")}
        assert key_info({**base, **data}).expires_at is None


def test_sub_account_and_classic_account_facts() -> None:
    facts = key_info({**DOCS_KEY_INFO, "isMaster": False, "parentUid": "1448939", "uta": 0})
    assert facts.account == {"is_master": False, "parent_uid": "1448939", "account_mode": "classic"}


@pytest.mark.parametrize(
    "broken",
    [
        {"readOnly": 2},
        {"readOnly": None},
        {"permissions": ["SpotTrade"]},
        {"permissions": {"Spot": "SpotTrade"}},
    ],
)
def test_key_info_not_shaped_as_documented_is_an_outage(broken: dict[str, Any]) -> None:
    body = {"retCode": 0, "retMsg": "", "result": {**DOCS_KEY_INFO, **broken}}
    assert failure_of("key_info", 200, body).outcome is Outcome.EXCHANGE_UNAVAILABLE


def test_server_time_reader() -> None:
    # docs/v5/market/time.mdx
    result = {"timeSecond": "1688639403", "timeNano": "1688639403423213947"}
    body = {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 1688639403423}
    assert classified("server_time", 200, body).value == 1688639403423
    only_seconds = {"retCode": 0, "result": {"timeSecond": "1688639403"}}
    assert classified("server_time", 200, only_seconds).value == 1688639403000


def maintenance(**changes: Any) -> dict[str, Any]:
    # docs/v5/system-status.mdx example entry, ongoing
    return {"id": "4d95b2a0", "title": "t06", "state": "ongoing", "begin": "1751596902000",
            "end": "1751597011000", "href": "", "serviceTypes": [2, 3, 4, 5], "product": [2], "uidSuffix": [],
            "maintainType": 1, "env": 1, **changes}  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "spot_open", "futures_open"),
    [
        (maintenance(), False, True),
        (maintenance(product=[1, 2]), False, False),
        (maintenance(product=[1], serviceTypes=[1, 4]), True, False),
        (maintenance(env="1", maintainType="2"), False, True),  # the table's string form
        (maintenance(state="completed"), True, True),
        (maintenance(state="scheduled"), True, True),
        (maintenance(env=2), True, True),  # the demo environment
        (maintenance(serviceTypes=[3, 4, 5]), True, True),  # websockets and market data only
        (maintenance(uidSuffix=[1, 2]), True, True),  # some users only: their calls will say so
    ],
)
def test_status_reader(entry: dict[str, Any], spot_open: bool, futures_open: bool) -> None:
    body = {"retCode": 0, "retMsg": "", "result": {"list": [entry]}, "retExtInfo": {}, "time": 1}
    assert classified("spot_status", 200, body).ok is spot_open
    assert classified("futures_status", 200, body).ok is futures_open
    if not spot_open:
        assert failure_of("spot_status", 200, body).outcome is Outcome.EXCHANGE_UNAVAILABLE


def test_wallet_reader_unified_and_classic() -> None:
    # docs/v5/account/wallet-balance.mdx (abridged) and a classic CONTRACT answer quoted in ccxt#21320.
    coins = [{"coin": "BTC", "equity": "0", "walletBalance": "0"}]
    account = {"accountType": "UNIFIED", "totalEquity": "3.31216591", "coin": coins}
    unified = {"retCode": 0, "retMsg": "OK", "result": {"list": [account]}, "time": 1}
    facts = classified("spot_wallet", 200, unified).value
    assert facts == Facts(balances=True, account={"account_type": "UNIFIED"})
    classic = {"retCode": "0", "retMsg": "OK", "result": {"list": [{"accountType": "CONTRACT", "coin": [
               {"coin": "XRP", "walletBalance": "0.01"}]}]}, "time": "1708590899457"}  # fmt: skip
    assert classified("futures_wallet_classic", 200, classic).value.balances is True
    empty = {"retCode": 0, "result": {"list": []}}
    assert classified("spot_wallet", 200, empty).value == Facts(balances=True)


# --------------------------------------------------------------------------------------------
# The probe against the simulator: demo keys in detail (every key's outcome: test_every_exchange.py)
# --------------------------------------------------------------------------------------------


def key(label: str) -> DemoKey:
    matches = [k for k in DEMO_KEYS if k.api_key == f"bybitDemo{label}"]
    assert len(matches) == 1, label
    return matches[0]


def test_cold_probe_makes_one_signed_round(run_probe: Prober, sim: Simulator) -> None:
    # A unified account, cold: the clock, then the key info and the two balance reads at once.
    run_probe(key("Connected"), BOTH)
    paths = sorted((r.path, r.query) for r in sim.requests)
    assert paths == [
        ("/v5/account/wallet-balance", "accountType=UNIFIED"),
        ("/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDT"),
        ("/v5/market/time", ""),
        ("/v5/system/status", ""),
        ("/v5/system/status", ""),
        ("/v5/user/query-api", ""),
    ]


def test_connected_key_reports_every_fact(run_probe: Prober) -> None:
    report = run_probe(key("Connected"), BOTH)
    assert report.failure is None
    assert report.checks == {
        "credentials": OK, "read": OK, "balance_access": OK,
        "trade": OK, "futures": OK, "withdraw_disabled": OK,
    }  # fmt: skip
    assert report.permissions == {"read": True, "trade": True, "withdraw": False, "futures": True}
    assert report.ip_whitelist == PLATFORM_IPS
    assert report.account == {"is_master": True, "account_mode": "unified", "account_type": "UNIFIED"}
    assert report.warnings == []
    assert report.key_expires_at is None
    assert report.clock_offset_ms is not None and abs(report.clock_offset_ms) < 1_000


def test_futures_only_connection_reads_the_usdt_wallet(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("Connected"), FUTURES)
    assert report.failure is None
    assert report.checks["read"] is OK and report.checks["futures"] is OK
    assert {r.query for r in sim.requests if r.path == "/v5/account/wallet-balance"} == {
        "accountType=UNIFIED&coin=USDT"
    }


@pytest.mark.parametrize(("label", "status"), [("InvalidKey", 401), ("RegionalSite", 200)])
def test_unknown_and_regional_keys_are_invalid_whatever_the_status(
    run_probe: Prober, label: str, status: int
) -> None:
    report = run_probe(key(label), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.INVALID_KEY, "10003")
    assert report.failure.http_status == status
    assert report.checks == {"credentials": FAILED}


def test_wrong_secret(run_probe: Prober) -> None:
    report = run_probe(key("WrongSecret"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.INVALID_KEY, "10004")


def test_read_only_key(run_probe: Prober) -> None:
    report = run_probe(key("ReadOnlyKey"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.NO_TRADE_PERMISSION, "trade")
    assert report.permissions == {"read": True, "trade": False, "withdraw": False, "futures": False}
    assert report.checks["read"] is OK and report.checks["withdraw_disabled"] is OK


def test_spot_only_key_on_futures(run_probe: Prober) -> None:
    assert run_probe(key("SpotOnlyKey"), SPOT).failure is None
    report = run_probe(key("SpotOnlyKey"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.FUTURES_NOT_ENABLED, "futures")
    assert report.checks["trade"] is OK and report.checks["futures"] is FAILED


@pytest.mark.parametrize("label", ["WithdrawRight", "BybitPayRight"])
def test_withdrawal_keys_are_reported(run_probe: Prober, label: str) -> None:
    report = run_probe(key(label), SPOT)
    assert report.permissions["withdraw"] is True
    assert report.checks["withdraw_disabled"] is FAILED


def test_own_account_transfer_warns(run_probe: Prober) -> None:
    report = run_probe(key("OwnTransfer"), BOTH)
    assert report.failure is None and report.permissions["withdraw"] is False
    assert report.warnings == [WarningCode.UNNEEDED_PERMISSION]


def test_no_read_right(run_probe: Prober) -> None:
    report = run_probe(key("NoReadRight"), FUTURES)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.NO_READ_PERMISSION, "10005")
    assert report.checks["read"] is FAILED and report.checks["balance_access"] is FAILED


def test_whitelists(run_probe: Prober) -> None:
    assert run_probe(key("NoIpBound"), SPOT).ip_whitelist == []
    assert run_probe(key("IpMismatch"), SPOT).ip_whitelist == PLATFORM_IPS[:1]
    report = run_probe(key("IpNotAllowed"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.IP_NOT_ALLOWED, "10010")


def test_expiring_key(run_probe: Prober) -> None:
    report = run_probe(key("ExpiresSoon"), BOTH)
    assert report.key_expires_at is not None
    assert timedelta(days=4) < report.key_expires_at - datetime.now(UTC) <= timedelta(days=5)
    far = run_probe(key("NoIpBound"), BOTH).key_expires_at
    assert far is not None and far - datetime.now(UTC) > timedelta(days=84)


def test_sub_account(run_probe: Prober) -> None:
    report = run_probe(key("SubAccount"), SPOT)
    assert report.failure is None
    assert report.account["is_master"] is False and report.account["parent_uid"] == "1448939"


@pytest.mark.parametrize("label", ["ClassicAccount", "ClassicAccount10028"])
def test_classic_account_is_read_with_the_classic_account_types(
    run_probe: Prober, sim: Simulator, label: str
) -> None:
    report = run_probe(key(label), BOTH)
    assert report.failure is None
    assert report.account["account_mode"] == "classic"
    assert report.checks["read"] is OK and report.checks["balance_access"] is OK
    # The refused UNIFIED futures read is replaced by its classic fallback: the futures check is ok.
    assert report.checks["futures"] is OK and report.permissions["futures"] is True
    queries = {r.query for r in sim.requests if r.path == "/v5/account/wallet-balance"}
    assert queries == {"accountType=UNIFIED", "accountType=UNIFIED&coin=USDT", "accountType=SPOT",
                       "accountType=CONTRACT&coin=USDT"}  # fmt: skip


def test_no_classic_reading_for_a_unified_account(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("UnknownError"), SPOT)
    assert report.failure is not None and report.failure.exchange_code == "10001"
    assert {r.query for r in sim.requests if r.path == "/v5/account/wallet-balance"} == {
        "accountType=UNIFIED"
    }


@pytest.mark.parametrize(
    ("label", "outcome", "code"),
    [
        ("CommonBanned", Outcome.ACCOUNT_RESTRICTED, "10008"),
        ("RegionBlocked", Outcome.ACCOUNT_RESTRICTED, "10009"),
        ("Maintenance", Outcome.EXCHANGE_UNAVAILABLE, "10016"),
        ("UnknownError", Outcome.EXCHANGE_ERROR, "10001"),
    ],
)
def test_account_and_exchange_states(run_probe: Prober, label: str, outcome: Outcome, code: str) -> None:
    report = run_probe(key(label), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (outcome, code)


def test_rate_limit_waits_for_the_reset_timestamp(run_probe: Prober) -> None:
    report = run_probe(key("RateLimited"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.RATE_LIMITED, "10006")
    assert report.failure.retry_after_s is not None and 1 <= report.failure.retry_after_s <= 3


def test_ip_rate_limit_403(run_probe: Prober) -> None:
    report = run_probe(key("IpRateLimited"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.http_status) == (Outcome.RATE_LIMITED, 403)


# --------------------------------------------------------------------------------------------
# Venue-wide conditions
# --------------------------------------------------------------------------------------------


def venue(sim: Simulator) -> BybitVenue:
    found = sim.venues["bybit-api"]
    assert isinstance(found, BybitVenue)
    return found


def test_ongoing_spot_maintenance_closes_spot_only(run_probe: Prober, sim: Simulator) -> None:
    venue(sim).maintenances = [maintenance()]
    report = run_probe(key("Connected"), SPOT)
    assert report.failure is not None and report.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE
    assert run_probe(key("Connected"), FUTURES).failure is None
    venue(sim).maintenances = [maintenance(product=[1])]
    report = run_probe(key("Connected"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.check) == (Outcome.EXCHANGE_UNAVAILABLE, "futures")


def test_clock_skew_when_a_fresh_offset_does_not_help(
    run_probe: Prober, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe_module, "now_ms", lambda: now_ms() - 60_000)
    report = run_probe(key("Connected"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.CLOCK_SKEW, "10002")
    assert sum(r.path == "/v5/market/time" for r in sim.requests) == 2


# --------------------------------------------------------------------------------------------
# The simulator checks the documented recipe, and records what must never be called
# --------------------------------------------------------------------------------------------


def raw_call(sim: Simulator, method: str, path: str, signed_payload: str, *, body: str | None = None,
             recv_window: str = "5000", secret: str | None = None) -> httpx.Response:  # fmt: skip
    demo = key("Connected")
    ts = str(now_ms())
    message = f"{ts}{demo.api_key}{recv_window}{signed_payload}"
    headers = {"X-BAPI-API-KEY": demo.api_key, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": recv_window,
               "X-BAPI-SIGN": bybit.hmac_hex(secret or demo.api_secret, message)}  # fmt: skip
    query = f"?{signed_payload}" if method == "GET" and signed_payload else ""
    return httpx.request(method, sim.base_url("bybit-api") + path + query, headers=headers, content=body)


def test_simulator_checks_the_signature_and_window(sim: Simulator) -> None:
    assert raw_call(sim, "GET", "/v5/user/query-api", "").json()["retCode"] == 0
    assert raw_call(sim, "GET", "/v5/user/query-api", "", secret="wrong").json()["retCode"] == 10004
    # A recv_window header other than the one signed breaks the signature.
    response = raw_call(sim, "GET", "/v5/account/wallet-balance", "accountType=UNIFIED", recv_window="20000")
    assert response.json()["retCode"] == 0  # signed with the same value: accepted
    assert httpx.get(sim.base_url("bybit-api") + "/v5/user/query-api").status_code == 401


def test_simulator_records_forbidden_calls(sim: Simulator) -> None:
    body = json.dumps({"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"})
    response = raw_call(sim, "POST", "/v5/order/create", body, body=body)
    assert response.json()["retCode"] == 0
    assert venue(sim).recorded("/v5/order/create") == [
        {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}
    ]
