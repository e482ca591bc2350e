"""Gate.io: spot and USDT perpetual futures (``/api/v4/futures/usdt``) on one API v4 host, declared for
the probe engine.

Sources (tags): [GATE-DOCS] the official API v4 docs text (gate.io/docs/developers/apiv4, read in the
code index as file id 3164320595: "Label list", "APIv4 Permissions", "APIv4 signed request
requirements", "API Signature string generation" with two worked signatures, FAQ), and file id
2486654959 ("HTTP convention", "Frequency limit rule"); [GATE-SDK] github gate/gateapi-python
@0d99dbb (the official SDK: gate_api/api_client.py ``gen_sign``, docs/AccountApi.md,
docs/AccountKeyInfo.md, docs/AccountKeyInfoPerms.md, docs/AccountDetail.md, docs/SystemTime.md);
[REF] ../shared/reference/exchanges-next.md Part B §1 (its issue citations: ccxt#13249, ccxt#13330,
ccxt#14694, gateio/rest-v4#8); [JKORF] JKorf/GateIo.Net (third party). UNCONFIRMED facts are read
both ways where they are used.

Gate has no order-test endpoint: the trade rights come from the key's own ``perms`` in
``GET /api/v4/account/main_keys``. No order endpoint is declared (not even a cancel), so none is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import unquote_plus, urlencode

from backfuture.clock import now_ms
from backfuture.engine.http import ExchangeResponse
from backfuture.engine.spec import (
    DENIED,
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
    Fact("signing", "SIGN = hex HMAC-SHA512(secret, METHOD\\npath incl. /api/v4\\nraw query (not "
         "URL-encoded)\\nhex SHA512(body, '' when none)\\nTimestamp); headers KEY, Timestamp (Unix "
         "seconds), SIGN. The docs publish two signatures for key 'key' / secret 'secret' (the test vectors)",
         "[GATE-DOCS] API Signature string generation; [GATE-SDK] api_client.py gen_sign", True),
    Fact("time window", "Timestamp may differ from the server time by at most 60 s, else REQUEST_EXPIRED "
         "('gap between request Timestamp and server time exceeds 60'); no recv-window parameter",
         "[GATE-DOCS] APIv4 signed request requirements; [REF] 1.2 (gateio/rest-v4#8, ccxt#13330)", True),
    Fact("one host", "https://api.gateio.ws/api/v4 serves spot and futures; USDT perpetuals are under "
         "/futures/usdt", "[GATE-SDK] docs/AccountApi.md; [REF] 1.1", True),
    Fact("server time", "GET /api/v4/spot/time (public): {\"server_time\": ms}",
         "[GATE-SDK] docs/SystemTime.md, docs/SpotApi.md get_system_time", True),
    Fact("key info", "GET /api/v4/account/main_keys: state (1 normal, 2 locked, 3 frozen), mode (1 classic, "
         "2 legacy unified), ip_whitelist, perms [{name, read_only}], created_at; typed as one object by "
         "the SDK and as an array by a third-party SDK (both read)",
         "[GATE-SDK] docs/AccountKeyInfo.md, docs/AccountKeyInfoPerms.md; [REF] 1.3", False),
    Fact("which key", "whether main_keys lists only the calling key or every main key is unknown. Its 'key' "
         "field is {mode} in the official SDK and the API key string in a third-party SDK: an entry whose "
         "key string is the tested key is read; an entry naming another key never is; without names, a "
         "lone entry is the caller's and several are read as not telling (account/detail instead)",
         "[GATE-SDK] docs/AccountKeyInfo.md, docs/AccountDetailKey.md; tiagosiebler/gateio-api @fe0d82c "
         "(third party) src/types/response/account.ts AccountMainKey (key: string); [REF] 1.3", False),
    Fact("key state", "main_keys state 2 (locked) or 3 (frozen): the key may not be used, account_restricted "
         "(a withdraw right still refuses the key). Whether such a key gets this answer or ACCOUNT_LOCKED on "
         "every call is unknown: both are account_restricted",
         "[GATE-SDK] docs/AccountKeyInfo.md; [REF] 1.3, 5 (restriction row)",
         False),
    Fact("key info for sub-account keys", "whether a sub-account key may call main_keys is unknown: on any "
         "answer that is not about the key itself, GET /api/v4/account/detail (any key: ip_whitelist, "
         "user_id, key.mode; no permissions) is read instead", "[GATE-SDK] docs/AccountDetail.md; [REF] 1.3",
         False),
    Fact("trade rights", "spot (spot/margin) and futures (perpetual) scopes with read_only false may place "
         "orders; read_only true only reads", "[GATE-DOCS] APIv4 Permissions; [GATE-SDK] "
         "AccountKeyInfoPerms.md", True),
    Fact("withdraw right", "the perms names have no withdrawal entry, and the docs' permission table puts "
         "fund transfers under a read-write wallet group (with withdrawals in a group of their own); so a "
         "wallet scope that is not read_only, or any withdraw/withdrawal name, is refused as withdrawal",
         "[GATE-DOCS] APIv4 Permissions; [REF] 1.3 (mapping UNCONFIRMED)", False),
    Fact("unneeded rights", "read-write delivery, options, margin, loan, earn, copy, pilot, otc, alpha, "
         "crossx, custody, account scopes are never used by the platform",
         "[GATE-SDK] AccountKeyInfoPerms.md", True),
    Fact("IP whitelist", "ip_whitelist lists the bound IPv4 addresses (at most 20); empty: not bound, the "
         "server skips the IP check", "[GATE-DOCS] Generate API key; [GATE-SDK] AccountKeyInfo.md", True),
    Fact("expiry", "no expiry field; a key not bound to IPs is valid for 90 days (FAQ), read as created_at + "
         "90 days (whether the 90 days restart is unknown); created_at in seconds, ms or ISO text",
         "[REF] 1.3 (Gate FAQ 17521); [GATE-DOCS] Time", False),
    Fact("error transport", "errors are {\"label\", \"message\"} (USER_NOT_FOUND also with 'detail'); 401 on "
         "authentication failure; the status of IP_FORBIDDEN, REQUEST_EXPIRED, READ_ONLY, ACCOUNT_LOCKED is "
         "not documented, so labels are read whatever the status; successes carry no label",
         "[GATE-DOCS] HTTP convention, Label list; [REF] 1.5", False),
    Fact("futures account", "USER_NOT_FOUND on /futures/usdt/accounts: the futures account is not opened "
         "(no funds transferred yet)", "[GATE-DOCS] FAQ; [REF] 1.3 (ccxt#13249)", True),
    Fact("testnet keys", "futures TestNet keys are a separate environment, unknown on api.gateio.ws "
         "(INVALID_KEY)", "[GATE-DOCS] Generate API key", True),
    Fact("rate limit", "TOO_MANY_REQUESTS with HTTP 429 and X-Gate-RateLimit-Reset-Timestamp (when the "
         "limit resets; seconds, read as ms when larger than 1e11)",
         "[GATE-DOCS] Frequency limit rule; [JKORF] GateIoRestMessageHandler.cs", False),
    Fact("IP rate limit", "public endpoints 200 requests per 10 s per endpoint per IP; private endpoints "
         "150 (wallet, futures 200) per 10 s per endpoint per account", "[REF] 1.6 ([JKORF] "
         "GateIoExchange.cs, mirroring the docs)", False),
    Fact("account states", "ACCOUNT_LOCKED, SUB_ACCOUNT_LOCKED: the account is locked",
         "[GATE-DOCS] Label list", True),
)
# fmt: on

# --------------------------------------------------------------------------------------------
# Signing ([GATE-DOCS] API Signature string generation; [GATE-SDK] gen_sign)
# --------------------------------------------------------------------------------------------

EMPTY_BODY_SHA512: Final = hashlib.sha512(b"").hexdigest()  # the docs print it: cf83e135...


def prehash(method: str, path: str, query: str, body: str | None, timestamp_s: int) -> str:
    hashed = hashlib.sha512((body or "").encode()).hexdigest()
    return f"{method}\n{path}\n{query}\n{hashed}\n{timestamp_s}"


def hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


def sign(draft: Draft, credentials: Credentials, timestamp_ms: int) -> Signed:
    """The query goes out URL-encoded but is signed decoded, as the SDK does
    (``unquote_plus(urlencode(querys))``); the timestamp is whole seconds."""
    encoded = urlencode(draft.params)
    timestamp_s = timestamp_ms // 1000
    message = prehash(draft.method, draft.path, unquote_plus(encoded), draft.body, timestamp_s)
    headers = {
        "KEY": credentials.api_key,
        "Timestamp": str(timestamp_s),
        "SIGN": hmac_hex(credentials.api_secret, message),
    }
    if draft.body is not None:
        headers["Content-Type"] = "application/json"
    url = f"{draft.base_url}{draft.path}" + (f"?{encoded}" if encoded else "")
    return Signed(url, headers, draft.body)


# --------------------------------------------------------------------------------------------
# Errors ([GATE-DOCS] Label list)
# --------------------------------------------------------------------------------------------

ERRORS: Final = Errors(
    exact={
        # A key made for the futures TestNet is unknown here too (FACTS: testnet keys).
        "INVALID_KEY": Outcome.INVALID_KEY,  # "Invalid API Key" (HTTP 401, ccxt#12600)
        "INVALID_CREDENTIALS": Outcome.INVALID_KEY,  # "Invalid credentials provided"
        "MISSING_REQUIRED_HEADER": Outcome.INVALID_KEY,  # "Missing required authentication header"
        "INVALID_SIGNATURE": Outcome.INVALID_KEY,  # our string is the documented one: a wrong secret
        "REQUEST_EXPIRED": Outcome.CLOCK_SKEW,  # more than 60 s from the server time
        "IP_FORBIDDEN": Outcome.IP_NOT_ALLOWED,  # "Request IP not in whitelist"
        "FORBIDDEN": DENIED,  # "Account has no permission to request operation" (403, ccxt#14694)
        "READ_ONLY": DENIED,  # "API key is read-only": only a write gets it; none is declared
        "ACCOUNT_LOCKED": Outcome.ACCOUNT_RESTRICTED,  # "Account is locked"
        "SUB_ACCOUNT_LOCKED": Outcome.ACCOUNT_RESTRICTED,  # "Sub account is locked"
        "TOO_MANY_REQUESTS": Outcome.RATE_LIMITED,
        "TOO_FAST": Outcome.RATE_LIMITED,  # documented for withdrawals; harmless here
        "INTERNAL": Outcome.EXCHANGE_UNAVAILABLE,  # "Internal server error"
        "SERVER_ERROR": Outcome.EXCHANGE_UNAVAILABLE,  # "Internal server error"
        "TOO_BUSY": Outcome.EXCHANGE_UNAVAILABLE,  # "Server is too busy at the moment"
        # Request-format labels (INVALID_PARAM_VALUE, NOT_FOUND...) stay exchange_error with their label.
    },
    http={401: Outcome.INVALID_KEY},  # "401 is returned on authentication failure" (HTTP convention)
)
# The labels that speak about the key or the moment, not about main_keys itself: no fallback then.
_KEY_LABELS: Final = frozenset(label for label, answer in ERRORS.exact.items() if answer is not DENIED)


def retry_after_s(response: ExchangeResponse) -> int | None:
    """Seconds until X-Gate-RateLimit-Reset-Timestamp (seconds, or ms if written so), at least 1."""
    raw = response.header("x-gate-ratelimit-reset-timestamp")
    try:
        reset = float(raw) if raw is not None else None
    except ValueError:
        return None
    if reset is None or not math.isfinite(reset):
        return None
    reset_ms = reset if reset > 1e11 else reset * 1000
    return max(1, math.ceil((reset_ms - now_ms()) / 1000))


API: Final = Host(
    "api",
    "GATEIO_BASE_URL",
    "https://api.gateio.ws",
    # Successes are bare JSON (objects or arrays) without a label; errors carry "label".
    Envelope(
        code_field="label",
        ok_codes=frozenset(),
        data_field=None,
        ok_without_code=True,
        message_fields=("message", "detail"),
    ),
    ERRORS,
    retry_after_s,
)

# --------------------------------------------------------------------------------------------
# Reading the answers
# --------------------------------------------------------------------------------------------

_TRADING: Final = frozenset({"spot", "futures"})
_WITHDRAW: Final = frozenset({"wallet", "withdraw", "withdrawal"})  # when not read_only
_UNNEEDED: Final = frozenset(
    {"delivery", "options", "margin", "loan", "earn", "copy", "pilot", "otc", "alpha", "crossx", "custody",
     "account"}
)  # fmt: skip
# "unified" (unified-account operations) is neither needed nor refused: how unified accounts trade
# through keys is not documented in the key model.
KNOWN_PERMISSIONS: Final = _TRADING | _WITHDRAW | _UNNEEDED | {"unified"}
KEY_STATES: Final = {1: "normal", 2: "locked", 3: "frozen"}
ACCOUNT_MODES: Final = {1: "classic", 2: "legacy_unified"}
NO_IP_VALIDITY: Final = timedelta(days=90)


def _perms(raw: Any) -> dict[str, bool]:
    """name -> writable (read_only false); a scope listed twice is writable if either entry is."""
    if not isinstance(raw, list):
        raise TypeError("perms is a list")
    found: dict[str, bool] = {}
    for entry in raw:
        name, read_only = entry["name"], entry["read_only"]
        if not isinstance(name, str) or not isinstance(read_only, bool):
            raise TypeError("a perm is {name: str, read_only: bool}")
        found[name] = found.get(name, False) or not read_only
    return found


def _whitelist(raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    items = raw.split(",") if isinstance(raw, str) else [p for item in raw for p in str(item).split(",")]
    return tuple(ip.strip() for ip in items if ip.strip())


def _instant(raw: Any) -> datetime | None:
    """Gate's times: Unix seconds as int, float or text ([GATE-DOCS] Time); ms if that large; ISO text."""
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        try:
            at = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            return None
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    if not math.isfinite(value) or value <= 0:
        return None
    return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)


