"""MEXC spot (API v3) and futures (contract API v1): signing, the connection probe, error codes.

Facts and their sources are in ``reference/exchanges.md`` §1 and §5; the tables below follow it.
Items the reference marks UNCONFIRMED are read both ways, and each such place says so.

A probe makes at most one server-time call per host (skipped while ``server_clock`` holds an
offset), then every other call at once: spot account (read, balances), apiKeyInfo (permissions,
IP whitelist, expiry), a spot order *test* (trade) and, when futures are asked for, the futures
account (futures access).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import quote

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

# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def spot_base_url() -> str:
    return base_url("MEXC_SPOT_BASE_URL", "https://api.mexc.com")


def futures_base_url() -> str:
    # The official 2026 demo and ccxt use api.mexc.com for the contract API; the older docs name
    # contract.mexc.com, which is UNCONFIRMED to still serve private calls.
    return base_url("MEXC_FUTURES_BASE_URL", "https://api.mexc.com")


SPOT_TIME: Final = "/api/v3/time"
SPOT_ACCOUNT: Final = "/api/v3/account"
SPOT_KEY_INFO: Final = "/api/v3/apiKeyInfo"  # GET only: POST on the same path changes the key's IP list
SPOT_ORDER_TEST: Final = "/api/v3/order/test"  # validated, never sent to the matching engine
FUTURES_PING: Final = "/api/v1/contract/ping"
FUTURES_ASSETS: Final = "/api/v1/private/account/assets"

# Everything a probe may call. Not here, on purpose: POST /api/v3/order (a real order),
# POST /api/v3/apiKeyInfo (edits the key), any capital/withdraw or transfer path.
ALLOWED_CALLS: Final = frozenset(
    {
        ("GET", SPOT_TIME),
        ("GET", SPOT_ACCOUNT),
        ("GET", SPOT_KEY_INFO),
        ("POST", SPOT_ORDER_TEST),
        ("GET", FUTURES_PING),
        ("GET", FUTURES_ASSETS),
    }
)

# MEXC's default; the server accepts timestamp < serverTime + 1000 and serverTime - timestamp
# <= recvWindow (max 60000). Signing with the measured offset keeps us well inside it.
RECV_WINDOW_MS: Final = 5000

# The trade probe: a LIMIT buy of about 5 USDT at a price far below any BTC market price. It goes
# to /order/test only; even if it were a real order it could not fill.
ORDER_TEST_PARAMS: Final[Mapping[str, str]] = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "quantity": "0.005",
    "price": "1000",
}

# --------------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------------


def _encode(value: object) -> str:
    """Percent-encode everything outside RFC 3986's unreserved set, with uppercase hex as MEXC
    asks ("BEP20(BSC)"-style values are a known source of signature failures)."""
    return quote(str(value), safe="")


def build_spot_query(params: Mapping[str, object]) -> str:
    """``k=v&k=v`` in the given order (MEXC does not sort), values encoded as they will be sent."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in params.items())


def sign_spot(secret: str, total_params: str) -> str:
    """Lowercase hex HMAC-SHA256 of totalParams = query string + body, joined with no ``&``."""
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def signed_spot_query(secret: str, params: Mapping[str, object], *, timestamp_ms: int, body: str = "") -> str:
    """The query string to send: params, recvWindow, timestamp, then the signature over exactly
    that string plus ``body``."""
    query = build_spot_query({**params, "recvWindow": RECV_WINDOW_MS, "timestamp": timestamp_ms})
    return f"{query}&signature={sign_spot(secret, query + body)}"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    method: str
    url: str = field(repr=False)  # carries the key (apiKeyInfo) and the signature
    path: str
    headers: dict[str, str] = field(repr=False)
    content: str | None


