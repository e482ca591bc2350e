"""OKX venue ``okx-api`` (openapi.okx.com: spot and swaps on one host), and OKX's demo keys.

Sources: ../shared/reference/exchanges-next.md section 3 (3.2 signing, 3.3 account/config, 3.5 codes)
and the docs' #status page. The gateway checks run in this order on every private call, with OKX's
codes: headers present (50103/50104/50106/50107, HTTP 401), a demo-trading header or key in the
wrong environment (50101), key known on this site (50111; a key of another OKX site: 50119),
timestamp readable (50112) and within 30 s of the venue clock (50102), passphrase in plain text
(50105), OK-ACCESS-SIGN (50113), then (simulator.kit) the IP whitelist (50110) and the endpoint's
permission (50120). The relative order of the passphrase and signature checks is UNCONFIRMED; the
demo keys differ in one of the two only, so either order gives the same answers.

OK-ACCESS-SIGN = base64(HMAC-SHA256(secret, ISO-8601 ms timestamp + METHOD + path[?query] + body)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl

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
)

TIMESTAMP_WINDOW_MS = 30_000
SITE = "global"  # the site this venue stands in for (openapi.okx.com)


@dataclass(frozen=True)
class OkxKey(VenueKey):
    permissions: tuple[str, ...] = ("read_only", "trade")
    acct_lv: str = "2"  # 1 spot mode, 2 futures mode, 3 multi-currency margin, 4 portfolio margin
    uid: str = "44705892343619584"
    main_uid: str = "44705892343619584"  # differs for a sub-account key
    site: str = SITE  # "eea", "us", "tr": made on another OKX site, unknown here (50119)
    demo_trading: bool = False  # a demo-trading key: refused without x-simulated-trading: 1 (50101)
    ip_entries: tuple[str, ...] = field(default=())  # reported and enforced instead of the whitelist mode

    def allowed_ips(self) -> list[str] | None:
        if not self.ip_entries:
            return super().allowed_ips()
        networks = [ipaddress.ip_network(entry, strict=False) for entry in self.ip_entries]
        return [ip for ip in platform_ips() if any(ipaddress.ip_address(ip) in net for net in networks)]

    def reported_ips(self) -> str | None:
        return ",".join(self.ip_entries) if self.ip_entries else super().reported_ips()


def okx(status: int, code: str, msg: str) -> SimResponse:
    return SimResponse(status, {"code": code, "msg": msg, "data": []})


# --------------------------------------------------------------------------------------------
# Demo keys: one per outcome (the README lists them; simulator/kit.DemoBook)
# --------------------------------------------------------------------------------------------

book = DemoBook(
    "okx",
    OkxKey,
    secret=lambda _, n: f"0CC5DE0000000000000000000{n:07d}",  # 32 upper-case hex characters, like OKX's
    api_key=lambda label: f"okx-demo-key-{label}",  # at least 16 characters, as the add route demands
    passphrase="BackFuture-demo-1",  # noqa: S106 - a public demo value
)
# 50011 arrives with HTTP 429 (or 200); OKX documents no Retry-After or reset header, so none is sent
# and the service falls back to its default wait.
RATE_LIMITED = okx(429, "50011", "Rate limit reached. Please refer to API documentation and throttle "
                   "requests accordingly.")  # fmt: skip

# fmt: off
add = book.add
add("connected", "connected", "spot or futures",
    "Read and trade, futures account mode, no withdrawal; whitelisted to the platform's IPs.")
add("cidr", "connected", "spot or futures",
    "Whitelisted as a network segment (203.0.113.0/24) that holds the platform's IPs.",
    ip_entries=("203.0.113.0/24",))
add("invalidkey", "invalid_key", "spot or futures", "A key OKX does not know: 50111.", known=False)
add("wrongsecret", "invalid_key", "spot or futures", "The secret pasted is not the key's secret: 50113.",
    pasted_secret="0CC5DE000000000000000000000DEAD0")  # noqa: S106
add("regional", "invalid_key", "spot or futures",
    "A key made on the EEA site (my.okx.com): 50119 (API key doesn't exist) on this host.", site="eea")
add("demotrading", "invalid_key", "spot or futures",
    "A demo-trading key used for live trading: 50101 (APIKey does not match current environment).",
    demo_trading=True)
add("badpassphrase", "invalid_passphrase", "spot or futures",
    "The login password was pasted instead of the API passphrase: 50105.",
    pasted_passphrase="MyOkxLogin#2024")  # noqa: S106
add("noread", "no_read_permission", "spot or futures",
    "Trade without Read (UNCONFIRMED that OKX issues one): account calls answer 50120.",
    permissions=("trade",))
add("readonly", "no_trade_permission", "spot",
    "Read only: perm lacks trade (also futures_not_enabled for futures).", permissions=("read_only",))
add("spotmode", "futures_not_enabled", "futures",
    "Read and trade, but the account is in spot mode (acctLv 1): futures impossible; connects for spot.",
    acct_lv="1")
add("withdrawal", "withdrawal_enabled", "spot or futures", "perm includes withdraw: refused.",
    permissions=("read_only", "trade", "withdraw"))
add("ipnotallowed", "ip_not_allowed", "spot or futures",
    "Whitelisted to another IP: every private call answers 50110.", whitelist=Whitelist.ELSEWHERE)
add("noiprestriction", "connected", "spot or futures",
    "No IP whitelist (ip \"\"): connects with the ip_restriction_missing warning (such a key lapses after "
    "14 idle days).", whitelist=Whitelist.NONE)
add("ipmismatch", "connected", "spot or futures",
    "Whitelist holds only the first platform IP: connects with the ip_whitelist_mismatch warning.",
    whitelist=Whitelist.FIRST_ONLY)
add("subaccount", "connected", "spot or futures", "A sub-account key (uid differs from mainUid).",
    uid="44705892343619999")
add("restricted", "account_restricted", "spot or futures", "The user is blocked: 50007.",
    answers={"*": okx(200, "50007", "User blocked.")})
add("riskcontrol", "account_restricted", "spot or futures",
    "Balances answer 50029 (OKX risk control); key info works.",
    answers={"balance": okx(200, "50029", "Your account has triggered OKX risk control and is temporarily "
                                          "restricted from conducting transactions.")})
add("ratelimited", "rate_limited", "spot or futures",
    "Private calls answer HTTP 429 / 50011 (no Retry-After: OKX documents none).",
    answers={"*": RATE_LIMITED})
add("unavailable", "exchange_unavailable", "spot or futures",
    "Private calls answer HTTP 503 / 50001, as during a matching-engine upgrade.",
    answers={"*": okx(503, "50001", "Service temporarily unavailable. Please try again later.")})
add("clockskew", "clock_skew", "spot or futures",
    "Private calls keep answering 50102 (Timestamp request expired) even after the service re-syncs.",
    answers={"*": okx(401, "50102", "Timestamp request expired.")})
add("exchangeerror", "exchange_error", "spot or futures",
    "Account calls answer an unexpected code (51000); it is kept for support.",
    answers={"*": okx(200, "51000", "Parameter error")})
# fmt: on

DEMO_KEYS = book.demo_keys
VENUE_KEYS = book.venue_keys


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def _ok(data: list[Any]) -> SimResponse:
    return SimResponse(200, {"code": "0", "msg": "", "data": data})


def _sign(secret: str, message: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def _status(call: Call) -> SimResponse:
    venue = call.venue
    return _ok(list(venue.events) if isinstance(venue, OkxVenue) else [])


def _config(call: Call) -> SimResponse:
    """The docs' example answer ([OKX-REF] 3.3), with this key's perm, ip, uids and account mode."""
    key: OkxKey = call.key
    data: dict[str, Any] = {
        "acctLv": key.acct_lv, "acctStpMode": "cancel_maker", "autoLoan": False, "ctIsoMode": "automatic",
        "enableSpotBorrow": False, "greeksType": "PA", "feeType": "0",
        "type": "0" if key.uid == key.main_uid else "1", "kycLv": "2", "label": "BackFuture demo",
        "level": "Lv1", "levelTmp": "", "liquidationGear": "-1",
        "mainUid": key.main_uid, "mgnIsoMode": "automatic", "opAuth": "0", "perm": ",".join(key.permissions),
        "posMode": "net_mode", "roleType": "0", "spotBorrowAutoRepay": False, "spotOffsetType": "",
        "spotRoleType": "0", "spotTraderInsts": [], "stgyType": "0", "traderInsts": [], "uid": key.uid,
        "settleCcy": "USDT", "settleCcyList": ["USD", "USDC", "USDT"],
    }  # fmt: skip
    if (reported := key.reported_ips()) is not None:
        data["ip"] = reported
    return _ok([data])


def _balance(call: Call) -> SimResponse:
    def detail(ccy: str, amount: str) -> dict[str, str]:
        return {"ccy": ccy, "eq": amount, "cashBal": amount, "availBal": amount, "frozenBal": "0", "upl": "0"}

    details = [detail("USDT", "1250.5"), detail("BTC", "0.01")]
    wanted = parse_qs(call.request.query).get("ccy")
    if wanted:
        details = [d for d in details if d["ccy"] in wanted[0].split(",")]
    return _ok([{"totalEq": "1850.5", "uTime": str(call.now_ms), "details": details}])


def _accepted(call: Call) -> SimResponse:
    """A forbidden call that signs correctly succeeds, as on OKX: the kit has recorded it."""
    return _ok([{"ordId": uuid.uuid4().hex[:18], "sCode": "0", "sMsg": ""}])


_ORDER = ("instId", "side", "ordType", "sz")
ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v5/public/time"): clock(lambda now: {"code": "0", "msg": "", "data": [{"ts": str(now)}]}),
    ("GET", "/api/v5/system/status"): public(_status),
    ("GET", "/api/v5/account/config"): private(_config, "read_only", "key_info"),
    ("GET", "/api/v5/account/balance"): private(_balance, "read_only", "balance"),
    # What the service must never call answers too, so a test can prove it never does.
    ("POST", "/api/v5/trade/order"): private(_accepted, "trade", "order", forbidden=True, recorded=_ORDER),
    ("POST", "/api/v5/trade/batch-orders"): private(_accepted, "trade", "order", forbidden=True),
    ("POST", "/api/v5/account/set-leverage"): private(_accepted, "trade", forbidden=True),
    ("POST", "/api/v5/asset/transfer"): private(_accepted, "trade", forbidden=True, recorded=("ccy", "amt")),
    ("POST", "/api/v5/asset/withdrawal"): private(
        _accepted, "withdraw", forbidden=True, recorded=("ccy", "amt")
    ),
}


def venues() -> list[Venue]:
    return [OkxVenue("okx-api", ROUTES)]


def maintenance(state: str = "ongoing", service_type: str = "5", env: str = "1") -> dict[str, str]:
    """A system/status event as the docs' example shows it."""
    return {"begin": "1672823400000", "end": "1672823520000", "href": "", "preOpenBegin": "", "scheDesc": "",
            "serviceType": service_type, "state": state, "maintType": "1", "env": env, "system": "unified",
            "title": "Trading account system upgrade"}  # fmt: skip