def _account(data: Mapping[str, Any]) -> dict[str, Any]:
    account: dict[str, Any] = {}
    key = data.get("key")
    mode = data.get("mode", key.get("mode") if isinstance(key, dict) else None)
    if mode in ACCOUNT_MODES:
        account["account_mode"] = ACCOUNT_MODES[mode]
    return account


def _own_entry(data: Any, api_key: str | None) -> Any:
    """The tested key's entry (FACTS: which key): the one whose ``key`` string is the tested key;
    never one naming another key; else a lone entry. Anything else is not about this key
    (ValueError): the account details are read instead."""
    entries = data if isinstance(data, list) else [data]
    named = [e for e in entries if isinstance(e, dict) and isinstance(e.get("key"), str)]
    if api_key is not None and named:
        mine = [e for e in named if e["key"] == api_key]
        if len(mine) != 1:
            raise ValueError("main_keys does not name the tested key once")
        return mine[0]
    if len(entries) != 1:
        raise ValueError("main_keys lists several keys")
    return entries[0]


def _state(raw: Any) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
        return None
    return int(raw)


def read_key_info(data: Any, api_key: str | None = None) -> Facts:
    """The key's rights; ``api_key`` (the tested key) picks its entry from a list naming keys."""
    data = _own_entry(data, api_key)
    perms = _perms(data["perms"])
    writable = {name for name, rw in perms.items() if rw}
    whitelist = _whitelist(data.get("ip_whitelist"))
    created = _instant(data.get("created_at"))
    account = _account(data)
    state = _state(data.get("state"))
    if state in KEY_STATES:
        account["key_state"] = KEY_STATES[state]
    return Facts(
        withdraw=bool(writable & _WITHDRAW),
        spot_trade="spot" in writable,
        futures_trade="futures" in writable,
        unneeded=bool(writable & _UNNEEDED),
        unknown_permissions=tuple(sorted(set(perms) - KNOWN_PERMISSIONS)),
        ip_whitelist=whitelist,
        expires_at=created + NO_IP_VALIDITY if whitelist == () and created is not None else None,
        # FACTS: key state. An undocumented state says nothing either way.
        restricted=state != 1 if state in KEY_STATES else None,
        account=account,
    )


