"""Binance venues: ``binance-spot`` (api.binance.com: /api and /sapi) and ``binance-futures``
(fapi.binance.com), and Binance's demo keys.

Sources: ../shared/reference/exchanges-next.md Part A §1 and binance-spot-api-docs (rest-api.md,
errors.md). Every signed call is checked as Binance documents it, in this order: ``X-MBX-APIKEY``
well formed (-2014) and known (-2015, HTTP 401); ``recvWindow`` at most 60000 (-1131);
``timestamp < serverTime + 1000`` and ``serverTime - timestamp <= recvWindow`` (-1021);
``signature`` = hex HMAC-SHA256 of totalParams, the query string (without ``signature``)
concatenated with the form body (-1022); then (simulator.kit) the key's IP whitelist and the
route's right, both -2015 with HTTP 401: Binance does not tell them apart from a bad key (futures
adds ", request ip: …" to the message).

The order tests validate like Binance: a limit buy far below the (simulated) market fails the
price band (spot -1013 PERCENT_PRICE_BY_SIDE, futures -4024), as the live exchange answers the
service's test orders; a rejection of the order, after the key's right was checked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from simulator.core import SimRequest, SimResponse, Venue
from simulator.demo_keys import platform_ips
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
)

# The key's rights, as the venue checks them; apiRestrictions reports them as its flags.
READ, SPOT_TRADE, FUTURES = "enableReading", "enableSpotAndMarginTrading", "enableFutures"
WITHDRAW, INTERNAL, UNIVERSAL = "enableWithdrawals", "enableInternalTransfer", "permitsUniversalTransfer"
ALL_FLAGS = (READ, WITHDRAW, INTERNAL, "enableMargin", FUTURES, UNIVERSAL, "enableVanillaOptions",
             "enableFixApiTrade", "enableFixReadOnly", SPOT_TRADE,
             "enablePortfolioMarginTrading")  # fmt: skip
TRADER = (READ, SPOT_TRADE, FUTURES)
MAX_RECV_WINDOW_MS = 60_000
KEY_FORMAT = re.compile(r"[A-Za-z0-9]{64}")
DAY_MS = 86_400_000


@dataclass(frozen=True)
class BinanceKey(VenueKey):
    permissions: tuple[str, ...] = TRADER
    # tradingAuthorityExpirationTime, in days from the venue clock; None: the field is absent.
    trading_expires_in_days: int | None = None


def error(status: int, code: int, msg: str) -> SimResponse:
    return SimResponse(status, {"code": code, "msg": msg})


REJECTED = "Invalid API-key, IP, or permissions for action."
RATE_LIMITED = rate_limited(
    {"code": -1003, "msg": "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
     "Please use WebSocket Streams for live updates to avoid polling the API."}, 42,
)  # fmt: skip
# The maintenance body ccxt quotes ({"code":1,"msg":"System is under maintenance."}); its HTTP
# status is UNCONFIRMED (503 here).
MAINTENANCE = error(503, 1, "System is under maintenance.")

# --------------------------------------------------------------------------------------------
# Demo keys: one per outcome (the README lists them; simulator/kit.DemoBook)
# --------------------------------------------------------------------------------------------

book = DemoBook(
    "binance",
    BinanceKey,
    # 64 alphanumerics, the shape Binance issues for HMAC keys and secrets
    secret=lambda key, _: hashlib.sha256(f"backfuture-demo-binance-{key}".encode()).hexdigest(),
    api_key=lambda label: ("bfdemo" + label).ljust(64, "0")[:64],
)
# fmt: off
add = book.add
add("Connected", "connected", "spot or futures",
    "Read, spot and futures trading, no withdrawal; IP-restricted (Binance reports only that the key is "
    "restricted, not the list, so the whitelist check is unknown).")
add("InvalidKey", "invalid_key", "spot or futures",
    "A key Binance does not know: every signed call answers -2015.", known=False)
add("WrongSecret", "invalid_key", "spot or futures", "The secret pasted is not the key's: -1022.",
    pasted_secret=hashlib.sha256(b"backfuture-demo-binance-pasted").hexdigest())
add("IpNotAllowed", "invalid_key", "spot or futures",
    "Whitelisted to another address: every signed call answers -2015, which Binance also gives for an "
    "unknown key, so it reads as invalid_key.", whitelist=Whitelist.ELSEWHERE)
add("NoIpRestriction", "connected", "spot or futures",
    "No IP restriction (ipRestrict false): connects with the ip_restriction_missing warning.",
    whitelist=Whitelist.NONE)
add("WhitelistOneIp", "connected", "spot or futures",
    "Whitelisted to the first platform IP only: calls pass and Binance does not report the list, so no "
    "warning can be given (whitelist check unknown).", whitelist=Whitelist.FIRST_ONLY)
add("Withdrawal", "withdrawal_enabled", "spot or futures",
    "enableWithdrawals true (Binance demands an IP restriction for it): refused, secret destroyed.",
    permissions=(*TRADER, WITHDRAW))
add("InternalTransfer", "connected", "spot or futures",
    "enableInternalTransfer true (master/sub transfers): connects with the unneeded_permission warning.",
    permissions=(*TRADER, INTERNAL))
add("UniversalTransfer", "connected", "spot or futures",
    "permitsUniversalTransfer true (between the user's own wallets): connects with the unneeded_permission "
    "warning.", permissions=(*TRADER, UNIVERSAL))
add("ReadOnly", "no_trade_permission", "spot",
    "Reading only: the spot order test answers -2015 while apiRestrictions passes, so the missing right "
    "is trading.", permissions=(READ,))
add("NoRead", "no_read_permission", "spot or futures",
    "apiRestrictions reports enableReading false and the balances answer -2015 (Binance keeps reading on "
    "for every key today; the answer is read anyway).", permissions=(SPOT_TRADE, FUTURES))
add("SpotOnly", "futures_not_enabled", "futures (or spot and futures)",
    "enableFutures false: fapi answers -2015 while apiRestrictions passes (connects fine for spot).",
    permissions=(READ, SPOT_TRADE))
add("ExpiresSoon", "connected", "spot or futures",
    "No IP restriction, spot trading right lapsing in 5 days (tradingAuthorityExpirationTime): warnings "
    "key_expires_soon and ip_restriction_missing.", whitelist=Whitelist.NONE, trading_expires_in_days=5)
add("Restricted", "account_restricted", "spot or futures",
    "The order tests answer -2010 'This account may not place or cancel orders.' (futures -4088).",
    answers={"spot_order_test": error(400, -2010, "This account may not place or cancel orders."),
             "futures_order_test": error(400, -4088, "User can not place order currently.")})
add("SymbolRestricted", "account_restricted", "spot",
    "The spot order test answers -2010 'This symbol is restricted for this account.'.",
    permissions=(READ, SPOT_TRADE),
    answers={"spot_order_test": error(400, -2010, "This symbol is restricted for this account.")})
add("RateLimited", "rate_limited", "spot or futures",
    "Signed calls answer HTTP 429 / -1003 with Retry-After: 42.", answers={"*": RATE_LIMITED})
add("Maintenance", "exchange_unavailable", "spot or futures",
    "Signed calls answer 'System is under maintenance.' (code 1).", answers={"*": MAINTENANCE})
add("ClockSkew", "clock_skew", "spot or futures",
    "Signed calls keep answering -1021 (outside the recvWindow) even after the service re-syncs.",
    answers={"*": error(400, -1021, "Timestamp for this request is outside of the recvWindow.")})
add("UnknownError", "exchange_error", "spot",
    "The spot account answers -1020 'This operation is not supported.' (kept for support).",
    permissions=(READ, SPOT_TRADE),
    answers={"account": error(400, -1020, "This operation is not supported.")})
add("Insufficient", "connected", "spot",
    "The spot order test answers -2010 'Account has insufficient balance…': a rejection of the order, so "
    "the trade right stands.", permissions=(READ, SPOT_TRADE),
    answers={"spot_order_test": error(400, -2010, "Account has insufficient balance for requested action.")})
# A spot-only connection of these also warns unneeded_permission: they may trade futures, a right of
# their own (the README's row is about the markets of the note).
book.unneeded_on_spot(
    "Connected", "ExpiresSoon", "NoIpRestriction", "NoRead", "Restricted", "WhitelistOneIp", "Withdrawal"
)
# fmt: on

DEMO_KEYS = book.demo_keys
VENUE_KEYS = book.venue_keys


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def _key_info(call: Call) -> SimResponse:
    """apiRestrictions as the docs' example: every flag, ipRestrict, createTime."""
    key: BinanceKey = call.key
    body: dict[str, Any] = {"ipRestrict": key.allowed_ips() is not None, "createTime": 1_698_645_219_000}
    body |= {flag: flag in key.permissions for flag in ALL_FLAGS}
    if key.trading_expires_in_days is not None:
        body["tradingAuthorityExpirationTime"] = call.now_ms + key.trading_expires_in_days * DAY_MS
    return SimResponse(200, body)


