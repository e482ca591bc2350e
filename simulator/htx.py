"""HTX venues: ``htx-spot`` (api.huobi.pro) and ``htx-futures`` (api.hbdm.com, USDT-M V5), and HTX's
demo keys.

Sources: ../shared/reference/exchanges-next.md Part B section 2 (2.2 signing, 2.3 key info, 2.5
bodies). Every private call is checked in this order: the four auth parameters present and
SignatureMethod HmacSHA256 / SignatureVersion 2, the Timestamp readable and within 60 s of the venue
clock (the FAQ's 1 minute, stricter than the docs' 5), the AccessKeyId known, the Signature over
``METHOD\\nhost\\npath\\nsorted-encoded-params`` with the request's own Host header; then
(simulator.kit) the IP whitelist. The spot gateway refuses with ``api-signature-not-valid`` and its
documented messages; the futures gateway with the V1 shape ``{status, err_code 403, err_msg}``; V5
business errors come as ``{code, message, data}`` (reference 2.1, UNCONFIRMED codes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

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
)

WINDOW_MS = 60_000
TRADE = ("readOnly", "trade")
SPOT_VENUE, FUTURES_VENUE = "htx-spot", "htx-futures"


@dataclass(frozen=True)
class HtxKey(VenueKey):
    permissions: tuple[str, ...] = TRADE
    valid_days: int = -1
    futures_opened: bool = True
    spot_state: str = "working"  # the spot account's state in /v1/account/accounts: working or lock


def spot_error(code: str, msg: str) -> SimResponse:
    return SimResponse(200, {"status": "error", "err-code": code, "err-msg": msg, "data": None})


def futures_error(code: int, msg: str) -> SimResponse:
    return SimResponse(200, {"status": "error", "err_code": code, "err_msg": msg, "ts": 1_700_000_000_000})


def v5_error(code: int, message: str) -> SimResponse:
    return SimResponse(200, {"code": code, "message": message, "data": None, "ts": 1_700_000_000_000})


def signature_error(venue: str, msg: str) -> SimResponse:
    if venue == FUTURES_VENUE:
        return futures_error(403, msg)
    return spot_error("api-signature-not-valid", f"Signature not valid: {msg}")


# --------------------------------------------------------------------------------------------
# Demo keys (the README lists them; simulator/kit.DemoBook)
# --------------------------------------------------------------------------------------------


def demo_api_key(label: str) -> str:
    """HTX access keys read like '4ba5cdf2-4a92c5da-718ba144-dbuqg6hkte' (four dash groups)."""
    return f"{label[:8].ljust(8, '0')}-bfdemo00-htx00000-{label[8:18].ljust(10, 'x')}"


book = DemoBook(
    "htx",
    HtxKey,
    secret=lambda _, n: f"{n:08x}-bf0dem0{n:x}-5ec7e7{n:02x}-4a1b2c3d",
    api_key=demo_api_key,
)
_MAINTENANCE = spot_error("system-maintenance", "System is in maintenance!")
# HTX documents no Retry-After; the window's expiry header (ms until reset here) says how long.
_LIMITED = SimResponse(429, {"status": "error", "err-code": "bad-request", "err-msg": "429 too many request",
                             "data": None}, {"X-HB-RateLimit-Requests-Expire": "1500"})  # fmt: skip

# fmt: off
add = book.add
add("connected", "connected", "spot or futures",
    "Spot and futures read and trade (permission readOnly,trade), no withdrawal, never expires; "
    "whitelisted to the platform's IPs.")
add("invalidkey", "invalid_key", "spot or futures",
    "A key HTX does not know: api-signature-not-valid, 'Incorrect Access key'.", known=False)
add("wrongsecret", "invalid_key", "spot or futures",
    "The secret pasted is not the key's secret: api-signature-not-valid, 'Verification failure'.",
    pasted_secret="00000000-bf0dem00-5ec7e700-deadbeef")  # noqa: S106 - a public demo value
add("ipnotallowed", "ip_not_allowed", "spot or futures",
    "Whitelisted to another IP: api-signature-not-valid, 'Incorrect IP address'.",
    whitelist=Whitelist.ELSEWHERE)
add("noiprestriction", "connected", "spot or futures",
    "No IP restriction (ipAddresses \"\", 83 days left, as HTX limits such keys to 90): connects with "
    "the ip_restriction_missing warning.", whitelist=Whitelist.NONE, valid_days=83)
add("ipmismatch", "connected", "spot or futures",
    "Whitelist holds only the first platform IP: connects with the ip_whitelist_mismatch warning.",
    whitelist=Whitelist.FIRST_ONLY)
add("withdrawal", "withdrawal_enabled", "spot or futures",
    "permission readOnly,trade,withdraw: refused.", permissions=(*TRADE, "withdraw"))
add("readonly", "no_trade_permission", "spot", "permission readOnly: no trade right.",
    permissions=("readOnly",))
add("noread", "no_read_permission", "spot",
    "A read-only key whose spot valuation answers 1002 unauthorized (the key info passes).",
    permissions=("readOnly",),
    answers={"valuation": SimResponse(200, {"code": 1002, "message": "unauthorized", "data": None})})
add("nofutures", "futures_not_enabled", "futures",
    "Contracts trading never opened: the V5 balance answers 1220 (connects fine for spot).",
    futures_opened=False)
add("expiring", "connected", "spot or futures",
    "validDays 7: connects with the key_expires_soon warning.", valid_days=7)
add("restricted", "account_restricted", "futures",
    "The contract API is disabled for a while: the V5 balance answers 1084.",
    answers={FUTURES_VENUE: v5_error(1084, "Your contract API is disabled, please try again after "
                                           "2026-12-01 12:00:00 (GMT+8).")})
add("unavailable", "exchange_unavailable", "spot or futures",
    "Private calls answer system-maintenance, as during maintenance.", answers={"*": _MAINTENANCE})
add("ratelimited", "rate_limited", "spot or futures",
    "Private calls answer HTTP 429 (bad-request '429 too many request') with "
    "X-HB-RateLimit-Requests-Expire 1500 ms.", answers={"*": _LIMITED})
add("clockskew", "clock_skew", "spot or futures",
    "Private calls keep answering 'Invalid submission time or incorrect time format' after a re-sync.",
    answers={venue: signature_error(venue, "Invalid submission time or incorrect time format")
             for venue in (SPOT_VENUE, FUTURES_VENUE)})
add("exchangeerror", "exchange_error", "spot or futures",
    "Private calls answer an unexpected code (invalid-parameter); it is kept for support.",
    answers={"*": spot_error("invalid-parameter", "invalid parameter")})
add("spotlocked", "account_restricted", "spot",
    "The spot account's state is lock in /v1/account/accounts while every other call passes (futures "
    "alone still connects).",
    spot_state="lock")
# fmt: on

DEMO_KEYS = book.demo_keys
VENUE_KEYS = book.venue_keys


# --------------------------------------------------------------------------------------------
# Endpoints (reference 2.3)
# --------------------------------------------------------------------------------------------


def _ok_v2(data: Any) -> SimResponse:
    return SimResponse(200, {"code": 200, "message": "success", "data": data})


def _uid(key: HtxKey) -> int:
    return 63_000_000 + int(key.secret[:8], 16)


def _user_uid(call: Call) -> SimResponse:
    return _ok_v2(_uid(call.key))


def _api_key(call: Call) -> SimResponse:
    key: HtxKey = call.key
    if call.params.get("uid") != str(_uid(key)):
        return SimResponse(200, {"code": 2002, "message": 'invalid field value in "uid"', "data": None})
    entry: dict[str, Any] = {
        "accessKey": key.api_key,
        "status": "normal",
        "note": "backfuture",
        "permission": ",".join(key.permissions),
        "validDays": key.valid_days,
        "createTime": 1_700_000_000_000,
        "updateTime": 1_700_000_000_000,
    }
    if (reported := key.reported_ips()) is not None:
        entry["ipAddresses"] = reported
    return _ok_v2(
        [entry] if call.params.get("accessKey") == key.api_key else [entry, {**entry, "accessKey": "x"}]
    )


def _accounts(call: Call) -> SimResponse:
    """The shape of JKorf's GetAccounts.txt (from the docs): the spot, otc and point accounts."""
    key: HtxKey = call.key
    base = 10_000_000 + int(key.secret[:8], 16) * 10
    return SimResponse(200, {"status": "ok", "data": [
        {"id": base + 1, "type": "spot", "subtype": "", "state": key.spot_state},
        {"id": base + 2, "type": "otc", "subtype": "", "state": "working"},
        {"id": base + 3, "type": "point", "subtype": "", "state": "working"}]})  # fmt: skip