def build_spot_request(
    credentials: Credentials,
    method: str,
    base: str,
    path: str,
    params: Mapping[str, object],
    timestamp_ms: int,
) -> SignedRequest:
    # Every parameter goes in the query, POST included, with an empty body (as ccxt does): one
    # string to sign and send, no question of how the server joins query and body.
    query = signed_spot_query(credentials.api_secret, params, timestamp_ms=timestamp_ms)
    headers = {"X-MEXC-APIKEY": credentials.api_key, "Content-Type": "application/json"}
    return SignedRequest(method, f"{base}{path}?{query}", path, headers, None)


def futures_param_string(
    method: str, params: Mapping[str, object] | None = None, body: str | None = None
) -> str:
    """What the contract API signs after key and time: GET/DELETE business parameters sorted by
    name as ``k=v&…`` (None dropped); POST the raw JSON body; nothing at all, ``""``."""
    if method in ("POST", "PUT"):
        return body or ""
    if not params:
        return ""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()) if v is not None)


def sign_futures(secret: str, access_key: str, request_time: str, param_string: str) -> str:
    """Lowercase hex (not base64) HMAC-SHA256 of accessKey + Request-Time + paramString."""
    message = f"{access_key}{request_time}{param_string}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def build_futures_request(
    credentials: Credentials,
    method: str,
    base: str,
    path: str,
    timestamp_ms: int,
    params: Mapping[str, object] | None = None,
    body: str | None = None,
) -> SignedRequest:
    param_string = futures_param_string(method, params, body)
    request_time = str(timestamp_ms)
    # No Recv-Window header. Its unit is UNCONFIRMED: the docs say seconds ("max 60"), the official
    # Go demo sends milliseconds (10000, "max 60000"). No value means the same window under both
    # readings (60 would be 60 ms to a server reading ms; 10000 would be over the seconds maximum),
    # so we keep the documented default of ±10 s, which a measured offset meets easily.
    headers = {
        "ApiKey": credentials.api_key,
        "Request-Time": request_time,
        "Signature": sign_futures(credentials.api_secret, credentials.api_key, request_time, param_string),
        "Content-Type": "application/json",
    }
    query = "" if method in ("POST", "PUT") or not param_string else f"?{param_string}"
    content = body if method in ("POST", "PUT") else None
    return SignedRequest(method, f"{base}{path}{query}", path, headers, content)


# --------------------------------------------------------------------------------------------
# Error codes (reference §1.4, §1.5, §5)
# --------------------------------------------------------------------------------------------

# "The key lacks the permission this endpoint needs": which check that fails depends on the call.
NoPermission = Literal["no_permission"]
NO_PERMISSION: Final[NoPermission] = "no_permission"

SPOT_ERRORS: Final[Mapping[int, Outcome | NoPermission]] = {
    # invalid key (400 "api key required"; 10001 "user does not exist"; 700001 also for expired keys)
    400: Outcome.INVALID_KEY,
    401: Outcome.INVALID_KEY,
    10001: Outcome.INVALID_KEY,
    10072: Outcome.INVALID_KEY,
    700001: Outcome.INVALID_KEY,
    # wrong secret: "Signature for this request is not valid." (HTTP 400)
    700002: Outcome.INVALID_KEY,
    # IP not whitelisted (10075 is the older code, seen in a ccxt comment)
    700006: Outcome.IP_NOT_ALLOWED,
    10075: Outcome.IP_NOT_ALLOWED,
    # no permission for the endpoint / the symbol / API trading banned for the pair
    700007: NO_PERMISSION,
    30020: NO_PERMISSION,
    70011: NO_PERMISSION,
    # clock skew (700005 "recvWindow must less than 60000" is our bug, so it stays unmapped)
    700003: Outcome.CLOCK_SKEW,
    10073: Outcome.CLOCK_SKEW,
    # rate limited
    429: Outcome.RATE_LIMITED,
    # unavailable (500 counts only with a maintenance message; see _is_maintenance)
    503: Outcome.EXCHANGE_UNAVAILABLE,
    504: Outcome.EXCHANGE_UNAVAILABLE,
    11444: Outcome.EXCHANGE_UNAVAILABLE,
    # account restricted ("your account is abnormal"; ccxt: AccountSuspended)
    60005: Outcome.ACCOUNT_RESTRICTED,
    30018: Outcome.ACCOUNT_RESTRICTED,
}

