"""MEXC: spot (API v3) and futures (contract API v1), declared for the probe engine.

Sources (tags as in ``shared/reference/exchanges.md``): [MX-DOC] the official spot docs, [MX-FUT-DOC]
the contract docs, [MX-DEMO] the official 2026 demo, [CCXT] ccxt 4.5.90, [REVIEW] section 6 of the
reference (corrections from primary sources, 2026-11). Each fact the code relies on is in ``FACTS``
with its source and whether it is confirmed; UNCONFIRMED ones are read both ways where they are used.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

from backfuture.engine.spec import (
    DENIED,
    KEY_OR_DENIED,
    PROVES_RIGHT,
    Call,
    Draft,
    Envelope,
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
    Fact("spot signing", "HMAC-SHA256 lowercase hex over query string + body, no '&' between",
         "[MX-DOC] SIGNED endpoint examples; official vectors verified", True),
    Fact("spot time window", "accepted when timestamp < serverTime + 1000 and serverTime - timestamp <= "
         "recvWindow (default 5000, max 60000)", "[MX-DOC] Timing security", True),
    Fact("futures signing", "hex HMAC-SHA256 of accessKey + Request-Time + paramString (sorted GET params, "
         "raw POST body)", "[MX-FUT-DOC] Authentication; [MX-DEMO] signer.go", True),
    Fact("futures Recv-Window unit", "seconds in the docs, milliseconds in the demo: not sent, so the "
         "default ±10 s applies under both readings", "[MX-FUT-DOC]; [MX-DEMO] config.go", False),
    Fact("futures host", "api.mexc.com serves the contract paths (the docs still name contract.mexc.com)",
         "[MX-DEMO] config.go; [CCXT] mexc.py urls; [REVIEW] #9", True),
    Fact("GET apiKeyInfo", "permissions, ipWhiteList, remainingValidity (days) of the calling key; not in "
         "the official docs (only POST, which edits the key), so best effort",
         "[CCXT] mexc.py ~211; gocryptotrader fixture; [REVIEW] #4", False),
    Fact("withdraw right", "SPOT_WITHDRAW_WRITE withdraws and transfers to other users; SPOT_WITHDRAW_READ "
         "only reads history and addresses", "[MX-DOC] permission per endpoint; [REVIEW] #2", True),
    Fact("order test", "POST /api/v3/order/test validates an order without sending it to the matching engine",
         "[MX-DOC] Test New Order", True),
    Fact("order rejections", "codes about the order itself (30000-30021, 10101, generic 400) come after the "
         "permission check (700007), so they prove the trade right", "[MX-DOC] errors; [REVIEW] #1", True),
    Fact("401", "HTTP/code 401 is authentication or permission ('No authority'): invalid key only when no "
         "other signed call passed", "[MX-ERRPAGE]; zh docs mirror; [REVIEW] #6", True),
    Fact("account states", "60005 'account is abnormal', 30018, 730100 'Unusual user status', 140002 "
         "'sub account is forbidden' and 10098 (risk control) are account restrictions",
         "[MX-DOC] error codes; [CCXT] AccountSuspended; [REVIEW] #5", True),
    Fact("symbols open to API orders", "majors (BTCUSDT...) answer 10007 'symbol not support api'; public "
         "GET /api/v3/defaultSymbols lists the open ones (MXUSDT among them). A key's own selfSymbols are "
         "not fetched: a symbol-level answer proves the trade right anyway, and it would cost a signed "
         "round trip", "[REVIEW] #1: mexc-api-sdk#112, Mexc.Net#13, ccxt#26179", True),
    Fact("futures orders by API", "closed for ordinary accounts: public GET /api/v1/contract/detail reports "
         "apiAllowed false; while it is, futures connections get futures_api_unavailable",
         "[REVIEW] #3: ccxt#26179, ccxt#16672, mexc-api-sdk#96, live recording", True),
    Fact("futures code 1000", "'Please open contract account first!': the key is fine, no futures account",
         "[CCXT] mexc.py comment quoting a live body", False),
)
# fmt: on

# --------------------------------------------------------------------------------------------
# Signing ([MX-DOC] §SIGNED; [MX-FUT-DOC] §Authentication)
# --------------------------------------------------------------------------------------------

RECV_WINDOW_MS: Final = 5000  # MEXC's default; the measured offset keeps us well inside it


def _encode(value: object) -> str:
    """Percent-encode everything outside RFC 3986's unreserved set, uppercase hex as MEXC asks
    ("BEP20(BSC)"-style values are a known source of signature failures, mexc-api-sdk#22)."""
    return quote(str(value), safe="")


def build_spot_query(params: Mapping[str, object]) -> str:
    """``k=v&k=v`` in the given order (MEXC does not sort), values encoded as they will be sent."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in params.items())


def sign_spot(secret: str, total_params: str) -> str:
    """Lowercase hex HMAC-SHA256 of totalParams = query string + body, joined with no ``&``."""
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def signed_spot_query(secret: str, params: Mapping[str, object], *, timestamp_ms: int, body: str = "") -> str:
    query = build_spot_query({**params, "recvWindow": RECV_WINDOW_MS, "timestamp": timestamp_ms})
    return f"{query}&signature={sign_spot(secret, query + body)}"


def futures_param_string(
    method: str, params: Mapping[str, object] | None = None, body: str | None = None
) -> str:
    """GET/DELETE: business parameters sorted by name as ``k=v&…`` (None dropped); POST: the raw
    JSON body; no parameters: ``""``."""
    if method in ("POST", "PUT"):
        return body or ""
    if not params:
        return ""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()) if v is not None)


def sign_futures(secret: str, access_key: str, request_time: str, param_string: str) -> str:
    """Lowercase hex (not base64) HMAC-SHA256 of accessKey + Request-Time + paramString."""
    return hmac.new(
        secret.encode(), f"{access_key}{request_time}{param_string}".encode(), hashlib.sha256
    ).hexdigest()


def sign(draft: Draft, credentials: Credentials, timestamp_ms: int) -> Signed:
    target = f"{draft.base_url}{draft.path}"
    if draft.host == "spot":
        # Every parameter in the query, POST included, with an empty body (as ccxt does): one string
        # to sign and send, no question of how the server joins query and body.
        query = signed_spot_query(credentials.api_secret, dict(draft.params), timestamp_ms=timestamp_ms)
        headers = {"X-MEXC-APIKEY": credentials.api_key, "Content-Type": "application/json"}
        return Signed(f"{target}?{query}", headers)
    param_string = futures_param_string(draft.method, dict(draft.params), draft.body)
    request_time = str(timestamp_ms)
    # No Recv-Window header: its unit is UNCONFIRMED (FACTS), and sending none means ±10 s either way.
    headers = {
        "ApiKey": credentials.api_key,
        "Request-Time": request_time,
        "Signature": sign_futures(credentials.api_secret, credentials.api_key, request_time, param_string),
        "Content-Type": "application/json",
    }
    if draft.method in ("POST", "PUT"):
        return Signed(target, headers, draft.body)
    return Signed(f"{target}?{param_string}" if param_string else target, headers)


# --------------------------------------------------------------------------------------------
# Error tables ([MX-DOC] §Error Code, [MX-ERRPAGE], [MX-FUT-DOC] §Error code, reference §5)
# --------------------------------------------------------------------------------------------

SPOT_ERRORS: Final = Errors(
    exact={
        "400": Outcome.INVALID_KEY,  # "api key required"
        "401": KEY_OR_DENIED,  # "No authority": a bad key, or a right the key lacks
        "10001": Outcome.INVALID_KEY,  # "user does not exist"
        "10072": Outcome.INVALID_KEY,  # "invalid access key"
        "700001": Outcome.INVALID_KEY,  # "API-key format invalid" (also expired keys, per ccxt)
        "700002": Outcome.INVALID_KEY,  # "Signature for this request is not valid.": a wrong secret
        "700006": Outcome.IP_NOT_ALLOWED,  # "IP non white list"
        "10075": Outcome.IP_NOT_ALLOWED,  # older code, in a ccxt comment
        "700007": DENIED,  # "No permission to access the endpoint"
        "30020": DENIED,  # "no permission for the symbol"
        "70011": DENIED,  # "Pair user ban trade apikey"
        "700003": Outcome.CLOCK_SKEW,  # outside the recvWindow
        "10073": Outcome.CLOCK_SKEW,  # "invalid Request-Time"
        "429": Outcome.RATE_LIMITED,
        "503": Outcome.EXCHANGE_UNAVAILABLE,
        "504": Outcome.EXCHANGE_UNAVAILABLE,
        "11444": Outcome.EXCHANGE_UNAVAILABLE,  # "This feature is temporarily unavailable"
        "60005": Outcome.ACCOUNT_RESTRICTED,  # "your account is abnormal"
        "30018": Outcome.ACCOUNT_RESTRICTED,  # ccxt: AccountSuspended
        "730100": Outcome.ACCOUNT_RESTRICTED,  # "Unusual user status"
        "140002": Outcome.ACCOUNT_RESTRICTED,  # "sub account is forbidden"
        "10098": Outcome.ACCOUNT_RESTRICTED,  # risk control
        # 700005 "recvWindow must less than 60000" would be our bug: left to exchange_error.
    },
    # {"code":500,"message":"Under maintenance, please try again later"} (quoted in ccxt)
    maintenance_words=("maintenance",),
)

# Rejections of the test order itself: the permission check came first, so the key may trade.
# 400 is also MEXC's generic bad-parameter code on orders ({"msg":"price and quantity must be
# positive","code":400}, ccxt); here it cannot mean "api key required": the other calls carry the
# same key and would say so.
# Rejections of the test order itself, or of its symbol for API trading (10007 "symbol not support
# api", 70011 "Pair user ban trade apikey", 30020 "no permission for the symbol"): MEXC checks the
# key's permission (700007) first, so the key may trade. 400 is also MEXC's generic bad-parameter
# code on orders ({"msg":"price and quantity must be positive","code":400}, ccxt); here it cannot mean
# "api key required": the other calls carry the same key and would say so.
ORDER_TEST_ERRORS: Final = Errors(
    exact=dict.fromkeys(
        ("400", "10007", "70011", "30020", "30000", "30001", "30002", "30003", "30004", "30005", "30010",
         "30014", "30016", "30021", "10101"),
        PROVES_RIGHT,
    )
)  # fmt: skip

FUTURES_ERRORS: Final = Errors(
    exact={
        "401": Outcome.INVALID_KEY,  # not logged in
        "402": Outcome.INVALID_KEY,  # "Api_key expired"
        "602": Outcome.INVALID_KEY,  # "Verify failed": a wrong secret
        "406": Outcome.IP_NOT_ALLOWED,
        "513": Outcome.CLOCK_SKEW,  # "serves time more or less than 10s"
        "510": Outcome.RATE_LIMITED,
        "501": Outcome.EXCHANGE_UNAVAILABLE,
        "503": Outcome.EXCHANGE_UNAVAILABLE,
        "604": Outcome.EXCHANGE_UNAVAILABLE,
        "801": Outcome.EXCHANGE_UNAVAILABLE,
        "701": DENIED,  # account read permission required
        "702": DENIED,
        "703": DENIED,
        "704": DENIED,
        "511": DENIED,  # endpoint inaccessible
        "1000": DENIED,  # "Please open contract account first!" (FACTS: UNCONFIRMED)
    },
    maintenance_words=("maintenance",),
)

SPOT: Final = Host(
    "spot",
    "MEXC_SPOT_BASE_URL",
    "https://api.mexc.com",
    # Successes carry no code ({"serverTime":…}, the account) or code 200/0 ({"code":200,"data":[…]}).
    Envelope(ok_codes=frozenset({"0", "200"}), data_field=None, ok_without_code=True),
    SPOT_ERRORS,
)
FUTURES: Final = Host(
    "futures",
    "MEXC_FUTURES_BASE_URL",
    "https://api.mexc.com",
    Envelope(ok_codes=frozenset({"0"}), success_flag="success"),
    FUTURES_ERRORS,
)

# --------------------------------------------------------------------------------------------
# Reading the answers
# --------------------------------------------------------------------------------------------

# The documented permission names ([MX-DOC] sub-account key endpoints and "Permission:" lines).
KNOWN_PERMISSIONS: Final = frozenset(
    f"{area}_{what}_{mode}"
    for area, what in (
        ("SPOT", "ACCOUNT"),
        ("SPOT", "DEAL"),
        ("CONTRACT", "ACCOUNT"),
        ("CONTRACT", "DEAL"),
        ("SPOT", "TRANSFER"),
        ("SPOT", "WITHDRAW"),
    )
    for mode in ("READ", "WRITE")
)
_SHORT_SUFFIXES: Final = {"_R": "_READ", "_W": "_WRITE"}


def _permission(raw: str) -> str:
    name = raw.strip().upper()
    for short, long in _SHORT_SUFFIXES.items():  # the docs also write SPOT_ACCOUNT_R, SPOT_DEAL_W
        if name.endswith(short):
            return name[: -len(short)] + long
    return name


def _strings(value: Any) -> list[str]:
    """A comma string or a list of strings (the recorded answer has strings)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise TypeError("not a list of names")


def read_key_info(data: Any) -> Facts:
    """apiKeyInfo, with or without a ``{"code":200,"data":{…}}`` envelope (UNCONFIRMED which)."""
    if isinstance(data.get("data"), dict):
        data = data["data"]
    permissions = {_permission(p) for p in _strings(data["permissions"])}
    raw_ips = data.get("ipWhiteList", data.get("ipWhitelist", data.get("ip")))
    ips = _strings(raw_ips) if raw_ips is not None else ([] if "ipWhiteList" in data else None)
    # remainingValidity read as days (82 in the recorded answer; keys without IPs last 90 days).
    # Keys bound to IPs do not expire: absent, null or negative.
    remaining = data.get("remainingValidity")
    expires = None
    if isinstance(remaining, int) and not isinstance(remaining, bool) and remaining >= 0:
        expires = datetime.now(UTC) + timedelta(days=remaining)
    return Facts(
        withdraw="SPOT_WITHDRAW_WRITE" in permissions,
        futures_trade="CONTRACT_DEAL_WRITE" in permissions,
        unneeded=any(p.startswith("SPOT_TRANSFER") for p in permissions),  # between own accounts only
        unknown_permissions=tuple(sorted(permissions - KNOWN_PERMISSIONS)),
        ip_whitelist=tuple(ips) if ips is not None else None,
        expires_at=expires,
    )


def read_spot_account(data: Any) -> Facts:
    # canTrade / canWithdraw are ignored on purpose: UNCONFIRMED whether they describe the key's
    # scopes or only the account's state, so they can neither prove nor clear withdraw rights.
    account = {"account_type": data["accountType"]} if isinstance(data.get("accountType"), str) else {}
    return Facts(balances=isinstance(data.get("balances"), list), account=account)


def read_futures_assets(data: Any) -> Facts:
    return Facts(balances=isinstance(data, list))


def read_symbols(body: Any) -> list[str]:
    """defaultSymbols: {"code":200,"data":["MXUSDT",…],"msg":null}."""
    symbols = [s for s in body["data"] if isinstance(s, str)]
    if not symbols:
        raise ValueError("no symbol open to API trading")
    return symbols


def order_test_params(inputs: Inputs) -> dict[str, str]:
    """The trade proof: a LIMIT buy of 10 USDT far below the market, on a symbol open to API orders
    (majors such as BTCUSDT answer 10007). MEXC's own MXUSDT where listed, else the first USDT pair.
    Sent to /order/test only: even as a real order it could not fill."""
    symbols = inputs.value("default_symbols")
    usdt = [s for s in symbols if s.endswith("USDT")] or symbols
    symbol = "MXUSDT" if "MXUSDT" in usdt else usdt[0]
    return {"symbol": symbol, "side": "BUY", "type": "LIMIT", "quantity": "100", "price": "0.1"}


def read_contract_detail(data: Any) -> bool:
    """apiAllowed of BTC_USDT: false while MEXC accepts no futures orders by API (FACTS)."""
    detail = data if isinstance(data, dict) else next(d for d in data if d.get("symbol") == "BTC_USDT")
    allowed = detail["apiAllowed"]
    if not isinstance(allowed, bool):
        raise TypeError("apiAllowed is a flag")
    return allowed


SPOT_ONLY: Final = frozenset({Market.SPOT})
FUTURES_ONLY: Final = frozenset({Market.FUTURES})

# Not declared, so never sent: POST /api/v3/order (a real order), POST /api/v3/apiKeyInfo (edits the
# key's IP list), any capital/withdraw or transfer path.
# fmt: off
CALLS: Final = (
    Call("spot_time", Role.SERVER_TIME, "GET", "spot", "/api/v3/time", signed=False,
         read=lambda body: body["serverTime"]),
    Call("futures_time", Role.SERVER_TIME, "GET", "futures", "/api/v1/contract/ping", signed=False,
         markets=FUTURES_ONLY),
    Call("default_symbols", Role.LOOKUP, "GET", "spot", "/api/v3/defaultSymbols", signed=False,
         markets=SPOT_ONLY, read=read_symbols, cache_s=3600),
    Call("contract_detail", Role.FUTURES_API, "GET", "futures", "/api/v1/contract/detail", signed=False,
         markets=FUTURES_ONLY, params={"symbol": "BTC_USDT"}, read=read_contract_detail, cache_s=300),
    Call("key_info", Role.KEY_INFO, "GET", "spot", "/api/v3/apiKeyInfo", best_effort=True,
         params=lambda inputs: {"accessKey": inputs.api_key}, read=read_key_info),
    Call("account", Role.SPOT_READ, "GET", "spot", "/api/v3/account", markets=SPOT_ONLY,
         read=read_spot_account),
    Call("order_test", Role.SPOT_TRADE, "POST", "spot", "/api/v3/order/test", markets=SPOT_ONLY,
         needs=("default_symbols",), params=order_test_params, errors=ORDER_TEST_ERRORS),
    Call("futures_assets", Role.FUTURES_READ, "GET", "futures", "/api/v1/private/account/assets",
         markets=FUTURES_ONLY, read=read_futures_assets),
)
# fmt: on

EXCHANGE: Final = ExchangeSpec(
    info=ExchangeInfo("mexc", "MEXC", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
    hosts=(SPOT, FUTURES),
    calls=CALLS,
    sign=sign,
    facts=FACTS,
    budget=RequestBudget(
        window_s=10,
        max_units=100,
        units_per_test=8,  # time, defaultSymbols, apiKeyInfo, account, order/test, ping, detail, assets
        unit="requests",
        exchange_limit="500 requests per 10 s per endpoint (IP); GET /api/v3/account 2 req/s",
        source="[MX-DOC] LIMITS (reference 1.1); 100/8 = 12 tests per 10 s keeps the account endpoint "
        "near its 2 req/s",
        confirmed=True,
    ),
)
