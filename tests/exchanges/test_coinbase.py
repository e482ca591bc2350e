"""Coinbase: the JWT (decoded by PyJWT, the official SDK's JWT library, and byte for byte against it for
Ed25519, on the SDK's own test keys), the private-key forms, keys recognised without a request, the
allow-list, every error-table row through classify, the key-permissions reader, and the probe of every
demo key against the simulator (plus the resend on a false 401, faults and the clock)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from backfuture.clock import now_ms
from backfuture.connection_test import diagnose
from backfuture.engine.http import ExchangeHttp, ExchangeResponse, ForbiddenCall
from backfuture.engine.probe import Result, classify
from backfuture.engine.report import CheckValue
from backfuture.engine.server_clock import server_clock
from backfuture.engine.spec import Call, Draft, Facts
from backfuture.errors import Outcome
from backfuture.exchanges import Credentials, Market, coinbase
from backfuture.language import Language, use_language
from simulator.coinbase import DEMO_KEYS, CoinbaseVenue, _key_name
from simulator.core import Simulator
from simulator.demo_keys import DemoKey
from tests.exchanges.conftest import PLATFORM_IPS, SPOT, Prober, pasted

OK, FAILED, UNKNOWN = CheckValue.OK, CheckValue.FAILED, CheckValue.UNKNOWN
BASE = "https://api.coinbase.com"
TIME_PATH = "/api/v3/brokerage/time"

# The official SDK's test keys (coinbase-advanced-py tests/constants.py @54fb8ed).
SDK_KEY_NAME = "organizations/test-organization/apiKeys/test-api-key"
SDK_EC = (
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\n"
    "AwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\nqDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\n"
    "-----END EC PRIVATE KEY-----\n"
)
SDK_ED25519 = "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA=="
SDK_ED25519_PKCS8 = (
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJNAVJ4tKdL2RtQXaVY0uqIASe5MZut9ACdnTfrbqbrQ\n"
    "-----END PRIVATE KEY-----\n"
)
SDK_ED25519_SEED = "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputA="
URI = "GET api.coinbase.com/api/v3/brokerage/accounts"


@pytest.fixture(scope="module")
def exchange_id() -> str:
    return "coinbase"


def call(name: str) -> Call:
    return next(c for c in coinbase.EXCHANGE.calls if c.name == name)


def decode(token: str, secret: str, algorithm: str) -> dict[str, Any]:
    public = coinbase.load_private_key(secret).public_key()
    return jwt.decode(
        token, public, algorithms=[algorithm], options={"verify_nbf": False, "verify_exp": False}
    )


# --------------------------------------------------------------------------------------------
# The JWT
# --------------------------------------------------------------------------------------------


def test_es256_jwt_as_the_sdk_builds_it() -> None:
    token = coinbase.build_jwt(SDK_KEY_NAME, SDK_EC, URI, 1_700_000_000, "6e6f6e6365")
    assert jwt.get_unverified_header(token) == {
        "alg": "ES256",
        "kid": SDK_KEY_NAME,
        "nonce": "6e6f6e6365",
        "typ": "JWT",
    }
    assert decode(token, SDK_EC, "ES256") == {
        "sub": SDK_KEY_NAME,
        "iss": "cdp",
        "nbf": 1_700_000_000,
        "exp": 1_700_000_120,
        "uri": URI,
    }
    signature = base64.urlsafe_b64decode(token.rsplit(".", 1)[1] + "==")
    assert len(signature) == 64  # JOSE r||s, not DER


@pytest.mark.parametrize("secret", [SDK_ED25519, SDK_ED25519_PKCS8, SDK_ED25519_SEED, SDK_ED25519 + "\n"])
def test_ed25519_jwt_byte_for_byte_with_pyjwt(secret: str) -> None:
    """Ed25519 is deterministic: the same key in each of its forms gives PyJWT's token exactly."""
    claims = {"sub": "kid-1", "iss": "cdp", "nbf": 1_700_000_000, "exp": 1_700_000_120, "uri": URI}
    expected = jwt.encode(
        claims,
        coinbase.load_private_key(SDK_ED25519),
        algorithm="EdDSA",
        headers={"kid": "kid-1", "nonce": "abc"},
    )
    assert coinbase.build_jwt("kid-1", secret, URI, 1_700_000_000, "abc") == expected