# Order-test rejections about the order itself (amount, price range, balance, symbol state): the
# key was allowed to trade and the order was judged, so trade permission is proven. Code 400 is
# also MEXC's generic bad-parameter code ({"msg":"price and quantity must be positive","code":400},
# quoted by ccxt); on the order test it cannot mean "api key required", since the other calls
# carry the same key and would report that.
ORDER_REJECTIONS_PROVING_TRADE: Final = frozenset(
    {400, 30000, 30001, 30002, 30003, 30004, 30005, 30010, 30014, 30016, 30021, 10101}
)

FUTURES_ERRORS: Final[Mapping[int, Outcome]] = {
    # invalid key: 401 not logged in, 402 key expired; 602 "Verify failed" = wrong secret
    401: Outcome.INVALID_KEY,
    402: Outcome.INVALID_KEY,
    602: Outcome.INVALID_KEY,
    406: Outcome.IP_NOT_ALLOWED,
    513: Outcome.CLOCK_SKEW,  # "serves time more or less than 10s"
    510: Outcome.RATE_LIMITED,
    501: Outcome.EXCHANGE_UNAVAILABLE,
    503: Outcome.EXCHANGE_UNAVAILABLE,
    604: Outcome.EXCHANGE_UNAVAILABLE,
    801: Outcome.EXCHANGE_UNAVAILABLE,
    # account/trade read/modify permission required; endpoint inaccessible
    701: Outcome.FUTURES_NOT_ENABLED,
    702: Outcome.FUTURES_NOT_ENABLED,
    703: Outcome.FUTURES_NOT_ENABLED,
    704: Outcome.FUTURES_NOT_ENABLED,
    511: Outcome.FUTURES_NOT_ENABLED,
    # The reference's §5 lists 1000 "Account does not exist" under invalid key, but ccxt quotes the
    # live body {"code":1000,"message":"Please open contract account first!"}: the key is fine,
    # the user has no futures account.
    1000: Outcome.FUTURES_NOT_ENABLED,
}

_CHECK_OF: Final[Mapping[Outcome, str]] = {
    Outcome.NO_READ_PERMISSION: "read",
    Outcome.NO_TRADE_PERMISSION: "trade",
    Outcome.FUTURES_NOT_ENABLED: "futures",
    Outcome.IP_NOT_ALLOWED: "ip_whitelist",
}


# Outcomes about the request as such: the credentials check fails whichever call saw them.
_ABOUT_CREDENTIALS: Final = frozenset({Outcome.INVALID_KEY, Outcome.CLOCK_SKEW})


def _failure(
    outcome: Outcome, response: ExchangeResponse, code: int | None = None, *, check: str = "credentials"
) -> ExchangeFailure:
    """``check`` is the check the call serves; it is named for outcomes not tied to one check
    (account restricted, an unknown code, unavailability)."""
    return ExchangeFailure(
        outcome,
        check="credentials" if outcome in _ABOUT_CREDENTIALS else _CHECK_OF.get(outcome, check),
        exchange_code=None if code is None else str(code),
        http_status=response.status,
        retry_after_s=response.retry_after_s() if outcome is Outcome.RATE_LIMITED else None,
    )


def _code(body: Mapping[str, Any]) -> int | None:
    raw = body.get("code")
    if isinstance(raw, bool):
        return None
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _is_maintenance(body: Mapping[str, Any]) -> bool:
    # The text is only tested, never kept: {"code":500,"message":"Under maintenance, please try again later"}
    text = body.get("msg") or body.get("message") or ""
    return isinstance(text, str) and "maintenance" in text.lower()


