"""Bybit venue: ``bybit-api`` (api.bybit.com, v5: spot and derivatives on one host), and Bybit's demo keys.

Sources: ../shared/reference/exchanges-next.md Part A §2, read against the official docs source
(github bybit-exchange/docs @072c197: docs/v5/guide.mdx, user/apikey-info.mdx, account/wallet-balance.mdx,
system-status.mdx, error.mdx, rate-limit/rate-limit.mdx). The gateway checks, in this order:

* headers ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``, ``X-BAPI-SIGN`` present (else HTTP 401);
* the key known here (else 10003; a key made on a regional site or testnet answers the long 10003 text
  "Check whether the key and domain are matched", with HTTP 200; an unknown one the short text with
  HTTP 401: the docs and live reports show both statuses);
* ``server_time - recv_window <= timestamp < server_time + 1000`` (``X-BAPI-RECV-WINDOW``, default 5000),
  else 10002 with the live message (pybit#191);
* ``X-BAPI-SIGN`` = lowercase hex HMAC-SHA256(secret, timestamp + api_key + recv_window + the raw query
  string, or the raw JSON body for POST), else 10004;
* then (simulator.kit) the IP whitelist (10010) and the route's permission (10005).

Errors come in the body with HTTP 200 (``{"retCode":…,"retMsg":…,"result":{},"retExtInfo":{},"time":…}``).
Which of 10002 and 10004 Bybit checks first, and the HTTP status of 10004/10010, are UNCONFIRMED.
Orders, the margin pre-check, withdrawals, transfers and key changes are served and recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
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
    public,
)

DEFAULT_RECV_WINDOW_MS = 5000
RESET_MS = 3000  # how far ahead the rate-limited key's X-Bapi-Limit-Reset-Timestamp lies
RESET_PLACEHOLDER = "{reset}"
SPOT = ("Spot:SpotTrade",)
CONTRACT = ("ContractTrade:Order", "ContractTrade:Position")
DERIVATIVES = ("Derivatives:DerivativesTrade",)
TRADE = SPOT + CONTRACT + DERIVATIVES


@dataclass(frozen=True)
class BybitKey(VenueKey):
    permissions: tuple[str, ...] = TRADE  # "Group:Name", as query-api's permissions object lists them
    read_only: int = 0
    uta: int = 1  # 0: a classic account
    classic_refusal: str = "404"  # what a classic account gets for accountType=UNIFIED: "404" or "10028"
    is_master: bool = True
    parent_uid: str = "0"
    deadline_day: int | None = None  # None: IP-bound, no expiry (deadlineDay -2, expiredAt 1970)


def _envelope(code: int, msg: str, result: Any, now_ms: int = 0) -> dict[str, Any]:
    return {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": now_ms}


def error(code: int, msg: str, status: int = 200) -> SimResponse:
    return SimResponse(status, _envelope(code, msg, {}))


def ok(call: Call, result: Any) -> SimResponse:
    return SimResponse(200, _envelope(0, "OK", result, call.now_ms))


# --------------------------------------------------------------------------------------------
# Demo keys: one per outcome (the README lists them; simulator/kit.DemoBook)
# --------------------------------------------------------------------------------------------

book = DemoBook(
    "bybit",
    BybitKey,
    # 36 characters, the length Bybit issues (its keys are 18)
    secret=lambda key, _: hashlib.sha256(f"backfuture-demo-bybit-{key}".encode()).hexdigest()[:36],
    api_key=lambda label: f"bybitDemo{label}",  # 18+ characters, like the keys Bybit issues
)
# Keys made on another Bybit site (bybit.eu, .nl, .tr...) or environment: unknown on api.bybit.com.
REGIONAL_KEYS: set[str] = set()
RATE_LIMITED = SimResponse(
    200,
    _envelope(10006, "Too many visits!", {}),
    {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": RESET_PLACEHOLDER},
)
IP_RATE_LIMITED = SimResponse(403, "access too frequent", {"Content-Type": "text/plain"})


def _wallet(response: SimResponse) -> dict[str, SimResponse]:
    return {"wallet": response}


# fmt: off
add = book.add
add("Connected", "connected", "spot or futures",
    "Read and write, spot and contract trading (unified account), no withdrawal; bound to the platform's "
    "IPs.")
add("InvalidKey", "invalid_key", "spot or futures",
    "A key Bybit does not know: 10003 with HTTP 401.", known=False)
REGIONAL_KEYS.add(
    add("RegionalSite", "invalid_key", "spot or futures",
        "A key made on a regional site (e.g. bybit.eu) or on testnet: api.bybit.com answers 10003 \"Check "
        "whether the key and domain are matched\" with HTTP 200.", known=False).api_key
)
add("WrongSecret", "invalid_key", "spot or futures",
    "A known key with the wrong secret: 10004 (Error sign).",
    pasted_secret=hashlib.sha256(b"backfuture-demo-bybit-pasted").hexdigest()[:36])
add("IpNotAllowed", "ip_not_allowed", "spot or futures",
    "Bound to another IP: every signed call answers 10010 (Unmatched IP).", whitelist=Whitelist.ELSEWHERE)
add("NoIpBound", "connected", "spot or futures",
    "No IP bound (ips [\"*\"]), 85 days left: connected with warning ip_restriction_missing.",
    whitelist=Whitelist.NONE, deadline_day=85)
add("IpMismatch", "connected", "spot or futures",
    "Bound to the first platform IP only: connected with warning ip_whitelist_mismatch.",
    whitelist=Whitelist.FIRST_ONLY)
add("WithdrawRight", "withdrawal_enabled", "spot or futures",
    "Wallet permission Withdraw: the key is refused and its secret destroyed.",
    permissions=(*TRADE, "Wallet:Withdraw"))
add("BybitPayRight", "withdrawal_enabled", "spot or futures",
    "Bybit Pay permission (FiatBitPay: paying other people): refused like a withdrawal.",
    permissions=(*TRADE, "FiatBitPay:FaitPayOrder"))
add("OwnTransfer", "connected", "spot or futures",
    "Wallet permission AccountTransfer (between the user's own accounts): warning unneeded_permission.",
    permissions=(*TRADE, "Wallet:AccountTransfer"))
add("ReadOnlyKey", "no_trade_permission", "spot",
    "readOnly 1 (the trade permissions it lists, as in Bybit's own example, do not count).", read_only=1)
add("SpotOnlyKey", "futures_not_enabled", "futures (or spot and futures)",
    "Spot trading only, no ContractTrade/Derivatives right: futures_not_enabled (spot alone connects).",
    permissions=SPOT)
add("NoReadRight", "no_read_permission", "spot or futures",
    "The wallet balance answers 10005 (Permission denied).", answers=_wallet(error(10005,
    "Permission denied, please check your API key permissions.")))
add("ExpiresSoon", "connected", "spot or futures",
    "No IP bound and 5 days left: warnings key_expires_soon and ip_restriction_missing.",
    whitelist=Whitelist.NONE, deadline_day=5)
add("CommonBanned", "account_restricted", "spot or futures",
    "Every signed call answers 10008 (Common banned).", answers={"*": error(10008,
    "Common banned, please check your account mode")})
add("RegionBlocked", "account_restricted", "spot or futures",
    "The wallet balance answers 10009 (Service Restricted: unavailable for your region).",
    answers=_wallet(error(10009, "Service Restricted: Access is currently unavailable for your region. "
                          "Please contact our support team for further assistance")))
add("RateLimited", "rate_limited", "spot or futures",
    "Signed calls answer 10006 with X-Bapi-Limit-Reset-Timestamp 3 s ahead.", answers={"*": RATE_LIMITED})
add("IpRateLimited", "rate_limited", "spot or futures",
    "Signed calls answer HTTP 403 \"access too frequent\" (the per-IP limit; also what US IPs get).",
    answers={"*": IP_RATE_LIMITED})
add("Maintenance", "exchange_unavailable", "spot or futures",
    "Signed calls answer 10016 (System error. Please try again later.).",
    answers={"*": error(10016, "System error. Please try again later.")})
add("ClockSkew", "clock_skew", "spot or futures",
    "Signed calls keep answering 10002 even after the service re-syncs.", answers={"*": error(10002,
    "invalid request, please check your server timestamp or recv_window param.")})
add("UnknownError", "exchange_error", "spot or futures",
    "The wallet balance answers 10001 (Request parameter error); the code is kept for support.",
    answers=_wallet(error(10001, "Request parameter error.")))
add("SubAccount", "connected", "spot",
    "A sub-account key (isMaster false, parentUid 1448939) with spot trading only.",
    permissions=SPOT, is_master=False, parent_uid="1448939")
add("ClassicAccount", "connected", "spot or futures",
    "A classic account (uta 0): accountType UNIFIED answers HTTP 404, so SPOT / CONTRACT are read.", uta=0)
add("ClassicAccount10028", "connected", "spot or futures",
    "A classic account whose UNIFIED read answers 10028 (unified accounts only): SPOT / CONTRACT are read.",
    uta=0, classic_refusal="10028")
add("UnknownRight", "connected", "spot or futures",
    "Lists a permission the platform does not know (FiatGlobalPay): warning withdraw_unverifiable.",
    permissions=(*TRADE, "FiatGlobalPay:GlobalPayOrder"),
    unknown_permissions=("FiatGlobalPay:GlobalPayOrder",))
# A spot-only connection of these also warns unneeded_permission: they may trade futures, a right of
# their own (the README's row is about the markets of the note).
book.unneeded_on_spot(
    "BybitPayRight", "ClassicAccount", "ClassicAccount10028", "Connected", "ExpiresSoon", "IpMismatch",
    "NoIpBound", "NoReadRight", "RegionBlocked", "UnknownError", "UnknownRight", "WithdrawRight"
)
# fmt: on

DEMO_KEYS = book.demo_keys
VENUE_KEYS = book.venue_keys


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def _key_info(call: Call) -> SimResponse:
    """The shape of apikey-info.mdx's example, for this key."""
    key: BybitKey = call.key
    groups: dict[str, list[str]] = {
        name: []
        for name in ("ContractTrade", "Spot", "Wallet", "Options", "Derivatives", "CopyTrading", "BlockTrade",
                     "Exchange", "NFT", "Affiliate", "Earn")
    }  # fmt: skip
    for permission in key.permissions:
        group, name = permission.split(":")
        groups.setdefault(group, []).append(name)
    bound = key.allowed_ips() is not None
    if key.deadline_day is None or bound:
        deadline, expired_at = -2, "1970-01-01T00:00:00Z"
    else:
        deadline = key.deadline_day
        expired_at = _iso(call.now_ms + key.deadline_day * 86_400_000)
    result: dict[str, Any] = {
        "id": "2208369", "note": "backfuture demo", "apiKey": key.api_key, "readOnly": key.read_only,
        "secret": "", "permissions": groups, "type": 1, "deadlineDay": deadline, "expiredAt": expired_at,
        "createdAt": "2026-10-13T03:20:45Z", "unified": 0, "uta": key.uta, "userID": 1448939,
        "inviterID": 0, "vipLevel": "No VIP", "mktMakerLevel": "0", "affiliateID": 0, "rsaPublicKey": "",
        "isMaster": key.is_master, "parentUid": key.parent_uid, "kycLevel": "LEVEL_1", "kycRegion": "MYS",
    }  # fmt: skip
    if key.whitelist is not Whitelist.ABSENT:
        result["ips"] = key.allowed_ips() or ["*"]
    return ok(call, result)


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _coin(coin: str, balance: str) -> dict[str, Any]:
    return {"coin": coin, "equity": balance, "usdValue": balance, "walletBalance": balance, "locked": "0",
            "borrowAmount": "0", "unrealisedPnl": "0", "cumRealisedPnl": "0", "bonus": "0",
            "marginCollateral": True, "collateralSwitch": True, "spotBorrow": "0"}  # fmt: skip