def test_uri_has_no_scheme_and_no_query() -> None:
    assert coinbase.jwt_uri("get", BASE, "/api/v3/brokerage/accounts") == URI
    assert (
        coinbase.jwt_uri("POST", "http://127.0.0.1:8123/coinbase-api", "/x")
        == "POST 127.0.0.1:8123/coinbase-api/x"
    )
    assert coinbase.jwt_uri("GET", "https://api.coinbase.com:443", "/x") == "GET api.coinbase.com/x"
    assert coinbase.jwt_uri("GET", "https://user@api.coinbase.com", "/x") == "GET api.coinbase.com/x"


def test_signed_requests() -> None:
    get = Draft("api", "GET", BASE, "/api/v3/brokerage/accounts", (("limit", "1"),), None)
    signed = coinbase.sign(get, Credentials(SDK_KEY_NAME, SDK_EC), 1_700_000_000_999)
    assert signed.url == f"{BASE}/api/v3/brokerage/accounts?limit=1" and signed.content is None
    assert set(signed.headers) == {"Authorization"}
    token = signed.headers["Authorization"].removeprefix("Bearer ")
    assert decode(token, SDK_EC, "ES256")["nbf"] == 1_700_000_000
    assert decode(token, SDK_EC, "ES256")["uri"] == URI  # the query is not part of it
    body = json.dumps(coinbase.PREVIEW, separators=(",", ":"))
    post = Draft("api", "POST", BASE, "/api/v3/brokerage/orders/preview", (), body)
    signed = coinbase.sign(post, Credentials("kid-1", SDK_ED25519), 1_700_000_000_000)
    assert signed.content == body and signed.headers["Content-Type"] == "application/json"
    assert SDK_ED25519 not in repr(signed) and "Bearer" not in repr(signed)


def test_every_jwt_has_a_fresh_nonce() -> None:
    draft = Draft("api", "GET", BASE, "/api/v3/brokerage/key_permissions", (), None)
    headers = [
        coinbase.sign(draft, Credentials("kid-1", SDK_ED25519), 1_700_000_000_000).headers for _ in range(2)
    ]
    nonces = {jwt.get_unverified_header(h["Authorization"][7:])["nonce"] for h in headers}
    assert len(nonces) == 2


# --------------------------------------------------------------------------------------------
# Keys: the forms Coinbase issues, and what is recognised without a request
# --------------------------------------------------------------------------------------------


def _pem(key: Any, fmt: serialization.PrivateFormat) -> str:
    pem: bytes = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    return pem.decode()


def test_private_key_forms() -> None:
    assert isinstance(coinbase.load_private_key(SDK_EC), ec.EllipticCurvePrivateKey)
    pkcs8_ec = _pem(coinbase.load_private_key(SDK_EC), serialization.PrivateFormat.PKCS8)
    assert isinstance(coinbase.load_private_key(pkcs8_ec), ec.EllipticCurvePrivateKey)
    for secret in (SDK_ED25519, SDK_ED25519_PKCS8, SDK_ED25519_SEED):
        assert isinstance(coinbase.load_private_key(secret), ed25519.Ed25519PrivateKey)


@pytest.mark.parametrize(
    "secret",
    [
        _pem(ec.generate_private_key(ec.SECP384R1()), serialization.PrivateFormat.TraditionalOpenSSL),
        _pem(rsa.generate_private_key(65537, 2048), serialization.PrivateFormat.PKCS8),
        "-----BEGIN EC PRIVATE KEY-----\nNOTVALIDDATA\n-----END EC PRIVATE KEY-----\n",
        base64.b64encode(bytes(33)).decode(),
        "not-valid-base64!!!",
        base64.b64encode(bytes(range(64))).decode(),  # 64 bytes that are not seed || public key
    ],
    ids=["p384", "rsa", "bad-pem", "33-bytes", "not-base64", "64-random"],
)
def test_what_is_not_a_cdp_key(secret: str) -> None:
    with pytest.raises(ValueError, match="not a CDP private key") as raised:
        coinbase.load_private_key(secret)
    assert secret not in str(raised.value) and raised.value.__cause__ is None
    assert coinbase.unusable(Credentials("organizations/o/apiKeys/k", secret)) == "unreadable_private_key"


