"""BingX: spot and USDT-margined perpetual swaps on one host (open-api.bingx.com), declared for the engine.

Sources (tags): [BX-DOCS] github BingX-API/docs-v3 @d84f954 (the official docs site bundle,
static/js/app.4ba922b42c5d07b46306.js: "SignAuth", "Query API KEY Permissions", "Test Order",
"Common Business Error Codes"), [BX-SAMPLE] the official Python sample's get_sign/parseParam (the
docs' "try to run our sample code" link), [JKORF] JKorf/BingX.Net (BingXAuthenticationProvider.cs,
BingXErrors.cs, BingXExchange.cs rate limiters, BingXRestClientSubAccountApi.cs), [REF]
../shared/reference/exchanges-next.md Part B §3 and §5.

The key's rights come from ``GET /openApi/v1/account/apiPermissions``; the perpetual-swap trade right
is confirmed with ``POST /openApi/swap/v2/trade/order/test``, which BingX documents as never placing
the order. BingX has no spot order test: spot trading is the key's permission 1.

BingX bans after repeated error answers (over 20 on one endpoint in 8 minutes: 100410), so every
call but the clock waits for the key info: a bad key, secret, IP or clock costs one error answer per
test on one endpoint, and the order test runs only for keys that list the perpetual-trading right.
The platform counts those answers (``error_budget``) and stops testing BingX keys for the rest of
the window before its IPs come near the ban.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from typing import Any, Final
from urllib.parse import quote

from backfuture.clock import now_ms
from backfuture.engine.http import ExchangeResponse
from backfuture.engine.spec import (
    DENIED,
    PROVES_RIGHT,
    Call,
    Draft,
    Envelope,
    ErrorBudget,
    Errors,
    ExchangeSpec,
    Fact,
    Facts,
    Host,
    Inputs,
    RequestBudget,
    Role,
    Signed,
)
from backfuture.errors import Outcome
from backfuture.exchanges import Credentials, ExchangeInfo, Market

# fmt: off
FACTS: Final = (
    Fact("signing", "header X-BX-APIKEY; the parameters (timestamp in ms, recvWindow included) joined as "
         "k=v&... in the order sent; signature = lowercase hex HMAC-SHA256(secret, that string), appended as "
         "the last parameter; POST sends its parameters the same way, in the query, with no body. The docs' "
         "printed example hex is inconsistent (two different values for one string, one value for two "
         "strings), so the recipe is tested, cross-checked with OpenSSL and the official sample",
         "[BX-DOCS] SignAuth; [BX-SAMPLE] get_sign; [JKORF] BingXAuthenticationProvider.cs; [REF] §3.2",
         True),
    Fact("key types", "HMAC only: RSA/Ed25519 keys are not supported", "[BX-DOCS] SignAuth", True),
    Fact("time window", "rejected when sent more than recvWindow (default 5000 ms) before the server time",
         "[BX-DOCS] SignAuth", True),
    Fact("one host", "https://open-api.bingx.com serves spot and perpetual swap; open-api.bingx.io is a "
         "backup (60/min total) used only when the primary fails, so not here", "[BX-DOCS] SignAuth", True),
    Fact("server time", "GET /openApi/swap/v2/server/time -> data.serverTime (ms)",
         "[BX-DOCS] Query System Time", True),
    Fact("key info", "GET /openApi/v1/account/apiPermissions -> {apiKey, permissions, ipAddresses, note}; "
         "documented without the {code,msg,data} envelope (JKorf reads it raw), so both shapes are read",
         "[BX-DOCS] KPwr; [JKORF] BingXRestClientSubAccountApi.cs SendRawAsync", False),
    Fact("permissions", "1 spot trading, 2 read, 3 perpetual (professional contract) trading, 4 universal "
         "transfer, 5 withdraw, 7 intra-sub-account transfer; ints or digit strings read alike; any other "
         "number is unknown (withdrawal unverifiable)", "[BX-DOCS] KPwr", True),
    Fact("read right", "whether every key lists 2 is unknown (new keys are read-only, examples list it): 2 "
         "present means read; its absence is left to the balance reads", "[BX-DOCS] KPwr; [REF] §3.3", False),
    Fact("IP whitelist", "ipAddresses lists the bound IPs; [] (or [\"\"] as in apiKey/query's example) "
         "means none", "[BX-DOCS] KPwr, c5XA example", False),
    Fact("expiry, master/sub", "not reported by apiPermissions (no expiry field, no master/sub flag)",
         "[REF] §3.3", False),
    Fact("order test", "POST /openApi/swap/v2/trade/order/test: 'the actual order will not be placed', "
         "funds not deducted; its rejections of the order itself (101204 margin, 101209 position cap, "
         "101211 price range, 101460 liquidation price, 109400 'In the One-way mode, the PositionSide field "
         "can only be set to BOTH' (our LONG on a one-way account), 80014/100400 parameters) are read as "
         "passing the permission check, which apiPermissions' right 3 decides",
         "[BX-DOCS] pqER/TrnZ, swap trade error table (109400); [JKORF] BingXErrors.cs; ccxt#22237 (109400 "
         "live, HTTP 200); [REF] §3.4", False),
    Fact("spot trade proof", "no spot order-test endpoint: permission 1 decides", "[REF] §3.4", True),
    Fact("80014", "'Invalid parameter' in the docs' table, but answered 'timestamp is invalid' for a stale "
         "timestamp: with a message naming the timestamp it is clock skew, otherwise a parameter error",
         "[BX-DOCS] Common Business Error Codes; [REF] §3.5 real messages", False),
    Fact("error transport", "business errors come with HTTP 200; the docs also list 400/401/403/418/429: "
         "codes are read whatever the status", "[REF] §3.5", False),
    Fact("rate limit", "100410: 'disabled period ... unblocked after <epoch ms>' or 'over 20 error code ... "
         "requests within 480000 ms for this api ... can retry after time: <epoch ms>' (an error-count ban "
         "per endpoint); headers X-RateLimit-Requests-Remain / -Expire; 429 then 418 ban",
         "[REF] §3.5; [BX-DOCS]", True),
    Fact("error budget", "over 20 error answers on one endpoint within 8 minutes ban it (100410): the plan "
         "sends nothing signed before the key info succeeded, so a rejected key costs one error answer per "
         "test, on apiPermissions (two when a clock re-sync repeats it). The platform counts every error "
         "answer per endpoint and 480 s window, all IPs together, and sends no test while an endpoint it may "
         "call has 5 this window (error_budget). Whether the count is per IP or per UID, per error code, and "
         "whether the order test's rejections of the order (101204, 109400) count are unknown: all are "
         "counted together, as if per IP", "[REF] §3.5 ('over 20 error code:100202 requests within 480000 ms "
         "for this api'), §3.6", False),
    Fact("IP rate limit", "per IP: 1000 requests per 10 s in total on account endpoints and 100 per 10 s "
         "per endpoint (market data 100 per 10 s); per UID per endpoint otherwise (apiPermissions 5/s, order "
         "test 5/s)", "[JKORF] BingXExchange.cs RateLimiter (RestAccount1, RestMarket); [BX-DOCS] KPwr, "
         "pqER", False),
    Fact("account states", "80020 risk forbidden and 101514 temporarily suspended from opening positions "
         "restrict the account; 80012 and 100500/101500 are BingX's outage", "[BX-DOCS] Common Business "
         "Error Codes", True),
    Fact("regional sites", "one global API host; a key of the demo (VST) environment or an unknown key "
         "answers 100413 'Incorrect apiKey'", "[BX-DOCS] SignAuth; [REF] §3.5", False),
)
# fmt: on

# --------------------------------------------------------------------------------------------
# Signing ([BX-DOCS] SignAuth; [BX-SAMPLE]; [JKORF] BingXAuthenticationProvider.cs)
# --------------------------------------------------------------------------------------------

RECV_WINDOW_MS: Final = 5000  # the documented default; the measured clock offset keeps us inside it


def encode_query(params: list[tuple[str, str]]) -> str:
    """``k=v&…`` in the given order; values percent-encoded only when they hold special characters
    (ours never do), so the text signed is the text sent."""
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in params)


def signature(secret: str, param_string: str) -> str:
    return hmac.new(secret.encode(), param_string.encode(), hashlib.sha256).hexdigest()


def sign(draft: Draft, credentials: Credentials, timestamp_ms: int) -> Signed:
    """Every parameter in the query (POST included, as the official sample sends them), then
    recvWindow and timestamp; the signature is appended last."""
    query = encode_query(
        [*draft.params, ("recvWindow", str(RECV_WINDOW_MS)), ("timestamp", str(timestamp_ms))]
    )
    url = f"{draft.base_url}{draft.path}?{query}&signature={signature(credentials.api_secret, query)}"
    return Signed(url, {"X-BX-APIKEY": credentials.api_key})


# --------------------------------------------------------------------------------------------
# Envelope and errors ([BX-DOCS] Common Business Error Codes; [JKORF] BingXErrors.cs; [REF] §3.5)
# --------------------------------------------------------------------------------------------


class BingXEnvelope(Envelope):
    """``{"code": 0, "msg": "", "data": …}``; apiPermissions may answer without it (FACTS: key info),
    then the whole body is the payload. 80014 is refined by its message (FACTS: 80014); the message
    is searched, never kept."""

    def code(self, body: Any) -> str | None:
        code = super().code(body)
        if code == "80014" and "timestamp" in self.message(body).lower():
            return "80014.timestamp"
        return code

    def data(self, body: Any) -> Any:
        if isinstance(body, dict) and self.code_field not in body:
            return body
        return super().data(body)


ERRORS: Final = Errors(
    exact={
        "100413": Outcome.INVALID_KEY,  # "Incorrect apiKey" (unknown here, e.g. a demo/VST key)
        "100001": Outcome.INVALID_KEY,  # "Signature verification failed": with our recipe, a wrong secret
        "100419": Outcome.IP_NOT_ALLOWED,  # "IP does not match IP whitelist"
        "100421": Outcome.CLOCK_SKEW,  # "Null timestamp or timestamp mismatch"
        "80014.timestamp": Outcome.CLOCK_SKEW,  # "timestamp is invalid"
        "100004": DENIED,  # "Permission denied as the API key was created without permission"
        "80020": Outcome.ACCOUNT_RESTRICTED,  # "Risk forbidden"
        "101514": Outcome.ACCOUNT_RESTRICTED,  # "temporarily suspended from opening positions"
        "100410": Outcome.RATE_LIMITED,  # rate limit, or the error-count ban of one endpoint
        "80012": Outcome.EXCHANGE_UNAVAILABLE,  # "Service unavailable"
        "100500": Outcome.EXCHANGE_UNAVAILABLE,  # "Internal system error"
        "101500": Outcome.EXCHANGE_UNAVAILABLE,  # "RPC timeout"
        # 100400/80014 (parameters) and 100412 (null signature) would be our bug: exchange_error.
    },
)

# The order itself rejected (FACTS: order test): the call runs only for keys listing right 3.
ORDER_TEST_ERRORS: Final = Errors(
    exact=dict.fromkeys(("101204", "101209", "101211", "101460", "109400", "80014", "100400"), PROVES_RIGHT)
)

_EPOCH_MS: Final = re.compile(r"(?:after|time:)\s*(\d{13})")


def retry_after_s(response: ExchangeResponse) -> int | None:
    """From 100410's own 'unblocked after <ms>' / 'can retry after time: <ms>', else the
    X-RateLimit-Requests-Expire header (epoch ms when it looks like one, else seconds: UNCONFIRMED)."""
    body = response.body
    message = body.get("msg") if isinstance(body, dict) else None
    found = _EPOCH_MS.search(message) if isinstance(message, str) else None
    raw = found.group(1) if found else None
    if raw is None:
        raw = response.header("x-ratelimit-requests-expire")
        if raw is None or not raw.strip().isdigit():
            return None
        if int(raw) < 10**12:
            return max(1, int(raw))
    return max(1, math.ceil((int(raw) - now_ms()) / 1000))


API: Final = Host(
    "api",
    "BINGX_BASE_URL",
    "https://open-api.bingx.com",
    BingXEnvelope(ok_without_code=True),
    ERRORS,
    retry_after_s,
)

# --------------------------------------------------------------------------------------------
# Reading the answers
# --------------------------------------------------------------------------------------------

SPOT_TRADE, READ, FUTURES_TRADE, UNIVERSAL_TRANSFER, WITHDRAW, SUB_TRANSFER = 1, 2, 3, 4, 5, 7
KNOWN: Final = frozenset({SPOT_TRADE, READ, FUTURES_TRADE, UNIVERSAL_TRANSFER, WITHDRAW, SUB_TRANSFER})


def _numbers(raw: Any) -> frozenset[int]:
    if not isinstance(raw, list):
        raise TypeError("permissions is a list")
    found: set[int] = set()
    for item in raw:
        if isinstance(item, bool) or not (
            isinstance(item, int) or (isinstance(item, str) and item.isdigit())
        ):
            raise TypeError("a permission is a number")
        found.add(int(item))
    return frozenset(found)


def _whitelist(raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise TypeError("ipAddresses is a list")
    return tuple(ip for ip in (str(i).strip() for i in items) if ip)


def read_key_info(data: Any) -> Facts:
    """apiPermissions, wrapped or not. The note is the user's label: never kept."""
    rights = _numbers(data["permissions"])
    return Facts(
        withdraw=WITHDRAW in rights,
        read=True if READ in rights else None,  # FACTS: read right
        spot_trade=SPOT_TRADE in rights,
        futures_trade=FUTURES_TRADE in rights,
        unneeded=bool(rights & {UNIVERSAL_TRANSFER, SUB_TRANSFER}),
        unknown_permissions=tuple(f"permission {n}" for n in sorted(rights - KNOWN)),
        ip_whitelist=_whitelist(data.get("ipAddresses")),
    )


