"""The KuCoin venues as any client sees them: gateway checks, response shapes, demo keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from simulator.core import Simulator
from simulator.demo_keys import DemoKey
from simulator.kucoin import DEMO_KEYS, venues

PLATFORM_IPS = ["203.0.113.10", "203.0.113.11"]


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    sim = Simulator(venues()).start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    monkeypatch.setenv("EGRESS_IPS", ",".join(PLATFORM_IPS))
    simulator.reset()
    simulator.config.client_ip = PLATFORM_IPS[0]
    return simulator


def key(label: str) -> DemoKey:
    return next(k for k in DEMO_KEYS if k.api_key.startswith("6500demo" + label))


class ForeignClient:
    """A client written from KuCoin's docs alone (ccxt-like: key version 2 by default)."""

    def __init__(self, sim: Simulator, venue: str = "kucoin-spot") -> None:
        self.base = sim.base_url(venue)

    def send(
        self,
        demo: DemoKey,
        method: str,
        path: str,
        *,
        query: str = "",
        sent_query: str | None = None,
        body: str = "",
        version: str = "2",
        passphrase: str | None = None,
        timestamp_ms: int | None = None,
        secret: str | None = None,
    ) -> httpx.Response:
        ts = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        secret = secret or demo.api_secret
        endpoint = f"{path}?{query}" if query else path
        digest = hmac.new(secret.encode(), f"{ts}{method}{endpoint}{body}".encode(), hashlib.sha256).digest()
        pp = demo.passphrase or ""
        if passphrase is None:
            passphrase = (
                pp
                if version == "1"
                else base64.b64encode(
                    hmac.new(secret.encode(), pp.encode(), hashlib.sha256).digest()
                ).decode()
            )
        headers = {
            "KC-API-KEY": demo.api_key,
            "KC-API-SIGN": base64.b64encode(digest).decode(),
            "KC-API-TIMESTAMP": ts,
            "KC-API-PASSPHRASE": passphrase,
            "KC-API-KEY-VERSION": version,
            "Content-Type": "application/json",
        }
        wire_query = sent_query if sent_query is not None else query
        url = self.base + path + (f"?{wire_query}" if wire_query else "")
        return httpx.request(method, url, headers=headers, content=body or None, timeout=5)


def code(response: httpx.Response) -> str:
    return str(response.json()["code"])


# --------------------------------------------------------------------------------------------
# Accepted
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2", "3"])
def test_correctly_signing_foreign_client_is_accepted(sim: Simulator, version: str) -> None:
    response = ForeignClient(sim).send(key("connected0"), "GET", "/api/v1/user/api-key", version=version)
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "200000"
    assert body["data"]["permission"] == "General,Spot,Futures"
    assert body["data"]["ipWhitelist"] == "203.0.113.10,203.0.113.11"
    assert body["data"]["isMaster"] is True
    assert body["data"]["apiVersion"] == 3


def test_query_needing_encoding_is_verified_raw(sim: Simulator) -> None:
    client = ForeignClient(sim, "kucoin-futures")
    raw = "currency=US DT!@#"
    encoded = "currency=" + quote("US DT!@#", safe="")
    # signed raw, sent encoded: accepted, and the venue decoded it
    response = client.send(
        key("connected0"), "GET", "/api/v1/account-overview", query=raw, sent_query=encoded
    )
    assert code(response) == "200000"
    assert response.json()["data"]["currency"] == "US DT!@#"
    # signed encoded: refused, as KuCoin does
    response = client.send(key("connected0"), "GET", "/api/v1/account-overview", query=encoded)
    assert (response.status_code, code(response)) == (401, "400005")


def test_post_body_is_signed_as_sent(sim: Simulator) -> None:
    body = json.dumps(
        {"clientOid": "x1", "side": "buy", "symbol": "BTC-USDT", "type": "limit", "price": "1", "size": "1"}
    )
    response = ForeignClient(sim).send(key("connected0"), "POST", "/api/v1/hf/orders/test", body=body)
    assert code(response) == "200000"
    assert response.json()["data"]["clientOid"] == "x1"


def test_timestamp_inside_window_is_accepted(sim: Simulator) -> None:
    near = int(time.time() * 1000) - 4_000
    response = ForeignClient(sim).send(key("connected0"), "GET", "/api/v1/accounts", timestamp_ms=near)
    assert code(response) == "200000"
    assert {a["currency"] for a in response.json()["data"]} >= {"USDT"}


