"""Gate.io venue: ``gateio-api`` (api.gateio.ws, API v4: spot and USDT perpetuals on one host), and
Gate.io's demo keys.

Sources: ../shared/reference/exchanges-next.md Part B §1, read against the official API v4 docs
(Label list, APIv4 Permissions, signed request requirements, signature string generation, FAQ) and
gate/gateapi-python (AccountKeyInfo.md, AccountDetail.md, SystemTime.md). The gateway checks, in
this order (the order between the key, the timestamp and the signature is UNCONFIRMED):

* headers ``KEY``, ``Timestamp``, ``SIGN`` present (else 401 MISSING_REQUIRED_HEADER);
* the key known here (else 401 INVALID_KEY "Invalid key provided"; a futures TestNet key too);
* ``|Timestamp - server time| <= 60 s`` (else REQUEST_EXPIRED with the live message);
* ``SIGN`` = hex HMAC-SHA512(secret, METHOD\\npath\\ndecoded query\\nhex SHA512(body)\\nTimestamp),
  else INVALID_SIGNATURE "Signature mismatch";
* then (simulator.kit) the IP whitelist (IP_FORBIDDEN) and the route's scope (403 FORBIDDEN).

Errors are ``{"label", "message"}``; successes bare JSON. The HTTP status of REQUEST_EXPIRED and
IP_FORBIDDEN is UNCONFIRMED (401 here: the docs' "401 on authentication failure").
Orders (cancel-all included), withdrawals, transfers and key changes are served and recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from simulator.core import SimRequest, SimResponse, Venue
from simulator.kit import Call, DemoBook, Refused, RouteVenue, VenueKey, Whitelist, clock, private

WINDOW_S = 60
RESET_S = 3  # how far ahead the rate-limited key's X-Gate-RateLimit-Reset-Timestamp lies
RESET_PLACEHOLDER = "{reset}"
RW, RO = False, True  # read_only flags
TRADE: tuple[tuple[str, bool], ...] = (("spot", RW), ("futures", RW), ("wallet", RO))
DAY_S = 86_400


@dataclass(frozen=True)
class GateKey(VenueKey):
    perms: tuple[tuple[str, bool], ...] = TRADE  # (scope, read_only), as main_keys lists them
    state: int = 1  # 1 normal, 2 locked, 3 frozen
    mode: int = 1  # 1 classic, 2 legacy unified
    created_days_ago: int = 30
    futures_opened: bool = True  # False: USER_NOT_FOUND on /futures/usdt/accounts
    # "object", "array" (one entry), "several" (two keys listed), "several_named" (two keys listed,
    # each naming its key string, as a third-party SDK types the key field; UNCONFIRMED)
    main_keys_shape: str = "object"
    sub_account: bool = False  # main_keys refused (FORBIDDEN) for a sub-account key (UNCONFIRMED)


def error(label: str, message: str, status: int = 400, **headers: str) -> SimResponse:
    return SimResponse(status, {"label": label, "message": message}, dict(headers))


# --------------------------------------------------------------------------------------------
# Demo keys: one per outcome (the README lists them; simulator/kit.DemoBook)
# --------------------------------------------------------------------------------------------


def _scopes(perms: tuple[tuple[str, bool], ...]) -> tuple[str, ...]:
    return tuple(name for name, _ in perms)


book = DemoBook(
    "gateio",
    GateKey,
    # 64 hex characters, the length of the secrets Gate issues (keys are 32)
    secret=lambda key, _: hashlib.sha256(f"backfuture-demo-gateio-{key}".encode()).hexdigest(),
    api_key=lambda label: f"gateDemo{label}",
)
RATE_LIMITED = error("TOO_MANY_REQUESTS", "Request Rate limit Exceeded", 429,
                     **{"X-Gate-RateLimit-Limit": "150", "X-Gate-RateLimit-Requests-Remain": "0",
                        "X-Gate-RateLimit-Reset-Timestamp": RESET_PLACEHOLDER})  # fmt: skip


def _balances(response: SimResponse) -> dict[str, SimResponse]:
    return {"spot_accounts": response, "futures_accounts": response}


def add(label: str, outcome: str, markets: str, description: str, **venue: Any) -> GateKey:
    """The kit's permission check reads the scopes the key holds (read-only or read-write)."""
    venue.setdefault("permissions", _scopes(venue.get("perms", TRADE)))
    return book.add(label, outcome, markets, description, **venue)


