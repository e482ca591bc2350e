"""Binance: spot (``api.binance.com``) and USDⓈ-M futures (``fapi.binance.com``), declared for the engine.

One HMAC key works on both hosts. Its rights come from ``GET /sapi/v1/account/apiRestrictions``
(spot host), which needs no right beyond a valid key; the trade rights are proved by Binance's own
order tests, which validate an order and never send it to the matching engine. Binance answers
-2015 "Invalid API-key, IP, or permissions for action." for an unknown key, a caller outside the
key's whitelist and a missing right alike: the engine's ``KEY_OR_DENIED`` judges it from the other
signed calls (apiRestrictions passing proves the key and the IP; then a -2015 is the missing right).

Sources (tags as in ``shared/reference/exchanges-next.md`` Part A §1): [BN-REST] binance-spot-api-docs
@a5e0bc3 rest-api.md, [BN-ERR] its errors.md, [BN-SDK] binance-connector-js @a9de9a9, [BN-FUT]
developers.binance.com USDⓈ-M futures pages, [CCXT] ccxt binance.py (exceptions table).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from backfuture.engine.spec import (
    KEY_OR_DENIED,
    PROVES_RIGHT,
    Answer,
    Call,
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
    Fact("signing", "signature = lowercase hex HMAC-SHA256(secret, query string + body), non-ASCII "
         "percent-encoded before signing; header X-MBX-APIKEY; same scheme on fapi",
         "[BN-REST] SIGNED Endpoint Examples (official HMAC vectors, verified); [BN-FUT] general info", True),
    Fact("key types", "HMAC only here: RSA and Ed25519 keys sign differently (base64) and are not supported",
         "[BN-REST]; faqs/api_key_types.md", True),
    Fact("time window", "accepted when timestamp < serverTime + 1000 and serverTime - timestamp <= "
         "recvWindow (default 5000, max 60000); -1021 otherwise (futures also -5028)",
         "[BN-REST] Timing security", True),
    Fact("key info", "GET /sapi/v1/account/apiRestrictions (weight 1): ipRestrict, enableReading, "
         "enableWithdrawals, enableInternalTransfer, permitsUniversalTransfer, enableMargin, enableFutures, "
         "enableSpotAndMarginTrading, enableVanillaOptions, enablePortfolioMarginTrading, enableFix*",
         "[BN-SDK] get-api-key-permission-response.ts; developers.binance.com api-key-permission", True),
    Fact("IP whitelist", "only the boolean ipRestrict: the list is not returned for one's own key, so a "
         "restricted key's whitelist is reported as unknown", "[BN-SDK]; reference §1.3", True),
    Fact("expiry", "tradingAuthorityExpirationTime (ms): spot trading right of a key without IP restriction "
         "lapses after 30 days; absent in the current SDK type, read when present",
         "Binance announcement 2021-07-08; binance-connector-go fixture", False),
    Fact("master/sub", "not reported by apiRestrictions", "[BN-SDK]; reference §1.3", True),
    Fact("-2015", "one code for an unknown key, a caller IP outside the whitelist and a missing right "
         "(HTTP 401): an IP problem cannot be told from a bad key; a key made on binance.us, the testnet or "
         "demo mode is unknown here and answers the same", "[BN-ERR]; ccxt#18459; crypto_vba#65; "
         "Binance.Net#579", True),
    Fact("order tests", "POST /api/v3/order/test and POST /fapi/v1/order/test validate an order without "
         "sending it to the matching engine; their filter rejections (-1013, -4xxx) come after the key's "
         "permission check (-2015), so they prove the trade right", "[BN-REST] Test new order; [BN-FUT] "
         "New-Order-Test; reference §1.4", True),
    Fact("-2010", "NEW_ORDER_REJECTED: its message says what: 'This action is disabled on this account.', "
         "'This account may not place or cancel orders.' and the symbol not permitted/restricted for the "
         "account restrict it; 'Rest API trading is not enabled.' is Binance's server; others reject the "
         "order",
         "[BN-ERR] Messages for -2010", True),
    Fact("futures account states", "-4087 reduce-only, -4088 no placing orders, -4192 cooling-off, "
         "-4400/-4401 reduce-only restrictions, -4402 region restrict the account", "reference §1.5; [CCXT]",
         False),
    Fact("maintenance", "public GET /sapi/v1/system/status answers {status: 0 normal | 1 "
         "system_maintenance}; signed calls may answer 'System is under maintenance.'",
         "[BN-SDK] others-api.ts; [CCXT] exact map",
         False),
    Fact("futures read with enableFutures false", "whether fapi balances answer -2015 or data: either way "
         "the key reports enableFutures false, so futures_not_enabled", "reference §1.3 UNCONFIRMED", False),
    Fact("IP rate limit", "6000 request weight per minute per IP on api.binance.com (2400 on fapi); limits "
         "are per IP, not per key; 429 then 418 with Retry-After (s). A full test costs about 30 weight",
         "[BN-REST] IP Limits; GET /api/v3/exchangeInfo rateLimits", False),
)
# fmt: on

# --------------------------------------------------------------------------------------------
# Signing ([BN-REST] "SIGNED Endpoint Examples for POST /api/v3/order")
# --------------------------------------------------------------------------------------------

RECV_WINDOW_MS: Final = 5000  # Binance's default (and the official vector's)


def encode_query(params: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    """``k=v&…`` in the given order, everything outside RFC 3986's unreserved set percent-encoded
    (uppercase hex, as the non-ASCII vector shows): the exact text signed is the text sent."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)