def _account(call: Call) -> SimResponse:
    balances = [{"asset": "USDT", "free": "1250.37000000", "locked": "0.00000000"},
                {"asset": "BTC", "free": "0.04210000", "locked": "0.00100000"}]  # fmt: skip
    return SimResponse(
        200,
        {"makerCommission": 10, "takerCommission": 10, "canTrade": True, "canWithdraw": True,
         "canDeposit": True, "brokered": False, "requireSelfTradePrevention": False,
         "updateTime": call.now_ms,
         "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": 354937868},
    )  # fmt: skip


def _futures_balance(call: Call) -> SimResponse:
    usdt = {"accountAlias": "SgsR", "asset": "USDT", "balance": "412.50000000", "crossWalletBalance": "412.5",
            "crossUnPnl": "0.0", "availableBalance": "412.5", "maxWithdrawAmount": "412.5",
            "marginAvailable": True, "updateTime": call.now_ms}  # fmt: skip
    return SimResponse(200, [usdt])


# Simulated market: BTCUSDT's average price; spot PERCENT_PRICE_BY_SIDE bids down to 0.2x, NOTIONAL 5;
# futures PERCENT_PRICE down to 0.5x of the mark, MIN_NOTIONAL 100 (exchangeInfo values, UNCONFIRMED).
BTC_PRICE = Decimal(95_000)