def _valuation(call: Call) -> SimResponse:
    if call.params.get("accountType") != "spot":
        return SimResponse(
            200, {"code": 2002, "message": 'invalid field value in "accountType"', "data": None}
        )
    return SimResponse(
        200, {"code": 200, "data": {"balance": "1250.5", "timestamp": call.now_ms}, "ok": True}
    )


def _v5_balance(call: Call) -> SimResponse:
    key: HtxKey = call.key
    if not key.futures_opened:
        return v5_error(1220, "You don’t have access permission as you have not opened contracts trading.")  # noqa: RUF001
    return SimResponse(200, {"code": 200, "message": "Success", "ts": call.now_ms, "data": {
        "state": "normal", "equity": "300", "available_margin": "300", "details": [
            {"currency": "USDT", "equity": "300", "available": "300"}]}})  # fmt: skip


def _accepted(call: Call) -> SimResponse:
    return SimResponse(200, {"status": "ok", "data": "59378"})


def _forbidden(tag: str, recorded: tuple[str, ...] = ()) -> Route:
    return private(_accepted, permission="trade", tag=tag, forbidden=True, recorded=recorded)


SPOT_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/v1/common/timestamp"): clock(lambda now: {"status": "ok", "data": now}),
    ("GET", "/v2/user/uid"): private(_user_uid, tag="uid"),
    ("GET", "/v2/user/api-key"): private(_api_key, tag="key_info"),
    ("GET", "/v1/account/accounts"): private(_accounts, tag="accounts"),
    ("GET", "/v2/account/asset-valuation"): private(_valuation, tag="valuation"),
    # Orders, withdrawals, transfers answer too, so a test can prove the service never calls them.
    ("POST", "/v1/order/orders/place"): _forbidden("order", ("symbol", "type", "amount")),
    ("POST", "/v1/order/orders/submitCancelClientOrder"): _forbidden("cancel"),
    ("POST", "/v1/dw/withdraw/api/create"): private(
        _accepted, permission="withdraw", forbidden=True, recorded=("currency", "amount")
    ),
    ("POST", "/v1/account/transfer"): _forbidden("transfer", ("currency", "amount")),
}
FUTURES_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v1/timestamp"): clock(lambda now: {"status": "ok", "ts": now}),
    ("GET", "/v5/account/balance"): private(_v5_balance, tag="futures_account"),
    ("POST", "/v5/trade/order"): _forbidden("order", ("contract_code", "side", "volume")),
    ("POST", "/v5/account/asset_mode"): _forbidden("asset_mode"),
}