def signature(secret: str, total_params: str) -> str:
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def sign(draft: Draft, credentials: Credentials, timestamp_ms: int) -> Signed:
    """Every parameter in the query, POST included, and no body: one string to sign and send
    (totalParams = query + empty body)."""
    query = encode_query(
        [*draft.params, ("recvWindow", str(RECV_WINDOW_MS)), ("timestamp", str(timestamp_ms))]
    )
    url = f"{draft.base_url}{draft.path}?{query}&signature={signature(credentials.api_secret, query)}"
    return Signed(url, {"X-MBX-APIKEY": credentials.api_key})


# --------------------------------------------------------------------------------------------
# Errors ([BN-ERR]; reference §1.5; [CCXT])
# --------------------------------------------------------------------------------------------

# -2010 carries several causes told apart only by Binance's documented messages ([BN-ERR] "Messages
# for -2010"). The engine matches codes, so the envelope refines -2010 by its exact message into a
# sub-code; the message itself is never kept.
_REJECTION_CAUSES: Final = {
    "this action is disabled on this account.": "-2010.disabled",
    "this account may not place or cancel orders.": "-2010.disabled",
    "this symbol is not permitted for this account.": "-2010.symbol",
    "this symbol is restricted for this account.": "-2010.symbol",
    "rest api trading is not enabled.": "-2010.api_off",
}


class BinanceEnvelope(Envelope):
    """Successes carry no code (an object or a list); errors are ``{"code": <negative>, "msg": …}``."""

    def code(self, body: Any) -> str | None:
        code = super().code(body)
        if code == "-2010":
            return _REJECTION_CAUSES.get(self.message(body).strip().lower(), code)
        return code


_COMMON: Final[dict[str, Answer]] = {
    "-2015": KEY_OR_DENIED,  # bad key, IP outside the whitelist, or a missing right (HTTP 401)
    "-1002": KEY_OR_DENIED,  # "You are not authorized to execute this request." (401)
    "-2014": Outcome.INVALID_KEY,  # "API-key format invalid."
    "-2008": Outcome.INVALID_KEY,  # "Invalid Api-Key ID." (undocumented; ccxt)
    "-1022": Outcome.INVALID_KEY,  # "Signature … not valid.": with our recipe, a wrong secret
    "-1021": Outcome.CLOCK_SKEW,  # outside the recvWindow / 1000 ms ahead
    "-1003": Outcome.RATE_LIMITED,  # request weight (HTTP 429/418 with Retry-After)
    "-1015": Outcome.RATE_LIMITED,  # too many new orders
    "-1000": Outcome.EXCHANGE_UNAVAILABLE,  # unknown error while processing
    "-1001": Outcome.EXCHANGE_UNAVAILABLE,  # internal error, disconnected
    "-1006": Outcome.EXCHANGE_UNAVAILABLE,  # unexpected response from the message bus
    "-1007": Outcome.EXCHANGE_UNAVAILABLE,  # backend timeout
    "-1008": Outcome.EXCHANGE_UNAVAILABLE,  # "Server is currently overloaded"
    "-1016": Outcome.EXCHANGE_UNAVAILABLE,  # "This service is no longer available." (reference §1.5)
    "-3022": Outcome.ACCOUNT_RESTRICTED,  # "You account's trading is banned." (ccxt AccountSuspended)
    "-2010.disabled": Outcome.ACCOUNT_RESTRICTED,
    "-2010.symbol": Outcome.ACCOUNT_RESTRICTED,  # the account may not trade BTCUSDT (region, account type)
    "-2010.api_off": Outcome.EXCHANGE_UNAVAILABLE,  # Binance's server refuses TRADE endpoints
    # -1131 "recvWindow must be less than 60000" and parameter codes would be our bug: exchange_error.
}
# HTTP without a code: 401 {"msg": "You are not authorized…"} (ccxt), 403 a WAF block ([BN-REST]).
_HTTP: Final[dict[int, Answer]] = {401: KEY_OR_DENIED, 403: Outcome.RATE_LIMITED}
# {"code":1,"msg":"System is under maintenance."}, quoted in ccxt's exact map.
_MAINTENANCE: Final = ("system is under maintenance",)

