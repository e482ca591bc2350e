"""BingX venue: ``bingx-api`` (open-api.bingx.com: spot and perpetual swaps on one host) and its demo keys.

Sources: ../shared/reference/exchanges-next.md Part B §3, read against the official docs bundle
(BingX-API/docs-v3 @d84f954: SignAuth, Query API KEY Permissions, Test Order, Common Business Error
Codes) and JKorf/BingX.Net. The gateway checks, in this order (the order itself is UNCONFIRMED):

* header ``X-BX-APIKEY`` known here (else 100413 "Incorrect apiKey");
* ``timestamp`` no more than ``recvWindow`` (default 5000 ms) before the server time, and not ahead
  of it by more than that (else 100421 "Null timestamp or timestamp mismatch");
* ``signature`` (the last parameter) = hex HMAC-SHA256(secret, the query before ``&signature=``),
  else 100001 "Signature verification failed";
* then (simulator.kit) the IP whitelist (100419) and the route's permission (100004).

Errors come with HTTP 200 as ``{"code": …, "msg": …, "timestamp": …, "data": {}}``. The key info
answers without the envelope, as documented; one demo key gets it wrapped. Orders, withdrawals,
transfers and key changes are served and recorded; the order test is not recorded (it never places).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from simulator.core import SimRequest, SimResponse, Venue
from simulator.kit import (
    Call,
    DemoBook,
    Refused,
    RouteVenue,
    VenueKey,
    Whitelist,
    clock,
    private,
)

DEFAULT_RECV_WINDOW_MS = 5000
MISMATCH = (
    "Null timestamp or timestamp mismatch, try to run our sample code from the link "
    "https://github.com/BingX-API/BingX-Standard-Contract-doc"
)
UNBLOCK_MS = 3000  # how far ahead the rate-limited keys' "unblocked after" time lies
UNBLOCK_PLACEHOLDER = "{unblock}"
# Permission numbers as apiPermissions lists them (kept as strings: the kit matches route rights).
SPOT, READ, SWAP, TRANSFER, WITHDRAW, SUB_TRANSFER = "1", "2", "3", "4", "5", "7"
TRADE = (SPOT, READ, SWAP)


@dataclass(frozen=True)
class BingXKey(VenueKey):
    permissions: tuple[str, ...] = TRADE
    wrapped: bool = False  # apiPermissions inside {code,msg,data} (the docs show it bare)


def error(code: int, msg: str, status: int = 200) -> SimResponse:
    return SimResponse(status, {"code": code, "msg": msg, "timestamp": 0, "data": {}})


def ok(call: Call, data: Any) -> SimResponse:
    return SimResponse(200, {"code": 0, "msg": "", "timestamp": call.now_ms, "data": data})


# --------------------------------------------------------------------------------------------
# Demo keys: one per outcome (the README lists them; simulator/kit.DemoBook)
# --------------------------------------------------------------------------------------------

book = DemoBook(
    "bingx",
    BingXKey,
    # 87 characters, the length BingX issues (as the docs' example secret)
    secret=lambda key, _: (hashlib.sha256(f"backfuture-demo-bingx-{key}".encode()).hexdigest() * 2)[:87],
    api_key=lambda label: f"bingxDemo{label}",
)


def _limited(msg: str) -> SimResponse:
    return SimResponse(200, {"code": 100410, "msg": msg, "timestamp": 0, "data": {}},
                       {"X-RateLimit-Requests-Remain": "0"})  # fmt: skip


BALANCES = "balance"
ONE_WAY = "In the One-way mode, the 'PositionSide' field can only be set to BOTH."  # ccxt#22237

# fmt: off
add = book.add
add("Connected", "connected", "spot or futures",
    "Spot and perpetual trading with read (permissions 1, 2, 3), no withdrawal; bound to the platform's IPs.")
add("WrappedKeyInfo", "connected", "spot or futures",
    "Like Connected, but apiPermissions answers inside the usual {code, msg, data} envelope.", wrapped=True)
add("InvalidKey", "invalid_key", "spot or futures",
    "A key BingX does not know (or one of its demo/VST environment): 100413 Incorrect apiKey.", known=False)
add("WrongSecret", "invalid_key", "spot or futures",
    "A known key with the wrong secret: 100001 Signature verification failed.",
    pasted_secret=(hashlib.sha256(b"backfuture-demo-bingx-pasted").hexdigest() * 2)[:87])
add("IpNotAllowed", "ip_not_allowed", "spot or futures",
    "Bound to another IP: the key info answers 100419 (IP does not match IP whitelist).",
    whitelist=Whitelist.ELSEWHERE)
add("NoIpBound", "connected", "spot or futures",
    "No IP bound (ipAddresses []): connected with warning ip_restriction_missing.", whitelist=Whitelist.NONE)
add("IpMismatch", "connected", "spot or futures",
    "Bound to the first platform IP only: connected with warning ip_whitelist_mismatch.",
    whitelist=Whitelist.FIRST_ONLY)
add("WithdrawRight", "withdrawal_enabled", "spot or futures",
    "Permission 5 (withdraw): the key is refused and its secret destroyed.", permissions=(*TRADE, WITHDRAW))
add("OwnTransfer", "connected", "spot or futures",
    "Permissions 4 and 7 (transfers between the user's own accounts): warning unneeded_permission.",
    permissions=(*TRADE, TRANSFER, SUB_TRANSFER))
add("ReadOnlyKey", "no_trade_permission", "spot",
    "Permission 2 only (BingX's default for a new key).", permissions=(READ,))
add("SpotOnlyKey", "futures_not_enabled", "futures (or spot and futures)",
    "Permissions 1 and 2, no perpetual trading (3): futures_not_enabled (spot alone connects); the "
    "order test is not sent.", permissions=(SPOT, READ))
add("NoReadRight", "no_read_permission", "spot or futures",
    "The balance reads answer 100004 (Permission denied).",
    answers={BALANCES: error(100004, "Permission denied as the API key was created without permission")})
add("RiskForbidden", "account_restricted", "spot or futures",
    "Every signed call answers 80020 (risk forbidden).", answers={"*": error(80020, "risk forbidden")})
add("RateLimited", "rate_limited", "spot or futures",
    "Signed calls answer 100410 'unblocked after <ms>' 3 s ahead.",
    answers={"*": _limited("code:100410:The endpoint trigger frequency limit rule is currently in the "
                           f"disabled period and will be unblocked after {UNBLOCK_PLACEHOLDER}")})
add("ErrorCountBan", "rate_limited", "spot or futures",
    "Signed calls answer 100410 'over 20 error code ... requests within 480000 ms', retry time 3 s ahead.",
    answers={"*": _limited("over 20 error code:100202 requests within 480000 ms for this api, please verify "
                           f"and fix it ,can retry after time: {UNBLOCK_PLACEHOLDER}")})
add("Maintenance", "exchange_unavailable", "spot or futures",
    "Signed calls answer 80012 (Service unavailable).", answers={"*": error(80012, "Service unavailable")})
add("ClockSkew", "clock_skew", "spot or futures",
    "Signed calls keep answering 100421 (timestamp mismatch) even after the service re-syncs.",
    answers={"*": error(100421, "Null timestamp or timestamp mismatch, try to run our sample code")})
add("TimestampInvalid", "clock_skew", "spot or futures",
    "Signed calls keep answering 80014 'timestamp is invalid'.",
    answers={"*": error(80014, "timestamp is invalid")})
add("UnknownError", "exchange_error", "spot or futures",
    "The balance reads answer 100400 (Invalid parameter); the code is kept for support.",
    answers={BALANCES: error(100400, "Invalid parameter")})
add("InsufficientMargin", "connected", "futures",
    "The swap order test answers 101204 (Insufficient margin): the key may trade perpetuals.",
    answers={"order_test": error(101204, "Insufficient margin")})
add("OneWayMode", "connected", "futures",
    "A one-way-mode account: the swap order test (positionSide LONG) answers 109400, a rejection of the "
    "order itself: the key may trade perpetuals.",
    answers={"order_test": error(109400, ONE_WAY)})
add("UnknownRight", "connected", "spot or futures",
    "Lists a permission the platform does not know (6): warning withdraw_unverifiable.",
    permissions=(*TRADE, "6"), unknown_permissions=("permission 6",))
# A spot-only connection of these also warns unneeded_permission: they may trade futures, a right of
# their own (the README's row is about the markets of the note).
book.unneeded_on_spot(
    "Connected", "IpMismatch", "NoIpBound", "NoReadRight", "UnknownError", "UnknownRight", "WithdrawRight",
    "WrappedKeyInfo"
)
# fmt: on

DEMO_KEYS = book.demo_keys
VENUE_KEYS = book.venue_keys


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def _permissions(call: Call) -> SimResponse:
    """The documented body {"apiKey","permissions","ipAddresses","note"}, bare unless the key says."""
    key: BingXKey = call.key
    body = {"apiKey": key.api_key, "permissions": sorted(int(p) for p in key.permissions),
            "ipAddresses": key.allowed_ips() or [], "note": "backfuture demo"}  # fmt: skip
    return ok(call, body) if key.wrapped else SimResponse(200, body)


def _spot_balance(call: Call) -> SimResponse:
    return ok(call, {"balances": [{"asset": "USDT", "free": "1250.5", "locked": "0"},
                                  {"asset": "BTC", "free": "0.0421", "locked": "0"}]})  # fmt: skip


def _swap_balance(call: Call) -> SimResponse:
    return ok(call, [{"userId": "116***295", "asset": "USDT", "balance": "1250.5", "equity": "1250.5",
                      "unrealizedProfit": "0", "realisedProfit": "0", "availableMargin": "1250.5",
                      "usedMargin": "0", "freezedMargin": "0", "shortUid": "12345678"}])  # fmt: skip


def _order(call: Call) -> SimResponse:
    p = call.params
    order = {"symbol": p.get("symbol"), "orderId": 1735950529123455000, "side": p.get("side"),
             "positionSide": p.get("positionSide", "LONG"), "type": p.get("type"), "clientOrderId": "",
             "workingType": "MARK_PRICE"}  # fmt: skip
    return ok(call, {"order": order})


def _recorded(data: Any) -> Callable[[Call], SimResponse]:
    return lambda call: ok(call, data)


ORDER = ("symbol", "side", "type", "quantity")
ROUTES = {
    ("GET", "/openApi/swap/v2/server/time"): clock(
        lambda now: {"code": 0, "msg": "", "data": {"serverTime": now}}
    ),
    ("GET", "/openApi/v1/account/apiPermissions"): private(_permissions, tag="key_info"),
    ("GET", "/openApi/spot/v1/account/balance"): private(_spot_balance, READ, tag=BALANCES),
    ("GET", "/openApi/swap/v3/user/balance"): private(_swap_balance, READ, tag=BALANCES),
    ("POST", "/openApi/swap/v2/trade/order/test"): private(_order, SWAP, tag="order_test"),
    # Never to be called by the service: each accepted call is recorded (simulator.kit).
    ("POST", "/openApi/swap/v2/trade/order"): private(_order, SWAP, tag="order", forbidden=True,
                                                      recorded=ORDER),
    ("POST", "/openApi/spot/v1/trade/order"): private(_order, SPOT, tag="order", forbidden=True,
                                                      recorded=ORDER),
    ("POST", "/openApi/wallets/v1/capital/withdraw/apply"): private(
        _recorded({"id": "1028293846"}), WITHDRAW, forbidden=True, recorded=("coin", "amount")),
    ("POST", "/openApi/api/v3/post/asset/transfer"): private(
        _recorded({"tranId": "13526853623"}), TRANSFER, forbidden=True, recorded=("asset", "amount")),
    ("POST", "/openApi/subAccount/v1/apiKey/edit"): private(_recorded({}), forbidden=True),
}  # fmt: skip


def venues() -> list[Venue]:
    return [BingXVenue()]


class BingXVenue(RouteVenue):
    not_found = SimResponse(404, {"code": 100404, "msg": "api not exist", "data": {}})

    def __init__(self) -> None:
        super().__init__("bingx-api", ROUTES, VENUE_KEYS)

    def handle(self, request: SimRequest, clock_ms: Callable[[], int]) -> SimResponse:
        response = super().handle(request, clock_ms)
        body = response.body
        if isinstance(body, dict) and isinstance(body.get("msg"), str) and UNBLOCK_PLACEHOLDER in body["msg"]:
            body["msg"] = body["msg"].replace(UNBLOCK_PLACEHOLDER, str(clock_ms() + UNBLOCK_MS))
        if isinstance(body, dict) and body.get("timestamp") == 0:
            body["timestamp"] = clock_ms()
        return response

    def ip_refused(self, client_ip: str) -> SimResponse:
        return error(
            100419,
            "IP does not match IP whitelist , please go to https://bingx.com/en/account/api/ to verify the "
            "ip you have set",
        )

    def permission_denied(self, permission: str) -> SimResponse:
        return error(100004, "Permission denied as the API key was created without permission")

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        key = self.keys.get(request.headers.get("x-bx-apikey", ""))
        if not isinstance(key, BingXKey):
            raise Refused(error(100413, "Incorrect apiKey"))
        signed, sep, sig = request.query.rpartition("&signature=")
        params = dict(parse_qsl(signed, keep_blank_values=True))
        raw_window = params.get("recvWindow", "")
        window = int(raw_window) if raw_window.isdigit() else DEFAULT_RECV_WINDOW_MS
        stamp = params.get("timestamp", "")
        if not stamp.isdigit() or abs(now_ms - int(stamp)) > window:
            raise Refused(error(100421, MISMATCH))
        expected = hmac.new(key.secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(expected, sig):
            raise Refused(error(100001, "Signature verification failed"))
        return key, params
