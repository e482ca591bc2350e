"""KuCoin: signing, the connection probe (spot and futures) and the error mapping.

One API key works on both hosts (spot ``api.kucoin.com``, futures ``api-futures.kucoin.com``);
futures endpoints need the key's "Futures" permission. The key-info endpoint
(``GET /api/v1/user/api-key``) tells the key's permissions, IP whitelist and whether it belongs to
a master or sub account, so KuCoin never needs a ``withdraw_unverifiable`` warning unless that
call itself fails.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from backfuture.errors import Outcome, WarningCode
from backfuture.exchanges.base import (
    CheckValue,
    Credentials,
    ExchangeFailure,
    ExchangeHttp,
    ExchangeInfo,
    ExchangeResponse,
    Market,
    ProbeReport,
    base_url,
    now_ms,
    pick_failure,
    server_clock,
)
from backfuture.exchanges.catalog import SUPPORTED


def spot_base_url() -> str:
    return base_url("KUCOIN_SPOT_BASE_URL", "https://api.kucoin.com")


def futures_base_url() -> str:
    return base_url("KUCOIN_FUTURES_BASE_URL", "https://api-futures.kucoin.com")


STATUS_PATH = "/api/v1/status"  # public, on both hosts
TIMESTAMP_PATH = "/api/v1/timestamp"  # public, on both hosts
KEY_INFO_PATH = "/api/v1/user/api-key"  # spot host, permission General
ACCOUNTS_PATH = "/api/v1/accounts"  # spot host, permission General
SPOT_ORDER_TEST_PATH = "/api/v1/hf/orders/test"  # validated like an order, never matched; permission Spot
FUTURES_OVERVIEW_PATH = "/api/v1/account-overview"  # futures host, permission Futures
FUTURES_ORDER_TEST_PATH = "/api/v1/orders/test"  # futures host, never matched; permission Futures

# Everything a probe may call. The real order endpoints (/api/v1/hf/orders, /api/v1/orders) and the
# withdrawal ones are deliberately absent: ExchangeHttp refuses anything not listed here.
ALLOWED_CALLS: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", STATUS_PATH),
        ("GET", TIMESTAMP_PATH),
        ("GET", KEY_INFO_PATH),
        ("GET", ACCOUNTS_PATH),
        ("POST", SPOT_ORDER_TEST_PATH),
        ("GET", FUTURES_OVERVIEW_PATH),
        ("POST", FUTURES_ORDER_TEST_PATH),
    }
)

SUCCESS_CODE = "200000"

# V1 and V2 keys are refused by KuCoin today (400008), so the probe always signs as a V3 key, like
# the official universal SDK. Both V2 and V3 send the passphrase HMAC'd with the secret; only V1
# sent it in plain text, and never sending it in plain text is the safer default anyway.
KEY_VERSION = "3"

# Key-info permission names. "Transfer" is the key's withdrawal right (the docs tie the
# "Withdrawal" and "Transfer" wording together); the other spellings are accepted defensively.
_WITHDRAW_PERMISSIONS = frozenset({"Transfer", "Withdrawal", "Withdraw"})
# Rights the platform never uses. InnerTransfer ("Flex Transfer") moves funds only between the
# user's own accounts (main, trade, futures; master and its subs), so funds cannot leave the user's
# control and the key is not refused, but the user should still switch it off.
_UNNEEDED_PERMISSIONS = frozenset({"InnerTransfer", "Margin", "Earn"})


# --------------------------------------------------------------------------------------------
# Signing (pure functions; the tests pin them to the official and computed vectors)
# --------------------------------------------------------------------------------------------


def sign(secret: str, message: str) -> str:
    """base64(HMAC-SHA256(secret, message)): KC-API-SIGN, and the V2/V3 passphrase."""
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def encrypt_passphrase(secret: str, passphrase: str) -> str:
    return sign(secret, passphrase)


def prehash(timestamp_ms: int, method: str, endpoint: str, body: str) -> str:
    """timestamp + METHOD + endpoint + body, where endpoint carries the *raw* (not encoded) query."""
    return f"{timestamp_ms}{method.upper()}{endpoint}{body}"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    method: str
    path: str  # the bare path, for the allow-list
    target: str  # path plus the URL-encoded query: what goes on the wire
    headers: dict[str, str] = field(repr=False)  # derived from the secret: never printed
    content: str | None


def signed_request(
    credentials: Credentials,
    method: str,
    path: str,
    *,
    timestamp_ms: int,
    params: Sequence[tuple[str, str]] = (),
    body: Mapping[str, Any] | None = None,
) -> SignedRequest:
    """Build one signed request.

    KuCoin signs the query as typed (``passphrase=abc!@#11``) while the URL carries it encoded
    (``abc%21%40%2311``); the POST body is signed as the exact compact JSON that is sent.
    """
    method = method.upper()
    raw_query = "&".join(f"{key}={value}" for key, value in params)
    endpoint = f"{path}?{raw_query}" if raw_query else path
    target = f"{path}?{urlencode(list(params))}" if params else path
    content = json.dumps(body, separators=(",", ":")) if body is not None else None
    signature = sign(credentials.api_secret, prehash(timestamp_ms, method, endpoint, content or ""))
    headers = {
        "KC-API-KEY": credentials.api_key,
        "KC-API-SIGN": signature,
        "KC-API-TIMESTAMP": str(timestamp_ms),
        "KC-API-PASSPHRASE": encrypt_passphrase(credentials.api_secret, credentials.passphrase or ""),
        "KC-API-KEY-VERSION": KEY_VERSION,
        "Content-Type": "application/json",
    }
    return SignedRequest(method, path, target, headers, content)


# --------------------------------------------------------------------------------------------
# Error mapping
# --------------------------------------------------------------------------------------------

# KuCoin code -> outcome. None means "the permission the call needs is missing": the outcome then
# depends on the call (no_read_permission, no_trade_permission or futures_not_enabled).
_OUTCOMES: dict[str, Outcome | None] = {
    "400002": Outcome.CLOCK_SKEW,  # KC-API-TIMESTAMP more than 5 s from server time
    "400003": Outcome.INVALID_KEY,  # KC-API-KEY does not exist (HTTP 401)
    "400004": Outcome.INVALID_PASSPHRASE,  # HTTP 401
    "400005": Outcome.INVALID_KEY,  # signature invalid: with our correct prehash, a wrong secret
    "400006": Outcome.IP_NOT_ALLOWED,
    "400007": None,  # "Access denied, requires more permission."
    "400010": None,  # "UID access denied, requires more permission."
    # An old V1/V2 key (400008) or a version it cannot be used with (400009): only a new V3 key
    # fixes either, which is what invalid_key tells the user; the code stays in details for support.
    "400008": Outcome.INVALID_KEY,
    "400009": Outcome.INVALID_KEY,
    "411100": Outcome.ACCOUNT_RESTRICTED,  # user frozen
    "400500": Outcome.ACCOUNT_RESTRICTED,  # country/region not supported
    "429000": Outcome.RATE_LIMITED,
    "200002": Outcome.RATE_LIMITED,  # old per-endpoint limit
    "1015": Outcome.RATE_LIMITED,  # Cloudflare IP limit
    "500000": Outcome.EXCHANGE_UNAVAILABLE,
}
# 400301, 400302, ...: regional and KYC restrictions ("Operation restricted due to local laws").
_RESTRICTION_PREFIX = "4003"

# Gateway codes that say nothing about the order: an order test failing with one of them does not
# show that the key may trade (every other non-mapped code there is a business rejection).
_GATEWAY_CODES = frozenset({"400001", "400200", "400201", "400202", "404000", "415000"})

_CREDENTIAL_OUTCOMES = frozenset({Outcome.INVALID_KEY, Outcome.INVALID_PASSPHRASE})
_PERMISSION_OUTCOMES = frozenset(
    {Outcome.NO_READ_PERMISSION, Outcome.NO_TRADE_PERMISSION, Outcome.FUTURES_NOT_ENABLED}
)
# Outcomes that can only come back once the gateway accepted the key, secret and passphrase.
_AUTHENTICATED_OUTCOMES = _PERMISSION_OUTCOMES | {Outcome.ACCOUNT_RESTRICTED}


def _code(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("code") is not None:
        return str(body["code"])
    return None


def _retry_after_s(response: ExchangeResponse) -> int | None:
    """Retry-After, else KuCoin's gw-ratelimit-reset (milliseconds until the quota resets)."""
    seconds = response.retry_after_s()
    if seconds is not None:
        return seconds
    reset_ms = response.headers.get("gw-ratelimit-reset")
    try:
        return max(0, math.ceil(int(reset_ms) / 1000)) if reset_ms is not None else None
    except ValueError:
        return None


def classify(response: ExchangeResponse, *, check: str, denied: Outcome) -> ExchangeFailure:
    """The failure a non-success KuCoin answer stands for.

    ``check`` is the check the call was judging, ``denied`` the outcome when the key lacks the
    call's permission. The exchange's message is never kept, only its code.
    """
    code = _code(response.body)
    outcome: Outcome | None
    if code in _OUTCOMES:
        outcome = _OUTCOMES[code] or denied
    elif code is not None and code.startswith(_RESTRICTION_PREFIX) and len(code) == 6:
        outcome = Outcome.ACCOUNT_RESTRICTED
    elif response.status == 429:
        outcome = Outcome.RATE_LIMITED
    elif response.status >= 500 or code is None:
        # 5xx, HTML maintenance pages, truncated or malformed JSON: the key was not judged.
        outcome = Outcome.EXCHANGE_UNAVAILABLE
    else:
        outcome = Outcome.EXCHANGE_ERROR
    if outcome in _AUTHENTICATED_OUTCOMES or outcome == Outcome.EXCHANGE_ERROR:
        failed_check = check
    elif outcome == Outcome.IP_NOT_ALLOWED:
        failed_check = "ip_whitelist"  # the key itself may be fine
    else:
        failed_check = "credentials"
    return ExchangeFailure(
        outcome,
        check=failed_check,
        exchange_code=code,
        http_status=response.status,
        retry_after_s=_retry_after_s(response)
        if outcome in (Outcome.RATE_LIMITED, Outcome.EXCHANGE_UNAVAILABLE)
        else None,
    )


def _data(response: ExchangeResponse, *, check: str, denied: Outcome) -> Any:
    body = response.body
    if response.status == 200 and _code(body) == SUCCESS_CODE and "data" in body:
        return body["data"]
    raise classify(response, check=check, denied=denied)


# --------------------------------------------------------------------------------------------
# Key info
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyInfo:
    permissions: frozenset[str]
    ip_whitelist: list[str]
    is_master: bool | None
    sub_name: str | None


def parse_key_info(data: Any) -> KeyInfo:
    if not isinstance(data, dict) or not isinstance(data.get("permission"), str):
        raise ExchangeFailure(Outcome.EXCHANGE_UNAVAILABLE, check="credentials")
    permissions = frozenset(p.strip() for p in data["permission"].split(",") if p.strip())
    # ipWhitelist is optional in KuCoin's spec: absent, null and "" are all read as "no
    # restriction". If absence meant "not told" instead, a whitelist without our IPs would still
    # show: every signed call would fail with 400006 (ip_not_allowed).
    raw_ips = data.get("ipWhitelist")
    ips = [ip.strip() for ip in raw_ips.split(",") if ip.strip()] if isinstance(raw_ips, str) else []
    is_master = data.get("isMaster")
    sub_name = data.get("subName")
    return KeyInfo(
        permissions=permissions,
        ip_whitelist=ips,
        is_master=is_master if isinstance(is_master, bool) else None,
        sub_name=sub_name if isinstance(sub_name, str) and sub_name else None,
    )


# --------------------------------------------------------------------------------------------
# Probe
# --------------------------------------------------------------------------------------------

# A limit buy of 0.0001 BTC at 1 USDT: harmless even if it were ever matched. The test endpoints
# validate it like a real order and may reject it (minimum funds): any business rejection still
# proves the gateway let the key trade.
_SPOT_TEST_ORDER = {"side": "buy", "symbol": "BTC-USDT", "type": "limit", "price": "1", "size": "0.0001"}
_FUTURES_TEST_ORDER: dict[str, object] = {
    "side": "buy",
    "symbol": "XBTUSDTM",
    "leverage": 1,
    "type": "limit",
    "price": "1",
    "size": 1,
    "marginMode": "ISOLATED",
}


async def _attempt[T](call: Awaitable[T]) -> T | ExchangeFailure:
    """Run one call of a fan-out; its failure is a value, so it cannot cancel the others."""
    try:
        return await call
    except ExchangeFailure as failure:
        return failure


class KucoinExchange:
    info: ExchangeInfo = SUPPORTED["kucoin"]

    async def probe(
        self, http: ExchangeHttp, credentials: Credentials, markets: frozenset[Market]
    ) -> ProbeReport:
        report = ProbeReport()
        spot_url = spot_base_url()
        futures_url = futures_base_url() if Market.FUTURES in markets else None
        hosts = [spot_url] if futures_url is None else [spot_url, futures_url]

        # Status is public: it runs alongside the clock sync and the signed calls.
        status_tasks = [asyncio.create_task(_attempt(self._status(http, host, spot_url))) for host in hosts]
        attempts = await asyncio.gather(*(_attempt(self._clock_offset(http, host)) for host in hosts))
        offsets = [o for o in attempts if not isinstance(o, ExchangeFailure)]
        if len(offsets) < len(hosts):
            statuses = await asyncio.gather(*status_tasks)
            report.failure = pick_failure(*_failures(attempts), *_failures(statuses))
            return report
        report.clock_offset_ms = offsets[0]

        def signed(host: int, method: str, path: str, **kwargs: Any) -> Awaitable[ExchangeResponse]:
            request = signed_request(
                credentials, method, path, timestamp_ms=now_ms() + offsets[host], **kwargs
            )
            return http.request(
                method,
                hosts[host] + request.target,
                path=path,
                headers=request.headers,
                content=request.content,
            )

        key_info = _attempt(self._key_info(signed(0, "GET", KEY_INFO_PATH)))
        accounts = _attempt(self._accounts(signed(0, "GET", ACCOUNTS_PATH)))
        spot_trade: Awaitable[object] | None = None
        if Market.SPOT in markets:
            order = {"clientOid": uuid.uuid4().hex, **_SPOT_TEST_ORDER}
            spot_trade = _attempt(
                self._order_test(
                    signed(0, "POST", SPOT_ORDER_TEST_PATH, body=order),
                    check="trade",
                    denied=Outcome.NO_TRADE_PERMISSION,
                )
            )
        futures_overview: Awaitable[object] | None = None
        futures_trade: Awaitable[object] | None = None
        if len(hosts) == 2:
            futures_order = {"clientOid": uuid.uuid4().hex, **_FUTURES_TEST_ORDER}
            futures_overview = _attempt(
                self._futures_overview(signed(1, "GET", FUTURES_OVERVIEW_PATH, params=[("currency", "USDT")]))
            )
            futures_trade = _attempt(
                self._order_test(
                    signed(1, "POST", FUTURES_ORDER_TEST_PATH, body=futures_order),
                    check="futures",
                    denied=Outcome.FUTURES_NOT_ENABLED,
                )
            )
        calls = (key_info, accounts, spot_trade, futures_overview, futures_trade)
        results = await asyncio.gather(*(call or _nothing() for call in calls))
        statuses = await asyncio.gather(*status_tasks)
        _judge(report, markets, _Results(*results))
        # The calls' own failures first: among equal outcomes they carry the exchange's code.
        report.failure = pick_failure(*_failures(statuses), *_failures(results), report.failure)
        return report

    # -- individual calls ------------------------------------------------------------------

    async def _status(self, http: ExchangeHttp, host: str, spot_url: str) -> None:
        response = await http.request("GET", host + STATUS_PATH, path=STATUS_PATH)
        check = "credentials" if host == spot_url else "futures"
        data = _data(response, check=check, denied=Outcome.EXCHANGE_UNAVAILABLE)
        # "close" and "cancelonly" (maintenance, or only cancellations accepted): nothing to judge.
        if not isinstance(data, dict) or data.get("status") != "open":
            raise ExchangeFailure(Outcome.EXCHANGE_UNAVAILABLE, check=check, http_status=response.status)

    async def _clock_offset(self, http: ExchangeHttp, host: str) -> int:
        async def server_ms() -> int:
            response = await http.request("GET", host + TIMESTAMP_PATH, path=TIMESTAMP_PATH)
            data = _data(response, check="credentials", denied=Outcome.EXCHANGE_UNAVAILABLE)
            if not isinstance(data, int) or isinstance(data, bool):
                raise ExchangeFailure(Outcome.EXCHANGE_UNAVAILABLE, http_status=response.status)
            return data

        return await server_clock.offset_ms(host, server_ms)

    async def _key_info(self, call: Awaitable[ExchangeResponse]) -> KeyInfo:
        # Needs the General permission: without it this call itself is refused with 400007.
        return parse_key_info(_data(await call, check="read", denied=Outcome.NO_READ_PERMISSION))

    async def _accounts(self, call: Awaitable[ExchangeResponse]) -> bool:
        data = _data(await call, check="read", denied=Outcome.NO_READ_PERMISSION)
        if not isinstance(data, list):
            raise ExchangeFailure(Outcome.EXCHANGE_UNAVAILABLE)
        return True

    async def _futures_overview(self, call: Awaitable[ExchangeResponse]) -> bool:
        data = _data(await call, check="futures", denied=Outcome.FUTURES_NOT_ENABLED)
        if not isinstance(data, dict):
            raise ExchangeFailure(Outcome.EXCHANGE_UNAVAILABLE)
        return True

    async def _order_test(self, call: Awaitable[ExchangeResponse], *, check: str, denied: Outcome) -> bool:
        try:
            _data(await call, check=check, denied=denied)
        except ExchangeFailure as failure:
            # Parameter, balance or minimum-size rejections come from the matching side, past
            # the gateway's permission check: the key may trade.
            business = (
                failure.outcome == Outcome.EXCHANGE_ERROR and failure.exchange_code not in _GATEWAY_CODES
            )
            if not business:
                raise
        return True


async def _nothing() -> None:
    return None


def _failures(results: Sequence[object]) -> list[ExchangeFailure]:
    return [r for r in results if isinstance(r, ExchangeFailure)]


@dataclass(frozen=True, slots=True)
class _Results:
    """Each call's result: its value, an ExchangeFailure, or None when the call was not made."""

    key_info: object  # KeyInfo
    accounts: object  # True
    spot_trade: object  # True
    futures_overview: object  # True
    futures_trade: object  # True


def _denied(result: object) -> bool:
    return isinstance(result, ExchangeFailure) and result.outcome in _PERMISSION_OUTCOMES


def _judge(report: ProbeReport, markets: frozenset[Market], results: _Results) -> None:
    """Turn the calls' results into checks, permissions and account facts.

    The key-info permissions are authoritative where known; the calls confirm them and add what
    key info cannot tell (no futures account opened, a frozen account). A permission the key info
    denies becomes a failure even when the call itself got through.
    """
    everything = [
        results.key_info,
        results.accounts,
        results.spot_trade,
        results.futures_overview,
        results.futures_trade,
    ]
    failures = _failures(everything)
    if any(f.outcome in _CREDENTIAL_OUTCOMES for f in failures):
        report.checks["credentials"] = CheckValue.FAILED
        return
    if any(r is True or isinstance(r, KeyInfo) for r in everything) or any(
        f.outcome in _AUTHENTICATED_OUTCOMES for f in failures
    ):
        report.checks["credentials"] = CheckValue.OK

    info = results.key_info if isinstance(results.key_info, KeyInfo) else None
    perms = info.permissions if info is not None else None
    spot = Market.SPOT in markets
    futures = Market.FUTURES in markets
    found: list[ExchangeFailure] = []

    # read: key info and the account list both need "General".
    read_denied = (
        _denied(results.key_info)
        or _denied(results.accounts)
        or (perms is not None and "General" not in perms)
    )
    if read_denied:
        report.permissions["read"] = False
        report.checks["read"] = CheckValue.FAILED
        if _denied(results.accounts):
            report.checks["balance_access"] = CheckValue.FAILED
        found.append(ExchangeFailure(Outcome.NO_READ_PERMISSION, check="read"))
    elif results.accounts is True:
        report.permissions["read"] = True
        report.checks["read"] = CheckValue.OK
        report.checks["balance_access"] = CheckValue.OK
    elif perms is not None:
        report.permissions["read"] = True

    # trade: spot trading when spot is asked for; for a futures-only connection, futures trading.
    trade_right, trade_result = ("Spot", results.spot_trade) if spot else ("Futures", results.futures_trade)
    trade_denied = _denied(trade_result) or (perms is not None and trade_right not in perms)
    if trade_denied:
        report.permissions["trade"] = False
        if spot:
            report.checks["trade"] = CheckValue.FAILED
            found.append(ExchangeFailure(Outcome.NO_TRADE_PERMISSION, check="trade"))
    elif trade_result is True:
        report.permissions["trade"] = True
        report.checks["trade"] = CheckValue.OK
    elif perms is not None:
        report.permissions["trade"] = True

    futures_denied = (
        _denied(results.futures_overview)
        or _denied(results.futures_trade)
        or (futures and perms is not None and "Futures" not in perms)
    )
    if perms is not None:
        report.permissions["futures"] = "Futures" in perms
    if futures:
        if futures_denied:
            report.permissions["futures"] = False
            report.checks["futures"] = CheckValue.FAILED
            found.append(ExchangeFailure(Outcome.FUTURES_NOT_ENABLED, check="futures"))
        elif results.futures_overview is True and results.futures_trade is True:
            report.permissions["futures"] = True
            report.checks["futures"] = CheckValue.OK

    if info is None:
        # Without key info nobody can tell whether the key may withdraw. (When the test stopped
        # on a credential, IP, clock or availability problem, the warning would only be noise.)
        if isinstance(results.key_info, ExchangeFailure) and (
            _denied(results.key_info) or results.key_info.outcome == Outcome.EXCHANGE_ERROR
        ):
            report.warnings.append(WarningCode.WITHDRAW_UNVERIFIABLE)
    else:
        withdraw = bool(info.permissions & _WITHDRAW_PERMISSIONS)
        report.permissions["withdraw"] = withdraw
        report.checks["withdraw_disabled"] = CheckValue.FAILED if withdraw else CheckValue.OK
        report.ip_whitelist = info.ip_whitelist
        if info.is_master is not None:
            report.account["is_master"] = info.is_master
        if info.sub_name is not None:
            report.account["sub_name"] = info.sub_name
        # (Futures on a spot-only connection is flagged by connection_test, for every exchange.)
        if info.permissions & _UNNEEDED_PERMISSIONS:
            report.warnings.append(WarningCode.UNNEEDED_PERMISSION)

    report.failure = pick_failure(*found)


EXCHANGE = KucoinExchange()