SPOT_ERRORS: Final = Errors(exact=_COMMON, http=_HTTP, maintenance_words=_MAINTENANCE)
FUTURES_ERRORS: Final = Errors(
    exact={
        **_COMMON,
        "-5028": Outcome.CLOCK_SKEW,  # outside the matching engine's recvWindow
        "-4087": Outcome.ACCOUNT_RESTRICTED,  # "User can only place reduce only order"
        "-4088": Outcome.ACCOUNT_RESTRICTED,  # "User can not place order currently"
        "-4192": Outcome.ACCOUNT_RESTRICTED,  # cooling-off period
        "-4400": Outcome.ACCOUNT_RESTRICTED,
        "-4401": Outcome.ACCOUNT_RESTRICTED,
        "-4402": Outcome.ACCOUNT_RESTRICTED,  # region
    },
    http=_HTTP,
    maintenance_words=_MAINTENANCE,
)

# Rejections of the test order itself, after the permission check: the key may trade. -1013 is a
# filter failure (price band, notional, lot size; "The request didn't reach the Matching Engine");
# -2010 without an account cause is the engine's own rejection (balance...).
SPOT_ORDER_TEST_ERRORS: Final = Errors(exact={"-1013": PROVES_RIGHT, "-2010": PROVES_RIGHT})
# Futures filter and margin rejections (price band -4016/-4024, notional -4164, tick/step sizes,
# quantity limits, margin -2018/-2019, leverage -2027/-2028).
FUTURES_ORDER_TEST_ERRORS: Final = Errors(
    exact=dict.fromkeys(
        ("-1013", "-2010", "-2018", "-2019", "-2027", "-2028", "-4003", "-4004", "-4005", "-4013", "-4014",
         "-4016", "-4023", "-4024", "-4131", "-4164"),
        PROVES_RIGHT,
    )
)  # fmt: skip

ENVELOPE: Final = BinanceEnvelope(ok_codes=frozenset(), data_field=None, ok_without_code=True)
SPOT: Final = Host("spot", "BINANCE_SPOT_BASE_URL", "https://api.binance.com", ENVELOPE, SPOT_ERRORS)
FUTURES: Final = Host(
    "futures", "BINANCE_FUTURES_BASE_URL", "https://fapi.binance.com", ENVELOPE, FUTURES_ERRORS
)

# --------------------------------------------------------------------------------------------
# Reading the answers
# --------------------------------------------------------------------------------------------

# Rights that move funds only between the user's own accounts, or that the platform never uses.
_UNNEEDED: Final = (
    "enableInternalTransfer",
    "permitsUniversalTransfer",
    "enableMargin",
    "enableVanillaOptions",
)
_KNOWN: Final = frozenset(
    {"enableReading", "enableWithdrawals", "enableSpotAndMarginTrading", "enableFutures",
     "enablePortfolioMarginTrading", "enableFixApiTrade", "enableFixReadOnly", *_UNNEEDED}
)  # fmt: skip


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise TypeError(f"{name} is a flag")
    return value


def read_key_info(data: Any) -> Facts:
    """apiRestrictions. A right named ``enable…``/``permits…`` that the platform does not know, and
    that is on, is reported: withdrawal cannot be ruled out while one is."""
    restricted = _flag(data, "ipRestrict") if "ipRestrict" in data else None
    expires = data.get("tradingAuthorityExpirationTime")  # FACTS: optional, ms
    unknown = sorted(
        name for name, value in data.items()
        if name.startswith(("enable", "permits")) and name not in _KNOWN and value is True
    )  # fmt: skip
    return Facts(
        withdraw=_flag(data, "enableWithdrawals"),
        read=_flag(data, "enableReading"),
        spot_trade=_flag(data, "enableSpotAndMarginTrading"),
        futures_trade=_flag(data, "enableFutures"),
        unneeded=any(_flag(data, name) for name in _UNNEEDED),
        unknown_permissions=tuple(unknown),
        # No restriction: (). Restricted: the list is not reported (FACTS), so None ("unknown"), never
        # a guess; a call from our egress passing shows only that one of our IPs is on it.
        ip_whitelist=() if restricted is False else None,
        expires_at=(
            datetime.fromtimestamp(expires / 1000, UTC)
            if isinstance(expires, int) and not isinstance(expires, bool) and expires > 0
            else None
        ),
    )