def _transport_level(response: ExchangeResponse, check: str) -> ExchangeFailure | None:
    """HTTP-level answers that say nothing about the key."""
    if response.status in (418, 429):  # 418 = IP banned after repeated 429s; both carry Retry-After
        code = _code(response.body) if isinstance(response.body, dict) else None
        return _failure(Outcome.RATE_LIMITED, response, code, check=check)
    if response.status >= 500 or response.body is None:  # 5xx: "outcome UNKNOWN"; HTML pages, truncation
        return _failure(Outcome.EXCHANGE_UNAVAILABLE, response, check=check)
    return None


def classify_spot(
    response: ExchangeResponse, *, denied: Outcome, check: str = "credentials"
) -> ExchangeFailure | None:
    """None when the spot answer is a success; otherwise its outcome. ``denied`` is the outcome of a
    permission refusal for this call (no_read_permission for the account, no_trade for orders)."""
    failure = _transport_level(response, check)
    if failure is not None:
        return failure
    body = response.body
    if not isinstance(body, dict):
        return _failure(Outcome.EXCHANGE_ERROR, response, check=check) if response.status >= 300 else None
    code = _code(body)
    if response.status < 300 and code in (None, 0, 200) and body.get("success") is not False:
        return None
    if _is_maintenance(body):
        return _failure(Outcome.EXCHANGE_UNAVAILABLE, response, code, check=check)
    mapped = SPOT_ERRORS.get(code) if code is not None else None
    outcome = denied if mapped == NO_PERMISSION else mapped
    return _failure(
        outcome if isinstance(outcome, Outcome) else Outcome.EXCHANGE_ERROR, response, code, check=check
    )


def classify_futures(response: ExchangeResponse, *, check: str = "futures") -> ExchangeFailure | None:
    """None when the contract answer is a success (``success: true`` / ``code: 0``)."""
    failure = _transport_level(response, check)
    if failure is not None:
        return failure
    body = response.body
    if not isinstance(body, dict):
        return _failure(Outcome.EXCHANGE_ERROR, response, check=check)
    code = _code(body)
    success = body.get("success")
    if response.status < 300 and (success is True or (success is None and code == 0)):
        return None
    if _is_maintenance(body):
        return _failure(Outcome.EXCHANGE_UNAVAILABLE, response, code, check=check)
    outcome = FUTURES_ERRORS.get(code, Outcome.EXCHANGE_ERROR) if code is not None else Outcome.EXCHANGE_ERROR
    return _failure(outcome, response, code, check=check)


# --------------------------------------------------------------------------------------------
# apiKeyInfo (PARTIALLY CONFIRMED: field names from one recorded live answer)
# --------------------------------------------------------------------------------------------

# Answers of apiKeyInfo that are reported: those about the request or key as a whole (every other
# call sees them too), and the exchange being down or answering oddly. apiKeyInfo is the only
# source of withdraw rights, so a key must not pass as Online while it could not be asked: that
# ends "unavailable", and the user tests again. Only a refusal of the endpoint itself (no
# permission for it, or an answer without the expected fields) means the scopes cannot be read:
# withdraw stays unknown, with a warning, and the probe goes on.
_KEY_INFO_FAILURES_REPORTED: Final = frozenset(
    {
        Outcome.INVALID_KEY,
        Outcome.IP_NOT_ALLOWED,
        Outcome.CLOCK_SKEW,
        Outcome.RATE_LIMITED,
        Outcome.EXCHANGE_UNAVAILABLE,
        Outcome.ACCOUNT_RESTRICTED,
    }
)

_SHORT_SUFFIXES: Final = {"_R": "_READ", "_W": "_WRITE"}


@dataclass(frozen=True, slots=True)
class KeyInfo:
    permissions: frozenset[str]
    ip_whitelist: list[str] | None
    remaining_days: int | None

    @property
    def can_withdraw(self) -> bool:
        # SPOT_WITHDRAW_WRITE also covers POST /capital/transfer/internal (to another MEXC user by
        # email/UID), so it is the "transfer out" right too. SPOT_WITHDRAW_READ is counted as well:
        # MEXC shows withdrawal as one switch, and refusing a read-only scope is the safe error.
        return any(p.startswith("SPOT_WITHDRAW") for p in self.permissions)

    @property
    def can_trade_futures(self) -> bool:
        return "CONTRACT_DEAL_WRITE" in self.permissions