def read_server_time(data: Any) -> int:
    value = data["serverTime"]
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("serverTime is a number")
    return int(value)


def read_spot_balance(data: Any) -> Facts:
    if not isinstance(data["balances"], list):
        raise TypeError("balances is a list")
    return Facts(balances=True)


def read_swap_balance(data: Any) -> Facts:
    """v3 answers a list of assets; the v2 shape {"balance": {...}} is read too."""
    if isinstance(data, list) or (isinstance(data, dict) and isinstance(data.get("balance"), dict)):
        return Facts(balances=True)
    raise TypeError("swap balances are a list")


def _futures_right(inputs: Inputs) -> bool:
    facts = inputs.value("key_info") if inputs.succeeded("key_info") else None
    return isinstance(facts, Facts) and facts.futures_trade is True


SPOT_ONLY: Final = frozenset({Market.SPOT})
FUTURES_ONLY: Final = frozenset({Market.FUTURES})
# A limit buy of 0.001 BTC at 10,000 USDT, far below the market; the test endpoint never places it.
TEST_ORDER: Final = {"symbol": "BTC-USDT", "side": "BUY", "positionSide": "LONG", "type": "LIMIT",
                     "quantity": "0.001", "price": "10000"}  # fmt: skip

# Not declared, so never sent: /openApi/spot/v1/trade/order, /openApi/swap/v2/trade/order, leverage,
# marginType, positionSide/dual, closeAllPositions, cancel-all, /openApi/wallets/v1/capital/withdraw/apply,
# /openApi/api/v3/post/asset/transfer, /openApi/subAccount/v1/apiKey/*.
# fmt: off
CALLS: Final = (
    Call("server_time", Role.SERVER_TIME, "GET", "api", "/openApi/swap/v2/server/time", signed=False,
         read=read_server_time),
    Call("key_info", Role.KEY_INFO, "GET", "api", "/openApi/v1/account/apiPermissions", read=read_key_info),
    # needs key_info: nothing else is signed until the key is accepted (FACTS: error budget).
    Call("spot_balance", Role.SPOT_READ, "GET", "api", "/openApi/spot/v1/account/balance", markets=SPOT_ONLY,
         needs=("key_info",), read=read_spot_balance),
    Call("swap_balance", Role.FUTURES_READ, "GET", "api", "/openApi/swap/v3/user/balance",
         markets=FUTURES_ONLY, needs=("key_info",), read=read_swap_balance,
         denied=Outcome.NO_READ_PERMISSION),  # a balance read refused is the read right, for swaps too
    Call("swap_order_test", Role.FUTURES_TRADE, "POST", "api", "/openApi/swap/v2/trade/order/test",
         markets=FUTURES_ONLY, needs=("key_info",), when=_futures_right, params=TEST_ORDER,
         errors=ORDER_TEST_ERRORS),
)
# fmt: on