def test_legacy_and_usable_keys() -> None:
    exchange_secret = base64.b64encode(bytes(range(64))).decode()  # a Coinbase Exchange (Pro) secret's shape
    assert coinbase.unusable(Credentials("0123456789abcdef0123456789abcdef", exchange_secret)) == "legacy_key"
    assert (
        coinbase.unusable(Credentials("cbLegacyDemoKey1", "cbLegacyDemoSecret0123456789abcd")) == "legacy_key"
    )
    assert coinbase.unusable(Credentials(SDK_KEY_NAME, SDK_EC)) is None
    assert coinbase.unusable(Credentials("3f1c2a8e-5b7d-4c1e-9a2f-0d6b8e4c7a91", SDK_ED25519)) is None


# --------------------------------------------------------------------------------------------
# Declarations, the allow-list, the error table
# --------------------------------------------------------------------------------------------


def test_declarations() -> None:
    spec = coinbase.EXCHANGE
    assert spec.info.markets == (Market.SPOT,) and not spec.info.needs_passphrase
    assert spec.credentials.pem_secret and spec.credentials.unusable is coinbase.unusable
    assert spec.host("api").resend_on == {401}
    assert {(c.method, c.path) for c in spec.calls if c.method == "POST"} == {
        ("POST", "/api/v3/brokerage/orders/preview")
    }