def read_own_key_info(data: Any, inputs: Inputs) -> Facts:
    return read_key_info(data, inputs.api_key)


def read_account_detail(data: Any) -> Facts:
    """No permissions here: withdraw and trade rights stay unknown (the verdict fails closed)."""
    if not isinstance(data, dict):
        raise TypeError("account detail is an object")
    return Facts(ip_whitelist=_whitelist(data.get("ip_whitelist")), account=_account(data))


def _detail_needed(inputs: Inputs) -> bool:
    return not inputs.succeeded("key_info") and inputs.failed_with("key_info") not in _KEY_LABELS


def read_server_time(data: Any) -> int:
    value = int(data["server_time"])
    return value if value > 1e11 else value * 1000  # ms as documented; seconds read too


def read_spot_accounts(data: Any) -> Facts:
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise TypeError("spot accounts are a list of objects")
    return Facts(balances=True)


def read_futures_account(data: Any) -> Facts:
    if not isinstance(data, dict) or "total" not in data:
        raise TypeError("the futures account is an object with total")
    return Facts(balances=True)


SPOT_ONLY: Final = frozenset({Market.SPOT})
FUTURES_ONLY: Final = frozenset({Market.FUTURES})
# USER_NOT_FOUND: "User has no futures account" (transfer funds to open it).
FUTURES_ERRORS: Final = Errors(exact={"USER_NOT_FOUND": Outcome.FUTURES_NOT_ENABLED})