# fmt: off
add("Connected", "connected", "spot or futures",
    "Spot and futures read-write, wallet read-only; bound to the platform's IPs.")
add("InvalidKey", "invalid_key", "spot or futures",
    "A key Gate.io does not know: INVALID_KEY with HTTP 401.", known=False)
add("TestnetKey", "invalid_key", "spot or futures",
    "A futures TestNet key: unknown on api.gateio.ws, INVALID_KEY.", known=False)
add("WrongSecret", "invalid_key", "spot or futures",
    "A known key with the wrong secret: INVALID_SIGNATURE (Signature mismatch).",
    pasted_secret=hashlib.sha256(b"backfuture-demo-gateio-pasted").hexdigest())
add("IpNotAllowed", "ip_not_allowed", "spot or futures",
    "Bound to another IP: every signed call answers IP_FORBIDDEN.", whitelist=Whitelist.ELSEWHERE)
add("NoIpBound", "connected", "spot or futures",
    "No IP bound, created 10 days ago (valid 90 days): connected with warning ip_restriction_missing.",
    whitelist=Whitelist.NONE, created_days_ago=10)
add("IpMismatch", "connected", "spot or futures",
    "Bound to the first platform IP only: connected with warning ip_whitelist_mismatch.",
    whitelist=Whitelist.FIRST_ONLY)
add("WithdrawRight", "withdrawal_enabled", "spot or futures",
    "Wallet scope read-write (transfers and withdrawals): the key is refused and its secret destroyed.",
    perms=(("spot", RW), ("futures", RW), ("wallet", RW)))
add("OtherProducts", "connected", "spot or futures",
    "Earn and delivery scopes read-write, which the platform never uses: warning unneeded_permission.",
    perms=(*TRADE, ("earn", RW), ("delivery", RW)))
add("ReadOnlyKey", "no_trade_permission", "spot",
    "Spot and futures scopes read-only.", perms=(("spot", RO), ("futures", RO), ("wallet", RO)))
add("SpotOnlyKey", "futures_not_enabled", "futures (or spot and futures)",
    "Spot scope only: the futures account answers FORBIDDEN (spot alone connects).",
    perms=(("spot", RW), ("wallet", RO)))
add("NoFuturesAccount", "futures_not_enabled", "futures (or spot and futures)",
    "Futures scope read-write but no futures account opened: USER_NOT_FOUND.", futures_opened=False)
add("NoReadRight", "no_read_permission", "spot",
    "Futures scope read-only, no spot scope: the spot accounts answer FORBIDDEN.", perms=(("futures", RO),))
add("ExpiresSoon", "connected", "spot or futures",
    "No IP bound, created 87 days ago: warnings key_expires_soon and ip_restriction_missing.",
    whitelist=Whitelist.NONE, created_days_ago=87)
add("AccountLocked", "account_restricted", "spot or futures",
    "Every signed call answers ACCOUNT_LOCKED.", answers={"*": error("ACCOUNT_LOCKED",
    "Account is locked", 403)})
add("RateLimited", "rate_limited", "spot or futures",
    "Signed calls answer 429 TOO_MANY_REQUESTS with X-Gate-RateLimit-Reset-Timestamp 3 s ahead.",
    answers={"*": RATE_LIMITED})
add("Maintenance", "exchange_unavailable", "spot or futures",
    "Signed calls answer 503 TOO_BUSY (Server is too busy at the moment).",
    answers={"*": error("TOO_BUSY", "Server is too busy at the moment", 503)})
add("ClockSkew", "clock_skew", "spot or futures",
    "Signed calls keep answering REQUEST_EXPIRED even after the service re-syncs.",
    answers={"*": error("REQUEST_EXPIRED", "gap between request Timestamp and server time exceeds 60",
                        401)})
add("UnknownError", "exchange_error", "spot or futures",
    "The balance reads answer INVALID_PARAM_VALUE; the label is kept for support.",
    answers=_balances(error("INVALID_PARAM_VALUE", "Invalid parameter value")))
add("ArrayShape", "connected", "spot or futures",
    "main_keys answers an array holding this one key (the shape a third-party SDK types): read alike.",
    main_keys_shape="array")