@pytest.mark.parametrize(
    "path",
    [
        "/api/v3/brokerage/orders",
        "/api/v3/brokerage/orders/batch_cancel",
        "/api/v3/brokerage/orders/edit",
        "/api/v3/brokerage/portfolios/move_funds",
        "/api/v3/brokerage/orders/close_position",
        "/v2/accounts/x/transactions",
    ],
)
def test_allow_list_refuses_orders_and_fund_moves(path: str) -> None:
    def handler(_: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be reached
        raise AssertionError("a request left the machine")

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await ExchangeHttp(client, coinbase.EXCHANGE.allowed_endpoints()).request("POST", BASE + path)

    with pytest.raises(ForbiddenCall):
        asyncio.run(run())


def answer(name: str, status: int, body: Any, **headers: str) -> Result:
    return classify(call(name), coinbase.API, ExchangeResponse(status, httpx.Headers(headers), body))


MISSING = {
    "error": "unknown",
    "error_details": "Missing required scopes",
    "message": "Missing required scopes",
}


@pytest.mark.parametrize(
    ("name", "status", "body", "outcome"),
    [
        ("key_info", 401, None, Outcome.INVALID_KEY),  # "Unauthorized" as text
        ("accounts", 401, {"error": "UNAUTHENTICATED", "message": "x"}, Outcome.INVALID_KEY),
        ("accounts", 403, MISSING, Outcome.NO_READ_PERMISSION),
        ("order_preview", 403, MISSING, Outcome.NO_TRADE_PERMISSION),
        ("order_preview", 403, {"error": "PERMISSION_DENIED", "message": "x"}, Outcome.NO_TRADE_PERMISSION),
        ("accounts", 403, {"error": "unknown", "message": "something else"}, Outcome.EXCHANGE_ERROR),
        ("key_info", 403, None, Outcome.EXCHANGE_UNAVAILABLE),  # a firewall's HTML page
        ("accounts", 429, "<html>429</html>", Outcome.RATE_LIMITED),
        ("accounts", 503, None, Outcome.EXCHANGE_UNAVAILABLE),
        ("accounts", 400, {"error": "INVALID_ARGUMENT", "message": "x"}, Outcome.EXCHANGE_ERROR),
        ("accounts", 404, {"error": "NOT_FOUND", "message": "x"}, Outcome.EXCHANGE_ERROR),
    ],
)
def test_error_table(name: str, status: int, body: Any, outcome: Outcome) -> None:
    result = answer(name, status, body)
    assert result.failure is not None and result.failure.outcome is outcome


@pytest.mark.parametrize("code", ["INVALID_ARGUMENT", "INSUFFICIENT_FUND", "UNSUPPORTED_ORDER_CONFIGURATION"])
def test_order_rejections_prove_the_right_only_on_the_preview(code: str) -> None:
    assert answer("order_preview", 400, {"error": code, "message": "m"}).value is True
    assert answer("accounts", 400, {"error": code, "message": "m"}).failure is not None


def test_a_preview_with_errs_is_a_preview() -> None:
    assert answer(
        "order_preview", 200, {"errs": [{"preview_failure_reason": "PREVIEW_INSUFFICIENT_FUND"}]}
    ).ok


@pytest.mark.parametrize(("reset_in_s", "epoch"), [(3, False), (30, True)])
def test_rate_limit_waits_for_the_reset(reset_in_s: int, epoch: bool) -> None:
    """x-ratelimit-reset as seconds to wait, or as the epoch second of the reset."""
    reset = now_ms() // 1000 + reset_in_s if epoch else reset_in_s
    failure = answer("accounts", 429, None, **{"x-ratelimit-reset": str(reset)}).failure
    assert failure is not None and failure.retry_after_s is not None
    assert reset_in_s - 1 <= failure.retry_after_s <= reset_in_s


def test_failure_never_keeps_the_exchange_message() -> None:
    failure = answer("accounts", 400, {"error": "FAILED_PRECONDITION", "message": "sk-SECRET echoed"}).failure
    assert (
        failure is not None
        and failure.exchange_code == "FAILED_PRECONDITION"
        and "sk-SECRET" not in str(failure)
    )


# --------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------


def test_key_permissions_reader() -> None:
    facts = coinbase.read_key_permissions(
        {
            "can_view": True,
            "can_trade": True,
            "can_transfer": False,
            "portfolio_uuid": "8c1f0e4e-…",
            "portfolio_type": "DEFAULT",
        }
    )
    assert facts == Facts(
        withdraw=False,
        read=True,
        spot_trade=True,
        account={"key_expiry": "unknown", "portfolio_type": "DEFAULT"},
    )
    assert facts.ip_whitelist is None and facts.expires_at is None  # not reported: unknown


@pytest.mark.parametrize(
    "broken",
    [{}, {"portfolio_type": "DEFAULT"}, {"can_view": "true", "can_trade": True, "can_transfer": False}],
)
def test_key_permissions_not_shaped_as_documented_is_an_outage(broken: dict[str, Any]) -> None:
    result = answer("key_info", 200, broken)
    assert result.failure is not None and result.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE


def test_a_flag_left_out_is_unknown_never_false() -> None:
    facts = coinbase.read_key_permissions({"can_view": True, "can_trade": True})
    assert facts.withdraw is None and facts.read is True and facts.spot_trade is True


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"epochMillis": "1700000000123"}, 1_700_000_000_123),
        ({"epochMillis": 1_700_000_000_123}, 1_700_000_000_123),
        ({"epochSeconds": "1700000000"}, 1_700_000_000_000),
    ],
)
def test_server_time_forms(data: dict[str, Any], expected: int) -> None:
    assert coinbase.read_server_time(data) == expected


# --------------------------------------------------------------------------------------------
# Demo keys against the simulator
# --------------------------------------------------------------------------------------------


def key(label: str) -> DemoKey:
    return next(k for k in DEMO_KEYS if k.api_key == _key_name(label))


def venue(sim: Simulator) -> CoinbaseVenue:
    found = sim.venues["coinbase-api"]
    assert isinstance(found, CoinbaseVenue)
    return found