def _normalise_permission(raw: str) -> str:
    name = raw.strip().upper()
    for short, long in _SHORT_SUFFIXES.items():
        if name.endswith(short):
            return name[: -len(short)] + long
    return name


def _string_list(value: Any) -> list[str] | None:
    """A comma string or a list of strings; None when the value is neither."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    return None


def parse_key_info(body: Any) -> KeyInfo | None:
    """Read permissions, IP whitelist and remaining validity, with or without the
    ``{"code":200,"data":{…}}`` envelope. None when there are no permissions to read."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        body = body["data"]
    if not isinstance(body, dict):
        return None
    permissions = _string_list(body.get("permissions"))
    if permissions is None:
        return None
    raw_ips = body.get("ipWhiteList", body.get("ipWhitelist", body.get("ip")))
    ip_whitelist = [] if raw_ips is None and "ipWhiteList" in body else _string_list(raw_ips)
    remaining = body.get("remainingValidity")
    # remainingValidity is read as days (82 in the one recorded answer; MEXC keys without an IP
    # list expire after 90 days). Keys bound to IPs do not expire: absent, null or negative.
    remaining_days = remaining if isinstance(remaining, int) and not isinstance(remaining, bool) else None
    if remaining_days is not None and remaining_days < 0:
        remaining_days = None
    return KeyInfo(frozenset(_normalise_permission(p) for p in permissions), ip_whitelist, remaining_days)


# --------------------------------------------------------------------------------------------
# The probe
# --------------------------------------------------------------------------------------------

Result = ExchangeResponse | ExchangeFailure


async def _send(http: ExchangeHttp, request: SignedRequest) -> Result:
    try:
        return await http.request(
            request.method, request.url, path=request.path, headers=request.headers, content=request.content
        )
    except ExchangeFailure as failure:
        return failure


def _time_fetcher(
    http: ExchangeHttp,
    url: str,
    path: str,
    classify: Callable[[ExchangeResponse], ExchangeFailure | None],
    field_name: str,
) -> Callable[[], Awaitable[int]]:
    """Reads the server time of one host: spot answers {"serverTime": ms}, futures {"data": ms}."""

    async def fetch() -> int:
        response = await http.request("GET", url, path=path)
        failure = classify(response)
        server_time = response.body.get(field_name) if isinstance(response.body, dict) else None
        if failure is not None:
            raise failure
        if not isinstance(server_time, int):
            raise _failure(Outcome.EXCHANGE_UNAVAILABLE, response)
        return server_time

    return fetch


def _spot_time_fetcher(http: ExchangeHttp, base: str) -> Callable[[], Awaitable[int]]:
    return _time_fetcher(
        http,
        f"{base}{SPOT_TIME}",
        SPOT_TIME,
        lambda r: classify_spot(r, denied=Outcome.EXCHANGE_ERROR),
        "serverTime",
    )


def _futures_time_fetcher(http: ExchangeHttp, base: str) -> Callable[[], Awaitable[int]]:
    return _time_fetcher(http, f"{base}{FUTURES_PING}", FUTURES_PING, classify_futures, "data")


@dataclass
class _Findings:
    """What the concurrent calls established, before it becomes a report."""

    failures: list[ExchangeFailure] = field(default_factory=list)
    key_accepted: bool = False  # some signed call got past key, signature, time and IP checks


