"""OKX (API v5): spot and USDT-margined perpetual swaps on one host, declared for the engine.

One REST host serves every product (instType SPOT/SWAP...); one key has at most three rights:
Read, Trade (spot and derivatives alike, plus transfers between the user's own accounts and account
settings) and Withdraw. ``GET /api/v5/account/config`` tells the key's rights, IP whitelist, the
master/sub account and the account mode, which decides whether futures can be traded at all.

Sources: [OKX-REF] ``shared/reference/exchanges-next.md`` section 3 (and the section 5 matrix);
[OKX-DOCS] https://www.okx.com/docs-v5/en/ (per-section Markdown copies dated 2026-07: #overview,
#status, #trading-account); [OKX-SDK] github okxapi/python-okx okx/utils.py; [CCXT] ccxt/okx.py
4.5.90. ``FACTS`` lists what the code relies on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode

from backfuture.engine.spec import (
    DENIED,
    Call,
    CredentialRules,
    Draft,
    Envelope,
    Errors,
    ExchangeSpec,
    Fact,
    Facts,
    Host,
    RequestBudget,
    Role,
    Signed,
)
from backfuture.errors import Outcome
from backfuture.exchanges import Credentials, ExchangeInfo, Market

# fmt: off
FACTS: Final = (
    Fact("base URL",
         "REST https://openapi.okx.com for spot and derivatives (older docs, python-okx and ccxt use "
         "www.okx.com); US/AU keys use us.okx.com, EEA keys eea.okx.com",
         "[OKX-REF] 3.1; [OKX-DOCS] #status request example (domain https://openapi.okx.com, "
         "2026-07-14 copy)",
         True),
    Fact("signing",
         "OK-ACCESS-SIGN = base64 HMAC-SHA256(secret, ISO-8601 ms UTC timestamp + METHOD + "
         "requestPath[?query] + body); passphrase sent in plain text in OK-ACCESS-PASSPHRASE; no "
         "official vector",
         "[OKX-DOCS] #overview-rest-authentication; [OKX-SDK] utils.py; [OKX-REF] 3.2",
         True),
    Fact("live only",
         "x-simulated-trading: 1 selects demo trading; it is never sent, so a demo key answers 50101",
         "[OKX-REF] 3.1, 3.5",
         True),
    Fact("time window",
         "OK-ACCESS-TIMESTAMP more than 30 s from server time: 50102 (no recvWindow)",
         "[OKX-REF] 3.2",
         True),
    Fact("server time",
         "GET /api/v5/public/time answers data[0].ts (ms, a string)",
         "[OKX-REF] 3.1",
         True),
    Fact("maintenance",
         "GET /api/v5/system/status lists scheduled/ongoing/pre_open events with serviceType and env; "
         "rate limit 1 request per 5 s",
         "[OKX-DOCS] #status",
         True),
    Fact("key info",
         "GET /api/v5/account/config (Read): perm (read_only,trade,withdraw), ip ('' = none), uid, "
         "mainUid (sub-account when different), acctLv (1 spot mode, 2 futures, 3 multi-currency, 4 "
         "portfolio)",
         "[OKX-REF] 3.3 doc example",
         True),
    Fact("read_only listed",
         "whether perm always lists read_only: the call itself needs Read, so an answer proves it "
         "either way",
         "[OKX-REF] 3.3",
         False),
    Fact("ip field absent",
         "the docs say ip is '' without a whitelist; an absent field is read as 'not reported'",
         "[OKX-REF] 3.3",
         False),
    Fact("whitelist",
         "up to 20 entries, IPv4/IPv6 and network segments (CIDR)",
         "[OKX-DOCS] #overview API key security",
         True),
    Fact("spot mode",
         "acctLv 1 (spot mode) cannot trade SWAP (51010), so futures are impossible whatever perm says",
         "[OKX-REF] 3.3 (third-party incident report)",
         False),
    Fact("trade right",
         "one Trade right covers spot and derivatives orders, funding transfers between the user's own"
         " accounts and settings; it cannot be granted without transfers or without derivatives, so "
         "neither is reported as an unneeded right",
         "[OKX-DOCS] #overview API key permissions; [OKX-REF] 3.6",
         True),
    Fact("expiry",
         "no expiry field; keys without an IP whitelist and with trade or withdraw expire after 14 "
         "days of inactivity (signed calls count as use)",
         "[OKX-DOCS] #overview API key security",
         True),
    Fact("trade proof",
         "no spot order test; order-precheck works only in acctLv 3/4: trade is read from perm",
         "[OKX-REF] 3.4",
         True),
    Fact("regional keys",
         "a key of another OKX site (EEA, US, TR) answers 50119 'API key doesn't exist' here",
         "[OKX-REF] 3.1, 3.5; freqtrade#10967; ccxt#25403",
         True),
    Fact("error codes",
         "code is a string, also in HTTP 401/4xx bodies; 5011x are checked before permissions",
         "[OKX-DOCS] #error-code-rest-api-public; [OKX-REF] 3.5",
         True),
    Fact("rate limit answer",
         "50011 comes with HTTP 200 or 429; no Retry-After or reset header is documented",
         "[OKX-REF] 3.5",
         False),
    Fact("permission codes",
         "a key lacking a right answers 50120 or 50030",
         "[OKX-REF] 3.5",
         False),
    Fact("IP rate limit",
         "no global per-IP figure: public REST is limited per IP per endpoint (public/time 10 requests"
         " / 2 s, system/status 1 / 5 s); private REST per User ID (account/config 5 / 2 s, "
         "account/balance 10 / 2 s)",
         "[OKX-DOCS] #overview-rate-limits, #status; [OKX-REF] 3.6",
         True),
)
# fmt: on

# --------------------------------------------------------------------------------------------
# Signing ([OKX-DOCS] #overview-rest-authentication; [OKX-SDK] utils.py)
# --------------------------------------------------------------------------------------------


def iso_timestamp(timestamp_ms: int) -> str:
    """``2020-12-08T09:08:57.715Z``: UTC, milliseconds, from integer ms (no float rounding)."""
    seconds, ms = divmod(timestamp_ms, 1000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"


def signature(secret: str, prehash: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()


def sign(draft: Draft, credentials: Credentials, timestamp_ms: int) -> Signed:
    """The query is part of requestPath and is signed exactly as sent; the body as the exact JSON
    sent. Never ``x-simulated-trading``: that header selects demo trading ([OKX-REF] 3.1)."""
    request_path = f"{draft.path}?{urlencode(draft.params)}" if draft.params else draft.path
    stamp = iso_timestamp(timestamp_ms)
    headers = {
        "OK-ACCESS-KEY": credentials.api_key,
        "OK-ACCESS-SIGN": signature(
            credentials.api_secret, f"{stamp}{draft.method.upper()}{request_path}{draft.body or ''}"
        ),
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": credentials.passphrase or "",
        "Content-Type": "application/json",
    }
    return Signed(draft.base_url + request_path, headers, draft.body)


# --------------------------------------------------------------------------------------------
# Errors ([OKX-DOCS] #error-code-rest-api-public via [OKX-REF] 3.5; [CCXT] exceptions)
# --------------------------------------------------------------------------------------------

ERRORS: Final = Errors(
    exact={
        "50111": Outcome.INVALID_KEY,  # Invalid OK-ACCESS-KEY (HTTP 401)
        # "API key doesn't exist": a key made on another OKX site (my.okx.com/EEA, app.okx.com/US, TR)
        # is unknown on this host (freqtrade#10967, ccxt#25403): only a key of this site works.
        "50119": Outcome.INVALID_KEY,
        "50101": Outcome.INVALID_KEY,  # a demo-trading key: "APIKey does not match current environment"
        "50113": Outcome.INVALID_KEY,  # Invalid signature: with our documented prehash, a wrong secret
        "50114": Outcome.INVALID_KEY,  # Invalid authorization
        "50105": Outcome.INVALID_PASSPHRASE,  # OK-ACCESS-PASSPHRASE incorrect (HTTP 401)
        "50104": Outcome.INVALID_PASSPHRASE,  # OK-ACCESS-PASSPHRASE cannot be empty
        "50102": Outcome.CLOCK_SKEW,  # Timestamp request expired (more than 30 s off)
        "50110": Outcome.IP_NOT_ALLOWED,  # Your IP ... is not included in your API key's IP whitelist
        "50120": DENIED,  # This API key doesn't have permission to use this function
        "50030": DENIED,  # You don't have permission to use this API endpoint
        "50100": Outcome.ACCOUNT_RESTRICTED,  # API frozen, please contact customer service
        "50007": Outcome.ACCOUNT_RESTRICTED,  # User blocked
        "50009": Outcome.ACCOUNT_RESTRICTED,  # Account is frozen due to stop-out
        "50012": Outcome.ACCOUNT_RESTRICTED,  # Account status invalid
        "50027": Outcome.ACCOUNT_RESTRICTED,  # This account is restricted from trading
        "50029": Outcome.ACCOUNT_RESTRICTED,  # OKX risk control, temporarily restricted
        "51024": Outcome.ACCOUNT_RESTRICTED,  # Unified account blocked ([CCXT])
        "50051": Outcome.ACCOUNT_RESTRICTED,  # compliance / region ([OKX-REF] 3.5)
        "50052": Outcome.ACCOUNT_RESTRICTED,
        "51155": Outcome.ACCOUNT_RESTRICTED,
        # "You can't access our services through the IP address": a region block, which the reference
        # files with the account restrictions; no whitelist change can fix it.
        "50121": Outcome.ACCOUNT_RESTRICTED,
        "50011": Outcome.RATE_LIMITED,  # HTTP 200 or 429 (both read)
        "50001": Outcome.EXCHANGE_UNAVAILABLE,  # Service temporarily unavailable (503)
        "50013": Outcome.EXCHANGE_UNAVAILABLE,  # Systems are busy (429)
        "50026": Outcome.EXCHANGE_UNAVAILABLE,  # System error (500)
        "50004": Outcome.EXCHANGE_UNAVAILABLE,  # API endpoint request timeout
    }
)

API: Final = Host(
    "api", "OKX_BASE_URL", "https://openapi.okx.com", Envelope(ok_codes=frozenset({"0"})), ERRORS
)

# --------------------------------------------------------------------------------------------
# Reading the answers
# --------------------------------------------------------------------------------------------

KNOWN_PERMISSIONS: Final = frozenset({"read_only", "trade", "withdraw"})
ACCOUNT_MODES: Final = {"1": "spot", "2": "futures", "3": "multi_currency_margin", "4": "portfolio_margin"}
SPOT_MODE_NOTE: Final = "Spot mode: switch the account mode to trade futures"
IDLE_EXPIRY_DAYS: Final = 14


def _first(data: Any) -> dict[str, Any]:
    """OKX wraps every payload in a list: the one item, or a shape error."""
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        raise TypeError("data is a list of one object")
    return data[0]


def read_time(data: Any) -> int:
    return int(_first(data)["ts"])


# Maintenance of services the probe and the platform's REST trading do not use.
_UNRELATED_SERVICES: Final = frozenset({"0", "6", "7", "10", "11"})  # WebSocket, block, bot, spread, copy


def read_status(data: Any) -> bool:
    """Unavailable while a production event of the trading service is ``ongoing``. Batched upgrades
    (serviceType 8/9) may spare this account, but "try again after it" is the honest answer; events of
    demo trading (env 2) and of unrelated services do not count ([OKX-DOCS] #status)."""
    if not isinstance(data, list):
        raise TypeError("status events are a list")
    for event in data:
        if (
            event.get("state") == "ongoing"
            and event.get("env") != "2"
            and event.get("serviceType") not in _UNRELATED_SERVICES
        ):
            raise ValueError("maintenance ongoing")
    return True


def read_key_info(data: Any) -> Facts:
    config = _first(data)
    perms = frozenset(p.strip() for p in config["perm"].split(",") if p.strip())
    trade = "trade" in perms
    level = str(config.get("acctLv", ""))
    # Futures need trade and an account mode other than spot; an unknown mode leaves it to the calls.
    futures: bool | None = (level != "1" if level in ACCOUNT_MODES else None) if trade else False
    raw_ip = config.get("ip")  # "" = no whitelist; absent = not reported (FACTS)
    ips = tuple(ip.strip() for ip in raw_ip.split(",") if ip.strip()) if isinstance(raw_ip, str) else None
    account: dict[str, Any] = {}
    uid, main_uid = config.get("uid"), config.get("mainUid")
    if isinstance(uid, str) and isinstance(main_uid, str) and uid and main_uid:
        account["is_master"] = uid == main_uid
    if level in ACCOUNT_MODES:
        account["account_mode"] = ACCOUNT_MODES[level]
        if level == "1":
            account["futures_note"] = SPOT_MODE_NOTE
    if ips == () and perms & {"trade", "withdraw"}:
        # No date is reported: the key lapses after 14 idle days (each test counts as use).
        account["expires_if_idle_days"] = IDLE_EXPIRY_DAYS
    return Facts(
        withdraw="withdraw" in perms,
        read=True,  # the call needs Read: its answer proves it whether or not perm lists read_only
        spot_trade=trade,
        futures_trade=futures,
        # Trade also moves funds between the user's own accounts, but it cannot be had without that:
        # a warning to switch it off would ask for the impossible (FACTS "trade right"). Futures come
        # with it too, where the account mode allows them.
        unneeded=False,
        futures_with_trade=True,
        unknown_permissions=tuple(sorted(perms - KNOWN_PERMISSIONS)),
        ip_whitelist=ips,
        account=account,
    )


def read_balance(data: Any) -> Facts:
    account = _first(data)
    if not isinstance(account.get("details", []), list):
        raise TypeError("details is a list")
    return Facts(balances=True)


MARKETS_SPOT: Final = frozenset({Market.SPOT})
MARKETS_FUTURES: Final = frozenset({Market.FUTURES})

# Not declared, so never sent: orders (/api/v5/trade/*), order-precheck, settings (/api/v5/account/set-*),
# transfers and withdrawals (/api/v5/asset/*), sub-account key management.
# fmt: off
CALLS: Final = (
    Call("time", Role.SERVER_TIME, "GET", "api", "/api/v5/public/time", signed=False, read=read_time),
    # 1 request per 5 s per IP: one answer per container serves every test for half a minute.
    Call("status", Role.STATUS, "GET", "api", "/api/v5/system/status", signed=False, read=read_status,
         cache_s=30),
    Call("key_info", Role.KEY_INFO, "GET", "api", "/api/v5/account/config", read=read_key_info),
    # One trading account holds spot assets and the USDT margin of swaps: the whole account for spot,
    # its USDT for futures.
    Call("balance", Role.SPOT_READ, "GET", "api", "/api/v5/account/balance", markets=MARKETS_SPOT,
         read=read_balance),
    Call("futures_balance", Role.FUTURES_READ, "GET", "api", "/api/v5/account/balance",
         markets=MARKETS_FUTURES, params={"ccy": "USDT"}, read=read_balance),
)
# fmt: on

EXCHANGE: Final = ExchangeSpec(
    info=ExchangeInfo("okx", "OKX", needs_passphrase=True, markets=(Market.SPOT, Market.FUTURES)),
    hosts=(API,),
    calls=CALLS,
    sign=sign,
    credentials=CredentialRules(passphrase=True),
    facts=FACTS,
    budget=RequestBudget(
        window_s=2,
        max_units=2,
        # The only IP-limited calls of a test are the public time (10 per 2 s) and status (1 per 5 s,
        # cached 30 s per container); private calls are limited per user, not per IP.
        units_per_test=1,
        unit="public/time requests",
        exchange_limit="GET /api/v5/public/time 10 requests per 2 s per IP; private calls per user ID",
        source="OKX docs #public-data-rest-api-get-system-time (reference 3.6); a fifth of it",
        confirmed=True,
    ),
)