def venues() -> list[Venue]:
    return [HtxVenue(SPOT_VENUE, SPOT_ROUTES), HtxVenue(FUTURES_VENUE, FUTURES_ROUTES)]


_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


class HtxVenue(RouteVenue):
    def __init__(self, name: str, routes: dict[tuple[str, str], Route]) -> None:
        super().__init__(name, routes, VENUE_KEYS)
        # An unknown path: HTTP 404 (the gateway's page; its body is not documented).
        self.not_found = SimResponse(404, {"status": "error", "err-code": "invalid-url", "err-msg": "404"})

    def ip_refused(self, client_ip: str) -> SimResponse:
        if self.name == FUTURES_VENUE:
            return futures_error(12005, "IP Address not allowed")
        return signature_error(self.name, f"Incorrect IP address [IP地址错误]:{client_ip}")

    def permission_denied(self, permission: str) -> SimResponse:
        return SimResponse(200, {"code": 1002, "message": "unauthorized", "data": None})

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        pairs = parse_qsl(request.query, keep_blank_values=True)
        params = dict(pairs)
        if (
            params.get("SignatureMethod") != "HmacSHA256"
            or params.get("SignatureVersion") != "2"
            or not params.get("AccessKeyId")
            or not params.get("Signature")
        ):
            raise Refused(signature_error(self.name, "Verification failure [校验失败]"))
        stamp = params.get("Timestamp", "")
        try:
            at = (
                datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
                if _TIMESTAMP.fullmatch(stamp)
                else None
            )
        except ValueError:
            at = None
        if at is None or abs(int(at.timestamp() * 1000) - now_ms) > WINDOW_MS:
            raise Refused(signature_error(
                self.name, "Invalid submission time or incorrect time format [无效的提交时间，或时间格式错误]"  # noqa: RUF001
            ))  # fmt: skip
        key = self.keys.get(params["AccessKeyId"])
        if not isinstance(key, HtxKey):
            raise Refused(signature_error(self.name, "Incorrect Access key [Access key错误]"))
        signed = "&".join(
            f"{quote(k, safe='')}={quote(v, safe='')}"
            for k, v in sorted(p for p in pairs if p[0] != "Signature")
        )
        text = f"{request.method}\n{request.headers.get('host', '').lower()}\n{request.path}\n{signed}"
        digest = base64.b64encode(
            hmac.new(key.secret.encode(), text.encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(digest, params["Signature"]):
            raise Refused(signature_error(self.name, "Verification failure [校验失败]"))
        return key, {k: v for k, v in params.items() if k != "Signature"}