def _wallet_balance(call: Call) -> SimResponse:
    """UNIFIED for a unified account; SPOT and CONTRACT for a classic one (the docs before 2025;
    ccxt#21320 shows a live CONTRACT answer). A mismatch answers as the classic reports say."""
    key: BybitKey = call.key
    kind = call.params.get("accountType", "")
    if kind not in (("UNIFIED",) if key.uta else ("SPOT", "CONTRACT")):
        if key.uta == 0 and kind == "UNIFIED" and key.classic_refusal == "10028":
            return error(10028, "The API can only be accessed by unified account users.")
        if kind in ("UNIFIED", "SPOT", "CONTRACT"):
            return SimResponse(404, "")  # pybit#140, ccxt#19322: HTTP 404, empty body
        return error(10001, "accountType only support UNIFIED.")
    coins = [_coin("USDT", "1250.5"), _coin("BTC", "0.0421")]
    wanted = call.params.get("coin")
    if wanted:
        coins = [c for c in coins if c["coin"] in wanted.split(",")]
    return ok(call, {"list": [{"accountType": kind, "totalEquity": "1300.1", "totalWalletBalance": "1300.1",
                               "totalAvailableBalance": "1300.1", "coin": coins}]})  # fmt: skip


def _status(call: Call) -> SimResponse:
    venue = call.venue
    maintenances = venue.maintenances if isinstance(venue, BybitVenue) else []
    return ok(call, {"list": list(maintenances)})