# Not declared, so never sent: /spot/orders and /futures/usdt/orders (any method, cancel-all
# included), countdown_cancel_all, /withdrawals, /wallet/transfers, sub-account key changes.
# fmt: off
CALLS: Final = (
    Call("server_time", Role.SERVER_TIME, "GET", "api", "/api/v4/spot/time", signed=False,
         read=read_server_time),
    Call("key_info", Role.KEY_INFO, "GET", "api", "/api/v4/account/main_keys", read=read_key_info,
         read_with=read_own_key_info),
    Call("spot_accounts", Role.SPOT_READ, "GET", "api", "/api/v4/spot/accounts", markets=SPOT_ONLY,
         read=read_spot_accounts),
    Call("futures_accounts", Role.FUTURES_READ, "GET", "api", "/api/v4/futures/usdt/accounts",
         markets=FUTURES_ONLY, read=read_futures_account, errors=FUTURES_ERRORS),
    Call("account_detail", Role.KEY_INFO, "GET", "api", "/api/v4/account/detail", needs=("key_info",),
         when=_detail_needed, read=read_account_detail),
)
# fmt: on

EXCHANGE: Final = ExchangeSpec(
    info=ExchangeInfo("gateio", "Gate.io", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
    hosts=(API,),
    calls=CALLS,
    sign=sign,
    facts=FACTS,
    budget=RequestBudget(
        window_s=10,
        max_units=150,
        # time, main_keys, spot accounts, futures accounts, (account detail): each endpoint at most
        # once a test, so at most 30 calls of any one endpoint per 10 s
        units_per_test=5,
        unit="requests",
        exchange_limit="200 requests per 10 s per endpoint per IP (public); 150-200 per endpoint per account",
        source="[REF] 1.6 (JKorf GateIoExchange.cs, third party); under a fifth (40) of the per-endpoint "
        "limit",
        confirmed=False,
    ),
)