EXCHANGE: Final = ExchangeSpec(
    info=ExchangeInfo("bingx", "BingX", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
    hosts=(API,),
    calls=CALLS,
    sign=sign,
    facts=FACTS,
    budget=RequestBudget(
        window_s=10,
        max_units=100,
        # time, apiPermissions, spot balance, swap balance, order test: 20 tests per 10 s, a fifth of
        # the 100 per endpoint per 10 s (each test calls apiPermissions once)
        units_per_test=5,
        unit="requests",
        exchange_limit="per IP: 1000 requests per 10 s on account endpoints, 100 per 10 s per endpoint "
        "(JKorf; BingX's docs give per-UID figures)",
        source="JKorf BingX.Net BingXExchange.cs RateLimiter; a fifth of the per-endpoint IP limit",
        confirmed=False,
    ),
    error_budget=ErrorBudget(
        window_s=480,
        # per endpoint, all IPs together (a test cannot tell which NAT IP it leaves by). A sliding
        # 8 minutes spans two windows (10 errors); the other 10 cover tests already under way when the
        # counter fills (each adds at most 2 per endpoint: the clock re-sync repeats a pass).
        max_errors=5,
        exchange_limit="over 20 error answers on one endpoint within 480000 ms: 100410 ban",
        source="[REF] §3.5 real 100410 message, §3.6; FACTS: error budget",
        confirmed=True,
    ),
)