def test_call_plan_cold_and_warm(run_probe: Prober, sim: Simulator) -> None:
    server_clock.forget()
    sim.requests.clear()
    assert run_probe(pasted(key("Connected")), SPOT).failure is None
    assert sorted(r.path for r in sim.requests) == [
        "/api/v3/brokerage/accounts",
        "/api/v3/brokerage/key_permissions",
        "/api/v3/brokerage/orders/preview",
        TIME_PATH,
    ]
    sim.requests.clear()
    assert run_probe(pasted(key("Connected")), SPOT).failure is None
    assert TIME_PATH not in {r.path for r in sim.requests} and len(sim.requests) == 3


@pytest.mark.parametrize("label", ["LegacyKey", "NotAPrivateKey"])
def test_keys_known_not_to_work_send_nothing(run_probe: Prober, sim: Simulator, label: str) -> None:
    sim.requests.clear()
    report = run_probe(pasted(key(label)), SPOT)
    assert sim.requests == []
    assert report.failure is not None and report.failure.reason == (
        "legacy_key" if label == "LegacyKey" else "unreadable_private_key"
    )
    assert report.checks == {"credentials": FAILED}


def test_a_false_401_is_asked_once_more_with_a_fresh_jwt(run_probe: Prober, sim: Simulator) -> None:
    sim.requests.clear()
    report = run_probe(pasted(key("FalseUnauthorized")), SPOT)
    assert report.failure is None
    signed = [r.path for r in sim.requests if r.path != TIME_PATH]
    assert sorted(signed) == sorted(
        2
        * [
            "/api/v3/brokerage/accounts",
            "/api/v3/brokerage/key_permissions",
            "/api/v3/brokerage/orders/preview",
        ]
    )


def test_a_bad_key_is_asked_twice_per_call_then_invalid(run_probe: Prober, sim: Simulator) -> None:
    sim.requests.clear()
    report = run_probe(pasted(key("InvalidKey")), SPOT)
    assert report.failure is not None and report.failure.outcome is Outcome.INVALID_KEY
    signed = [r for r in sim.requests if r.path != TIME_PATH]
    clocks = [r for r in sim.requests if r.path == TIME_PATH]
    assert len(signed) == 6 and len(clocks) == 1  # cold: measured by this test, so not again
    assert len(sim.requests) <= coinbase.EXCHANGE.budget.units_per_test
    sim.requests.clear()  # warm: the cached offset might be stale, so it is measured once again
    run_probe(pasted(key("InvalidKey")), SPOT)
    assert sum(r.path == TIME_PATH for r in sim.requests) == 1
    assert len(sim.requests) == 7 <= coinbase.EXCHANGE.budget.units_per_test


def test_a_401_after_the_key_was_proven_is_the_exchanges_fault(run_probe: Prober) -> None:
    report = run_probe(pasted(key("LateUnauthorized")), SPOT)
    assert report.failure is not None and report.failure.outcome is Outcome.EXCHANGE_UNAVAILABLE
    assert report.checks["credentials"] is OK


def test_the_preview_is_best_effort(run_probe: Prober) -> None:
    report = run_probe(pasted(key("PreviewProductMissing")), SPOT)
    assert report.failure is None and report.checks["trade"] is OK  # can_trade decides
    denied = run_probe(pasted(key("ViewOnly")), SPOT)
    assert denied.failure is not None and denied.failure.outcome is Outcome.NO_TRADE_PERMISSION


def test_a_clock_jump_after_caching_is_measured_again_on_the_401(run_probe: Prober, sim: Simulator) -> None:
    """Coinbase answers a JWT outside its window 401, like a bad key: the resend re-measures first."""
    assert run_probe(pasted(key("Connected")), SPOT).failure is None  # caches the offset
    sim.config.clock_offset_ms = 150_000
    sim.requests.clear()
    report = run_probe(pasted(key("Connected")), SPOT)
    assert report.failure is None, report.failure
    assert sum(r.path == TIME_PATH for r in sim.requests) == 1


