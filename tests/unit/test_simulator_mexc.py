"""The MEXC venues accept any correctly signing client and refuse the rest with MEXC's codes.

The clients here are hand-made (plain httpx, signing written out in the test) so the venues are
checked against the documented recipes, not against the service's own signing code.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from simulator.core import Simulator
from simulator.mexc import DEMO_KEYS, VENUE_KEYS, MexcSpotVenue, venues

KEY = "mx0demoConnectedFutures"
SECRET = next(k.api_secret for k in DEMO_KEYS if k.api_key == KEY)


@pytest.fixture(scope="module")
def mexc_venues() -> Iterator[Simulator]:
    sim = Simulator(venues()).start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(mexc_venues: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    monkeypatch.delenv("EGRESS_IPS", raising=False)
    mexc_venues.reset()  # also clears the venues' records of forbidden calls
    return mexc_venues


def _spot_venue(sim: Simulator) -> MexcSpotVenue:
    venue = sim.venues["mexc-spot"]
    assert isinstance(venue, MexcSpotVenue)
    return venue


def _now() -> int:
    return time.time_ns() // 1_000_000


def _hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def spot_call(
    sim: Simulator,
    method: str,
    path: str,
    query: str = "",
    body: str = "",
    *,
    key: str = KEY,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
    in_body: bool = False,
    content_type: str = "application/json",
) -> httpx.Response:
    """Sign totalParams = query + body as MEXC documents; put the signature in the query (or body)."""
    stamp = f"timestamp={timestamp if timestamp is not None else _now()}"
    if in_body:
        body = f"{body}&{stamp}" if body else stamp
    else:
        query = f"{query}&{stamp}" if query else stamp
    sig = signature if signature is not None else _hex(secret, query + body)
    if in_body:
        body += f"&signature={sig}"
    else:
        query += f"&signature={sig}"
    url = f"{sim.base_url('mexc-spot')}{path}?{query}"
    headers = {"X-MEXC-APIKEY": key, "Content-Type": content_type}
    return httpx.request(method, url, headers=headers, content=body.encode() or None)


def futures_call(
    sim: Simulator,
    path: str = "/api/v1/private/account/assets",
    query: str = "",
    *,
    key: str = KEY,
    secret: str = SECRET,
    request_time: int | None = None,
    recv_window: str | None = None,
    signed_params: str | None = None,
) -> httpx.Response:
    rt = str(request_time if request_time is not None else _now())
    headers = {
        "ApiKey": key,
        "Request-Time": rt,
        "Signature": _hex(secret, f"{key}{rt}{query if signed_params is None else signed_params}"),
        "Content-Type": "application/json",
    }
    if recv_window is not None:
        headers["Recv-Window"] = recv_window
    url = f"{sim.base_url('mexc-futures')}{path}" + (f"?{query}" if query else "")
    return httpx.get(url, headers=headers)


def _code(response: httpx.Response) -> Any:
    return response.json().get("code")


# --------------------------------------------------------------------------------------------
# Spot
# --------------------------------------------------------------------------------------------


def test_public_time_and_ping(sim: Simulator) -> None:
    before = _now()
    body = httpx.get(f"{sim.base_url('mexc-spot')}/api/v3/time").json()
    assert set(body) == {"serverTime"}
    assert abs(body["serverTime"] - before) < 1000
    assert httpx.get(f"{sim.base_url('mexc-spot')}/api/v3/ping").json() == {}


def test_foreign_client_signed_get_is_accepted(sim: Simulator) -> None:
    response = spot_call(sim, "GET", "/api/v3/account", "recvWindow=5000")
    assert response.status_code == 200
    body = response.json()
    assert body["accountType"] == "SPOT"
    assert isinstance(body["balances"], list)


def test_foreign_client_with_signature_in_form_body_is_accepted(sim: Simulator) -> None:
    # Docs example 1: everything in the body, x-www-form-urlencoded (on MXUSDT: BTCUSDT is closed
    # to API orders today).
    body = "symbol=MXUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000"
    response = spot_call(
        sim,
        "POST",
        "/api/v3/order/test",
        body=body,
        in_body=True,
        content_type="application/x-www-form-urlencoded",
    )
    assert (response.status_code, response.json()) == (200, {})


def test_mixed_query_and_body_signed_without_ampersand_is_accepted(sim: Simulator) -> None:
    # Docs example 3: part in the query, part in the body; totalParams joins them with nothing.
    query = "symbol=MXUSDT&side=BUY&type=LIMIT"
    stamp = _now()
    body = f"quantity=1&price=11&recvWindow=5000&timestamp={stamp}"
    good = _hex(SECRET, query + body)
    url = f"{sim.base_url('mexc-spot')}/api/v3/order/test?{query}&signature={good}"
    headers = {"X-MEXC-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"}
    assert httpx.post(url, headers=headers, content=body).json() == {}
    joined = _hex(SECRET, f"{query}&{body}")
    url = f"{sim.base_url('mexc-spot')}/api/v3/order/test?{query}&signature={joined}"
    refused = httpx.post(url, headers=headers, content=body)
    assert (refused.status_code, _code(refused)) == (400, 700002)


def test_bad_signature_is_refused_with_700002(sim: Simulator) -> None:
    response = spot_call(sim, "GET", "/api/v3/account", secret="0" * 32)
    assert response.status_code == 400
    assert response.json() == {"code": 700002, "msg": "Signature for this request is not valid."}


def test_uppercase_hex_signature_is_refused(sim: Simulator) -> None:
    stamp = _now()
    signature = _hex(SECRET, f"timestamp={stamp}").upper()
    response = spot_call(sim, "GET", "/api/v3/account", timestamp=stamp, signature=signature)
    assert _code(response) == 700002


def test_missing_signature_and_missing_key(sim: Simulator) -> None:
    url = f"{sim.base_url('mexc-spot')}/api/v3/account?timestamp={_now()}"
    missing_sig = httpx.get(url, headers={"X-MEXC-APIKEY": KEY})
    assert _code(missing_sig) == 700004
    assert _code(httpx.get(url)) == 400


def test_unknown_key_is_refused_with_10072(sim: Simulator) -> None:
    assert _code(spot_call(sim, "GET", "/api/v3/account", key="mx0vglNoSuchKeyAtAll")) == 10072


@pytest.mark.parametrize(
    ("offset_ms", "query", "accepted"),
    [
        (0, "", True),
        (-4_500, "", True),  # inside the default recvWindow of 5000
        (-6_000, "", False),
        (-6_000, "recvWindow=10000", True),
        (-59_000, "recvWindow=60000", True),
        (500, "", True),  # up to 1 s ahead of the server is tolerated
        (1_500, "", False),
        (1_500, "recvWindow=60000", False),  # the window never extends into the future
    ],
)
def test_spot_timestamp_window(sim: Simulator, offset_ms: int, query: str, accepted: bool) -> None:
    response = spot_call(sim, "GET", "/api/v3/account", query, timestamp=_now() + offset_ms)
    if accepted:
        assert response.status_code == 200, response.json()
    else:
        assert (response.status_code, _code(response)) == (400, 700003)


def test_spot_window_uses_the_venue_clock(sim: Simulator) -> None:
    sim.config.clock_offset_ms = 20_000
    assert _code(spot_call(sim, "GET", "/api/v3/account")) == 700003
    assert spot_call(sim, "GET", "/api/v3/account", timestamp=_now() + 20_000).status_code == 200


def test_recv_window_over_60000_is_refused(sim: Simulator) -> None:
    assert _code(spot_call(sim, "GET", "/api/v3/account", "recvWindow=60001")) == 700005


def test_ip_outside_the_whitelist_is_refused_with_700006(sim: Simulator) -> None:
    secret = next(k.api_secret for k in DEMO_KEYS if k.api_key == "mx0demoIpNotAllowed")
    response = spot_call(sim, "GET", "/api/v3/account", key="mx0demoIpNotAllowed", secret=secret)
    assert _code(response) == 700006
    sim.config.client_ip = "198.51.100.23"  # now the request comes from the whitelisted address
    assert (
        spot_call(sim, "GET", "/api/v3/account", key="mx0demoIpNotAllowed", secret=secret).status_code == 200
    )


def test_api_key_info_shape(sim: Simulator) -> None:
    body = spot_call(sim, "GET", "/api/v3/apiKeyInfo", f"accessKey={KEY}").json()
    assert body["accessKey"] == KEY
    assert "SPOT_DEAL_WRITE" in body["permissions"].split(",")
    assert body["ipWhiteList"] == "203.0.113.10,203.0.113.11"


def test_order_test_validates_like_an_order(sim: Simulator) -> None:
    tiny = spot_call(
        sim, "POST", "/api/v3/order/test", "symbol=MXUSDT&side=BUY&type=LIMIT&quantity=0.0001&price=1"
    )
    assert _code(tiny) == 30002
    bad_symbol = spot_call(sim, "POST", "/api/v3/order/test", "symbol=NOPEUSDT&side=BUY&type=MARKET")
    assert _code(bad_symbol) == 30014
    read_only = next(k for k in DEMO_KEYS if k.api_key == "mx0demoNoTradePermission")
    refused = spot_call(
        sim,
        "POST",
        "/api/v3/order/test",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11",
        key=read_only.api_key,
        secret=read_only.api_secret,
    )
    assert _code(refused) == 700007  # the permission is checked before the symbol


def test_majors_are_closed_to_api_orders(sim: Simulator) -> None:
    closed = spot_call(
        sim, "POST", "/api/v3/order/test", "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11"
    )
    assert (closed.status_code, closed.json()) == (400, {"code": 10007, "msg": "symbol not support api"})
    default = httpx.get(f"{sim.base_url('mexc-spot')}/api/v3/defaultSymbols").json()
    assert (default["code"], default["msg"]) == (200, None)
    assert "MXUSDT" in default["data"] and "BTCUSDT" not in default["data"]
    for symbol in default["data"]:
        query = f"symbol={symbol}&side=BUY&type=LIMIT&quantity=1&price=11"
        assert spot_call(sim, "POST", "/api/v3/order/test", query).json() == {}
    assert spot_call(sim, "GET", "/api/v3/selfSymbols").json() == {"code": 200, "data": []}


def _demo(api_key: str) -> dict[str, Any]:
    demo = next(k for k in DEMO_KEYS if k.api_key == api_key)
    return {"key": demo.api_key, "secret": demo.api_secret}


def test_self_symbols_and_banned_pairs(sim: Simulator) -> None:
    own = _demo("mx0demoSelfSymbols")
    assert spot_call(sim, "GET", "/api/v3/selfSymbols", **own).json() == {"code": 200, "data": ["KASUSDT"]}
    order = "side=BUY&type=LIMIT&quantity=1&price=11"
    assert spot_call(sim, "POST", "/api/v3/order/test", f"symbol=KASUSDT&{order}", **own).json() == {}
    assert _code(spot_call(sim, "POST", "/api/v3/order/test", f"symbol=MXUSDT&{order}", **own)) == 10007
    banned = _demo("mx0demoPairBanned")
    refused = spot_call(sim, "POST", "/api/v3/order/test", f"symbol=MXUSDT&{order}", **banned)
    assert refused.json() == {"code": 70011, "msg": "Pair user ban trade apikey"}
    assert spot_call(sim, "GET", "/api/v3/account", **banned).status_code == 200


@pytest.mark.parametrize(
    ("api_key", "account", "order"),
    [
        ("mx0demoUnusualStatus", 730100, 730100),
        ("mx0demoSubForbidden", 140002, 140002),
        ("mx0demoRiskControl", None, 10098),  # reading works, trading is stopped
        ("mx0demoAccountRestricted", 60005, 60005),
    ],
)
def test_account_states(sim: Simulator, api_key: str, account: int | None, order: int) -> None:
    demo = _demo(api_key)
    read = spot_call(sim, "GET", "/api/v3/account", **demo)
    assert (read.status_code, _code(read)) == ((200, None) if account is None else (400, account))
    trade = spot_call(sim, "POST", "/api/v3/order/test", "symbol=MXUSDT&side=BUY&type=MARKET", **demo)
    assert _code(trade) == order
    assert spot_call(sim, "GET", "/api/v3/apiKeyInfo", **demo).status_code == 200


def test_key_info_answers_as_the_live_exchange_may(sim: Simulator) -> None:
    missing = spot_call(sim, "GET", "/api/v3/apiKeyInfo", **_demo("mx0demoKeyInfoMissing"))
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    no_authority = _demo("mx0demoNoAuthority")
    refused = spot_call(sim, "GET", "/api/v3/apiKeyInfo", **no_authority)
    assert (refused.status_code, refused.json()) == (401, {"code": 401, "msg": "No authority"})
    assert spot_call(sim, "GET", "/api/v3/account", **no_authority).status_code == 200
    read_only = spot_call(sim, "GET", "/api/v3/apiKeyInfo", **_demo("mx0demoWithdrawRead")).json()
    assert "SPOT_WITHDRAW_READ" in read_only["permissions"].split(",")
    assert "SPOT_WITHDRAW_WRITE" not in read_only["permissions"].split(",")
    unknown = spot_call(sim, "GET", "/api/v3/apiKeyInfo", **_demo("mx0demoUnknownPermission")).json()
    assert "SPOT_COPYTRADING_WRITE" in unknown["permissions"].split(",")


def test_real_order_and_key_change_are_served_and_recorded(sim: Simulator) -> None:
    order = spot_call(sim, "POST", "/api/v3/order", "symbol=MXUSDT&side=BUY&type=LIMIT&quantity=1&price=11")
    assert order.status_code == 200
    assert order.json()["orderId"]
    change = spot_call(sim, "POST", "/api/v3/apiKeyInfo", f"apiKey={KEY}&ipWhiteList=1.2.3.4&note=x")
    assert change.status_code == 200
    spot = _spot_venue(sim)
    assert spot.orders_placed == [{"symbol": "MXUSDT", "side": "BUY", "type": "LIMIT"}]
    assert spot.key_changes == [{"apiKey": KEY, "ipWhiteList": "1.2.3.4"}]
    logged = {(r.method, r.path) for r in sim.requests}
    assert {("POST", "/api/v3/order"), ("POST", "/api/v3/apiKeyInfo")} <= logged
    assert all("signature" not in r.query for r in sim.requests)


def test_rate_limited_key_gets_429_with_retry_after(sim: Simulator) -> None:
    secret = next(k.api_secret for k in DEMO_KEYS if k.api_key == "mx0demoRateLimited")
    response = spot_call(sim, "GET", "/api/v3/account", key="mx0demoRateLimited", secret=secret)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"


def test_wrong_secret_demo_key_is_known_with_another_secret() -> None:
    demo = next(k for k in DEMO_KEYS if k.api_key == "mx0demoWrongSecret")
    assert demo.api_key in VENUE_KEYS
    assert VENUE_KEYS[demo.api_key].secret != demo.api_secret
    assert "mx0demoInvalidKey" not in VENUE_KEYS


# --------------------------------------------------------------------------------------------
# Futures
# --------------------------------------------------------------------------------------------


def test_futures_ping_and_signed_assets(sim: Simulator) -> None:
    ping = httpx.get(f"{sim.base_url('mexc-futures')}/api/v1/contract/ping").json()
    assert ping["success"] is True
    assert isinstance(ping["data"], int)
    body = futures_call(sim).json()
    assert body["success"] is True
    assert body["code"] == 0
    assert body["data"][0]["currency"] == "USDT"


def test_futures_get_params_signed_sorted_are_accepted_raw_or_encoded(sim: Simulator) -> None:
    assert futures_call(sim, query="a=1&b=x%20y", signed_params="a=1&b=x%20y").json()["success"] is True
    assert futures_call(sim, query="a=1&b=x%20y", signed_params="a=1&b=x y").json()["success"] is True
    unsorted = futures_call(sim, query="b=2&a=1", signed_params="b=2&a=1").json()
    assert unsorted["code"] == 602


def test_futures_bad_signature_is_602(sim: Simulator) -> None:
    body = futures_call(sim, secret="f" * 32).json()
    assert body == {"success": False, "code": 602, "message": "Signature verification failed!"}


@pytest.mark.parametrize(
    ("offset_ms", "recv_window", "accepted"),
    [
        (9_000, None, True),
        (-9_000, None, True),
        (11_000, None, False),
        (-11_000, None, False),
        (-30_000, "40", True),  # seconds, as the docs say
        (-30_000, "40000", True),  # milliseconds, as the official Go demo sends
        (-30_000, "20", False),
    ],
)
def test_futures_time_window(sim: Simulator, offset_ms: int, recv_window: str | None, accepted: bool) -> None:
    body = futures_call(sim, request_time=_now() + offset_ms, recv_window=recv_window).json()
    if accepted:
        assert body["success"] is True, body
    else:
        assert body["code"] == 513


def test_futures_unknown_key_ip_and_permission(sim: Simulator) -> None:
    assert futures_call(sim, key="mx0vglNoSuchKeyAtAll").json()["code"] == 401
    ip = next(k for k in DEMO_KEYS if k.api_key == "mx0demoIpNotAllowed")
    assert futures_call(sim, key=ip.api_key, secret=ip.api_secret).json()["code"] == 406
    spot_only = next(k for k in DEMO_KEYS if k.api_key == "mx0demoFuturesNotEnabled")
    assert futures_call(sim, key=spot_only.api_key, secret=spot_only.api_secret).json()["code"] == 701


def test_contract_detail_reports_api_allowed_false_unless_switched(sim: Simulator) -> None:
    url = f"{sim.base_url('mexc-futures')}/api/v1/contract/detail"
    every = httpx.get(url).json()
    assert every["success"] is True
    assert {c["symbol"] for c in every["data"]} >= {"BTC_USDT"}
    assert all(c["apiAllowed"] is False for c in every["data"])
    sim.configure({"mexc_futures_api_allowed": True})
    one = httpx.get(url, params={"symbol": "BTC_USDT"}).json()["data"]
    assert (one["symbol"], one["apiAllowed"]) == ("BTC_USDT", True)
    assert httpx.get(url, params={"symbol": "NOPE_USDT"}).json()["success"] is False
    sim.reset()
    assert httpx.get(url, params={"symbol": "BTC_USDT"}).json()["data"]["apiAllowed"] is False
    switched = httpx.post(f"{sim.base_url('_sim')}/config", json={"mexc_futures_api_allowed": True})
    assert switched.json()["mexc_futures_api_allowed"] is True