class MexcExchange:
    info: ExchangeInfo = SUPPORTED["mexc"]

    async def probe(
        self, http: ExchangeHttp, credentials: Credentials, markets: frozenset[Market]
    ) -> ProbeReport:
        report = ProbeReport()
        want_futures = Market.FUTURES in markets
        want_spot = Market.SPOT in markets or not want_futures
        spot_base, futures_base = spot_base_url(), futures_base_url()

        clocks = [server_clock.offset_ms(f"mexc-spot {spot_base}", _spot_time_fetcher(http, spot_base))]
        if want_futures:
            futures_clock = _futures_time_fetcher(http, futures_base)
            clocks.append(server_clock.offset_ms(f"mexc-futures {futures_base}", futures_clock))
        offsets = await asyncio.gather(*clocks, return_exceptions=True)
        for offset in offsets:
            if isinstance(offset, BaseException) and not isinstance(offset, ExchangeFailure):
                raise offset
        clock_failures = [o for o in offsets if isinstance(o, ExchangeFailure)]
        if clock_failures:
            report.failure = pick_failure(*clock_failures)
            return report
        measured = [o for o in offsets if isinstance(o, int)]
        spot_offset, futures_offset = measured[0], measured[-1]  # the same one when spot only
        report.clock_offset_ms = spot_offset

        def spot(method: str, path: str, params: Mapping[str, object]) -> SignedRequest:
            return build_spot_request(credentials, method, spot_base, path, params, now_ms() + spot_offset)

        calls: dict[str, SignedRequest] = {
            "key_info": spot("GET", SPOT_KEY_INFO, {"accessKey": credentials.api_key}),
        }
        if want_spot:
            calls["account"] = spot("GET", SPOT_ACCOUNT, {})
            calls["order_test"] = spot("POST", SPOT_ORDER_TEST, ORDER_TEST_PARAMS)
        if want_futures:
            calls["futures"] = build_futures_request(
                credentials, "GET", futures_base, FUTURES_ASSETS, now_ms() + futures_offset
            )
        answers = dict(
            zip(calls, await asyncio.gather(*(_send(http, r) for r in calls.values())), strict=True)
        )

        found = _Findings()
        key_info = _read_key_info(answers["key_info"], found)
        if "account" in answers:
            _read_spot_account(answers["account"], report, found)
            _read_order_test(answers["order_test"], report, found)
        elif key_info is not None:  # futures only: the trading that matters is futures trading
            report.permissions["trade"] = key_info.can_trade_futures
        if "futures" in answers:
            _read_futures_account(answers["futures"], key_info, want_spot, report, found)
        _apply_key_info(key_info, want_spot, want_futures, report)

        # An unreadable apiKeyInfo leaves permissions["withdraw"] unknown; connection_test turns that
        # into the withdraw_unverifiable warning, the same way for every exchange.
        report.failure = pick_failure(*found.failures)
        if found.key_accepted and (report.failure is None or report.failure.check != "credentials"):
            report.checks["credentials"] = CheckValue.OK
        return report


def _read_key_info(answer: Result, found: _Findings) -> KeyInfo | None:
    if isinstance(answer, ExchangeFailure):
        failure: ExchangeFailure | None = answer
    else:
        failure = classify_spot(answer, denied=Outcome.EXCHANGE_ERROR)
        if failure is None:
            found.key_accepted = True
            key_info = parse_key_info(answer.body)
            if key_info is not None:
                return key_info
    if failure is not None and failure.outcome in _KEY_INFO_FAILURES_REPORTED:
        found.failures.append(failure)
    # Otherwise the scopes are unreadable: withdraw stays unknown (see _KEY_INFO_FAILURES_REPORTED).
    return None


def _read_spot_account(answer: Result, report: ProbeReport, found: _Findings) -> None:
    failure = (
        answer
        if isinstance(answer, ExchangeFailure)
        else classify_spot(answer, denied=Outcome.NO_READ_PERMISSION, check="read")
    )
    if failure is not None:
        found.failures.append(failure)
        if failure.outcome is Outcome.NO_READ_PERMISSION:
            found.key_accepted = True
            report.permissions["read"] = False
            report.checks["read"] = CheckValue.FAILED
        return
    assert isinstance(answer, ExchangeResponse)
    found.key_accepted = True
    report.permissions["read"] = True
    report.checks["read"] = CheckValue.OK
    body = answer.body if isinstance(answer.body, dict) else {}
    if isinstance(body.get("balances"), list):
        report.checks["balance_access"] = CheckValue.OK
    if isinstance(body.get("accountType"), str):
        report.account["account_type"] = body["accountType"]
    # canTrade / canWithdraw are deliberately ignored: UNCONFIRMED whether they describe the key's
    # scopes or only the account's state, so they can neither prove nor clear withdraw rights.