def test_connected_status_document_says_what_coinbase_does_not_tell(run_probe: Prober) -> None:
    report = run_probe(pasted(key("Connected")), SPOT)
    result = diagnose(report, SPOT, PLATFORM_IPS, duration_ms=0)
    document = result.document
    assert document["status"] == "connected" and result.trading_ready is True
    assert document["checks"] == {
        "credentials": "ok",
        "read": "ok",
        "trade": "ok",
        "withdraw_disabled": "ok",
        "futures": "not_requested",
        "ip_whitelist": "unknown",
        "balance_access": "ok",
    }
    assert document["account"] == {"key_expiry": "unknown", "portfolio_type": "DEFAULT"}
    assert result.key_expires_at is None and document["warnings"] == []


@pytest.mark.parametrize("language", ["en", "hu"])
def test_legacy_key_gets_its_own_remedy(run_probe: Prober, language: Language) -> None:
    report = run_probe(pasted(key("LegacyKey")), SPOT)
    use_language(language)  # a context variable: this test's own context
    try:
        error = diagnose(report, SPOT, PLATFORM_IPS, duration_ms=0).document["error"]
    finally:
        use_language("en")
    assert error["code"] == "invalid_key" and error["details"] == {"reason": "legacy_key"}
    assert "2025" in error["message"] and "CDP" in error["remedy"] and PLATFORM_IPS[0] in error["remedy"]


def test_rate_limit_html_page(run_probe: Prober) -> None:
    report = run_probe(pasted(key("RateLimited")), SPOT)
    assert report.failure is not None and report.failure.outcome is Outcome.RATE_LIMITED
    assert report.failure.retry_after_s == 3


@pytest.mark.parametrize("offset_ms", [90_000, -90_000])
def test_the_jwt_window_follows_coinbase_clock(run_probe: Prober, sim: Simulator, offset_ms: int) -> None:
    sim.config.clock_offset_ms = offset_ms
    report = run_probe(pasted(key("Connected")), SPOT)
    assert report.failure is None
    assert report.clock_offset_ms is not None and abs(report.clock_offset_ms - offset_ms) < 1_000


# --------------------------------------------------------------------------------------------
# The simulator checks the JWT as documented, and records what must never be called
# --------------------------------------------------------------------------------------------


def raw_call(
    sim: Simulator,
    method: str,
    path: str,
    *,
    secret: str | None = None,
    uri_path: str | None = None,
    now_s: int | None = None,
    body: str | None = None,
) -> httpx.Response:
    demo = pasted(key("Connected"))
    base = sim.base_url("coinbase-api")
    uri = coinbase.jwt_uri(method, base, uri_path or path)
    token = coinbase.build_jwt(demo.api_key, secret or demo.api_secret, uri, now_s or now_ms() // 1000, "n")
    return httpx.request(method, base + path, headers={"Authorization": f"Bearer {token}"}, content=body)


def test_simulator_checks_the_jwt(sim: Simulator) -> None:
    path = "/api/v3/brokerage/key_permissions"
    assert raw_call(sim, "GET", path).json()["can_trade"] is True
    assert raw_call(sim, "GET", path, secret=SDK_ED25519).status_code == 401
    assert raw_call(sim, "GET", path, uri_path="/api/v3/brokerage/accounts").status_code == 401
    assert raw_call(sim, "GET", path, now_s=now_ms() // 1000 - 200).status_code == 401
    assert raw_call(sim, "GET", path, now_s=now_ms() // 1000 + 60).status_code == 401
    assert httpx.get(sim.base_url("coinbase-api") + path).status_code == 401


def test_simulator_records_forbidden_calls(sim: Simulator) -> None:
    order = json.dumps({"product_id": "BTC-USD", "side": "BUY", "order_configuration": {}})
    assert raw_call(sim, "POST", "/api/v3/brokerage/orders", body=order).json()["success"] is True
    assert venue(sim).recorded("/api/v3/brokerage/orders") == [{"product_id": "BTC-USD", "side": "BUY"}]
    assert raw_call(sim, "POST", "/api/v3/brokerage/orders/preview", body=order).status_code == 200
    assert venue(sim).recorded("/api/v3/brokerage/orders/preview") == []
