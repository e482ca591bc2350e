"""Bitget venue: ``bitget-api`` (api.bitget.com, spot and USDT-M futures on one host), and Bitget's
demo keys.

Sources: ../shared/reference/exchanges-next.md Part A section 4 (4.2 signing, 4.3 endpoints and
answer shapes, 4.5 codes). Every private call is checked in this order, with Bitget's codes and
(UNCONFIRMED) HTTP 400: headers present (40001/40002/40003/40011), timestamp readable (40005) and
within 30 s of the venue clock (40008, window UNCONFIRMED), key known (40037), passphrase (40012),
ACCESS-SIGN (40009); then (simulator.kit) the IP whitelist (40018); then the account mode (a
unified account on a classic v2 route: 40085; a classic account on a v3 route: 40084) and the
route's rights (40014), which are checked in the handler because a route accepts any of several
authority codes.

ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + path[?query] + body)), the query as
sent, decoded: a client that signs its keys sorted must send them sorted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

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
    within,
)

SUCCESS = "00000"
TIMESTAMP_WINDOW_MS = 30_000
CLASSIC = ("stor", "stow", "coor", "coow", "cpor", "cpow")


@dataclass(frozen=True)
class BitgetKey(VenueKey):
    # Classic keys: ``authorities`` codes. Unified (UTA) keys: v3 ``permissions`` names.
    permissions: tuple[str, ...] = CLASSIC
    unified: bool = False
    perm_type: str = "read-and-write"  # UTA only
    parent_id: str | None = None  # None: a master account


def error(status: int, code: str, msg: str) -> SimResponse:
    return SimResponse(status, {"code": code, "msg": msg, "requestTime": 1_700_000_000_000, "data": None})


# --------------------------------------------------------------------------------------------
# Demo keys: one per outcome (the README lists them; simulator/kit.DemoBook)
# --------------------------------------------------------------------------------------------

book = DemoBook(
    "bitget",
    BitgetKey,
    secret=lambda _, n: f"bf{n:062d}",  # Bitget secrets are 64 hex characters
    api_key=lambda label: ("bg_demo" + label).ljust(35, "0")[:35],  # "bg_" + 32 characters
    passphrase="BackFutureDemo1",  # noqa: S106 - a public demo value
)
UTA = ("uta_trade",)

# fmt: off
add = book.add
add("connected", "connected", "spot or futures",
    "Spot and futures read and trade (stor stow coor coow cpor cpow), no withdrawal; whitelisted to the "
    "platform's IPs.")
add("invalidkey", "invalid_key", "spot or futures",
    "A key Bitget does not know (deleted or mistyped): 40037.", known=False)
add("wrongsecret", "invalid_key", "spot or futures",
    "The secret pasted is not the key's secret: 40009 (sign signature error).",
    pasted_secret="bf" + "0" * 58 + "dead")
add("badpassphrase", "invalid_passphrase", "spot or futures",
    "The account's login password was pasted instead of the API passphrase: 40012.",
    pasted_passphrase="MyBitgetLogin#2024")  # noqa: S106
add("noread", "no_read_permission", "spot or futures",
    "Futures rights only (no spot read): key info and spot balances answer 40014.",
    permissions=("coor", "coow", "cpor", "cpow"))
add("readonly", "no_trade_permission", "spot", "Read-only (stor coor cpor): the key info shows no stow.",
    permissions=("stor", "coor", "cpor"))
add("nofutures", "futures_not_enabled", "futures",
    "Spot only (stor stow): futures balances answer 40014 (connects fine for spot).",
    permissions=("stor", "stow"))
add("withdrawal", "withdrawal_enabled", "spot or futures",
    "The key has wwow (wallet withdrawal): refused.", permissions=(*CLASSIC, "wwow"))
add("ipnotallowed", "ip_not_allowed", "spot or futures",
    "Whitelisted to another IP: every private call answers 40018.", whitelist=Whitelist.ELSEWHERE)
add("noiprestriction", "connected", "spot or futures",
    "No IP restriction (ips \"\"): connects with the ip_restriction_missing warning.",
    whitelist=Whitelist.NONE)
add("ipmismatch", "connected", "spot or futures",
    "Whitelist holds only the first platform IP: connects with the ip_whitelist_mismatch warning.",
    whitelist=Whitelist.FIRST_ONLY)
add("transfer", "connected", "spot or futures",
    "wtow (transfers between the user's own accounts): connects with the unneeded_permission warning.",
    permissions=(*CLASSIC, "wtow"))
add("restricted", "account_restricted", "spot or futures", "The account is abnormal: 40013.",
    answers={"*": error(400, "40013", "User status is abnormal")})
add("unavailable", "exchange_unavailable", "spot or futures",
    "Private calls answer 40200 (server upgrade), as during maintenance.",
    answers={"*": error(400, "40200", "Server upgrade, please try again later")})
add("ratelimited", "rate_limited", "spot or futures",
    "Private calls answer HTTP 429 (Bitget documents no Retry-After: none is sent).",
    answers={"*": SimResponse(429, {"code": "429", "msg": "Too Many Requests", "data": None})})
add("clockskew", "clock_skew", "spot or futures",
    "Private calls keep answering 40008 (Request timestamp expired) even after the service re-syncs.",
    answers={"*": error(400, "40008", "Request timestamp expired")})
add("exchangeerror", "exchange_error", "spot or futures",
    "Private calls answer an unexpected code (40034); it is kept for support.",
    answers={"*": error(400, "40034", "Parameter does not exist")})
add("subaccount", "connected", "spot", "A sub-account key (parentId of another uid: is_master false).",
    permissions=("stor", "stow"), parent_id="4000000001")
add("legacy", "connected", "spot or futures",
    "Key info in the docs' legacy form [\"trade\",\"readonly\"]: connects, but withdrawal cannot be "
    "verified (withdraw_unverifiable).", permissions=("trade", "readonly"))
add("uta", "connected", "spot or futures",
    "A Unified Trading Account (v2 answers 40085): read-and-write with uta_trade through the v3 API.",
    permissions=UTA, unified=True)
add("utareadonly", "no_trade_permission", "spot", "A unified account's read-only key (permType read-only).",
    permissions=(), unified=True, perm_type="read-only")
add("utawithdraw", "withdrawal_enabled", "spot or futures",
    "A unified account's key with the withdraw permission: refused.", permissions=(*UTA, "withdraw"),
    unified=True)
add("utamgt", "connected", "spot or futures",
    "A unified account's key with uta_mgt: connects with the unneeded_permission warning.",
    permissions=(*UTA, "uta_mgt"), unified=True)
# A spot-only connection of these also warns unneeded_permission: they may trade futures, a right of
# their own (the README's row is about the markets of the note).
book.unneeded_on_spot(
    "connected", "ipmismatch", "legacy", "noiprestriction", "uta", "utawithdraw", "withdrawal"
)
# fmt: on

DEMO_KEYS = book.demo_keys
VENUE_KEYS = book.venue_keys


# --------------------------------------------------------------------------------------------
# Endpoints (section 4.3)
# --------------------------------------------------------------------------------------------


Handler = Callable[[Call], SimResponse]


def _ok(data: Any, now_ms: int) -> SimResponse:
    return SimResponse(200, {"code": SUCCESS, "msg": "success", "requestTime": now_ms, "data": data})


def _uid(key: BitgetKey) -> str:
    return str(4_100_000_000 + int(key.secret[-6:]))


def classic(rights: tuple[str, ...] | None) -> Callable[[Handler], Handler]:
    """A v2 route: a unified account is refused (40085); the key needs any of ``rights``."""

    def wrap(handler: Handler) -> Handler:
        def answer(call: Call) -> SimResponse:
            key: BitgetKey = call.key
            if key.unified:
                return error(400, "40085", "You are in Unified Account mode, and the Classic Account API "
                             "is not supported at this time")  # fmt: skip
            if rights is not None and not set(rights) & set(key.permissions):
                return error(400, "40014", "Incorrect permissions")
            return handler(call)

        return answer

    return wrap


def unified(rights: tuple[str, ...] | None) -> Callable[[Handler], Handler]:
    """A v3 route: a classic account is refused (40084); the key needs any of ``rights``."""

    def wrap(handler: Handler) -> Handler:
        def answer(call: Call) -> SimResponse:
            key: BitgetKey = call.key
            if not key.unified:
                return error(400, "40084", "You are in Classic Account mode")
            allowed = set(key.permissions) if key.perm_type == "read-and-write" else set()
            if rights is not None and not set(rights) & allowed:
                return error(400, "40014", "Incorrect permissions")
            return handler(call)

        return answer

    return wrap


_READ_SPOT = ("stor", "stow", "readonly", "trade")
_READ_FUTURES = ("coor", "coow", "cpor", "cpow", "readonly", "trade")


def _key_info(call: Call) -> SimResponse:
    key: BitgetKey = call.key
    data: dict[str, Any] = {
        "userId": _uid(key),
        "inviterId": "",
        "authorities": list(key.permissions),
        # FACTS 'master/sub': the simulator answers a master's own uid (one of the two readings).
        "parentId": int(key.parent_id or _uid(key)),
        "traderType": "not_trader",
        "channelCode": "",
        "channel": "",
        "regisTime": "1700000000000",
    }
    if (reported := key.reported_ips()) is not None:
        data["ips"] = reported
    return _ok(data, call.now_ms)


def _uta_key_info(call: Call) -> SimResponse:
    key: BitgetKey = call.key
    data: dict[str, Any] = {
        "uid": _uid(key),
        "inviterId": "",
        "parentId": key.parent_id or "",  # [BG-UTA]: only set for a sub-account
        "channelCode": "",
        "channel": "official",
        "permType": key.perm_type,
        "permissions": list(key.permissions),
        "regisTime": "1704067200000",
    }
    if (reported := key.reported_ips()) is not None:
        data["ips"] = reported
    return _ok(data, call.now_ms)


def _spot_assets(call: Call) -> SimResponse:
    def coin(name: str, available: str) -> dict[str, str]:
        return {"coin": name, "available": available, "frozen": "0", "locked": "0", "limitAvailable": "0",
                "uTime": "1700000000000"}  # fmt: skip

    return _ok([coin("USDT", "1250.5"), coin("BTC", "0.01")], call.now_ms)


def _futures_accounts(call: Call) -> SimResponse:
    if call.params.get("productType") not in ("USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES"):
        return error(400, "40019", "Parameter productType cannot be empty")
    return _ok(
        [{"marginCoin": "USDT", "locked": "0", "available": "300", "crossedMaxAvailable": "300",
          "isolatedMaxAvailable": "300", "maxTransferOut": "300", "accountEquity": "300", "usdtEquity": "300",
          "btcEquity": "0.003", "crossedRiskRate": "0", "unrealizedPL": "0", "coupon": "0"}],
        call.now_ms,
    )  # fmt: skip


def _uta_assets(call: Call) -> SimResponse:
    return _ok(
        {"accountEquity": "1550.5", "usdtEquity": "1550.5", "btcEquity": "0.0155", "unrealisedPnl": "0",
         "assets": [{"coin": "USDT", "equity": "1550.5", "usdValue": "1550.5", "balance": "1550.5",
                     "available": "1550.5", "debt": "0", "locked": "0"}]},
        call.now_ms,
    )  # fmt: skip


def _order(call: Call) -> SimResponse:
    return _ok({"orderId": uuid.uuid4().hex[:18], "clientOid": call.params.get("clientOid", "")}, call.now_ms)


def _moved(call: Call) -> SimResponse:
    return _ok({"orderId": uuid.uuid4().hex[:18]}, call.now_ms)


_ORDER = ("symbol", "side", "orderType", "size")
_FUNDS = ("coin", "size", "amount", "toType")


def _forbidden(handler: Handler, recorded: tuple[str, ...]) -> Route:
    return private(handler, forbidden=True, recorded=recorded)


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v2/public/time"): clock(
        lambda now: {"code": SUCCESS, "msg": "success", "requestTime": now, "data": {"serverTime": str(now)}}
    ),
    ("GET", "/api/v2/spot/account/info"): private(classic(_READ_SPOT)(_key_info), tag="key_info"),
    ("GET", "/api/v2/spot/account/assets"): private(classic(_READ_SPOT)(_spot_assets), tag="account"),
    ("GET", "/api/v2/mix/account/accounts"): private(
        classic(_READ_FUTURES)(_futures_accounts), tag="futures_account"
    ),
    ("GET", "/api/v3/account/info"): private(unified(None)(_uta_key_info), tag="key_info"),
    ("GET", "/api/v3/account/assets"): private(unified(None)(_uta_assets), tag="account"),
    # Orders, withdrawals, transfers and the switch to a unified account answer too, so a test can
    # prove the service never calls them (each accepted call is recorded).
    ("POST", "/api/v2/spot/trade/place-order"): _forbidden(classic(("stow", "trade"))(_order), _ORDER),
    ("POST", "/api/v2/mix/order/place-order"): _forbidden(classic(("coow", "trade"))(_order), _ORDER),
    ("POST", "/api/v3/trade/place-order"): _forbidden(unified(("uta_trade",))(_order), _ORDER),
    ("POST", "/api/v2/spot/wallet/withdrawal"): _forbidden(classic(("wwow",))(_moved), _FUNDS),
    ("POST", "/api/v2/spot/wallet/transfer"): _forbidden(classic(("wtow",))(_moved), _FUNDS),
    ("POST", "/api/v2/spot/account/upgrade"): _forbidden(classic(None)(_moved), ()),
}


def venues() -> list[Venue]:
    return [BitgetVenue("bitget-api", ROUTES)]


class BitgetVenue(RouteVenue):
    not_found = error(404, "40404", "Request URL NOT FOUND")

    def __init__(self, name: str, routes: dict[tuple[str, str], Route]) -> None:
        super().__init__(name, routes, VENUE_KEYS)

    def ip_refused(self, client_ip: str) -> SimResponse:
        return error(400, "40018", "Invalid IP")

    def permission_denied(self, permission: str) -> SimResponse:
        return error(400, "40014", "Incorrect permissions")

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        headers = request.headers
        for name, code in (
            ("key", "40001"),
            ("sign", "40002"),
            ("timestamp", "40003"),
            ("passphrase", "40011"),
        ):
            if not headers.get(f"access-{name}"):
                raise Refused(error(400, code, f"ACCESS_{name.upper()} cannot be empty"))
        timestamp = headers["access-timestamp"]
        if not timestamp.isdigit():
            raise Refused(error(400, "40005", "Invalid ACCESS_TIMESTAMP"))
        if not within(timestamp, now_ms, behind_ms=TIMESTAMP_WINDOW_MS, ahead_ms=TIMESTAMP_WINDOW_MS):
            raise Refused(error(400, "40008", "Request timestamp expired"))
        key = self.keys.get(headers["access-key"])
        if not isinstance(key, BitgetKey):
            raise Refused(error(400, "40037", "Apikey does not exist"))
        if not hmac.compare_digest(key.passphrase or "", headers["access-passphrase"]):
            raise Refused(error(400, "40012", "apikey/password is incorrect"))
        path = f"{request.path}?{unquote_plus(request.query)}" if request.query else request.path
        digest = hmac.new(key.secret.encode(), f"{timestamp}{request.method}{path}{request.body}".encode(),
                          hashlib.sha256).digest()  # fmt: skip
        if not hmac.compare_digest(base64.b64encode(digest).decode(), headers["access-sign"]):
            raise Refused(error(400, "40009", "sign signature error"))
        try:
            body = json.loads(request.body or "null")
        except ValueError:
            body = None
        fields = {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
        return key, fields | dict(parse_qsl(request.query))
