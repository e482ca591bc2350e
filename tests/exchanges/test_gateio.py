"""Gate.io API v4: signing (the docs' two published signatures, and a transcription of the official SDK's
gen_sign), whole requests byte for byte, the allow-list, every error-table row through classify, the
key-info, account-detail, clock and balance readers, and the probe of every demo key against the
simulator (plus faults and the clock)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus, urlencode

import httpx
import pytest

from backfuture.clock import now_ms
from backfuture.engine import probe as probe_module
from backfuture.engine.http import ExchangeHttp, ExchangeResponse, ForbiddenCall
from backfuture.engine.probe import Result, classify
from backfuture.engine.report import CheckValue, ExchangeFailure
from backfuture.engine.spec import DENIED, Call, Draft, Facts, Inputs, Signed
from backfuture.errors import Outcome, WarningCode
from backfuture.exchanges import Credentials, gateio
from simulator.core import Simulator
from simulator.demo_keys import DemoKey
from simulator.gateio import DEMO_KEYS, GateVenue
from tests.exchanges.conftest import BOTH, FUTURES, PLATFORM_IPS, SPOT, Prober

OK, FAILED = CheckValue.OK, CheckValue.FAILED
BASE = "https://api.gateio.ws"


@pytest.fixture(scope="module")
def exchange_id() -> str:
    return "gateio"


def call(name: str) -> Call:
    return next(c for c in gateio.EXCHANGE.calls if c.name == name)


# --------------------------------------------------------------------------------------------
# Vectors: the docs ("API Signature string generation") sign two requests with key "key" and
# secret "secret" at Timestamp 1541993715 and print the results; both are checked byte for byte,
# and against a transcription of the official SDK's gen_sign (gate/gateapi-python
# gate_api/api_client.py, with the SDK's float time.time() replaced by the given timestamp).
# --------------------------------------------------------------------------------------------

EMPTY_SHA512 = (
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)
DOC_GET_SIGNATURE = (
    "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6"
    "fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a"
)
DOC_POST_BODY = '{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}'
DOC_POST_BODY_SHA512 = (
    "ad3c169203dc3026558f01b4df307641fa1fa361f086b2306658886d5708767b"
    "1854797c68d9e62fef2f991645aa82673622ebf417e091d0bd22bafe5d956cca"
)
DOC_POST_SIGNATURE = (
    "eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541f"
    "c4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0"
)
DOC_QUERY = (("contract", "BTC_USD"), ("status", "finished"), ("limit", "50"))
TS = 1541993715


def sdk_gen_sign(
    secret: str, method: str, url: str, query_string: str | None, body: str | None, t: int
) -> str:
    """gen_sign: m = sha512(); m.update(body.encode('utf-8')) if body is not None;
    s = '%s\\n%s\\n%s\\n%s\\n%s' % (method, url, query_string or "", m.hexdigest(), t);
    hmac.new(secret, s, sha512).hexdigest()."""
    m = hashlib.sha512()
    if body is not None:
        m.update(body.encode("utf-8"))
    s = "%s\n%s\n%s\n%s\n%s" % (method, url, query_string or "", m.hexdigest(), t)  # noqa: UP031
    return hmac.new(secret.encode("utf-8"), s.encode("utf-8"), hashlib.sha512).hexdigest()


def sign(path: str, params: tuple[tuple[str, str], ...] = (), body: str | None = None, ts_ms: int = TS * 1000,
         secret: str = "secret") -> Signed:  # noqa: S107  # fmt: skip
    draft = Draft("api", "POST" if body is not None else "GET", BASE, path, params, body)
    return gateio.sign(draft, Credentials("key", secret), ts_ms)


def test_empty_body_hash_is_the_documented_one() -> None:
    assert gateio.EMPTY_BODY_SHA512 == EMPTY_SHA512
    assert hashlib.sha512(DOC_POST_BODY.encode()).hexdigest() == DOC_POST_BODY_SHA512


def test_docs_get_string_and_signature() -> None:
    message = gateio.prehash(
        "GET", "/api/v4/futures/orders", "contract=BTC_USD&status=finished&limit=50", None, TS
    )
    assert (
        message
        == f"GET\n/api/v4/futures/orders\ncontract=BTC_USD&status=finished&limit=50\n{EMPTY_SHA512}\n{TS}"
    )
    assert gateio.hmac_hex("secret", message) == DOC_GET_SIGNATURE


def test_docs_post_string_and_signature() -> None:
    message = gateio.prehash("POST", "/api/v4/futures/orders", "", DOC_POST_BODY, TS)
    assert message == f"POST\n/api/v4/futures/orders\n\n{DOC_POST_BODY_SHA512}\n{TS}"
    assert gateio.hmac_hex("secret", message) == DOC_POST_SIGNATURE


def test_get_request_matches_the_docs_and_the_sdk_byte_for_byte() -> None:
    signed = sign("/api/v4/futures/orders", DOC_QUERY, ts_ms=TS * 1000 + 999)  # whole seconds are sent
    assert signed.url == f"{BASE}/api/v4/futures/orders?contract=BTC_USD&status=finished&limit=50"
    assert signed.content is None
    assert signed.headers == {"KEY": "key", "Timestamp": str(TS), "SIGN": DOC_GET_SIGNATURE}
    sdk = sdk_gen_sign(
        "secret", "GET", "/api/v4/futures/orders", unquote_plus(urlencode(DOC_QUERY)), None, TS
    )
    assert sdk == DOC_GET_SIGNATURE


def test_post_body_is_signed_and_sent_as_is() -> None:
    signed = sign("/api/v4/futures/orders", body=DOC_POST_BODY)
    assert signed.content == DOC_POST_BODY and signed.url == f"{BASE}/api/v4/futures/orders"
    assert signed.headers["SIGN"] == DOC_POST_SIGNATURE
    assert signed.headers["SIGN"] == sdk_gen_sign(
        "secret", "POST", "/api/v4/futures/orders", "", DOC_POST_BODY, TS
    )
    assert signed.headers["Content-Type"] == "application/json"


def test_query_is_signed_decoded_and_sent_encoded_as_the_sdk_does() -> None:
    params = (("currency_pair", "BTC_USDT"), ("from", "a b,c"))
    signed = sign("/api/v4/spot/my_trades", params)
    assert signed.url.endswith("?currency_pair=BTC_USDT&from=a+b%2Cc")
    assert signed.headers["SIGN"] == sdk_gen_sign(
        "secret", "GET", "/api/v4/spot/my_trades", "currency_pair=BTC_USDT&from=a b,c", None, TS
    )


def test_signed_request_repr_shows_no_key_material() -> None:
    draft = Draft("api", "GET", BASE, "/api/v4/account/main_keys", (), None)
    signed = gateio.sign(draft, Credentials("AKEY-never-shown", "s3cr3t-never-shown"), TS * 1000)
    text = repr(signed)
    assert "AKEY" not in text and "s3cr3t" not in text and signed.headers["SIGN"] not in text


def send(signed: Signed, path: str) -> httpx.Request:
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


def test_the_futures_read_is_sent_exactly_as_signed() -> None:
    path = "/api/v4/futures/usdt/accounts"
    sent = send(sign(path, ts_ms=1_700_000_000_000, secret="S" * 64), path)
    assert sent.url.raw_path.decode() == path and sent.content == b""
    assert sent.headers["timestamp"] == "1700000000"
    assert sent.headers["sign"] == sdk_gen_sign("S" * 64, "GET", path, "", None, 1700000000)
    assert sent.headers["key"] == "key" and "content-type" not in sent.headers


# --------------------------------------------------------------------------------------------
# The allow-list: only declared calls leave the machine
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", f"{BASE}/api/v4/spot/orders"),
        ("DELETE", f"{BASE}/api/v4/spot/orders"),  # cancel all
        ("DELETE", f"{BASE}/api/v4/spot/orders/123"),
        ("POST", f"{BASE}/api/v4/futures/usdt/orders"),
        ("DELETE", f"{BASE}/api/v4/futures/usdt/orders"),
        ("POST", f"{BASE}/api/v4/spot/countdown_cancel_all"),
        ("POST", f"{BASE}/api/v4/futures/usdt/countdown_cancel_all"),
        ("POST", f"{BASE}/api/v4/withdrawals"),
        ("POST", f"{BASE}/api/v4/withdrawals/push"),
        ("POST", f"{BASE}/api/v4/wallet/transfers"),
        ("POST", f"{BASE}/api/v4/wallet/sub_account_transfers"),
        ("PUT", f"{BASE}/api/v4/sub_accounts/1/keys/k"),
        ("GET", "https://fx-api-testnet.gateio.ws/api/v4/account/main_keys"),  # another host
        ("GET", "https://api.gateio.ws/api/v4/account/main_keys/extra"),
    ],
)
def test_allow_list_refuses_orders_funds_and_key_changes(method: str, url: str) -> None:
    def handler(_: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be reached
        raise AssertionError("a request left the machine")

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await ExchangeHttp(client, gateio.EXCHANGE.allowed_endpoints()).request(method, url)

    with pytest.raises(ForbiddenCall):
        asyncio.run(run())


def test_every_declared_call_is_a_get_on_one_host() -> None:
    assert {c.method for c in gateio.EXCHANGE.calls} == {"GET"}
    assert all(c.path.startswith("/api/v4/") for c in gateio.EXCHANGE.calls)
    assert not any("order" in c.path for c in gateio.EXCHANGE.calls)
    assert {h.name for h in gateio.EXCHANGE.hosts} == {"api"}
    assert gateio.API.env_var == "GATEIO_BASE_URL" and gateio.API.default_url == BASE
    assert any(f.topic == "IP rate limit" and "200 requests per 10 s" in f.statement for f in gateio.FACTS)
    budget = gateio.EXCHANGE.budget
    # each endpoint at most once a test: calls of one endpoint per window <= a fifth of 200
    assert budget.max_units // budget.units_per_test <= 200 // 5


# --------------------------------------------------------------------------------------------
# Error tables, through classify() with the declared calls
# --------------------------------------------------------------------------------------------


def gate(label: str, message: str = "exchange text, never kept") -> dict[str, Any]:
    return {"label": label, "message": message}


def classified(name: str, status: int, body: object, headers: dict[str, str] | None = None) -> Result:
    c = call(name)
    return classify(c, gateio.EXCHANGE.host(c.host), ExchangeResponse(status, headers or {}, body))


def failure_of(
    name: str, status: int, body: object, headers: dict[str, str] | None = None
) -> ExchangeFailure:
    result = classified(name, status, body, headers)
    assert result.failure is not None, result
    return result.failure


R = Outcome.NO_READ_PERMISSION
TABLE: dict[str, Outcome | str] = {
    "INVALID_KEY": Outcome.INVALID_KEY,
    "INVALID_CREDENTIALS": Outcome.INVALID_KEY,
    "MISSING_REQUIRED_HEADER": Outcome.INVALID_KEY,
    "INVALID_SIGNATURE": Outcome.INVALID_KEY,
    "REQUEST_EXPIRED": Outcome.CLOCK_SKEW,
    "IP_FORBIDDEN": Outcome.IP_NOT_ALLOWED,
    "FORBIDDEN": "denied",
    "READ_ONLY": "denied",
    "ACCOUNT_LOCKED": Outcome.ACCOUNT_RESTRICTED,
    "SUB_ACCOUNT_LOCKED": Outcome.ACCOUNT_RESTRICTED,
    "TOO_MANY_REQUESTS": Outcome.RATE_LIMITED,
    "TOO_FAST": Outcome.RATE_LIMITED,
    "INTERNAL": Outcome.EXCHANGE_UNAVAILABLE,
    "SERVER_ERROR": Outcome.EXCHANGE_UNAVAILABLE,
    "TOO_BUSY": Outcome.EXCHANGE_UNAVAILABLE,
}
CHECK = {
    Outcome.INVALID_KEY: "credentials",
    Outcome.CLOCK_SKEW: "credentials",
    Outcome.IP_NOT_ALLOWED: "ip_whitelist",
    "denied": "read",
}


def test_the_table_above_is_the_modules_whole_table() -> None:
    assert set(TABLE) == set(gateio.ERRORS.exact)
    assert all((gateio.ERRORS.exact[c] is DENIED) == (o == "denied") for c, o in TABLE.items())


# Labels are read whatever the status: 401 (documented for authentication), 403, 400, and 200.
@pytest.mark.parametrize("status", [200, 400, 401, 403])
@pytest.mark.parametrize(("label", "outcome"), sorted(TABLE.items()))
def test_every_row_on_the_spot_accounts(label: str, outcome: Outcome | str, status: int) -> None:
    failure = failure_of("spot_accounts", status, gate(label))
    assert failure.outcome is (R if outcome == "denied" else outcome)
    assert failure.exchange_code == label
    assert failure.http_status == status
    assert failure.check == CHECK.get(outcome, "read")


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("label", ["INTERNAL", "SERVER_ERROR", "TOO_BUSY"])
def test_server_labels_with_5xx(label: str, status: int) -> None:
    assert failure_of("key_info", status, gate(label)).outcome is Outcome.EXCHANGE_UNAVAILABLE


@pytest.mark.parametrize(
    ("name", "denied", "check"),
    [
        ("key_info", R, "read"),
        ("account_detail", R, "read"),
        ("spot_accounts", R, "read"),
        ("futures_accounts", Outcome.FUTURES_NOT_ENABLED, "futures"),
    ],
)
def test_forbidden_means_the_calls_own_right(name: str, denied: Outcome, check: str) -> None:
    failure = failure_of(name, 403, gate("FORBIDDEN"))
    assert (failure.outcome, failure.check) == (denied, check)


@pytest.mark.parametrize("status", [400, 404])  # the status is UNCONFIRMED
def test_no_futures_account_is_futures_not_enabled(status: int) -> None:
    body = {"label": "USER_NOT_FOUND", "detail": "please transfer funds first to create futures account"}
    failure = failure_of("futures_accounts", status, body)
    assert (failure.outcome, failure.exchange_code, failure.check) == (
        Outcome.FUTURES_NOT_ENABLED, "USER_NOT_FOUND", "futures")  # fmt: skip
    # elsewhere the same label is not a verdict on futures
    assert failure_of("spot_accounts", status, body).outcome is Outcome.EXCHANGE_ERROR


RESET = "in 60 s"


@pytest.mark.parametrize(
    ("status", "body", "headers", "outcome", "code", "retry_after"),
    [
        (401, None, {}, Outcome.INVALID_KEY, None, None),  # "401 on authentication failure"
        (401, "", {}, Outcome.INVALID_KEY, None, None),
        (429, gate("TOO_MANY_REQUESTS"), {"X-Gate-RateLimit-Reset-Timestamp": RESET}, Outcome.RATE_LIMITED,
         "TOO_MANY_REQUESTS", 60),
        (429, gate("TOO_MANY_REQUESTS"), {"x-gate-ratelimit-reset-timestamp": "ms"}, Outcome.RATE_LIMITED,
         "TOO_MANY_REQUESTS", 60),
        (429, gate("TOO_MANY_REQUESTS"), {"x-gate-ratelimit-reset-timestamp": "1"}, Outcome.RATE_LIMITED,
         "TOO_MANY_REQUESTS", 1),
        (429, gate("TOO_MANY_REQUESTS"), {"x-gate-ratelimit-reset-timestamp": "soon"}, Outcome.RATE_LIMITED,
         "TOO_MANY_REQUESTS", None),
        (429, None, {"retry-after": "4"}, Outcome.RATE_LIMITED, None, 4),
        (429, None, {}, Outcome.RATE_LIMITED, None, None),
        (500, None, {}, Outcome.EXCHANGE_UNAVAILABLE, None, None),
        (502, gate("INVALID_PARAM_VALUE"), {}, Outcome.EXCHANGE_UNAVAILABLE, "INVALID_PARAM_VALUE", None),
        (200, None, {}, Outcome.EXCHANGE_UNAVAILABLE, None, None),  # truncated or malformed JSON
        (200, {"code": 0}, {}, Outcome.EXCHANGE_UNAVAILABLE, None, None),  # not a spot accounts list
        (400, gate("INVALID_PARAM_VALUE"), {}, Outcome.EXCHANGE_ERROR, "INVALID_PARAM_VALUE", None),
        (404, gate("NOT_FOUND"), {}, Outcome.EXCHANGE_ERROR, "NOT_FOUND", None),
        (400, gate("SOMETHING_NEW"), {}, Outcome.EXCHANGE_ERROR, "SOMETHING_NEW", None),
        (403, None, {}, Outcome.EXCHANGE_UNAVAILABLE, None, None),  # a bare page (a WAF), not Gate's JSON
        (403, {}, {}, Outcome.EXCHANGE_ERROR, None, None),
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
    fill = {RESET: str(now_ms() // 1000 + 60), "ms": str(now_ms() + 60_000)}
    headers = {k: fill.get(v, v) for k, v in headers.items()}
    failure = failure_of("spot_accounts", status, body, headers)
    assert failure.outcome is outcome
    assert failure.exchange_code == code
    if retry_after is not None and retry_after > 1:
        assert failure.retry_after_s is not None and retry_after - 2 <= failure.retry_after_s <= retry_after
    else:
        assert failure.retry_after_s == retry_after


def test_success_is_any_unlabelled_json() -> None:
    assert classified("spot_accounts", 200, []).ok
    assert classified("futures_accounts", 200, {"total": "0", "currency": "USDT"}).ok
    assert not classified("futures_accounts", 200, gate("SERVER_ERROR")).ok


def test_failure_never_keeps_the_exchange_message() -> None:
    failure = failure_of("spot_accounts", 401, gate("IP_FORBIDDEN", "Request IP 9.9.9.9 not in whitelist"))
    assert all("9.9.9.9" not in str(value) for value in [str(failure), *vars(failure).values()])


# --------------------------------------------------------------------------------------------
# Readers: main_keys in both documented shapes, account/detail, time, balances
# --------------------------------------------------------------------------------------------

# The AccountKeyInfo model (gate/gateapi-python docs/AccountKeyInfo.md); no example body is published,
# so this is the model's fields with plausible values (as in the reference, constructed, not quoted).
KEY_INFO: dict[str, Any] = {
    "state": 1, "mode": 1, "name": ["bot"], "currency_pairs": [], "user_id": 123,
    "ip_whitelist": ["1.2.3.4"],
    "perms": [{"name": "spot", "read_only": False}, {"name": "futures", "read_only": True}],
    "key": {"mode": 1}, "created_at": "1700000000", "updated_at": "1700000000", "last_access": "1700000100",
}  # fmt: skip


def key_info(data: object) -> Facts:
    result = classified("key_info", 200, data)
    assert isinstance(result.value, Facts), result.failure
    return result.value


def perms(*entries: tuple[str, bool]) -> dict[str, Any]:
    return {**KEY_INFO, "perms": [{"name": n, "read_only": ro} for n, ro in entries]}


@pytest.mark.parametrize("shape", ["object", "array"])
def test_the_model_example_in_both_shapes(shape: str) -> None:
    facts = key_info(KEY_INFO if shape == "object" else [KEY_INFO])
    assert (facts.spot_trade, facts.futures_trade) == (True, False)  # futures read_only
    assert facts.withdraw is False and facts.unneeded is False and facts.unknown_permissions == ()
    assert facts.ip_whitelist == ("1.2.3.4",)
    assert facts.expires_at is None  # IP-bound
    assert facts.account == {"account_mode": "classic", "key_state": "normal"}
    assert facts.read is None  # told by the balance calls


@pytest.mark.parametrize("body", [[], [KEY_INFO, KEY_INFO]])
def test_an_array_that_does_not_name_one_key_is_not_used(body: list[Any]) -> None:
    assert failure_of("key_info", 200, body).outcome is Outcome.EXCHANGE_UNAVAILABLE


@pytest.mark.parametrize(
    ("entries", "spot", "futures", "withdraw", "unneeded"),
    [
        ((("spot", False), ("futures", False)), True, True, False, False),
        ((("spot", True), ("futures", True)), False, False, False, False),
        ((("wallet", True),), False, False, False, False),  # reads transfer records only
        ((("wallet", False),), False, False, True, False),  # transfers and withdrawals: refused
        ((("withdrawal", False),), False, False, True, False),
        ((("withdraw", True),), False, False, False, False),
        ((("earn", False), ("delivery", False)), False, False, False, True),
        ((("earn", True), ("options", True)), False, False, False, False),  # read-only: nothing to warn about
        ((("unified", False),), False, False, False, False),
        ((("spot", True), ("spot", False)), True, False, False, False),  # listed twice: either entry
        ((), False, False, False, False),
    ],
)
def test_rights_from_perms(
    entries: tuple[tuple[str, bool], ...], spot: bool, futures: bool, withdraw: bool, unneeded: bool
) -> None:
    facts = key_info(perms(*entries))
    assert (facts.spot_trade, facts.futures_trade, facts.withdraw, facts.unneeded) == (
        spot, futures, withdraw, unneeded)  # fmt: skip


def test_unknown_scope_names_are_reported() -> None:
    facts = key_info(perms(("spot", False), ("futurepay", False), ("zeta", True)))
    assert facts.unknown_permissions == ("futurepay", "zeta")


@pytest.mark.parametrize(
    ("ips", "expected"),
    [([], ()), (["1.2.3.4", "5.6.7.8"], ("1.2.3.4", "5.6.7.8")), ("1.2.3.4,5.6.7.8", ("1.2.3.4", "5.6.7.8"))],
)
def test_whitelist_forms(ips: object, expected: tuple[str, ...]) -> None:
    assert key_info({**KEY_INFO, "ip_whitelist": ips}).ip_whitelist == expected


def test_whitelist_not_reported() -> None:
    assert key_info({k: v for k, v in KEY_INFO.items() if k != "ip_whitelist"}).ip_whitelist is None


@pytest.mark.parametrize("created", [1700000000, "1700000000", 1700000000.5, "1700000000.5", 1700000000000,
                                     "2023-11-14T22:13:20Z"])  # fmt: skip
def test_a_key_without_ips_expires_90_days_after_creation(created: object) -> None:
    at = key_info({**KEY_INFO, "ip_whitelist": [], "created_at": created}).expires_at
    assert at is not None
    assert abs(at - (datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC) + timedelta(days=90))) < timedelta(
        seconds=1
    )


@pytest.mark.parametrize("created", [None, "", "never", 0, True])
def test_no_expiry_without_a_creation_time(created: object) -> None:
    assert key_info({**KEY_INFO, "ip_whitelist": [], "created_at": created}).expires_at is None


@pytest.mark.parametrize(("state", "mode", "account", "restricted"), [
    (1, 1, {"key_state": "normal", "account_mode": "classic"}, False),
    (2, 1, {"key_state": "locked", "account_mode": "classic"}, True),
    (3, 2, {"key_state": "frozen", "account_mode": "legacy_unified"}, True),
    ("2", 1, {"key_state": "locked", "account_mode": "classic"}, True),
    (9, 9, {}, None),  # undocumented: says nothing either way
    (True, 1, {"account_mode": "classic"}, None),
    (None, 1, {"account_mode": "classic"}, None),
])  # fmt: skip
def test_key_state_and_account_mode(
    state: object, mode: int, account: dict[str, str], restricted: bool | None
) -> None:
    facts = key_info({**KEY_INFO, "state": state, "mode": mode, "key": {"mode": mode}})
    assert facts.account == account and facts.restricted is restricted


TESTED = "gateTestedKey0123456789abcdef012"


def own_key_info(data: object) -> Result:
    """main_keys read as the probe reads it: knowing the tested key."""
    c = call("key_info")
    inputs = Inputs(Credentials(TESTED, "secret"), {}, {})
    return classify(c, gateio.EXCHANGE.host(c.host), ExchangeResponse(200, {}, data), inputs)


def named(key: str, *entries: tuple[str, bool]) -> dict[str, Any]:
    return {**perms(*entries), "key": key}


def test_the_tested_keys_entry_is_read_from_a_list_naming_keys() -> None:
    other = named("gateOtherKey", ("wallet", False))  # may withdraw: must never be read as ours
    mine = named(TESTED, ("spot", False), ("futures", False))
    for body in ([other, mine], [mine, other], [mine]):
        facts = own_key_info(body).value
        assert isinstance(facts, Facts) and facts.withdraw is False and facts.futures_trade is True, body


@pytest.mark.parametrize("body", [
    [named("gateOtherKey", ("spot", False))],  # a lone entry naming another key (a sub-account's main?)
    named("gateOtherKey", ("spot", False)),
    [named("gateOtherKey", ("spot", False)), named("gateThirdKey", ("spot", False))],
    [named(TESTED, ("spot", False)), named(TESTED, ("wallet", False))],  # named twice: not told apart
    [KEY_INFO, KEY_INFO],  # no names (the official SDK's key is {mode}): several are not told apart
])  # fmt: skip
def test_an_answer_not_about_the_tested_key_is_not_used(body: object) -> None:
    result = own_key_info(body)
    assert result.failure is not None and result.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


def test_without_names_a_lone_entry_is_the_callers() -> None:
    for body in (KEY_INFO, [KEY_INFO]):
        facts = own_key_info(body).value
        assert isinstance(facts, Facts) and facts.spot_trade is True


@pytest.mark.parametrize(
    "broken",
    [{"perms": None}, {"perms": "spot"}, {"perms": [{"name": "spot"}]},
     {"perms": [{"name": "spot", "read_only": "no"}]}, {"perms": [{"name": 1, "read_only": True}]}],
)  # fmt: skip
def test_key_info_not_shaped_as_documented_is_an_outage(broken: dict[str, Any]) -> None:
    assert failure_of("key_info", 200, {**KEY_INFO, **broken}).outcome is Outcome.EXCHANGE_UNAVAILABLE


def test_account_detail_reader() -> None:
    # docs/AccountDetail.md fields
    body = {"user_id": 1667201533, "ip_whitelist": ["127.0.0.1"], "currency_pairs": ["BTC_USDT"],
            "key": {"mode": 2}, "tier": 2, "copy_trading_role": 1}  # fmt: skip
    facts = classified("account_detail", 200, body).value
    assert facts == Facts(ip_whitelist=("127.0.0.1",), account={"account_mode": "legacy_unified"})
    assert facts.withdraw is None and facts.spot_trade is None  # not told here


def test_server_time_reader() -> None:
    assert classified("server_time", 200, {"server_time": 1597026383085}).value == 1597026383085
    assert classified("server_time", 200, {"server_time": 1597026383}).value == 1597026383000


def test_balance_readers() -> None:
    spot = [{"currency": "ETH", "available": "968.8", "locked": "0", "update_id": 98}]
    assert classified("spot_accounts", 200, spot).value == Facts(balances=True)
    futures = {"total": "9707.803", "unrealised_pnl": "3371.248", "available": "4425.3", "currency": "USDT"}
    assert classified("futures_accounts", 200, futures).value == Facts(balances=True)
    assert failure_of("futures_accounts", 200, []).outcome is Outcome.EXCHANGE_UNAVAILABLE


# --------------------------------------------------------------------------------------------
# The probe against the simulator: demo keys in detail (every key's outcome: test_every_exchange.py)
# --------------------------------------------------------------------------------------------


def key(label: str) -> DemoKey:
    matches = [k for k in DEMO_KEYS if k.api_key == f"gateDemo{label}"]
    assert len(matches) == 1, label
    return matches[0]


def test_cold_probe_makes_one_signed_round(run_probe: Prober, sim: Simulator) -> None:
    run_probe(key("Connected"), BOTH)
    assert sorted(r.path for r in sim.requests) == [
        "/api/v4/account/main_keys",
        "/api/v4/futures/usdt/accounts",
        "/api/v4/spot/accounts",
        "/api/v4/spot/time",
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
    assert report.account == {"account_mode": "classic", "key_state": "normal"}
    assert report.warnings == [] and report.key_expires_at is None
    assert report.clock_offset_ms is not None and abs(report.clock_offset_ms) < 1_000


def test_array_shape_reads_alike(run_probe: Prober) -> None:
    report = run_probe(key("ArrayShape"), BOTH)
    assert report.failure is None and report.permissions["withdraw"] is False
    assert report.checks["trade"] is OK and report.checks["futures"] is OK


@pytest.mark.parametrize(("label", "code"), [("InvalidKey", "INVALID_KEY"), ("TestnetKey", "INVALID_KEY"),
                                             ("WrongSecret", "INVALID_SIGNATURE")])  # fmt: skip
def test_bad_credentials(run_probe: Prober, label: str, code: str) -> None:
    report = run_probe(key(label), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code, report.failure.http_status) == (
        Outcome.INVALID_KEY, code, 401)  # fmt: skip
    assert report.checks == {"credentials": FAILED}


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
    assert (report.failure.outcome, report.failure.exchange_code) == (
        Outcome.FUTURES_NOT_ENABLED,
        "FORBIDDEN",
    )
    assert report.checks["trade"] is OK and report.checks["futures"] is FAILED


def test_no_futures_account(run_probe: Prober) -> None:
    assert run_probe(key("NoFuturesAccount"), SPOT).failure is None
    report = run_probe(key("NoFuturesAccount"), FUTURES)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (
        Outcome.FUTURES_NOT_ENABLED,
        "USER_NOT_FOUND",
    )


def test_withdrawal_key_is_reported(run_probe: Prober) -> None:
    report = run_probe(key("WithdrawRight"), SPOT)
    assert report.permissions["withdraw"] is True
    assert report.checks["withdraw_disabled"] is FAILED


def test_other_products_warn(run_probe: Prober) -> None:
    report = run_probe(key("OtherProducts"), BOTH)
    assert report.failure is None and report.permissions["withdraw"] is False
    assert report.warnings == [WarningCode.UNNEEDED_PERMISSION]


def test_no_read_right(run_probe: Prober) -> None:
    report = run_probe(key("NoReadRight"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.NO_READ_PERMISSION, "FORBIDDEN")
    assert report.checks["read"] is FAILED and report.checks["balance_access"] is FAILED


def test_whitelists(run_probe: Prober) -> None:
    assert run_probe(key("NoIpBound"), SPOT).ip_whitelist == []
    assert run_probe(key("IpMismatch"), SPOT).ip_whitelist == PLATFORM_IPS[:1]
    report = run_probe(key("IpNotAllowed"), BOTH)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.IP_NOT_ALLOWED, "IP_FORBIDDEN")


def test_expiry_of_keys_without_ips(run_probe: Prober) -> None:
    soon = run_probe(key("ExpiresSoon"), BOTH).key_expires_at
    assert soon is not None and timedelta(days=2) < soon - datetime.now(UTC) <= timedelta(days=3)
    far = run_probe(key("NoIpBound"), BOTH).key_expires_at
    assert far is not None and timedelta(days=79) < far - datetime.now(UTC) <= timedelta(days=80)
    assert run_probe(key("Connected"), BOTH).key_expires_at is None


@pytest.mark.parametrize("label", ["SubAccount", "SeveralKeys"])
def test_account_detail_stands_in_when_main_keys_does_not_tell(
    run_probe: Prober, sim: Simulator, label: str
) -> None:
    report = run_probe(key(label), SPOT)
    assert report.failure is None
    assert report.ip_whitelist == PLATFORM_IPS
    # no permissions there: withdraw and trade stay unknown, and the verdict fails closed
    assert report.permissions.get("withdraw") is None and "withdraw_disabled" not in report.checks
    assert report.permissions.get("trade") is None and "trade" not in report.checks
    assert run_probe.warnings(report, SPOT) == {WarningCode.WITHDRAW_UNVERIFIABLE.value}
    assert sum(r.path == "/api/v4/account/detail" for r in sim.requests) == 1


def test_no_account_detail_when_main_keys_speaks_about_the_key(run_probe: Prober, sim: Simulator) -> None:
    for label in ("Connected", "IpNotAllowed", "ClockSkew", "RateLimited", "AccountLocked", "WrongSecret"):
        run_probe(key(label), SPOT)
    assert not any(r.path == "/api/v4/account/detail" for r in sim.requests)


def test_several_named_keys_read_the_tested_ones_entry(run_probe: Prober, sim: Simulator) -> None:
    report = run_probe(key("SeveralKeysNamed"), BOTH)
    assert report.failure is None and report.permissions["withdraw"] is False
    assert report.checks["withdraw_disabled"] is OK and report.checks["futures"] is OK
    assert not any(r.path == "/api/v4/account/detail" for r in sim.requests)


@pytest.mark.parametrize(("label", "state"), [("KeyLocked", "locked"), ("KeyFrozen", "frozen")])
def test_a_locked_or_frozen_key_is_restricted_though_its_calls_pass(run_probe: Prober, label: str,
                                                                     state: str) -> None:  # fmt: skip
    for markets in (SPOT, BOTH):
        report = run_probe(key(label), markets)
        assert report.failure is not None
        assert (report.failure.outcome, report.failure.check, report.failure.exchange_code) == (
            Outcome.ACCOUNT_RESTRICTED, "credentials", None)  # fmt: skip
        assert report.checks["credentials"] is OK and report.checks["read"] is OK  # the calls passed
        assert report.permissions["withdraw"] is False and report.account["key_state"] == state


@pytest.mark.parametrize(
    ("label", "outcome", "code"),
    [
        ("AccountLocked", Outcome.ACCOUNT_RESTRICTED, "ACCOUNT_LOCKED"),
        ("Maintenance", Outcome.EXCHANGE_UNAVAILABLE, "TOO_BUSY"),
        ("UnknownError", Outcome.EXCHANGE_ERROR, "INVALID_PARAM_VALUE"),
        ("ClockSkew", Outcome.CLOCK_SKEW, "REQUEST_EXPIRED"),
    ],
)
def test_account_and_exchange_states(run_probe: Prober, label: str, outcome: Outcome, code: str) -> None:
    report = run_probe(key(label), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (outcome, code)


def test_rate_limit_waits_for_the_reset_timestamp(run_probe: Prober) -> None:
    report = run_probe(key("RateLimited"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (
        Outcome.RATE_LIMITED,
        "TOO_MANY_REQUESTS",
    )
    assert report.failure.retry_after_s is not None and 1 <= report.failure.retry_after_s <= 4


def test_unknown_scope_leaves_withdraw_unverifiable(run_probe: Prober) -> None:
    report = run_probe(key("UnknownScope"), BOTH)
    assert report.failure is None and report.unknown_permissions == ["futurepay"]
    assert WarningCode.WITHDRAW_UNVERIFIABLE.value in run_probe.warnings(report, BOTH)


# --------------------------------------------------------------------------------------------
# Venue-wide conditions
# --------------------------------------------------------------------------------------------


def venue(sim: Simulator) -> GateVenue:
    found = sim.venues["gateio-api"]
    assert isinstance(found, GateVenue)
    return found


def test_clock_skew_when_a_fresh_offset_does_not_help(
    run_probe: Prober, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe_module, "now_ms", lambda: now_ms() - 120_000)
    report = run_probe(key("Connected"), SPOT)
    assert report.failure is not None
    assert (report.failure.outcome, report.failure.exchange_code) == (Outcome.CLOCK_SKEW, "REQUEST_EXPIRED")
    assert sum(r.path == "/api/v4/spot/time" for r in sim.requests) == 2


# --------------------------------------------------------------------------------------------
# The simulator checks the documented recipe, and records what must never be called
# --------------------------------------------------------------------------------------------


def raw_call(sim: Simulator, method: str, path: str, query: str = "", *, body: str = "",
             secret: str | None = None, stamp: str | None = None) -> httpx.Response:  # fmt: skip
    demo = key("Connected")
    t = stamp or str(now_ms() // 1000)
    signature = sdk_gen_sign(
        secret or demo.api_secret, method, path, unquote_plus(query), body, int(float(t))
    )
    if stamp is not None:  # sign the header exactly as sent (the SDK sends a float)
        hashed = hashlib.sha512(body.encode()).hexdigest()
        message = f"{method}\n{path}\n{unquote_plus(query)}\n{hashed}\n{stamp}"
        signature = hmac.new(
            (secret or demo.api_secret).encode(), message.encode(), hashlib.sha512
        ).hexdigest()
    headers = {"KEY": demo.api_key, "Timestamp": t, "SIGN": signature}
    url = sim.base_url("gateio-api") + path + (f"?{query}" if query else "")
    return httpx.request(method, url, headers=headers, content=body or None)


def test_simulator_checks_the_signature_and_window(sim: Simulator) -> None:
    assert raw_call(sim, "GET", "/api/v4/account/main_keys").status_code == 200
    wrong = raw_call(sim, "GET", "/api/v4/account/main_keys", secret="wrong")
    assert (wrong.status_code, wrong.json()["label"]) == (401, "INVALID_SIGNATURE")
    assert raw_call(sim, "GET", "/api/v4/spot/accounts", stamp=f"{now_ms() / 1000:.3f}").status_code == 200
    late = raw_call(sim, "GET", "/api/v4/spot/accounts", stamp=str(now_ms() // 1000 - 61))
    assert late.json()["label"] == "REQUEST_EXPIRED"
    assert raw_call(sim, "GET", "/api/v4/spot/accounts", "currency=BTC%20X").status_code == 200
    bare = httpx.get(sim.base_url("gateio-api") + "/api/v4/account/main_keys")
    assert (bare.status_code, bare.json()["label"]) == (401, "MISSING_REQUIRED_HEADER")


def test_simulator_records_forbidden_calls(sim: Simulator) -> None:
    body = json.dumps({"currency_pair": "BTC_USDT", "side": "buy", "amount": "0.001", "price": "1"})
    assert raw_call(sim, "POST", "/api/v4/spot/orders", body=body).status_code == 200
    assert raw_call(sim, "DELETE", "/api/v4/spot/orders", "currency_pair=BTC_USDT").status_code == 200
    assert venue(sim).recorded("/api/v4/spot/orders") == [
        {"currency_pair": "BTC_USDT", "side": "buy", "amount": "0.001", "price": "1"},
        {"currency_pair": "BTC_USDT"},
    ]
