"""KuCoin venues: ``kucoin-spot`` (api.kucoin.com) and ``kucoin-futures`` (api-futures.kucoin.com),
and KuCoin's demo keys.

Sources: ../shared/reference/exchanges.md section 2 (2.2 signing, 2.3 endpoints, 2.4 codes). The
gateway checks run in this order on every private call, with KuCoin's codes and HTTP 401: headers
present (400001), key known (400003), key version (400008 for a V1/V2 key, 400009 for an unknown
version header), timestamp within 5 s of the venue clock (400002), KC-API-SIGN (400005),
passphrase (400004), then (simulator.kit) the IP whitelist (400006) and the endpoint's permission
(400007). The signature is checked before the passphrase because the V2/V3 passphrase is HMAC'd
with the secret: a wrong secret must read as a bad signature, not a bad passphrase.

KC-API-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + path[?raw query] + body)), where the
query is signed decoded although it travels URL-encoded.

Section 6 #7: order tests can answer account-level rejections (400700 risk, 200009 KYC, 400301
region), while other 4003xx codes (400330, 400350, 400370) reject the order's parameters only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote_plus

from simulator.core import SimRequest, SimResponse, Venue
from simulator.kit import (
    Call,
    DemoBook,
    Refused,
    Route,
    RouteVenue,
    VenueKey,
    Whitelist,
    clock,
    private,
    public,
    rate_limited,
    within,
)

SUCCESS = "200000"
TIMESTAMP_WINDOW_MS = 5_000


@dataclass(frozen=True)
class KucoinKey(VenueKey):
    permissions: tuple[str, ...] = ("General", "Spot", "Futures")
    api_version: int = 3
    is_master: bool = True
    sub_name: str | None = None


def error(status: int, code: str, msg: str) -> SimResponse:
    return SimResponse(status, {"code": code, "msg": msg})


def _auth_error(code: str, msg: str) -> SimResponse:
    return error(401, code, msg)


# --------------------------------------------------------------------------------------------
# Demo keys: one per outcome (the README lists them; simulator/kit.DemoBook)
# --------------------------------------------------------------------------------------------

book = DemoBook(
    "kucoin",
    KucoinKey,
    secret=lambda _, n: f"6500de00-0000-4000-8000-{n:012d}",  # KuCoin secrets are UUIDs
    api_key=lambda label: ("6500demo" + label).ljust(24, "0")[:24],  # 24 hex-like characters, readable
    passphrase="BackFuture-demo-1",  # noqa: S106 - a public demo value
)
ALL = ("General", "Spot", "Futures")
# The docs-new 429000 answer with the gateway's limit headers (sections 2.2, 2.4).
RATE_LIMITED = rate_limited(
    {"code": "429000", "msg": "Too Many Requests"},
    5,
    **{"gw-ratelimit-limit": "4000", "gw-ratelimit-remaining": "0", "gw-ratelimit-reset": "4200"},
)


def _order_test(code: str, msg: str) -> dict[str, SimResponse]:
    """An order test's rejection on both hosts. The codes are section 6 #7's; only 400700's text is
    quoted there, the others are paraphrased (UNCONFIRMED), and the HTTP status 400 is UNCONFIRMED."""
    return {"order_test": error(400, code, msg)}


# fmt: off
add = book.add
add("connected", "connected", "spot or futures",
    "Read, spot and futures trading, no withdrawal; whitelisted to the platform's IPs.")
add("connectedmasked", "connected", "spot or futures",
    "Like the connected key, but KuCoin reports its whitelist masked (203.0.**.10).",
    whitelist=Whitelist.PLATFORM_MASKED)
add("invalidkey", "invalid_key", "spot or futures",
    "A key KuCoin does not know (deleted or mistyped): 400003.", known=False)
add("wrongsecret", "invalid_key", "spot or futures",
    "The secret pasted is not the key's secret: 400005 (Invalid KC-API-SIGN).",
    pasted_secret="6500de00-0000-4000-8000-00000000dead")  # noqa: S106
add("badpassphrase", "invalid_passphrase", "spot or futures",
    "The account's login password was pasted instead of the API passphrase: 400004.",
    pasted_passphrase="MyKucoinLogin#2024")  # noqa: S106
add("noread", "no_read_permission", "spot or futures",
    "Trading rights without General: key info and accounts answer 400007.", permissions=("Spot", "Futures"))
add("notrade", "no_trade_permission", "spot", "General (read-only) only: the order test answers 400007.",
    permissions=("General",))
add("nofutures", "futures_not_enabled", "futures",
    "Spot only: futures calls answer 400007 (connects fine for spot).", permissions=("General", "Spot"))
add("withdrawal", "withdrawal_enabled", "spot or futures",
    "The key has the Transfer (withdrawal) permission: refused.", permissions=(*ALL, "Transfer"))
add("ipnotallowed", "ip_not_allowed", "spot or futures",
    "Whitelisted to another IP: every private call answers 400006.", whitelist=Whitelist.ELSEWHERE)
add("noiprestriction", "connected", "spot or futures",
    "No IP restriction (ipWhitelist absent): connects with the ip_restriction_missing warning.",
    whitelist=Whitelist.ABSENT)
add("ipmismatch", "connected", "spot or futures",
    "Whitelist holds only the first platform IP: connects with the ip_whitelist_mismatch warning.",
    whitelist=Whitelist.FIRST_ONLY)
add("restricted", "account_restricted", "spot or futures", "The account is frozen: 411100.",
    answers={"*": error(400, "411100", "User are frozen")})
add("unavailable", "exchange_unavailable", "spot or futures",
    "Private calls answer HTTP 503 / 500000, as during maintenance.",
    answers={"*": error(503, "500000", "Service unavailable, please try again later.")})
add("ratelimited", "rate_limited", "spot or futures",
    "Private calls answer HTTP 429 / 429000 with Retry-After: 5.", answers={"*": RATE_LIMITED})
add("clockskew", "clock_skew", "spot or futures",
    "Private calls keep answering 400002 (KC-API-TIMESTAMP invalid) even after the service re-syncs.",
    answers={"*": error(400, "400002", "KC-API-TIMESTAMP Invalid")})
add("exchangeerror", "exchange_error", "spot or futures",
    "Key info and accounts answer an unexpected code (400100); it is kept for support.",
    answers={"*": error(400, "400100", "Parameter error")})
add("subaccount", "connected", "spot", "A sub-account key (isMaster false, subName bf-demo-sub).",
    permissions=("General", "Spot"), is_master=False, sub_name="bf-demo-sub")
add("innertransfer", "connected", "spot",
    "InnerTransfer enabled and no IP restriction (\"\"): connects with the unneeded_permission and "
    "ip_restriction_missing warnings.",
    permissions=("General", "Spot", "InnerTransfer"), whitelist=Whitelist.NONE)
add("riskrestricted", "account_restricted", "spot or futures",
    "Order tests answer 400700 (a risk problem in the account); reading works.",
        answers=_order_test("400700", "Transaction restricted, there's a risk problem in your account"))
add("kycrequired", "account_restricted", "spot or futures", "Order tests answer 200009 (KYC required).",
    answers=_order_test("200009", "Please complete the KYC verification first."))
add("regionrestricted", "account_restricted", "spot or futures",
    "Order tests answer 400301 (operation restricted in the user's region).",
    answers=_order_test("400301", "Operation restricted due to local laws."))
add("orderrejected", "connected", "spot or futures",
    "Order tests answer 400350 (an order-size limit): a rejection of the order, so the trade right stands.",
    answers=_order_test("400350", "Upper limit for holding: 10,000USDT."))
add("v2key", "invalid_key", "spot or futures",
    "An old V2 key: 400008 (V1 & V2 API keys are no longer supported).", api_version=2)
# A spot-only connection of these also warns unneeded_permission: they may trade futures, a right of
# their own (the README's row is about the markets of the note).
book.unneeded_on_spot(
    "connected", "connectedmasked", "ipmismatch", "kycrequired", "noiprestriction", "orderrejected",
    "regionrestricted", "riskrestricted", "withdrawal"
)
# fmt: on

DEMO_KEYS = book.demo_keys
VENUE_KEYS = book.venue_keys


# --------------------------------------------------------------------------------------------
# Endpoints (section 2.3)
# --------------------------------------------------------------------------------------------


def _ok(data: Any) -> SimResponse:
    return SimResponse(200, {"code": SUCCESS, "data": data})


def _sign(secret: str, message: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def _json_body(request: SimRequest) -> dict[str, Any] | None:
    try:
        body = json.loads(request.body or "null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _status(call: Call) -> SimResponse:
    status = call.venue.service_status if isinstance(call.venue, KucoinVenue) else "open"
    return _ok({"status": status, "msg": "" if status == "open" else "upgrading"})


def _key_info(call: Call) -> SimResponse:
    key: KucoinKey = call.key
    data: dict[str, Any] = {
        "remark": "BackFuture demo",
        "apiKey": key.api_key,
        "apiVersion": key.api_version,
        "permission": ",".join(key.permissions),
        "createdAt": 1_729_000_000_000,
        "uid": 165_000_000 + int(key.secret[-12:]),
        "isMaster": key.is_master,
    }
    if (reported := key.reported_ips()) is not None:
        data["ipWhitelist"] = reported
    if key.sub_name is not None:
        data["subName"] = key.sub_name
    return _ok(data)


def _accounts(call: Call) -> SimResponse:
    def entry(n: int, currency: str, kind: str, balance: str) -> dict[str, str]:
        return {"id": f"6500acc{n:017d}", "currency": currency, "type": kind, "balance": balance,
                "available": balance, "holds": "0"}  # fmt: skip

    return _ok(
        [
            entry(1, "USDT", "main", "1250.5"),
            entry(2, "USDT", "trade", "500"),
            entry(3, "BTC", "trade", "0.01"),
        ]
    )


def _order(call: Call) -> SimResponse:
    body = _json_body(call.request)
    if body is None or not all(body.get(name) for name in ("side", "symbol", "type")):
        return error(400, "400100", "Parameter error")
    return _ok({"orderId": uuid.uuid4().hex[:24], "clientOid": body.get("clientOid", "")})


def _withdrawal(call: Call) -> SimResponse:
    if _json_body(call.request) is None:
        return error(400, "400100", "Parameter error")
    return _ok({"withdrawalId": uuid.uuid4().hex[:24]})


def _account_overview(call: Call) -> SimResponse:
    currency = parse_qs(call.request.query).get("currency", ["XBT"])[0]
    return _ok(
        {"accountEquity": 300.0, "unrealisedPNL": 0.0, "marginBalance": 300.0, "positionMargin": 0.0,
         "orderMargin": 0.0, "frozenFunds": 0.0, "availableBalance": 300.0, "currency": currency,
         "riskRatio": 0.0, "maxWithdrawAmount": 300.0}
    )  # fmt: skip


_PUBLIC: dict[tuple[str, str], Route] = {
    ("GET", "/api/v1/timestamp"): clock(lambda now: {"code": SUCCESS, "data": now}),
    ("GET", "/api/v1/status"): public(_status),
}
_ORDER = ("symbol", "side", "type")
_WITHDRAWAL = ("currency", "amount")
SPOT_ROUTES = {
    **_PUBLIC,
    ("GET", "/api/v1/user/api-key"): private(_key_info, "General", "key_info"),
    ("GET", "/api/v1/accounts"): private(_accounts, "General", "account"),
    ("POST", "/api/v1/hf/orders/test"): private(_order, "Spot", "order_test"),
    # Real orders and withdrawals answer too, so a test can prove the service never calls them.
    ("POST", "/api/v1/hf/orders"): private(_order, "Spot", "order", forbidden=True, recorded=_ORDER),
    ("POST", "/api/v1/withdrawals"): private(_withdrawal, "Transfer", forbidden=True, recorded=_WITHDRAWAL),
    ("POST", "/api/v3/withdrawals"): private(_withdrawal, "Transfer", forbidden=True, recorded=_WITHDRAWAL),
}
FUTURES_ROUTES = {
    **_PUBLIC,
    ("GET", "/api/v1/account-overview"): private(_account_overview, "Futures", "futures_account"),
    ("POST", "/api/v1/orders/test"): private(_order, "Futures", "order_test"),
    ("POST", "/api/v1/orders"): private(_order, "Futures", "order", forbidden=True, recorded=_ORDER),
}


def venues() -> list[Venue]:
    """Fresh venues (each with its own service status)."""
    return [KucoinVenue("kucoin-spot", SPOT_ROUTES), KucoinVenue("kucoin-futures", FUTURES_ROUTES)]


class KucoinVenue(RouteVenue):
    """One KuCoin host. ``service_status`` ("open", "close", "cancelonly") drives /api/v1/status."""

    not_found = error(404, "404000", "Url Not Found")

    def __init__(self, name: str, routes: dict[tuple[str, str], Route]) -> None:
        super().__init__(name, routes, VENUE_KEYS)
        self.service_status = "open"

    def reset(self) -> None:
        super().reset()
        self.service_status = "open"

    def ip_refused(self, client_ip: str) -> SimResponse:
        return _auth_error("400006", f"Invalid request IP, the current client IP is: {client_ip}.")

    def permission_denied(self, permission: str) -> SimResponse:
        return _auth_error("400007", "Access denied, requires more permission.")

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        headers = request.headers
        if any(not headers.get(f"kc-api-{name}") for name in ("key", "sign", "timestamp", "passphrase")):
            raise Refused(
                error(400, "400001", "Any of KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE "
                      "is missing in your request header.")
            )  # fmt: skip
        key = self.keys.get(headers["kc-api-key"])
        if not isinstance(key, KucoinKey):
            raise Refused(_auth_error("400003", "KC-API-KEY does not exist."))
        if key.api_version < 3:
            raise Refused(
                _auth_error(
                    "400008",
                    "V1 & V2 API keys are no longer supported by this API. Please create a V3 API key.",
                )
            )
        version = headers.get("kc-api-key-version", "1")
        if version not in ("1", "2", "3"):
            raise Refused(_auth_error("400009", "Invalid KC-API-KEY-VERSION."))
        timestamp = headers["kc-api-timestamp"]
        if not within(timestamp, now_ms, behind_ms=TIMESTAMP_WINDOW_MS, ahead_ms=TIMESTAMP_WINDOW_MS):
            raise Refused(_auth_error("400002", "Invalid KC-API-TIMESTAMP."))
        # The signed query is the decoded one; the URL carries it encoded.
        endpoint = f"{request.path}?{unquote_plus(request.query)}" if request.query else request.path
        expected = _sign(key.secret, f"{timestamp}{request.method}{endpoint}{request.body}")
        if not hmac.compare_digest(expected, headers["kc-api-sign"]):
            raise Refused(_auth_error("400005", "Invalid KC-API-SIGN."))
        # Header version 2 or 3: the passphrase travels HMAC'd with the secret; version 1 sent it plain.
        passphrase = key.passphrase or ""
        if not hmac.compare_digest(passphrase if version == "1" else _sign(key.secret, passphrase),
                                   headers["kc-api-passphrase"]):  # fmt: skip
            raise Refused(_auth_error("400004", "Invalid KC-API-PASSPHRASE."))
        body = _json_body(request) or {}
        return key, {k: str(v) for k, v in body.items()} | dict(parse_qsl(request.query))