add("SubAccount", "connected", "spot",
    "A sub-account key: main_keys answers FORBIDDEN, account/detail gives the whitelist but no "
    "permissions: warning withdraw_unverifiable.", sub_account=True)
add("SeveralKeys", "connected", "spot",
    "main_keys lists two keys, so the tested one is not known: account/detail is read, warning "
    "withdraw_unverifiable.", main_keys_shape="several")
add("UnknownScope", "connected", "spot or futures",
    "Lists a scope the platform does not know (futurepay): warning withdraw_unverifiable.",
    perms=(*TRADE, ("futurepay", RW)), unknown_permissions=("futurepay",))
add("SeveralKeysNamed", "connected", "spot or futures",
    "main_keys lists two keys, each with its key string: the tested key's entry is read (the other "
    "one may withdraw), so every fact is known.", main_keys_shape="several_named")
add("KeyLocked", "account_restricted", "spot or futures",
    "main_keys reports state 2 (locked) while every call passes: account_restricted.", state=2)
add("KeyFrozen", "account_restricted", "spot or futures",
    "main_keys reports state 3 (frozen) while every call passes: account_restricted.", state=3)
# A spot-only connection of these also warns unneeded_permission: they may trade futures, a right of
# their own (the README's row is about the markets of the note).
book.unneeded_on_spot(
    "ArrayShape", "Connected", "ExpiresSoon", "IpMismatch", "KeyFrozen", "KeyLocked", "NoIpBound",
    "SeveralKeysNamed", "UnknownError", "UnknownScope", "WithdrawRight"
)
# fmt: on

DEMO_KEYS = book.demo_keys
VENUE_KEYS = book.venue_keys


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def ok(body: Any) -> SimResponse:
    return SimResponse(200, body)