def _read_order_test(answer: Result, report: ProbeReport, found: _Findings) -> None:
    failure = (
        answer
        if isinstance(answer, ExchangeFailure)
        else classify_spot(answer, denied=Outcome.NO_TRADE_PERMISSION, check="trade")
    )
    if failure is not None and _proves_trade(failure):
        failure = None
    if failure is not None:
        found.failures.append(failure)
        if failure.outcome is Outcome.NO_TRADE_PERMISSION:
            found.key_accepted = True
            report.permissions["trade"] = False
            report.checks["trade"] = CheckValue.FAILED
        return
    found.key_accepted = True
    report.permissions["trade"] = True
    report.checks["trade"] = CheckValue.OK


def _proves_trade(failure: ExchangeFailure) -> bool:
    code = failure.exchange_code
    return (
        failure.http_status is not None
        and failure.http_status < 500
        and code is not None
        and (int(code) in ORDER_REJECTIONS_PROVING_TRADE)
    )


def _read_futures_account(
    answer: Result, key_info: KeyInfo | None, want_spot: bool, report: ProbeReport, found: _Findings
) -> None:
    failure = answer if isinstance(answer, ExchangeFailure) else classify_futures(answer)
    if failure is not None:
        found.failures.append(failure)
        if failure.outcome is Outcome.FUTURES_NOT_ENABLED:
            found.key_accepted = True
            report.checks["futures"] = CheckValue.FAILED
        return
    assert isinstance(answer, ExchangeResponse)
    found.key_accepted = True
    if not want_spot:  # futures only: the futures account is what must be readable
        report.permissions["read"] = True
        report.checks["read"] = CheckValue.OK
        if isinstance(answer.body.get("data"), list):
            report.checks["balance_access"] = CheckValue.OK
    # No futures order test exists, and futures order placement by API is UNCONFIRMED (closed in
    # 2022, still in the 2026 demo): trading rights come from the key's CONTRACT_DEAL_WRITE scope.
    if key_info is None:
        return  # the account is readable; whether the key may trade futures is unknown
    if key_info.can_trade_futures:
        report.checks["futures"] = CheckValue.OK
        if not want_spot:
            report.checks["trade"] = CheckValue.OK
    else:
        report.checks["futures"] = CheckValue.FAILED
        found.failures.append(
            ExchangeFailure(Outcome.FUTURES_NOT_ENABLED, check="futures", http_status=answer.status)
        )


def _apply_key_info(
    key_info: KeyInfo | None, want_spot: bool, want_futures: bool, report: ProbeReport
) -> None:
    if key_info is None:
        if report.checks.get("futures") is CheckValue.FAILED:
            report.permissions["futures"] = False
        return
    permissions = key_info.permissions
    report.permissions["withdraw"] = key_info.can_withdraw
    report.checks["withdraw_disabled"] = CheckValue.FAILED if key_info.can_withdraw else CheckValue.OK
    report.permissions["futures"] = key_info.can_trade_futures
    if report.permissions["read"] is None and not want_spot:
        report.permissions["read"] = "CONTRACT_ACCOUNT_READ" in permissions
    report.ip_whitelist = key_info.ip_whitelist
    if key_info.remaining_days is not None:
        report.key_expires_at = datetime.now(UTC) + timedelta(days=key_info.remaining_days)
    unneeded = any(p.startswith("SPOT_TRANSFER") for p in permissions)  # between own accounts only
    if not want_futures:
        unneeded |= any(p.startswith("CONTRACT_") and p.endswith("_WRITE") for p in permissions)
    if unneeded:
        report.warnings.append(WarningCode.UNNEEDED_PERMISSION)


EXCHANGE: Final = MexcExchange()