def test_public_endpoints(sim: Simulator) -> None:
    sim.config.clock_offset_ms = 30_000
    status = httpx.get(sim.base_url("kucoin-futures") + "/api/v1/status").json()
    assert status == {"code": "200000", "data": {"status": "open", "msg": ""}}
    server = httpx.get(sim.base_url("kucoin-spot") + "/api/v1/timestamp").json()["data"]
    assert abs(server - (time.time() * 1000 + 30_000)) < 2_000


# --------------------------------------------------------------------------------------------
# Refused, with KuCoin's codes
# --------------------------------------------------------------------------------------------


def test_bad_signature(sim: Simulator) -> None:
    response = ForeignClient(sim).send(key("connected0"), "GET", "/api/v1/accounts", secret="not-the-secret")
    assert response.status_code == 401
    assert response.json() == {"code": "400005", "msg": "Invalid KC-API-SIGN."}


@pytest.mark.parametrize(
    ("version", "passphrase"),
    # the plain passphrase under version 2 is as wrong as a wrong one
    [("2", "BackFuture-demo-1"), ("3", "wrong"), ("1", "wrong")],
)
def test_bad_passphrase(sim: Simulator, version: str, passphrase: str) -> None:
    response = ForeignClient(sim).send(
        key("connected0"), "GET", "/api/v1/accounts", version=version, passphrase=passphrase
    )
    assert (response.status_code, code(response)) == (401, "400004")


@pytest.mark.parametrize("skew_ms", [6_000, -6_000])
def test_timestamp_outside_window(sim: Simulator, skew_ms: int) -> None:
    ts = int(time.time() * 1000) + skew_ms
    response = ForeignClient(sim).send(key("connected0"), "GET", "/api/v1/accounts", timestamp_ms=ts)
    assert (response.status_code, code(response)) == (401, "400002")


def test_timestamp_follows_the_venue_clock(sim: Simulator) -> None:
    sim.config.clock_offset_ms = 10_000
    response = ForeignClient(sim).send(key("connected0"), "GET", "/api/v1/accounts")
    assert code(response) == "400002"
    ahead = int(time.time() * 1000) + 10_000
    assert (
        code(ForeignClient(sim).send(key("connected0"), "GET", "/api/v1/accounts", timestamp_ms=ahead))
        == "200000"
    )


def test_gateway_codes(sim: Simulator) -> None:
    client = ForeignClient(sim)
    assert code(client.send(key("invalidkey"), "GET", "/api/v1/accounts")) == "400003"
    assert code(client.send(key("v2key"), "GET", "/api/v1/accounts")) == "400008"
    assert code(client.send(key("connected0"), "GET", "/api/v1/accounts", version="9")) == "400009"
    assert code(client.send(key("wrongsecret"), "GET", "/api/v1/accounts")) == "400005"
    assert code(client.send(key("badpassphrase"), "GET", "/api/v1/accounts")) == "400004"
    denied = client.send(key("noread"), "GET", "/api/v1/user/api-key")
    assert (denied.status_code, denied.json()) == (
        401,
        {"code": "400007", "msg": "Access denied, requires more permission."},
    )
    ip = client.send(key("ipnotallowed"), "GET", "/api/v1/accounts")
    assert (ip.status_code, code(ip)) == (401, "400006")
    assert "203.0.113.10" in ip.json()["msg"]


def test_missing_headers_and_unknown_path(sim: Simulator) -> None:
    response = httpx.get(sim.base_url("kucoin-spot") + "/api/v1/accounts")
    assert code(response) == "400001"
    response = httpx.get(sim.base_url("kucoin-spot") + "/api/v1/nope")
    assert (response.status_code, code(response)) == (404, "404000")


def test_key_faults(sim: Simulator) -> None:
    client = ForeignClient(sim)
    limited = client.send(key("ratelimited"), "GET", "/api/v1/accounts")
    assert (limited.status_code, code(limited), limited.headers["retry-after"]) == (429, "429000", "5")
    assert limited.headers["gw-ratelimit-reset"] == "4200"
    frozen = client.send(key("restricted"), "GET", "/api/v1/accounts")
    assert code(frozen) == "411100"
    down = client.send(key("unavailable"), "GET", "/api/v1/accounts")
    assert (down.status_code, code(down)) == (503, "500000")