def read_status(data: Any) -> bool:
    """system/status: 0 normal, 1 system maintenance (then exchange_unavailable)."""
    if data["status"] != 0:
        raise ValueError("system maintenance")
    return True


def read_spot_account(data: Any) -> Facts:
    # canTrade/canWithdraw are the account's, not the key's ([BN-REST] Account information): ignored.
    account = {"account_type": data["accountType"][:64]} if isinstance(data.get("accountType"), str) else {}
    return Facts(balances=isinstance(data["balances"], list), account=account)


def read_futures_balance(data: Any) -> Facts:
    if not isinstance(data, list):
        raise TypeError("futures balances are a list")
    return Facts(balances=True)


# Limit buys of about 10-100 USDT at 10,000 USDT per BTC, far below the market: harmless even if ever
# matched; a price-band or notional rejection still proves the right (see the order-test tables).
SPOT_TEST_ORDER: Final = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                          "quantity": "0.001", "price": "10000"}  # fmt: skip
FUTURES_TEST_ORDER: Final = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                             "quantity": "0.010", "price": "10000"}  # fmt: skip

SPOT_ONLY: Final = frozenset({Market.SPOT})
FUTURES_ONLY: Final = frozenset({Market.FUTURES})

# Not declared, so never sent: POST /api/v3/order, /fapi/v1/order, /fapi/v1/leverage, marginType,
# /sapi/v1/capital/withdraw/apply, /sapi/v1/asset/transfer, any sub-account or key-settings path.
# fmt: off
CALLS: Final = (
    Call("spot_time", Role.SERVER_TIME, "GET", "spot", "/api/v3/time", signed=False,
         read=lambda body: body["serverTime"]),
    Call("futures_time", Role.SERVER_TIME, "GET", "futures", "/fapi/v1/time", signed=False,
         markets=FUTURES_ONLY, read=lambda body: body["serverTime"]),
    Call("system_status", Role.STATUS, "GET", "spot", "/sapi/v1/system/status", signed=False,
         read=read_status),
    Call("key_info", Role.KEY_INFO, "GET", "spot", "/sapi/v1/account/apiRestrictions", read=read_key_info),
    Call("account", Role.SPOT_READ, "GET", "spot", "/api/v3/account", markets=SPOT_ONLY,
         params={"omitZeroBalances": "true"}, read=read_spot_account),
    Call("spot_order_test", Role.SPOT_TRADE, "POST", "spot", "/api/v3/order/test", markets=SPOT_ONLY,
         params=SPOT_TEST_ORDER, errors=SPOT_ORDER_TEST_ERRORS),
    Call("futures_balance", Role.FUTURES_READ, "GET", "futures", "/fapi/v3/balance", markets=FUTURES_ONLY,
         read=read_futures_balance),
    Call("futures_order_test", Role.FUTURES_TRADE, "POST", "futures", "/fapi/v1/order/test",
         markets=FUTURES_ONLY, params=FUTURES_TEST_ORDER, errors=FUTURES_ORDER_TEST_ERRORS),
)
# fmt: on

EXCHANGE: Final = ExchangeSpec(
    info=ExchangeInfo("binance", "Binance", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
    hosts=(SPOT, FUTURES),
    calls=CALLS,
    sign=sign,
    facts=FACTS,
    budget=RequestBudget(
        window_s=60,
        max_units=1200,
        # time 1 + apiRestrictions 1 + account 20 + order/test 1 + system status 1 (spot pool); fapi
        # time 1 + balance 5 + order/test 1 (futures pool): counted together, conservatively
        units_per_test=31,
        unit="request weight",
        exchange_limit="request weight per IP per minute (X-MBX-USED-WEIGHT-1M); 6000 spot, 2400 futures "
        "(UNCONFIRMED figures)",
        source="exchanges-next.md 1.6: 'The limits on the API are based on the IPs, not the API keys'; "
        "1200 is half the smaller (futures) figure",
        confirmed=False,
    ),
)