def _recorded(answer: Callable[[Call], Any]) -> Callable[[Call], SimResponse]:
    return lambda call: ok(call, answer(call))


ORDER = ("category", "symbol", "side", "orderType")
ROUTES = {
    ("GET", "/v5/market/time"): clock(
        lambda now: _envelope(
            0, "OK", {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}, now
        )
    ),
    ("GET", "/v5/system/status"): public(_status),
    ("GET", "/v5/user/query-api"): private(_key_info, tag="key_info"),
    ("GET", "/v5/account/wallet-balance"): private(_wallet_balance, tag="wallet"),
    # Never to be called by the service: each accepted call is recorded (simulator.kit).
    ("POST", "/v5/order/create"): private(
        _recorded(lambda call: {"orderId": "1321003749386327552", "orderLinkId": ""}),
        tag="order", forbidden=True, recorded=ORDER,
    ),
    ("POST", "/v5/order/pre-check"): private(
        _recorded(lambda call: {"orderId": "", "preImrE4": 0, "preMmrE4": 0, "postImrE4": 30,
                                "postMmrE4": 6}),
        tag="order", forbidden=True, recorded=ORDER,
    ),
    ("POST", "/v5/asset/withdraw/create"): private(
        _recorded(lambda call: {"id": "10195"}), "Wallet:Withdraw", forbidden=True,
        recorded=("coin", "amount"),
    ),
    ("POST", "/v5/asset/transfer/inter-transfer"): private(
        _recorded(lambda call: {"transferId": "42c0cfb0-6bca-c242-bc76-4e6df6cbaaaa", "status": "SUCCESS"}),
        "Wallet:AccountTransfer", forbidden=True, recorded=("coin", "amount"),
    ),
    ("POST", "/v5/user/update-api"): private(_recorded(lambda call: {}), forbidden=True, recorded=("ips",)),
    ("POST", "/v5/user/delete-api"): private(_recorded(lambda call: {}), forbidden=True),
}  # fmt: skip