def _stamp_ms(stamp: str) -> int | None:
    """``2020-12-08T09:08:57.715Z`` -> ms; None when not that exact format."""
    try:
        parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    if len(stamp) != 24:  # milliseconds, exactly three digits
        return None
    return int(parsed.timestamp() * 1000)


class OkxVenue(RouteVenue):
    """openapi.okx.com. ``events`` drives /api/v5/system/status (empty: nothing announced)."""

    not_found = SimResponse(404, {"msg": "Not Found", "code": "404"})

    def __init__(self, name: str, routes: dict[tuple[str, str], Route]) -> None:
        super().__init__(name, routes, VENUE_KEYS)
        self.events: list[dict[str, str]] = []

    def reset(self) -> None:
        super().reset()
        self.events = []

    def ip_refused(self, client_ip: str) -> SimResponse:
        return okx(401, "50110", f"Your IP {client_ip} is not included in your API key's IP whitelist.")

    def permission_denied(self, permission: str) -> SimResponse:
        return okx(200, "50120", "This API key doesn't have permission to use this function")

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        headers = request.headers
        for name, code in (
            ("key", "50103"),
            ("passphrase", "50104"),
            ("sign", "50106"),
            ("timestamp", "50107"),
        ):
            if not headers.get(f"ok-access-{name}"):
                raise Refused(okx(401, code, f'Request header "OK-ACCESS-{name.upper()}" cannot be empty.'))
        key = self.keys.get(headers["ok-access-key"])
        demo_header = headers.get("x-simulated-trading") == "1"
        if isinstance(key, OkxKey) and key.site != SITE:
            raise Refused(okx(200, "50119", "API key doesn't exist"))
        if not isinstance(key, OkxKey):
            raise Refused(okx(401, "50111", "Invalid OK-ACCESS-KEY."))
        if key.demo_trading != demo_header:
            raise Refused(okx(401, "50101", "APIKey does not match current environment."))
        stamp = headers["ok-access-timestamp"]
        stamp_ms = _stamp_ms(stamp)
        if stamp_ms is None:
            raise Refused(okx(401, "50112", "Invalid OK-ACCESS-TIMESTAMP."))
        if abs(stamp_ms - now_ms) > TIMESTAMP_WINDOW_MS:
            raise Refused(okx(401, "50102", "Timestamp request expired."))
        if not hmac.compare_digest(key.passphrase or "", headers["ok-access-passphrase"]):
            raise Refused(okx(401, "50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.'))
        request_path = f"{request.path}?{request.query}" if request.query else request.path
        expected = _sign(key.secret, f"{stamp}{request.method}{request_path}{request.body}")
        if not hmac.compare_digest(expected, headers["ok-access-sign"]):
            raise Refused(okx(401, "50113", "Invalid signature."))
        try:
            body = json.loads(request.body or "null")
        except ValueError:
            body = None
        fields = {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
        return key, fields | dict(parse_qsl(request.query))