def _order(params: dict[str, str], futures: bool) -> SimResponse:
    missing = [n for n in ("symbol", "side", "type", "quantity", "price") if not params.get(n)]
    if missing:
        return error(
            400, -1102, f"Mandatory parameter '{missing[0]}' was not sent, was empty/null, or malformed."
        )
    if params["symbol"] != "BTCUSDT":
        return error(400, -1121, "Invalid symbol.")
    try:
        quantity, price = Decimal(params["quantity"]), Decimal(params["price"])
    except InvalidOperation:
        return error(400, -1100, "Illegal characters found in a parameter.")
    if futures:
        if price < BTC_PRICE / 2:
            return error(400, -4024, f"Limit price can't be lower than {BTC_PRICE / 2}.")
        if price * quantity < 100:
            return error(
                400, -4164, "Order's notional must be no smaller than 100 (unless you choose reduce only)."
            )
        return SimResponse(
            200, {"orderId": 0, "symbol": "BTCUSDT", "status": "NEW", "price": params["price"]}
        )
    if price < BTC_PRICE / 5:
        return error(400, -1013, "Filter failure: PERCENT_PRICE_BY_SIDE")
    if price * quantity < 5:
        return error(400, -1013, "Filter failure: NOTIONAL")
    return SimResponse(200, {})


def _recorded_order(call: Call) -> SimResponse:
    return SimResponse(200, {"symbol": call.params.get("symbol"), "orderId": len(call.venue.forbidden_calls),
                             "status": "NEW", "transactTime": call.now_ms})  # fmt: skip


def _status(call: Call) -> SimResponse:
    status = call.venue.system_status if isinstance(call.venue, BinanceVenue) else 0
    return SimResponse(200, {"status": status, "msg": "normal" if status == 0 else "system_maintenance"})