def _key_entry(key: GateKey, now_ms: int) -> dict[str, Any]:
    """The AccountKeyInfo model's fields (docs/AccountKeyInfo.md), for this key."""
    created = now_ms // 1000 - key.created_days_ago * DAY_S
    return {
        "state": key.state, "mode": key.mode, "name": ["backfuture demo"], "currency_pairs": [],
        "user_id": 10001, "ip_whitelist": key.allowed_ips() or [],
        "perms": [{"name": name, "read_only": read_only} for name, read_only in key.perms],
        "key": {"mode": key.mode}, "created_at": str(created), "updated_at": str(created),
        "last_access": str(now_ms // 1000),
    }  # fmt: skip


def _main_keys(call: Call) -> SimResponse:
    key: GateKey = call.key
    if key.sub_account:
        return error("FORBIDDEN", "Forbidden", 403)
    entry = _key_entry(key, call.now_ms)
    if key.main_keys_shape == "array":
        return ok([entry])
    other = {**entry, "perms": [{"name": "wallet", "read_only": False}], "ip_whitelist": []}
    if key.main_keys_shape == "several":
        return ok([entry, other])
    if key.main_keys_shape == "several_named":
        return ok([{**other, "key": "0" * 32}, {**entry, "key": key.api_key}])
    return ok(entry)


def _detail(call: Call) -> SimResponse:
    key: GateKey = call.key
    user_id = 10002 if key.sub_account else 10001
    return ok({"user_id": user_id, "ip_whitelist": key.allowed_ips() or [], "currency_pairs": [],
               "key": {"mode": key.mode}, "tier": 2, "copy_trading_role": 0})  # fmt: skip


def _spot_accounts(call: Call) -> SimResponse:
    return ok([{"currency": "USDT", "available": "1250.5", "locked": "0", "update_id": 101},
               {"currency": "BTC", "available": "0.0421", "locked": "0", "update_id": 102}])  # fmt: skip


def _futures_account(call: Call) -> SimResponse:
    key: GateKey = call.key
    if not key.futures_opened:
        # ccxt#13249: the label with "detail" rather than "message"
        detail = "please transfer funds first to create futures account"
        return SimResponse(400, {"label": "USER_NOT_FOUND", "detail": detail})
    return ok({"total": "300.5", "unrealised_pnl": "0", "position_margin": "0", "order_margin": "0",
               "available": "300.5", "point": "0", "currency": "USDT", "in_dual_mode": False,
               "enable_credit": False, "position_initial_margin": "0", "maintenance_margin": "0",
               "bonus": "0", "history": {}})  # fmt: skip


def _recorded(body: Callable[[Call], Any]) -> Callable[[Call], SimResponse]:
    return lambda call: ok(body(call))


ORDER = ("currency_pair", "contract", "side", "amount", "size", "price")
ROUTES = {
    ("GET", "/api/v4/spot/time"): clock(lambda now: {"server_time": now}),
    ("GET", "/api/v4/account/main_keys"): private(_main_keys, tag="key_info"),
    ("GET", "/api/v4/account/detail"): private(_detail, tag="account_detail"),
    ("GET", "/api/v4/spot/accounts"): private(_spot_accounts, "spot", tag="spot_accounts"),
    ("GET", "/api/v4/futures/usdt/accounts"): private(_futures_account, "futures", tag="futures_accounts"),
    # Never to be called by the service: each accepted call is recorded (simulator.kit).
    ("POST", "/api/v4/spot/orders"): private(
        _recorded(lambda call: {"id": "12332324", "status": "open"}), "spot", tag="order", forbidden=True,
        recorded=ORDER),
    ("DELETE", "/api/v4/spot/orders"): private(  # cancels every open order of the pair
        _recorded(lambda call: []), "spot", tag="order", forbidden=True, recorded=("currency_pair",)),
    ("POST", "/api/v4/futures/usdt/orders"): private(
        _recorded(lambda call: {"id": 15675394, "status": "open"}), "futures", tag="order", forbidden=True,
        recorded=ORDER),
    ("DELETE", "/api/v4/futures/usdt/orders"): private(
        _recorded(lambda call: []), "futures", tag="order", forbidden=True, recorded=("contract",)),
    ("POST", "/api/v4/withdrawals"): private(
        _recorded(lambda call: {"id": "210496"}), "wallet", forbidden=True, recorded=("currency", "amount")),
    ("POST", "/api/v4/wallet/transfers"): private(
        _recorded(lambda call: {"tx_id": 59636381286}), "wallet", forbidden=True,
        recorded=("currency", "amount")),
}  # fmt: skip


def venues() -> list[Venue]:
    return [GateVenue()]


class GateVenue(RouteVenue):
    not_found = SimResponse(404, {"label": "NOT_FOUND", "message": "Request URL not exists"})

    def __init__(self) -> None:
        super().__init__("gateio-api", ROUTES, VENUE_KEYS)

    def handle(self, request: SimRequest, clock_ms: Callable[[], int]) -> SimResponse:
        response = super().handle(request, clock_ms)
        if response.headers.get("X-Gate-RateLimit-Reset-Timestamp") == RESET_PLACEHOLDER:
            response.headers["X-Gate-RateLimit-Reset-Timestamp"] = str(clock_ms() // 1000 + RESET_S)
        return response

    def ip_refused(self, client_ip: str) -> SimResponse:
        return error("IP_FORBIDDEN", "Request IP not in whitelist", 401)

    def permission_denied(self, permission: str) -> SimResponse:
        return error("FORBIDDEN", "Forbidden", 403)

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        headers = request.headers
        api_key, stamp, signature = (
            headers.get("key", ""),
            headers.get("timestamp", ""),
            headers.get("sign", ""),
        )
        if not api_key or not stamp or not signature:
            raise Refused(error("MISSING_REQUIRED_HEADER", "Missing required authentication header", 401))
        key = self.keys.get(api_key)
        if not isinstance(key, GateKey):
            raise Refused(error("INVALID_KEY", "Invalid key provided", 401))
        try:
            seconds = float(stamp)  # the official SDK sends str(time.time()), a float
        except ValueError:
            seconds = -1.0
        if abs(seconds - now_ms / 1000) > WINDOW_S:
            raise Refused(error("REQUEST_EXPIRED", "gap between request Timestamp and server time exceeds 60",
                                401))  # fmt: skip
        hashed = hashlib.sha512(request.body.encode()).hexdigest()
        message = f"{request.method}\n{request.path}\n{unquote_plus(request.query)}\n{hashed}\n{stamp}"
        expected = hmac.new(key.secret.encode(), message.encode(), hashlib.sha512).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise Refused(error("INVALID_SIGNATURE", "Signature mismatch", 401))
        params = dict(parse_qsl(request.query, keep_blank_values=True))
        if request.body:
            try:
                body = json.loads(request.body)
            except ValueError as bad:
                raise Refused(error("INVALID_REQUEST_BODY", "Invalid request body")) from bad
            params |= {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
        return key, params
