"""MEXC venues: ``mexc-spot`` (API v3) and ``mexc-futures`` (contract API v1).

They check what MEXC documents, the way MEXC documents it, and know nothing about the service:

* spot: ``X-MEXC-APIKEY``; HMAC-SHA256 hex over totalParams = query string + body (no ``&``
  between), with the ``signature`` parameter taken out of whichever part carried it; accepted when
  ``timestamp < serverTime + 1000`` and ``serverTime - timestamp <= recvWindow`` (default 5000,
  at most 60000);
* futures: headers ``ApiKey``, ``Request-Time``, ``Signature`` = hex HMAC-SHA256(accessKey +
  Request-Time + paramString), ±10 s unless ``Recv-Window`` says otherwise.

Answers use MEXC's shapes and error bodies (``{"code":700002,"msg":"Signature for this request is
not valid."}`` with HTTP 400; contract errors as ``{"success":false,"code":…,"message":…}``).
Each demo key in :data:`DEMO_KEYS` produces one outcome. Two endpoints the service must never
call are implemented so a test can prove it does not: ``POST /api/v3/order`` (a real order) and
``POST /api/v3/apiKeyInfo`` (edits the key's IP list); both are recorded on the venue.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

from simulator.core import SimRequest, SimResponse, Venue
from simulator.demo_keys import DemoKey, platform_ips

SPOT_PERMISSIONS = ("SPOT_ACCOUNT_READ", "SPOT_DEAL_READ", "SPOT_DEAL_WRITE")
FUTURES_PERMISSIONS = ("CONTRACT_ACCOUNT_READ", "CONTRACT_DEAL_READ", "CONTRACT_DEAL_WRITE")


class Whitelist(StrEnum):
    PLATFORM = "platform"  # all of the platform's egress IPs
    FIRST_ONLY = "first_only"  # only the first one: the caller gets through, the other IP would not
    NONE = "none"  # no IP restriction
    ELSEWHERE = "elsewhere"  # someone else's address only


class Behaviour(StrEnum):
    NORMAL = "normal"
    RESTRICTED = "restricted"  # account frozen: 60005 on account and orders
    MAINTENANCE = "maintenance"
    RATE_LIMITED = "rate_limited"
    UNKNOWN_CODE = "unknown_code"
    KEY_INFO_REFUSED = "key_info_refused"  # apiKeyInfo answers 700007


@dataclass(frozen=True)
class VenueKey:
    """What MEXC knows about one API key."""

    api_key: str
    secret: str
    permissions: tuple[str, ...]
    whitelist: Whitelist = Whitelist.PLATFORM
    behaviour: Behaviour = Behaviour.NORMAL
    remaining_validity_days: int | None = None  # None: bound to IPs, does not expire

    def allowed_ips(self) -> list[str]:
        """[] = no restriction. Resolved per request: EGRESS_IPS may change between runs."""
        ips = platform_ips()
        return {
            Whitelist.PLATFORM: ips,
            Whitelist.FIRST_ONLY: ips[:1],
            Whitelist.NONE: [],
            Whitelist.ELSEWHERE: ["198.51.100.23"],
        }[self.whitelist]


def _secret(label: str) -> str:
    """A stable 32-hex-character secret, the shape MEXC issues."""
    return hashlib.sha256(f"backfuture-demo-mexc-{label}".encode()).hexdigest()[:32]


def _demo(
    api_key: str,
    outcome: str,
    markets: str,
    description: str,
    permissions: tuple[str, ...] = SPOT_PERMISSIONS,
    **venue: Any,
) -> tuple[DemoKey, VenueKey]:
    secret = _secret(api_key)
    return (
        DemoKey("mexc", api_key, secret, None, outcome, markets, description),
        VenueKey(api_key, secret, permissions, **venue),
    )


_PAIRS: list[tuple[DemoKey, VenueKey]] = [
    _demo(
        "mx0demoConnectedSpot", "connected", "spot", "Spot read and trade, whitelisted to the platform's IPs."
    ),
    _demo(
        "mx0demoConnectedFutures",
        "connected",
        "spot, futures or both",
        "Spot and futures read and trade, whitelisted to the platform's IPs.",
        SPOT_PERMISSIONS + FUTURES_PERMISSIONS,
    ),
    _demo(
        "mx0demoNoReadPermission",
        "no_read_permission",
        "spot",
        "Spot trading without SPOT_ACCOUNT_READ: /api/v3/account answers 700007.",
        ("SPOT_DEAL_READ", "SPOT_DEAL_WRITE"),
    ),
    _demo(
        "mx0demoNoTradePermission",
        "no_trade_permission",
        "spot",
        "Read-only key: the order test answers 700007.",
        ("SPOT_ACCOUNT_READ", "SPOT_DEAL_READ"),
    ),
    _demo(
        "mx0demoFuturesNotEnabled",
        "futures_not_enabled",
        "futures (or spot and futures)",
        "Spot-only key: the futures account answers 701.",
    ),
    _demo(
        "mx0demoWithdrawEnabled",
        "withdrawal_enabled",
        "spot",
        "apiKeyInfo lists SPOT_WITHDRAW_WRITE: the key is refused and its secret destroyed.",
        (*SPOT_PERMISSIONS, "SPOT_WITHDRAW_READ", "SPOT_WITHDRAW_WRITE"),
    ),
    _demo(
        "mx0demoIpNotAllowed",
        "ip_not_allowed",
        "spot",
        "Whitelisted to another address only: every signed call answers 700006.",
        whitelist=Whitelist.ELSEWHERE,
    ),
    _demo(
        "mx0demoNoIpRestriction",
        "connected",
        "spot",
        "No IP whitelist (expires in 80 days): connected with warning ip_restriction_missing.",
        whitelist=Whitelist.NONE,
        remaining_validity_days=80,
    ),
    _demo(
        "mx0demoWhitelistMismatch",
        "connected",
        "spot",
        "Whitelisted to the first platform IP only: connected with warning ip_whitelist_mismatch.",
        whitelist=Whitelist.FIRST_ONLY,
    ),
    _demo(
        "mx0demoAccountRestricted",
        "account_restricted",
        "spot",
        "The account is frozen: account and order test answer 60005.",
        behaviour=Behaviour.RESTRICTED,
    ),
    _demo(
        "mx0demoMaintenance",
        "exchange_unavailable",
        "spot or futures",
        'Signed calls answer the maintenance body {"code":500,"message":"Under maintenance, …"}.',
        SPOT_PERMISSIONS + FUTURES_PERMISSIONS,
        behaviour=Behaviour.MAINTENANCE,
    ),
    _demo(
        "mx0demoRateLimited",
        "rate_limited",
        "spot or futures",
        "Signed calls answer HTTP 429 with Retry-After: 30.",
        SPOT_PERMISSIONS + FUTURES_PERMISSIONS,
        behaviour=Behaviour.RATE_LIMITED,
    ),
    _demo(
        "mx0demoUnknownError",
        "exchange_error",
        "spot",
        "The account call answers code 26 (not classified by the platform; the code is kept for support).",
        behaviour=Behaviour.UNKNOWN_CODE,
    ),
    _demo(
        "mx0demoExpiresSoon",
        "connected",
        "spot",
        "No IP whitelist and 3 days of validity left: warnings key_expires_soon and ip_restriction_missing.",
        whitelist=Whitelist.NONE,
        remaining_validity_days=3,
    ),
    _demo(
        "mx0demoKeyInfoRefused",
        "connected",
        "spot",
        "apiKeyInfo answers 700007, so withdraw rights cannot be read: warning withdraw_unverifiable.",
        behaviour=Behaviour.KEY_INFO_REFUSED,
    ),
    _demo(
        "mx0demoFuturesUnneeded",
        "connected",
        "spot",
        "Futures trading enabled on a spot-only connection: warning unneeded_permission.",
        SPOT_PERMISSIONS + FUTURES_PERMISSIONS,
    ),
]

# A key MEXC knows, pasted with the wrong secret: every signed call answers 700002 / 602.
_WRONG_SECRET = VenueKey("mx0demoWrongSecret", _secret("mx0demoWrongSecret-real"), SPOT_PERMISSIONS)

DEMO_KEYS: list[DemoKey] = [
    *(demo for demo, _ in _PAIRS),
    DemoKey(
        "mexc",
        "mx0demoInvalidKey",
        _secret("mx0demoInvalidKey"),
        None,
        "invalid_key",
        "spot or futures",
        "A key MEXC does not know: 10072 (futures: 401).",
    ),
    DemoKey(
        "mexc",
        _WRONG_SECRET.api_key,
        _secret(_WRONG_SECRET.api_key),
        None,
        "invalid_key",
        "spot or futures",
        "A known key with the wrong secret: 700002 (futures: 602).",
    ),
]

VENUE_KEYS: dict[str, VenueKey] = {key.api_key: key for _, key in _PAIRS} | {
    _WRONG_SECRET.api_key: _WRONG_SECRET
}


def venues(keys: dict[str, VenueKey] | None = None) -> list[Venue]:
    known = VENUE_KEYS if keys is None else keys
    return [MexcSpotVenue(known), MexcFuturesVenue(known)]


def _hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------
# Spot
# --------------------------------------------------------------------------------------------

MAINTENANCE_BODY = {
    "code": 500,
    "message": "Under maintenance, please try again later",
    "announcement": "https://www.mexc.com/support/articles/17827791510263",
}
SPOT_SYMBOLS = {"BTCUSDT", "ETHUSDT", "MXUSDT"}
MIN_NOTIONAL_USDT = Decimal(1)


def _spot_error(code: int, msg: str, status: int = 400) -> SimResponse:
    return SimResponse(status, {"code": code, "msg": msg})


class _RefusedError(Exception):
    def __init__(self, response: SimResponse) -> None:
        self.response = response


def _without_signature(part: str) -> tuple[str, str | None]:
    """``part`` minus its ``signature=…`` parameter (and the ``&`` that joined it), and the value."""
    kept: list[str] = []
    signature: str | None = None
    for item in part.split("&") if part else []:
        if item.startswith("signature="):
            signature = item[len("signature=") :]
        else:
            kept.append(item)
    return "&".join(kept), signature


@dataclass
class MexcSpotVenue:
    keys: dict[str, VenueKey]
    name: str = "mexc-spot"
    # Calls that act on the account; the service must never make them.
    orders_placed: list[dict[str, str]] = field(default_factory=list)
    key_changes: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: SimRequest, clock_ms: Callable[[], int]) -> SimResponse:
        route = (request.method, request.path)
        if route == ("GET", "/api/v3/time"):
            return SimResponse(200, {"serverTime": clock_ms()})
        if route == ("GET", "/api/v3/ping"):
            return SimResponse(200, {})
        handler = {
            ("GET", "/api/v3/account"): self._account,
            ("GET", "/api/v3/apiKeyInfo"): self._key_info,
            ("POST", "/api/v3/apiKeyInfo"): self._update_key_info,
            ("POST", "/api/v3/order/test"): self._order_test,
            ("POST", "/api/v3/order"): self._order,
        }.get(route)
        if handler is None:
            return SimResponse(404, {"code": 404, "msg": "Not Found"})
        try:
            key, params = self._authenticate(request, clock_ms)
            return handler(key, params)
        except _RefusedError as refused:
            return refused.response

    def _authenticate(
        self, request: SimRequest, clock_ms: Callable[[], int]
    ) -> tuple[VenueKey, dict[str, str]]:
        api_key = request.headers.get("x-mexc-apikey", "")
        if not api_key:
            raise _RefusedError(_spot_error(400, "api key required"))
        query, query_signature = _without_signature(request.query)
        body, body_signature = (
            ("", None) if request.body.lstrip().startswith("{") else _without_signature(request.body)
        )
        params = dict(parse_qsl(body, keep_blank_values=True))
        if request.body.lstrip().startswith("{"):
            try:
                params = {k: str(v) for k, v in json.loads(request.body).items()}
            except (ValueError, AttributeError) as error:
                raise _RefusedError(_spot_error(700013, "Invalid content Type.")) from error
            body = request.body
        params |= dict(parse_qsl(query, keep_blank_values=True))  # the query wins over the body
        key = self.keys.get(api_key)
        if key is None:
            raise _RefusedError(_spot_error(10072, "Api key info invalid"))
        if key.behaviour is Behaviour.RATE_LIMITED:
            raise _RefusedError(
                SimResponse(429, {"code": 429, "msg": "Too Many Requests"}, {"Retry-After": "30"})
            )
        if key.behaviour is Behaviour.MAINTENANCE:
            raise _RefusedError(SimResponse(200, dict(MAINTENANCE_BODY)))
        signature = query_signature or body_signature
        if not signature:
            raise _RefusedError(
                _spot_error(
                    700004, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
                )
            )
        try:
            timestamp = int(params["timestamp"])
            recv_window = int(params.get("recvWindow", "5000"))
        except (KeyError, ValueError) as error:
            raise _RefusedError(
                _spot_error(700003, "Timestamp for this request is outside of the recvWindow.")
            ) from error
        if recv_window > 60000:
            raise _RefusedError(_spot_error(700005, "recvWindow must less than 60000"))
        server_time = clock_ms()
        if not (timestamp < server_time + 1000 and server_time - timestamp <= recv_window):
            raise _RefusedError(
                _spot_error(700003, "Timestamp for this request is outside of the recvWindow.")
            )
        if not hmac.compare_digest(_hmac_hex(key.secret, query + body), signature):
            raise _RefusedError(_spot_error(700002, "Signature for this request is not valid."))
        allowed = key.allowed_ips()
        if allowed and request.client_ip not in allowed:
            raise _RefusedError(_spot_error(700006, f"IP [{request.client_ip}] not in the ip white list"))
        return key, params

    @staticmethod
    def _require(key: VenueKey, permission: str) -> None:
        if permission not in key.permissions:
            raise _RefusedError(_spot_error(700007, "No permission to access the endpoint."))

    @staticmethod
    def _account_state(key: VenueKey) -> None:
        if key.behaviour is Behaviour.RESTRICTED:
            raise _RefusedError(_spot_error(60005, "your account is abnormal"))
        if key.behaviour is Behaviour.UNKNOWN_CODE:
            raise _RefusedError(_spot_error(26, "operation not allowed"))

    def _account(self, key: VenueKey, params: dict[str, str]) -> SimResponse:
        self._require(key, "SPOT_ACCOUNT_READ")
        self._account_state(key)
        return SimResponse(
            200,
            {
                "makerCommission": None,
                "takerCommission": None,
                "buyerCommission": None,
                "sellerCommission": None,
                "canTrade": True,
                "canWithdraw": True,  # the account's state, not the key's scope
                "canDeposit": True,
                "updateTime": None,
                "accountType": "SPOT",
                "balances": [
                    {"asset": "USDT", "free": "1250.37", "locked": "0"},
                    {"asset": "BTC", "free": "0.0421", "locked": "0.001"},
                ],
                "permissions": ["SPOT"],
            },
        )

    def _key_info_body(self, key: VenueKey) -> dict[str, Any]:
        body: dict[str, Any] = {
            "note": "backfuture demo",
            "accessKey": key.api_key,
            "createTime": "2026-09-14T18:53:36.000+00:00",
            "permissions": ",".join(key.permissions),
            "ipWhiteList": ",".join(key.allowed_ips()),
            "status": "VALID",
        }
        if key.remaining_validity_days is not None:
            body["remainingValidity"] = key.remaining_validity_days
        return body

    def _key_info(self, key: VenueKey, params: dict[str, str]) -> SimResponse:
        if key.behaviour is Behaviour.KEY_INFO_REFUSED:
            raise _RefusedError(_spot_error(700007, "No permission to access the endpoint."))
        if params.get("accessKey", key.api_key) != key.api_key:
            raise _RefusedError(_spot_error(700007, "No permission to access the endpoint."))
        return SimResponse(200, self._key_info_body(key))

    def _update_key_info(self, key: VenueKey, params: dict[str, str]) -> SimResponse:
        # Changes the key's settings on the real exchange. Recorded (without secrets) and answered.
        with self._lock:
            self.key_changes.append({"apiKey": key.api_key, "ipWhiteList": params.get("ipWhiteList", "")})
        return SimResponse(200, self._key_info_body(key))

    def _validated_order(self, key: VenueKey, params: dict[str, str]) -> dict[str, str]:
        self._require(key, "SPOT_DEAL_WRITE")
        self._account_state(key)
        missing = [name for name in ("symbol", "side", "type") if not params.get(name)]
        if missing:
            raise _RefusedError(_spot_error(700004, f"Mandatory parameter '{missing[0]}' was not sent."))
        if params["symbol"] not in SPOT_SYMBOLS:
            raise _RefusedError(_spot_error(30014, "Invalid symbol."))
        if params["type"] == "LIMIT":
            try:
                notional = Decimal(params["quantity"]) * Decimal(params["price"])
            except (KeyError, InvalidOperation) as error:
                raise _RefusedError(_spot_error(400, "price and quantity must be positive")) from error
            if notional < MIN_NOTIONAL_USDT:
                raise _RefusedError(
                    _spot_error(30002, "Minimum transaction volume cannot be less than:1USDT")
                )
        return params

    def _order_test(self, key: VenueKey, params: dict[str, str]) -> SimResponse:
        self._validated_order(key, params)
        return SimResponse(200, {})

    def _order(self, key: VenueKey, params: dict[str, str]) -> SimResponse:
        order = self._validated_order(key, params)
        with self._lock:
            self.orders_placed.append({k: order[k] for k in ("symbol", "side", "type") if k in order})
            order_id = f"C02__{len(self.orders_placed):012d}"
        return SimResponse(
            200,
            {
                "symbol": order["symbol"],
                "orderId": order_id,
                "orderListId": -1,
                "price": order.get("price", ""),
                "origQty": order.get("quantity", ""),
                "type": order["type"],
                "side": order["side"],
                "transactTime": 0,
            },
        )


# --------------------------------------------------------------------------------------------
# Futures (contract API)
# --------------------------------------------------------------------------------------------

FUTURES_DEFAULT_WINDOW_MS = 10_000


def _futures_error(code: int, message: str, status: int = 200) -> SimResponse:
    # The contract API reports business errors in the body, with HTTP 200.
    return SimResponse(status, {"success": False, "code": code, "message": message})


def _recv_window_ms(raw: str | None) -> int:
    """The Recv-Window header, whose unit is UNCONFIRMED: the docs say seconds (max 60), the
    official Go demo sends milliseconds (max 60000). Small values are read as seconds."""
    if raw is None:
        return FUTURES_DEFAULT_WINDOW_MS
    try:
        value = int(raw)
    except ValueError:
        return FUTURES_DEFAULT_WINDOW_MS
    return min(value * 1000 if value <= 60 else value, 60_000)


@dataclass
class MexcFuturesVenue:
    keys: dict[str, VenueKey]
    name: str = "mexc-futures"

    def handle(self, request: SimRequest, clock_ms: Callable[[], int]) -> SimResponse:
        route = (request.method, request.path)
        if route == ("GET", "/api/v1/contract/ping"):
            return SimResponse(200, {"success": True, "code": 0, "data": clock_ms()})
        if route != ("GET", "/api/v1/private/account/assets"):
            return SimResponse(404, {"success": False, "code": 404, "message": "Not Found"})
        try:
            key = self._authenticate(request, clock_ms)
        except _RefusedError as refused:
            return refused.response
        if "CONTRACT_ACCOUNT_READ" not in key.permissions:
            return _futures_error(701, "Account read permission is required")
        if key.behaviour is Behaviour.UNKNOWN_CODE:
            return _futures_error(506, "Unknown source of request")
        return SimResponse(
            200,
            {
                "success": True,
                "code": 0,
                "data": [
                    {
                        "currency": "USDT",
                        "positionMargin": 0,
                        "availableBalance": 412.5,
                        "cashBalance": 412.5,
                        "frozenBalance": 0,
                        "equity": 412.5,
                        "unrealized": 0,
                        "bonus": 0,
                    }
                ],
            },
        )

    def _authenticate(self, request: SimRequest, clock_ms: Callable[[], int]) -> VenueKey:
        api_key = request.headers.get("apikey", "")
        key = self.keys.get(api_key)
        if key is None:
            raise _RefusedError(_futures_error(401, "Not logged in or login has expired"))
        if key.behaviour is Behaviour.RATE_LIMITED:
            raise _RefusedError(
                SimResponse(
                    429,
                    {"success": False, "code": 510, "message": "Excessive frequency of requests"},
                    {"Retry-After": "30"},
                )
            )
        if key.behaviour is Behaviour.MAINTENANCE:
            raise _RefusedError(_futures_error(801, "System under maintenance"))
        request_time = request.headers.get("request-time", "")
        signature = request.headers.get("signature", "")
        window = _recv_window_ms(request.headers.get("recv-window"))
        try:
            skew = abs(clock_ms() - int(request_time))
        except ValueError:
            skew = window + 1
        if skew > window:
            raise _RefusedError(
                _futures_error(513, "Invalid request (for open api serves time more or less than 10s)")
            )
        expected = {_hmac_hex(key.secret, f"{key.api_key}{request_time}{p}") for p in _param_strings(request)}
        if not any(hmac.compare_digest(e, signature) for e in expected):
            raise _RefusedError(_futures_error(602, "Signature verification failed!"))
        allowed = key.allowed_ips()
        if allowed and request.client_ip not in allowed:
            raise _RefusedError(_futures_error(406, "Accessed IP is not in the whitelist"))
        return key


def _param_strings(request: SimRequest) -> set[str]:
    """The parameter strings a correct client may have signed: the raw POST body; for GET the
    parameters sorted by name, as sent (percent-encoded, the Java example) or decoded (the Go demo)."""
    if request.method in ("POST", "PUT"):
        return {request.body}
    sent = sorted(part for part in request.query.split("&") if part)
    decoded = sorted(parse_qsl(request.query, keep_blank_values=True))
    return {"&".join(sent), "&".join(f"{k}={v}" for k, v in decoded)}