def venues() -> list[Venue]:
    return [BybitVenue()]


class BybitVenue(RouteVenue):
    """api.bybit.com. ``maintenances`` are the entries /v5/system/status lists (tests add one)."""

    # error.mdx: 404 "Cannot find path", and 10017 "Route not found." (which of the two bodies an unknown
    # path gets is UNCONFIRMED; the classic-account 404 above is the observed empty one).
    not_found = SimResponse(404, _envelope(10017, "Route not found.", {}))

    def __init__(self) -> None:
        super().__init__("bybit-api", ROUTES, VENUE_KEYS)
        self.maintenances: list[dict[str, Any]] = []

    def reset(self) -> None:
        super().reset()
        self.maintenances = []

    def handle(self, request: SimRequest, clock_ms: Callable[[], int]) -> SimResponse:
        response = super().handle(request, clock_ms)
        # The rate-limited key's reset timestamp lies a little ahead of the venue clock.
        if response.headers.get("X-Bapi-Limit-Reset-Timestamp") == RESET_PLACEHOLDER:
            response.headers["X-Bapi-Limit-Reset-Timestamp"] = str(clock_ms() + RESET_MS)
        return response

    def ip_refused(self, client_ip: str) -> SimResponse:
        return error(10010, "Unmatched IP, please check your API key's bound IP addresses.")

    def permission_denied(self, permission: str) -> SimResponse:
        return error(10005, "Permission denied, please check your API key permissions.")

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        headers = request.headers
        api_key = headers.get("x-bapi-api-key", "")
        if not api_key or not headers.get("x-bapi-sign") or not headers.get("x-bapi-timestamp"):
            raise Refused(SimResponse(401, ""))  # "put authentication params in the request header"
        key = self.keys.get(api_key)
        if api_key in REGIONAL_KEYS:
            raise Refused(
                error(10003, "API key is invalid. Check whether the key and domain are matched, there are 4 "
                      "env: mainnet, testnet, mainnet-demo, testnet-demo")
            )  # fmt: skip
        if not isinstance(key, BybitKey):
            raise Refused(error(10003, "API key is invalid.", status=401))
        timestamp = headers["x-bapi-timestamp"]
        # Signed as sent; without the header the default window applies and nothing is signed for it.
        raw_window = headers.get("x-bapi-recv-window", "")
        window = int(raw_window) if raw_window.isdigit() else DEFAULT_RECV_WINDOW_MS
        if not within(timestamp, now_ms, window):
            raise Refused(
                error(10002, f"invalid request, please check your server timestamp or recv_window param. "
                      f"req_timestamp[{timestamp}],server_timestamp[{now_ms}],recv_window[{window}]")
            )  # fmt: skip
        payload = request.body if request.method == "POST" else request.query
        expected = hmac.new(
            key.secret.encode(), f"{timestamp}{api_key}{raw_window}{payload}".encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, headers["x-bapi-sign"]):
            raise Refused(error(10004, "Error sign, please check your signature generation algorithm."))
        params = dict(parse_qsl(request.query, keep_blank_values=True))
        if request.method == "POST":
            try:
                body = json.loads(request.body or "{}")
            except ValueError as bad:
                raise Refused(error(10001, "Request parameter error.")) from bad
            params |= {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
        return key, params


def within(stamp: str, now_ms: int, recv_window: int) -> bool:
    """server_time - recv_window <= timestamp < server_time + 1000 (guide.mdx)."""
    try:
        value = int(stamp)
    except ValueError:
        return False
    return now_ms - recv_window <= value < now_ms + 1000