_ORDER = ("symbol", "side", "type")
SPOT_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v3/time"): clock(lambda now: {"serverTime": now}),
    ("GET", "/api/v3/ping"): public(lambda call: SimResponse(200, {})),
    ("GET", "/sapi/v1/system/status"): public(_status),
    ("GET", "/sapi/v1/account/apiRestrictions"): private(_key_info, tag="key_info"),
    ("GET", "/api/v3/account"): private(_account, READ, "account"),
    ("POST", "/api/v3/order/test"): private(lambda c: _order(c.params, False), SPOT_TRADE, "spot_order_test"),
    # Served and recorded, so tests can prove the service never calls them.
    ("POST", "/api/v3/order"): private(_recorded_order, SPOT_TRADE, "order", forbidden=True, recorded=_ORDER),
    ("POST", "/sapi/v1/capital/withdraw/apply"): private(
        lambda c: SimResponse(200, {"id": "7213fea8e94b4a5593d507237e5a555b"}), WITHDRAW,
        forbidden=True, recorded=("coin", "amount")),
    ("POST", "/sapi/v1/asset/transfer"): private(
        lambda c: SimResponse(200, {"tranId": 13526853623}), UNIVERSAL, forbidden=True,
        recorded=("type", "asset")),
}  # fmt: skip
FUTURES_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/fapi/v1/time"): clock(lambda now: {"serverTime": now}),
    ("GET", "/fapi/v1/ping"): public(lambda call: SimResponse(200, {})),
    ("GET", "/fapi/v3/balance"): private(_futures_balance, FUTURES, "futures_balance"),
    ("POST", "/fapi/v1/order/test"): private(lambda c: _order(c.params, True), FUTURES, "futures_order_test"),
    ("POST", "/fapi/v1/order"): private(_recorded_order, FUTURES, "order", forbidden=True, recorded=_ORDER),
    ("POST", "/fapi/v1/leverage"): private(
        lambda c: SimResponse(200, {"leverage": c.params.get("leverage")}), FUTURES, forbidden=True,
        recorded=("symbol", "leverage")),
}  # fmt: skip


def venues(keys: dict[str, BinanceKey] | None = None) -> list[Venue]:
    known = VENUE_KEYS if keys is None else keys
    return [
        BinanceVenue("binance-spot", SPOT_ROUTES, known),
        BinanceVenue("binance-futures", FUTURES_ROUTES, known),
    ]


def _hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _without_signature(part: str) -> tuple[str, str | None]:
    """``part`` minus its ``signature=…`` parameter, and the signature."""
    kept, found = [], None
    for item in part.split("&") if part else []:
        if item.startswith("signature="):
            found = item[len("signature=") :]
        else:
            kept.append(item)
    return "&".join(kept), found


class BinanceVenue(RouteVenue):
    """One Binance host; ``system_status`` (0 normal, 1 maintenance) drives /sapi/v1/system/status."""

    not_found = SimResponse(
        404, "<html><body><h1>404 Not Found</h1></body></html>", {"Content-Type": "text/html"}
    )

    def __init__(self, name: str, routes: dict[tuple[str, str], Route], keys: dict[str, BinanceKey]) -> None:
        super().__init__(name, routes, keys)
        self.system_status = 0

    def reset(self) -> None:
        super().reset()
        self.system_status = 0

    def _rejected(self, client_ip: str) -> SimResponse:
        suffix = f", request ip: {client_ip}" if self.name == "binance-futures" else "."
        return error(401, -2015, REJECTED.rstrip(".") + suffix)

    def ip_refused(self, client_ip: str) -> SimResponse:
        return self._rejected(client_ip)

    def permission_denied(self, permission: str) -> SimResponse:
        return self._rejected(platform_ips()[0])

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        api_key = request.headers.get("x-mbx-apikey", "")
        if not KEY_FORMAT.fullmatch(api_key):
            raise Refused(error(401, -2014, "API-key format invalid."))
        key = self.keys.get(api_key)
        if key is None:
            raise Refused(self._rejected(request.client_ip))
        query, signature = _without_signature(request.query)
        body, body_signature = _without_signature(request.body)
        params = dict(parse_qsl(body, keep_blank_values=True)) | dict(
            parse_qsl(query, keep_blank_values=True)
        )
        try:
            recv_window = int(params.get("recvWindow", "5000"))
        except ValueError:
            raise Refused(error(400, -1100, "Illegal characters found in parameter 'recvWindow'.")) from None
        if recv_window > MAX_RECV_WINDOW_MS:
            raise Refused(error(400, -1131, "recvWindow must be less than 60000"))
        try:
            stamp = int(params.get("timestamp", ""))
        except ValueError:
            raise Refused(error(400, -1102, "Mandatory parameter 'timestamp' was not sent.")) from None
        if not (stamp < now_ms + 1000 and now_ms - stamp <= recv_window):
            ahead = stamp >= now_ms + 1000
            message = (
                "Timestamp for this request was 1000ms ahead of the server's time."
                if ahead
                else "Timestamp for this request is outside of the recvWindow."
            )
            raise Refused(error(400, -1021, message))
        sent = (signature or body_signature or "").lower()  # hex is case-insensitive
        if not hmac.compare_digest(_hmac_hex(key.secret, query + body), sent):
            raise Refused(error(400, -1022, "Signature for this request is not valid."))
        return key, params
