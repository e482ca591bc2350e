"""MEXC venues: ``mexc-spot`` (API v3) and ``mexc-futures`` (contract API v1), and MEXC's demo keys.

Sources: ../shared/reference/exchanges.md section 1 (1.2 signing, 1.3 endpoints, 1.4 spot codes,
1.5 futures). The venues check what MEXC documents, the way MEXC documents it:

* spot: ``X-MEXC-APIKEY``; HMAC-SHA256 hex over totalParams = query string + body (no ``&``
  between), with the ``signature`` parameter taken out of whichever part carried it; accepted when
  ``timestamp < serverTime + 1000`` and ``serverTime - timestamp <= recvWindow`` (default 5000,
  at most 60000);
* futures: headers ``ApiKey``, ``Request-Time``, ``Signature`` = hex HMAC-SHA256(accessKey +
  Request-Time + paramString), ±10 s unless ``Recv-Window`` says otherwise.

Answers use MEXC's shapes and error bodies (``{"code":700002,"msg":"Signature for this request is
not valid."}`` with HTTP 400; contract errors as ``{"success":false,"code":…,"message":…}``).
Two calls the service must never make are served and recorded (simulator.kit): ``POST
/api/v3/order`` (a real order) and ``POST /api/v3/apiKeyInfo`` (edits the key's IP list).

They tell the truth the review of section 6 found about the live exchange: majors are closed to
API orders (10007, #1), ``defaultSymbols`` and ``selfSymbols`` list what is open (#1), the
contract detail reports ``"apiAllowed": false`` unless ``SimConfig.mexc_futures_api_allowed`` (#3),
``SPOT_WITHDRAW_READ`` is not a withdrawal right (#2), apiKeyInfo may be missing (#4), 401 may
mean "No authority" (#6), and 730100, 140002, 10098 are account states (#5).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
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
    rate_limited,
    within,
)

SPOT = ("SPOT_ACCOUNT_READ", "SPOT_DEAL_READ", "SPOT_DEAL_WRITE")
FUTURES = ("CONTRACT_ACCOUNT_READ", "CONTRACT_DEAL_READ", "CONTRACT_DEAL_WRITE")


@dataclass(frozen=True)
class MexcKey(VenueKey):
    permissions: tuple[str, ...] = SPOT
    remaining_validity_days: int | None = None  # apiKeyInfo's remainingValidity; None: IP-bound, no expiry
    self_symbols: tuple[str, ...] = ()  # GET selfSymbols; () = none of its own: defaultSymbols apply
    banned_symbols: tuple[str, ...] = ()  # pairs MEXC bans for this key's API trading (70011)


def spot_error(code: int, msg: str, status: int = 400) -> SimResponse:
    return SimResponse(status, {"code": code, "msg": msg})


def futures_error(code: int, message: str, status: int = 200) -> SimResponse:
    # The contract API reports business errors in the body, with HTTP 200.
    return SimResponse(status, {"success": False, "code": code, "message": message})


def _account_state(code: int, msg: str) -> dict[str, SimResponse]:
    """An account-level refusal: the spot account and every order answer it (apiKeyInfo does not)."""
    return {"account": spot_error(code, msg), "order": spot_error(code, msg)}


# Section 6 #1: majors are closed to API orders; the live defaultSymbols (a Dec 2025 recording)
# lists 1,991 symbols, MXUSDT among them and BTCUSDT not. Samples of both, not the live lists;
# which majors besides BTCUSDT are closed is UNCONFIRMED.
CLOSED_TO_API = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT")
DEFAULT_SYMBOLS = ("MXUSDT", "KASUSDT", "PEPEUSDT", "SUIUSDT", "TRXUSDT")
SPOT_SYMBOLS = frozenset(CLOSED_TO_API + DEFAULT_SYMBOLS)
CONTRACTS = ("BTC_USDT", "ETH_USDT")

FUTURES_OPEN = {"mexc_futures_api_allowed": True}
NO_AUTHORITY = SimResponse(401, {"code": 401, "msg": "No authority"})  # section 1.4, 6 #6
NOT_FOUND_PAGE = "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>Not Found</body></html>"

# The maintenance body is quoted in a ccxt comment (section 1.4); 801 from ccxt's futures table (1.5).
MAINTENANCE = {
    "mexc-spot": SimResponse(
        200,
        {
            "code": 500,
            "message": "Under maintenance, please try again later",
            "announcement": "https://www.mexc.com/support/articles/17827791510263",
        },
    ),
    "mexc-futures": futures_error(801, "System under maintenance"),
}
RATE_LIMITED = {
    "mexc-spot": rate_limited({"code": 429, "msg": "Too Many Requests"}, 30),
    "mexc-futures": rate_limited(
        {"success": False, "code": 510, "message": "Excessive frequency of requests"}, 30
    ),
}

# --------------------------------------------------------------------------------------------
# Demo keys: one per outcome (the README lists them; simulator/kit.DemoBook)
# --------------------------------------------------------------------------------------------

book = DemoBook(
    "mexc",
    MexcKey,
    # a stable 32-hex-character secret, the shape MEXC issues
    secret=lambda key, _: hashlib.sha256(f"backfuture-demo-mexc-{key}".encode()).hexdigest()[:32],
)
# fmt: off
add = book.add
add("mx0demoConnectedSpot", "connected", "spot",
    "Spot read and trade, whitelisted to the platform's IPs (an order test on BTCUSDT would answer 10007: "
    "majors are closed to API orders).")
add("mx0demoConnectedFutures", "connected", "spot, futures or both",
    "Spot and futures read and trade, whitelisted to the platform's IPs, once MEXC allows futures "
    "orders by API again.", permissions=SPOT + FUTURES, sim_config=FUTURES_OPEN)
add("mx0demoNoReadPermission", "no_read_permission", "spot",
    "Spot trading without SPOT_ACCOUNT_READ: /api/v3/account answers 700007.",
    permissions=("SPOT_DEAL_READ", "SPOT_DEAL_WRITE"))
add("mx0demoNoTradePermission", "no_trade_permission", "spot",
    "Read-only key: the order test answers 700007.", permissions=("SPOT_ACCOUNT_READ", "SPOT_DEAL_READ"))
add("mx0demoFuturesNotEnabled", "futures_not_enabled", "futures (or spot and futures)",
    "Spot-only key: the futures account answers 701.", sim_config=FUTURES_OPEN)
add("mx0demoWithdrawEnabled", "withdrawal_enabled", "spot",
    "apiKeyInfo lists SPOT_WITHDRAW_WRITE (it can withdraw): the key is refused and its secret destroyed.",
    permissions=(*SPOT, "SPOT_WITHDRAW_READ", "SPOT_WITHDRAW_WRITE"))
add("mx0demoIpNotAllowed", "ip_not_allowed", "spot",
    "Whitelisted to another address only: every signed call answers 700006.", whitelist=Whitelist.ELSEWHERE)
add("mx0demoNoIpRestriction", "connected", "spot",
    "No IP whitelist (expires in 80 days): connected with warning ip_restriction_missing.",
    whitelist=Whitelist.NONE, remaining_validity_days=80)
add("mx0demoWhitelistMismatch", "connected", "spot",
    "Whitelisted to the first platform IP only: connected with warning ip_whitelist_mismatch.",
    whitelist=Whitelist.FIRST_ONLY)
add("mx0demoAccountRestricted", "account_restricted", "spot",
    "The account is frozen: account and order test answer 60005.",
    answers=_account_state(60005, "your account is abnormal"))
add("mx0demoMaintenance", "exchange_unavailable", "spot or futures",
    'Signed calls answer the maintenance body {"code":500,"message":"Under maintenance, …"}.',
    permissions=SPOT + FUTURES, answers=MAINTENANCE)
add("mx0demoRateLimited", "rate_limited", "spot or futures",
    "Signed calls answer HTTP 429 with Retry-After: 30.", permissions=SPOT + FUTURES, answers=RATE_LIMITED)
add("mx0demoClockSkew", "clock_skew", "spot or futures",
    "Signed calls keep rejecting the timestamp (700003; futures: 513) even after the service re-syncs.",
    permissions=SPOT + FUTURES, answers={
        "mexc-spot": spot_error(700003, "Timestamp for this request is outside of the recvWindow."),
        "mexc-futures": futures_error(513, "Invalid request (serves time more or less than 10s)"),
    })
add("mx0demoUnknownError", "exchange_error", "spot",
    "The account call answers code 26 (not classified by the platform; the code is kept for support).",
    answers=_account_state(26, "operation not allowed"))
add("mx0demoExpiresSoon", "connected", "spot",
    "No IP whitelist and 3 days of validity left: warnings key_expires_soon and ip_restriction_missing.",
    whitelist=Whitelist.NONE, remaining_validity_days=3)
add("mx0demoKeyInfoRefused", "connected", "spot",
    "apiKeyInfo answers 700007, so withdraw rights cannot be read: warning withdraw_unverifiable.",
    answers={"key_info": spot_error(700007, "No permission to access the endpoint.")})
add("mx0demoFuturesUnneeded", "connected", "spot",
    "Futures trading enabled on a spot-only connection: warning unneeded_permission.",
    permissions=SPOT + FUTURES)
add("mx0demoFuturesApiClosed", "futures_api_unavailable", "futures (or spot and futures)",
    "Futures rights, but MEXC's contract detail says apiAllowed false (as live today); spot alone connects.",
    permissions=SPOT + FUTURES)
add("mx0demoSelfSymbols", "connected", "spot",
    "The key's own API symbols (selfSymbols: KASUSDT); other pairs answer 10007.", self_symbols=("KASUSDT",))
add("mx0demoPairBanned", "connected", "spot",
    "Every pair is banned for this key's API trading (70011): a symbol answer, so the trade right stands.",
    banned_symbols=tuple(sorted(SPOT_SYMBOLS)))
add("mx0demoWithdrawRead", "connected", "spot",
    "apiKeyInfo lists SPOT_WITHDRAW_READ only (withdrawal history, no withdrawing): connected.",
    permissions=(*SPOT, "SPOT_WITHDRAW_READ"))
add("mx0demoKeyInfoMissing", "connected", "spot",
    "GET apiKeyInfo answers a 404 HTML page (undocumented endpoint gone): warning withdraw_unverifiable.",
    answers={"key_info": SimResponse(404, NOT_FOUND_PAGE, {"Content-Type": "text/html"})})
add("mx0demoUnknownPermission", "connected", "spot",
    "apiKeyInfo lists a permission the platform does not know (SPOT_COPYTRADING_WRITE, invented): "
    "warning withdraw_unverifiable.", permissions=(*SPOT, "SPOT_COPYTRADING_WRITE"),
    unknown_permissions=("SPOT_COPYTRADING_WRITE",))
add("mx0demoNoAuthority", "connected", "spot",
    "apiKeyInfo answers HTTP 401 \"No authority\" while the account and order test pass: not invalid_key, "
    "warning withdraw_unverifiable.", answers={"key_info": NO_AUTHORITY})
add("mx0demoUnusualStatus", "account_restricted", "spot",
    "Account and order test answer 730100 \"Unusual user status\".",
    answers=_account_state(730100, "Unusual user status"))
add("mx0demoSubForbidden", "account_restricted", "spot",
    "A forbidden sub-account: account and order test answer 140002.",
    answers=_account_state(140002, "sub account is forbidden"))
add("mx0demoRiskControl", "account_restricted", "spot",
    "The order test answers 10098 (risk control); reading works.",
    answers={"order": spot_error(10098, "risk control system detected abnormal")})
add("mx0demoInvalidKey", "invalid_key", "spot or futures", "A key MEXC does not know: 10072 (futures: 401).",
    known=False)
add("mx0demoWrongSecret", "invalid_key", "spot or futures",
    "A known key with the wrong secret: 700002 (futures: 602).",
    pasted_secret=hashlib.sha256(b"backfuture-demo-mexc-pasted").hexdigest()[:32])
# A spot-only connection of these also warns unneeded_permission: they may trade futures, a right of
# their own (the README's row is about the markets of the note).
book.unneeded_on_spot("mx0demoConnectedFutures")
# fmt: on

DEMO_KEYS = book.demo_keys
VENUE_KEYS = book.venue_keys


def venues(keys: dict[str, MexcKey] | None = None) -> list[Venue]:
    known = VENUE_KEYS if keys is None else keys
    return [MexcSpotVenue(known), MexcFuturesVenue(known)]


def _hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------
# Spot (section 1.2 signing, 1.3 endpoints, 1.4 codes)
# --------------------------------------------------------------------------------------------

MIN_NOTIONAL_USDT = Decimal(1)
NO_PERMISSION = "No permission to access the endpoint."


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


def _account(call: Call) -> SimResponse:
    balances = [
        {"asset": "USDT", "free": "1250.37", "locked": "0"},
        {"asset": "BTC", "free": "0.0421", "locked": "0.001"},
    ]
    return SimResponse(
        200,
        {"makerCommission": None, "takerCommission": None, "buyerCommission": None, "sellerCommission": None,
         "canTrade": True, "canWithdraw": True,  # the account's state, not the key's scope (section 1.3)
         "canDeposit": True, "updateTime": None, "accountType": "SPOT", "balances": balances,
         "permissions": ["SPOT"]},
    )  # fmt: skip


def _key_info_body(key: MexcKey) -> dict[str, Any]:
    """The third-party recorded shape of GET apiKeyInfo (section 1.3; UNCONFIRMED by MEXC's docs)."""
    body: dict[str, Any] = {
        "note": "backfuture demo",
        "accessKey": key.api_key,
        "createTime": "2026-09-14T18:53:36.000+00:00",
        "permissions": ",".join(key.permissions),
        "ipWhiteList": key.reported_ips(),
        "status": "VALID",
    }
    if key.remaining_validity_days is not None:
        body["remainingValidity"] = key.remaining_validity_days
    return body


def _key_info(call: Call) -> SimResponse:
    if call.params.get("accessKey", call.key.api_key) != call.key.api_key:
        raise Refused(spot_error(700007, NO_PERMISSION))
    return SimResponse(200, _key_info_body(call.key))


def _validated_order(key: MexcKey, params: dict[str, str]) -> dict[str, str]:
    """Checked after the permission (700007) and the account state, as MEXC orders them (section 6
    #1). Which of 70011 and 10007 comes first, and that a key's own symbols close the others to it,
    is UNCONFIRMED."""
    missing = [name for name in ("symbol", "side", "type") if not params.get(name)]
    if missing:
        raise Refused(spot_error(700004, f"Mandatory parameter '{missing[0]}' was not sent."))
    symbol = params["symbol"]
    if symbol not in SPOT_SYMBOLS:
        raise Refused(spot_error(30014, "Invalid symbol."))
    if symbol in key.banned_symbols:
        raise Refused(spot_error(70011, "Pair user ban trade apikey"))
    if symbol not in (key.self_symbols or DEFAULT_SYMBOLS):
        raise Refused(spot_error(10007, "symbol not support api"))
    if params["type"] == "LIMIT":
        try:
            notional = Decimal(params["quantity"]) * Decimal(params["price"])
        except (KeyError, InvalidOperation) as error:
            raise Refused(spot_error(400, "price and quantity must be positive")) from error
        if notional < MIN_NOTIONAL_USDT:
            raise Refused(spot_error(30002, "Minimum transaction volume cannot be less than:1USDT"))
    return params


def _order_test(call: Call) -> SimResponse:
    _validated_order(call.key, call.params)
    return SimResponse(200, {})


def _order(call: Call) -> SimResponse:
    order = _validated_order(call.key, call.params)
    return SimResponse(
        200,
        {"symbol": order["symbol"], "orderId": f"C02__{len(call.venue.forbidden_calls):012d}",
         "orderListId": -1, "price": order.get("price", ""), "origQty": order.get("quantity", ""),
         "type": order["type"], "side": order["side"], "transactTime": call.now_ms},
    )  # fmt: skip


SPOT_ROUTES = {
    ("GET", "/api/v3/time"): clock(lambda now: {"serverTime": now}),
    ("GET", "/api/v3/ping"): public(lambda call: SimResponse(200, {})),
    # Section 6 #1: public, weight 1; the key's own list needs SPOT_ACCOUNT_READ (section 1.3).
    ("GET", "/api/v3/defaultSymbols"): public(
        lambda call: SimResponse(200, {"code": 200, "data": list(DEFAULT_SYMBOLS), "msg": None})
    ),
    ("GET", "/api/v3/selfSymbols"): private(
        lambda call: SimResponse(200, {"code": 200, "data": list(call.key.self_symbols)}), "SPOT_ACCOUNT_READ"
    ),
    ("GET", "/api/v3/account"): private(_account, "SPOT_ACCOUNT_READ", "account"),
    ("GET", "/api/v3/apiKeyInfo"): private(_key_info, tag="key_info"),
    ("POST", "/api/v3/order/test"): private(_order_test, "SPOT_DEAL_WRITE", "order"),
    ("POST", "/api/v3/order"): private(
        _order, "SPOT_DEAL_WRITE", "order", forbidden=True, recorded=("symbol", "side", "type")
    ),
    # Changes the key's IP whitelist on the real exchange: recorded, answered, changes nothing here.
    ("POST", "/api/v3/apiKeyInfo"): private(
        lambda call: SimResponse(200, _key_info_body(call.key)),
        forbidden=True,
        recorded=("apiKey", "ipWhiteList"),
    ),
}


class MexcSpotVenue(RouteVenue):
    def __init__(self, keys: dict[str, MexcKey]) -> None:
        super().__init__("mexc-spot", SPOT_ROUTES, keys)

    @property
    def orders_placed(self) -> list[dict[str, str]]:
        return self.recorded("/api/v3/order")

    @property
    def key_changes(self) -> list[dict[str, str]]:
        return self.recorded("/api/v3/apiKeyInfo")

    def ip_refused(self, client_ip: str) -> SimResponse:
        return spot_error(700006, f"IP [{client_ip}] not in the ip white list")

    def permission_denied(self, permission: str) -> SimResponse:
        return spot_error(700007, NO_PERMISSION)

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        api_key = request.headers.get("x-mexc-apikey", "")
        if not api_key:
            raise Refused(spot_error(400, "api key required"))
        query, signature = _without_signature(request.query)
        if request.body.lstrip().startswith("{"):
            try:
                params = {k: str(v) for k, v in json.loads(request.body).items()}
            except (ValueError, AttributeError) as error:
                raise Refused(spot_error(700013, "Invalid content Type.")) from error
            body = request.body
        else:
            body, body_signature = _without_signature(request.body)
            params = dict(parse_qsl(body, keep_blank_values=True))
            signature = signature or body_signature
        params |= dict(parse_qsl(query, keep_blank_values=True))  # the query wins over the body
        key = self.keys.get(api_key)
        if key is None:
            raise Refused(spot_error(10072, "Api key info invalid"))
        if not signature:
            raise Refused(
                spot_error(
                    700004, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
                )
            )
        outside = spot_error(700003, "Timestamp for this request is outside of the recvWindow.")
        try:
            recv_window = int(params.get("recvWindow", "5000"))
        except ValueError as error:
            raise Refused(outside) from error
        if recv_window > 60000:
            raise Refused(spot_error(700005, "recvWindow must less than 60000"))
        if not within(params.get("timestamp"), now_ms, behind_ms=recv_window, ahead_ms=999):
            raise Refused(outside)
        if not hmac.compare_digest(_hmac_hex(key.secret, query + body), signature):
            raise Refused(spot_error(700002, "Signature for this request is not valid."))
        return key, params


# --------------------------------------------------------------------------------------------
# Futures (contract API, section 1.5)
# --------------------------------------------------------------------------------------------

FUTURES_DEFAULT_WINDOW_MS = 10_000


def _recv_window_ms(raw: str | None) -> int:
    """The Recv-Window header, whose unit is UNCONFIRMED: the docs say seconds (max 60), the
    official Go demo sends milliseconds (max 60000). Small values are read as seconds."""
    try:
        value = int(raw) if raw is not None else FUTURES_DEFAULT_WINDOW_MS
    except ValueError:
        return FUTURES_DEFAULT_WINDOW_MS
    return min(value * 1000 if value <= 60 else value, 60_000)


def _param_strings(request: SimRequest) -> set[str]:
    """The parameter strings a correct client may have signed: the raw POST body; for GET the
    parameters sorted by name, as sent (percent-encoded, the Java example) or decoded (the Go demo)."""
    if request.method in ("POST", "PUT"):
        return {request.body}
    sent = sorted(part for part in request.query.split("&") if part)
    decoded = sorted(parse_qsl(request.query, keep_blank_values=True))
    return {"&".join(sent), "&".join(f"{k}={v}" for k, v in decoded)}


def _assets(call: Call) -> SimResponse:
    usdt = {"currency": "USDT", "positionMargin": 0, "availableBalance": 412.5, "cashBalance": 412.5,
            "frozenBalance": 0, "equity": 412.5, "unrealized": 0, "bonus": 0}  # fmt: skip
    return SimResponse(200, {"success": True, "code": 0, "data": [usdt]})


def _contract(symbol: str, api_allowed: bool) -> dict[str, Any]:
    base, quote = symbol.split("_")
    return {"symbol": symbol, "displayNameEn": f"{base}{quote} PERPETUAL", "baseCoin": base,
            "quoteCoin": quote, "settleCoin": quote, "contractSize": 0.0001 if base == "BTC" else 0.01,
            "minVol": 1, "maxVol": 1000000, "state": 0, "apiAllowed": api_allowed}  # fmt: skip


def _contract_detail(call: Call) -> SimResponse:
    """Section 6 #3 (the live recording has "apiAllowed": false on BTC_USDT). One symbol answers an
    object, none a list; the answer to an unknown symbol is UNCONFIRMED."""
    allowed = call.request.config.mexc_futures_api_allowed
    symbol = dict(parse_qsl(call.request.query)).get("symbol")
    if symbol is None:
        return SimResponse(
            200, {"success": True, "code": 0, "data": [_contract(s, allowed) for s in CONTRACTS]}
        )
    if symbol not in CONTRACTS:
        return futures_error(1001, "contract not exists")
    return SimResponse(200, {"success": True, "code": 0, "data": _contract(symbol, allowed)})


FUTURES_ROUTES = {
    ("GET", "/api/v1/contract/ping"): clock(lambda now: {"success": True, "code": 0, "data": now}),
    ("GET", "/api/v1/contract/detail"): public(_contract_detail),
    ("GET", "/api/v1/private/account/assets"): private(_assets, "CONTRACT_ACCOUNT_READ", "futures_account"),
}


class MexcFuturesVenue(RouteVenue):
    not_found = futures_error(404, "Not Found", status=404)

    def __init__(self, keys: dict[str, MexcKey]) -> None:
        super().__init__("mexc-futures", FUTURES_ROUTES, keys)

    def ip_refused(self, client_ip: str) -> SimResponse:
        return futures_error(406, "Accessed IP is not in the whitelist")

    def permission_denied(self, permission: str) -> SimResponse:
        return futures_error(701, "Account read permission is required")

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        key = self.keys.get(request.headers.get("apikey", ""))
        if key is None:
            raise Refused(futures_error(401, "Not logged in or login has expired"))
        request_time = request.headers.get("request-time", "")
        window = _recv_window_ms(request.headers.get("recv-window"))
        if not within(request_time, now_ms, behind_ms=window, ahead_ms=window):
            raise Refused(
                futures_error(513, "Invalid request (for open api serves time more or less than 10s)")
            )
        signature = request.headers.get("signature", "")
        signed = {_hmac_hex(key.secret, f"{key.api_key}{request_time}{p}") for p in _param_strings(request)}
        if not any(hmac.compare_digest(s, signature) for s in signed):
            raise Refused(futures_error(602, "Signature verification failed!"))
        return key, dict(parse_qsl(request.query, keep_blank_values=True))