def test_whitelist_follows_platform_ips(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    client = ForeignClient(sim)
    masked = client.send(key("connectedmasked"), "GET", "/api/v1/user/api-key").json()["data"]
    assert masked["ipWhitelist"] == "203.0.**.10,203.0.**.11"
    absent = client.send(key("noiprestriction"), "GET", "/api/v1/user/api-key").json()["data"]
    assert "ipWhitelist" not in absent
    empty = client.send(key("innertransfer"), "GET", "/api/v1/user/api-key").json()["data"]
    assert empty["ipWhitelist"] == ""
    sub = client.send(key("subaccount"), "GET", "/api/v1/user/api-key").json()["data"]
    assert (sub["isMaster"], sub["subName"]) == (False, "bf-demo-sub")
    # a caller outside the whitelist is refused
    sim.config.client_ip = "192.0.2.1"
    assert code(client.send(key("connected0"), "GET", "/api/v1/accounts")) == "400006"
    assert code(client.send(key("noiprestriction"), "GET", "/api/v1/accounts")) == "200000"


# --------------------------------------------------------------------------------------------
# Order and withdrawal endpoints exist (so tests can prove the service never calls them)
# --------------------------------------------------------------------------------------------


def test_real_order_and_withdrawal_endpoints_answer_and_are_logged(sim: Simulator) -> None:
    client = ForeignClient(sim)
    order = json.dumps(
        {"clientOid": "o1", "side": "buy", "symbol": "BTC-USDT", "type": "limit", "price": "1", "size": "1"}
    )
    assert code(client.send(key("connected0"), "POST", "/api/v1/hf/orders", body=order)) == "200000"
    withdrawal = json.dumps(
        {"currency": "USDT", "toAddress": "T123", "amount": "1", "withdrawType": "ADDRESS"}
    )
    assert code(client.send(key("withdrawal"), "POST", "/api/v3/withdrawals", body=withdrawal)) == "200000"
    assert code(client.send(key("withdrawal"), "POST", "/api/v1/withdrawals", body=withdrawal)) == "200000"
    # a key without Transfer cannot withdraw
    assert code(client.send(key("connected0"), "POST", "/api/v3/withdrawals", body=withdrawal)) == "400007"
    futures = ForeignClient(sim, "kucoin-futures")
    assert code(futures.send(key("connected0"), "POST", "/api/v1/orders", body=order)) == "200000"
    logged = {(r.venue, r.method, r.path) for r in sim.requests}
    assert ("kucoin-spot", "POST", "/api/v1/hf/orders") in logged
    assert ("kucoin-spot", "POST", "/api/v3/withdrawals") in logged
    assert ("kucoin-spot", "POST", "/api/v1/withdrawals") in logged
    assert ("kucoin-futures", "POST", "/api/v1/orders") in logged


def test_futures_only_endpoints_live_on_the_futures_host(sim: Simulator) -> None:
    response = ForeignClient(sim).send(
        key("connected0"), "GET", "/api/v1/account-overview", query="currency=USDT"
    )
    assert code(response) == "404000"


# --------------------------------------------------------------------------------------------
# Demo keys
# --------------------------------------------------------------------------------------------


def test_demo_keys_cover_every_kucoin_outcome() -> None:
    outcomes = {k.outcome for k in DEMO_KEYS}
    assert outcomes >= {
        "connected",
        "invalid_key",
        "invalid_passphrase",
        "no_read_permission",
        "no_trade_permission",
        "futures_not_enabled",
        "withdrawal_enabled",
        "ip_not_allowed",
        "account_restricted",
        "rate_limited",
        "exchange_unavailable",
        "exchange_error",
    }


def test_demo_keys_look_like_kucoin_keys() -> None:
    assert len({k.api_key for k in DEMO_KEYS}) == len(DEMO_KEYS)
    uuid_like = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    for demo in DEMO_KEYS:
        assert demo.exchange == "kucoin"
        assert len(demo.api_key) == 24
        assert demo.api_key.startswith("6500demo")
        assert uuid_like.match(demo.api_secret), demo.api_secret
        assert demo.passphrase
        assert demo.markets in ("spot", "futures", "spot or futures")
        assert demo.description


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("riskrestricted", "400700"),
        ("kycrequired", "200009"),
        ("regionrestricted", "400301"),
        ("orderrejected", "400350"),
    ],
)
def test_order_tests_answer_account_and_order_rejections(sim: Simulator, label: str, expected: str) -> None:
    order = json.dumps(
        {"clientOid": "t1", "side": "buy", "symbol": "BTC-USDT", "type": "limit", "price": "1", "size": "1"}
    )
    spot = ForeignClient(sim).send(key(label), "POST", "/api/v1/hf/orders/test", body=order)
    futures = ForeignClient(sim, "kucoin-futures").send(key(label), "POST", "/api/v1/orders/test", body=order)
    assert code(spot) == code(futures) == expected
    assert code(ForeignClient(sim).send(key(label), "GET", "/api/v1/accounts")) == "200000"
