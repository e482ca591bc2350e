"""KuCoin venues: ``kucoin-spot`` (api.kucoin.com) and ``kucoin-futures`` (api-futures.kucoin.com).

The gateway checks run in this order on every private call, with KuCoin's codes and HTTP 401:
headers present (400001), key known (400003), key version (400008 for a V1/V2 key, 400009 for an
unknown version header), timestamp within 5 s of the venue clock (400002), KC-API-SIGN (400005),
passphrase (400004), IP whitelist (400006), then the endpoint's permission (400007). The signature
is checked before the passphrase because the V2/V3 passphrase is HMAC'd with the secret: a wrong
secret must read as a bad signature, not a bad passphrase.

KC-API-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + path[?raw query] + body)), where the
query is signed decoded although it travels URL-encoded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from simulator.core import SimRequest, SimResponse, Venue
from simulator.demo_keys import DemoKey, platform_ips

SUCCESS = "200000"
TIMESTAMP_WINDOW_MS = 5_000
_AUTH_HTTP_STATUS = 401


class Whitelist(StrEnum):
    """A key's IP restriction, resolved against the platform's IPs when a request arrives."""

    PLATFORM = "platform"  # every platform IP, reported in full
    PLATFORM_MASKED = "platform_masked"  # every platform IP, reported masked ("203.0.**.10")
    FIRST_PLATFORM_IP = "first_platform_ip"  # only the first: calls pass, the list lacks the others
    ELSEWHERE = "elsewhere"  # an unrelated IP: every private call fails with 400006
    EMPTY = "empty"  # no restriction, reported as ""
    ABSENT = "absent"  # no restriction, field left out of the key info


_UNRELATED_IP = "198.51.100.7"


def _mask(ip: str) -> str:
    parts = ip.split(".")
    return ".".join([*parts[:2], "**", *parts[3:]]) if len(parts) == 4 else ip


def _resolve(whitelist: Whitelist) -> tuple[list[str] | None, str | None]:
    """(IPs enforced, None = unrestricted; the key info's ipWhitelist, None = field absent)."""
    ips = platform_ips()
    match whitelist:
        case Whitelist.PLATFORM:
            return ips, ",".join(ips)
        case Whitelist.PLATFORM_MASKED:
            return ips, ",".join(_mask(ip) for ip in ips)
        case Whitelist.FIRST_PLATFORM_IP:
            return ips[:1], ",".join(ips[:1])
        case Whitelist.ELSEWHERE:
            return [_UNRELATED_IP], _mask(_UNRELATED_IP)
        case Whitelist.EMPTY:
            return None, ""
        case Whitelist.ABSENT:
            return None, None


@dataclass(frozen=True)
class KeyFault:
    """A per-key answer given to every private call once the gateway accepted the request."""

    status: int
    code: str
    msg: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SimAccount:
    """A key as the venue knows it, and what the demo table tells the user to paste."""

    label: str  # part of the key, for readability
    secret: str
    permissions: str  # the key info's comma string
    whitelist: Whitelist
    outcome: str
    markets: str
    description: str
    passphrase: str = "BackFuture-demo-1"
    api_version: int = 3
    is_master: bool = True
    sub_name: str | None = None
    fault: KeyFault | None = None
    known: bool = True  # False: the venue has never heard of this key (400003)
    pasted_secret: str | None = None  # what the user pastes, when it differs from the venue's
    pasted_passphrase: str | None = None

    @property
    def api_key(self) -> str:
        # KuCoin keys are 24 hex characters; these stay 24 long but readable.
        return ("6500demo" + self.label).ljust(24, "0")[:24]

    def demo_key(self) -> DemoKey:
        return DemoKey(
            exchange="kucoin",
            api_key=self.api_key,
            api_secret=self.pasted_secret or self.secret,
            passphrase=self.pasted_passphrase or self.passphrase,
            outcome=self.outcome,
            markets=self.markets,
            description=self.description,
        )


def _secret(n: int) -> str:
    return f"6500de00-0000-4000-8000-{n:012d}"


ALL = "General,Spot,Futures"
ACCOUNTS: tuple[SimAccount, ...] = (
    SimAccount(
        "connected", _secret(1), ALL, Whitelist.PLATFORM, "connected", "spot or futures",
        "Read, spot and futures trading, no withdrawal; whitelisted to the platform's IPs.",
    ),
    SimAccount(
        "connectedmasked", _secret(2), ALL, Whitelist.PLATFORM_MASKED, "connected", "spot or futures",
        "Like the connected key, but KuCoin reports its whitelist masked (203.0.**.10).",
    ),
    SimAccount(
        "invalidkey", _secret(3), ALL, Whitelist.PLATFORM, "invalid_key", "spot or futures",
        "A key KuCoin does not know (deleted or mistyped): 400003.", known=False,
    ),
    SimAccount(
        "wrongsecret", _secret(4), ALL, Whitelist.PLATFORM, "invalid_key", "spot or futures",
        "The secret pasted is not the key's secret: 400005 (Invalid KC-API-SIGN).",
        pasted_secret="6500de00-0000-4000-8000-00000000dead",  # noqa: S106 - public demo value
    ),
    SimAccount(
        "badpassphrase", _secret(5), ALL, Whitelist.PLATFORM, "invalid_passphrase", "spot or futures",
        "The account's login password was pasted instead of the API passphrase: 400004.",
        pasted_passphrase="MyKucoinLogin#2024",  # noqa: S106 - public demo value
    ),
    SimAccount(
        "noread", _secret(6), "Spot,Futures", Whitelist.PLATFORM, "no_read_permission", "spot or futures",
        "Trading rights without General: key info and accounts answer 400007.",
    ),
    SimAccount(
        "notrade", _secret(7), "General", Whitelist.PLATFORM, "no_trade_permission", "spot",
        "General (read-only) only: the order test answers 400007.",
    ),
    SimAccount(
        "nofutures", _secret(8), "General,Spot", Whitelist.PLATFORM, "futures_not_enabled", "futures",
        "Spot only: futures calls answer 400007 (connects fine for spot).",
    ),
    SimAccount(
        "withdrawal", _secret(9), "General,Spot,Futures,Transfer", Whitelist.PLATFORM, "withdrawal_enabled",
        "spot or futures", "The key has the Transfer (withdrawal) permission: refused.",
    ),
    SimAccount(
        "ipnotallowed", _secret(10), ALL, Whitelist.ELSEWHERE, "ip_not_allowed", "spot or futures",
        "Whitelisted to another IP: every private call answers 400006.",
    ),
    SimAccount(
        "noiprestriction", _secret(11), ALL, Whitelist.ABSENT, "connected", "spot or futures",
        "No IP restriction (ipWhitelist absent): connects with the ip_restriction_missing warning.",
    ),
    SimAccount(
        "ipmismatch", _secret(12), ALL, Whitelist.FIRST_PLATFORM_IP, "connected", "spot or futures",
        "Whitelist holds only the first platform IP: connects with the ip_whitelist_mismatch warning.",
    ),
    SimAccount(
        "restricted", _secret(13), ALL, Whitelist.PLATFORM, "account_restricted", "spot or futures",
        "The account is frozen: 411100.", fault=KeyFault(400, "411100", "User are frozen"),
    ),
    SimAccount(
        "unavailable", _secret(14), ALL, Whitelist.PLATFORM, "exchange_unavailable", "spot or futures",
        "Private calls answer HTTP 503 / 500000, as during maintenance.",
        fault=KeyFault(503, "500000", "Service unavailable, please try again later."),
    ),
    SimAccount(
        "ratelimited", _secret(15), ALL, Whitelist.PLATFORM, "rate_limited", "spot or futures",
        "Private calls answer HTTP 429 / 429000 with Retry-After: 5.",
        fault=KeyFault(
            429,
            "429000",
            "Too Many Requests",
            {"Retry-After": "5", "gw-ratelimit-limit": "4000", "gw-ratelimit-remaining": "0",
             "gw-ratelimit-reset": "4200"},
        ),
    ),
    SimAccount(
        "exchangeerror", _secret(16), ALL, Whitelist.PLATFORM, "exchange_error", "spot or futures",
        "Key info and accounts answer an unexpected code (400100); it is kept for support.",
        fault=KeyFault(400, "400100", "Parameter error"),
    ),
    SimAccount(
        "subaccount", _secret(17), "General,Spot", Whitelist.PLATFORM, "connected", "spot",
        "A sub-account key (isMaster false, subName bf-demo-sub).", is_master=False, sub_name="bf-demo-sub",
    ),
    SimAccount(
        "innertransfer", _secret(18), "General,Spot,InnerTransfer", Whitelist.EMPTY, "connected", "spot",
        "InnerTransfer enabled and no IP restriction (\"\"): connects with the unneeded_permission and "
        "ip_restriction_missing warnings.",
    ),
    SimAccount(
        "v2key", _secret(19), ALL, Whitelist.PLATFORM, "invalid_key", "spot or futures",
        "An old V2 key: 400008 (V1 & V2 API keys are no longer supported).", api_version=2,
    ),
)  # fmt: skip

DEMO_KEYS: list[DemoKey] = [account.demo_key() for account in ACCOUNTS]

_KNOWN: dict[str, SimAccount] = {account.api_key: account for account in ACCOUNTS if account.known}


# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------


def _ok(data: Any) -> SimResponse:
    return SimResponse(200, {"code": SUCCESS, "data": data})


def _error(status: int, code: str, msg: str, headers: Mapping[str, str] | None = None) -> SimResponse:
    return SimResponse(status, {"code": code, "msg": msg}, dict(headers or {}))


def _auth_error(code: str, msg: str) -> SimResponse:
    return _error(_AUTH_HTTP_STATUS, code, msg)


def _sign(secret: str, message: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def _order_id() -> str:
    return uuid.uuid4().hex[:24]


def _json_body(request: SimRequest) -> dict[str, Any] | None:
    try:
        body = json.loads(request.body or "null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


# --------------------------------------------------------------------------------------------
# Venue
# --------------------------------------------------------------------------------------------

Handler = Callable[["KucoinVenue", SimRequest, SimAccount | None, int], SimResponse]


@dataclass(frozen=True)
class Route:
    permission: str | None  # None: public
    answer: Handler


class KucoinVenue:
    """One KuCoin host. ``service_status`` ("open", "close", "cancelonly") drives /api/v1/status."""

    def __init__(self, name: str, routes: Mapping[tuple[str, str], Route]) -> None:
        self.name = name
        self.service_status = "open"
        self._routes = routes

    def handle(self, request: SimRequest, clock_ms: Callable[[], int]) -> SimResponse:
        route = self._routes.get((request.method, request.path))
        if route is None:
            return _error(404, "404000", "Url Not Found")
        if route.permission is None:
            return route.answer(self, request, None, clock_ms())
        checked = authenticate(request, clock_ms())
        if isinstance(checked, SimResponse):
            return checked
        if checked.fault is not None:
            fault = checked.fault
            return _error(fault.status, fault.code, fault.msg, fault.headers)
        granted = {p.strip() for p in checked.permissions.split(",")}
        if route.permission not in granted:
            return _auth_error("400007", "Access denied, requires more permission.")
        return route.answer(self, request, checked, clock_ms())


def authenticate(request: SimRequest, now_ms: int) -> SimAccount | SimResponse:
    """KuCoin's gateway checks for a private call: the account, or the error answer."""
    headers = request.headers
    required = ("kc-api-key", "kc-api-sign", "kc-api-timestamp", "kc-api-passphrase")
    if any(not headers.get(name) for name in required):
        return _error(
            400,
            "400001",
            "Any of KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE is missing "
            "in your request header.",
        )
    account = _KNOWN.get(headers["kc-api-key"])
    if account is None:
        return _auth_error("400003", "KC-API-KEY does not exist.")
    if account.api_version < 3:
        return _auth_error(
            "400008", "V1 & V2 API keys are no longer supported by this API. Please create a V3 API key."
        )
    version = headers.get("kc-api-key-version", "1")
    if version not in ("1", "2", "3"):
        return _auth_error("400009", "Invalid KC-API-KEY-VERSION.")
    try:
        timestamp = int(headers["kc-api-timestamp"])
    except ValueError:
        return _auth_error("400002", "Invalid KC-API-TIMESTAMP.")
    if abs(now_ms - timestamp) > TIMESTAMP_WINDOW_MS:
        return _auth_error("400002", "Invalid KC-API-TIMESTAMP.")
    # The signed query is the decoded one; the URL carries it encoded.
    endpoint = f"{request.path}?{unquote_plus(request.query)}" if request.query else request.path
    expected = _sign(account.secret, f"{headers['kc-api-timestamp']}{request.method}{endpoint}{request.body}")
    if not hmac.compare_digest(expected, headers["kc-api-sign"]):
        return _auth_error("400005", "Invalid KC-API-SIGN.")
    # Header version 2 or 3: the passphrase travels HMAC'd with the secret; version 1 sent it plain.
    passphrase = account.passphrase if version == "1" else _sign(account.secret, account.passphrase)
    if not hmac.compare_digest(passphrase, headers["kc-api-passphrase"]):
        return _auth_error("400004", "Invalid KC-API-PASSPHRASE.")
    allowed, _ = _resolve(account.whitelist)
    if allowed is not None and request.client_ip not in allowed:
        return _auth_error("400006", f"Invalid request IP, the current client IP is: {request.client_ip}.")
    return account


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def _timestamp(venue: KucoinVenue, request: SimRequest, account: SimAccount | None, now: int) -> SimResponse:
    return _ok(now)


def _status(venue: KucoinVenue, request: SimRequest, account: SimAccount | None, now: int) -> SimResponse:
    return _ok({"status": venue.service_status, "msg": "" if venue.service_status == "open" else "upgrading"})


def _key_info(venue: KucoinVenue, request: SimRequest, account: SimAccount | None, now: int) -> SimResponse:
    assert account is not None
    _, reported = _resolve(account.whitelist)
    data: dict[str, Any] = {
        "remark": "BackFuture demo",
        "apiKey": account.api_key,
        "apiVersion": account.api_version,
        "permission": account.permissions,
        "createdAt": 1_729_000_000_000,
        "uid": 165_000_000 + ACCOUNTS.index(account),
        "isMaster": account.is_master,
    }
    if reported is not None:
        data["ipWhitelist"] = reported
    if account.sub_name is not None:
        data["subName"] = account.sub_name
    return _ok(data)


def _accounts(venue: KucoinVenue, request: SimRequest, account: SimAccount | None, now: int) -> SimResponse:
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


def _order(venue: KucoinVenue, request: SimRequest, account: SimAccount | None, now: int) -> SimResponse:
    body = _json_body(request)
    if body is None or not all(body.get(name) for name in ("side", "symbol", "type")):
        return _error(400, "400100", "Parameter error")
    return _ok({"orderId": _order_id(), "clientOid": body.get("clientOid", "")})


def _withdrawal(venue: KucoinVenue, request: SimRequest, account: SimAccount | None, now: int) -> SimResponse:
    if _json_body(request) is None:
        return _error(400, "400100", "Parameter error")
    return _ok({"withdrawalId": _order_id()})


def _account_overview(
    venue: KucoinVenue, request: SimRequest, account: SimAccount | None, now: int
) -> SimResponse:
    currency = parse_qs(request.query).get("currency", ["XBT"])[0]
    return _ok(
        {"accountEquity": 300.0, "unrealisedPNL": 0.0, "marginBalance": 300.0, "positionMargin": 0.0,
         "orderMargin": 0.0, "frozenFunds": 0.0, "availableBalance": 300.0, "currency": currency,
         "riskRatio": 0.0, "maxWithdrawAmount": 300.0}
    )  # fmt: skip


_PUBLIC = {
    ("GET", "/api/v1/timestamp"): Route(None, _timestamp),
    ("GET", "/api/v1/status"): Route(None, _status),
}

SPOT_ROUTES: dict[tuple[str, str], Route] = {
    **_PUBLIC,
    ("GET", "/api/v1/user/api-key"): Route("General", _key_info),
    ("GET", "/api/v1/accounts"): Route("General", _accounts),
    ("POST", "/api/v1/hf/orders/test"): Route("Spot", _order),
    # Real orders and withdrawals answer too, so a test can prove the service never calls them.
    ("POST", "/api/v1/hf/orders"): Route("Spot", _order),
    ("POST", "/api/v1/withdrawals"): Route("Transfer", _withdrawal),
    ("POST", "/api/v3/withdrawals"): Route("Transfer", _withdrawal),
}

FUTURES_ROUTES: dict[tuple[str, str], Route] = {
    **_PUBLIC,
    ("GET", "/api/v1/account-overview"): Route("Futures", _account_overview),
    ("POST", "/api/v1/orders/test"): Route("Futures", _order),
    ("POST", "/api/v1/orders"): Route("Futures", _order),
}


def venues() -> list[Venue]:
    """Fresh venues (each with its own service status)."""
    return [KucoinVenue("kucoin-spot", SPOT_ROUTES), KucoinVenue("kucoin-futures", FUTURES_ROUTES)]
