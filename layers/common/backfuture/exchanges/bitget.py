"""Bitget: spot and USDT-margined futures on one host (``api.bitget.com``), declared for the engine.

Classic accounts answer the v2 API; Unified Trading Accounts (UTA) refuse it with 40085 and answer
the v3 API instead, so each v2 call that a UTA account refuses has a v3 fallback that runs only then.
Bitget has no order-test endpoint: the trade rights come from the key's own key-info answer.

Sources (tags as in ``shared/reference/exchanges-next.md`` Part A section 4): [BG-SIGN] the signature
page, [BG-INFO] Get-Account-Info (and its bitgetapp/bitget.live mirrors with the authority codes),
[BG-UTA] the UTA Get-Account-Info page, [BG-QS] quick start, [BG-SDK] BitgetLimited/v3-bitget-api-sdk
@9bdab50, [CCXT] ccxt/bitget.py 4.5.90. ``FACTS`` lists what the code relies on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
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
    Inputs,
    RequestBudget,
    Role,
    Signed,
)
from backfuture.errors import Outcome
from backfuture.exchanges import Credentials, ExchangeInfo, Market

# fmt: off
FACTS: Final = (
    Fact("signing", "ACCESS-SIGN = base64 HMAC-SHA256(secret, ms-timestamp + METHOD + path[?query] + body); "
         "query keys sorted ascending and signed raw (not percent-encoded); ACCESS-PASSPHRASE sent plain",
         "[BG-SIGN] (prehash examples, 'sorted in ascending alphabetical order by key'); [CCXT] sign(); "
         "[BG-SDK] utils.py", True),
    Fact("official vector", "no published signature vector: the docs' prehash strings are checked, the "
         "HMAC is cross-checked with an independent implementation", "[BG-SIGN]; [BG-SDK] (no signing test)",
         True),
    Fact("time window", "a timestamp within 30 s of server time; 40004/40008 expired, 40005 invalid",
         "WEEX's cloned docs and a third-party integration note; [CCXT] codes", False),
    Fact("server time", "GET /api/v2/public/time answers data.serverTime (ms, a string)",
         "[BG-SIGN] Get-Server-Time; [CCXT] fetch_time", True),
    Fact("one host", "https://api.bitget.com serves spot (/api/v2/spot) and futures (/api/v2/mix), one key",
         "[BG-QS] 'REST Domain 1'", True),
    Fact("passphrase", "40012 'apikey/password is incorrect' answers a wrong passphrase; the same text may "
         "cover a wrong secret, so invalid_passphrase's remedy must name both", "[CCXT] exceptions comment",
         False),
    Fact("key info", "GET /api/v2/spot/account/info: authorities (wwow withdraw, stow spot trade, coow "
         "futures orders, wtow own-account transfer, ...), ips, parentId, userId; the docs' example still "
         "shows legacy values ['trade','readonly']", "[BG-INFO] and mirrors", True),
    Fact("legacy authorities", "the classic key rights Read-Only, Trade (spot and futures), Transfer "
         "(between the user's accounts) and Withdraw appear as 'readonly', 'trade', 'transfer', "
         "'withdraw'; only the first two are shown, so a legacy list without 'withdraw' leaves "
         "withdrawal unknown, not false",
         "[BG-INFO] example; https://www.bitget.ng/api-doc/classic/quickStart/intro", False),
    Fact("ips", "ips is a comma-separated string; '' is no restriction; absent or null: not reported",
         "[BG-INFO] ('String', format of several or none not shown); [BG-UTA] comma-separated", False),
    Fact("master/sub", "parentId: absent, empty, 0 or the key's own uid read as a master account, anything "
         "else as a sub-account of that uid", "[BG-INFO] 'Main account user ID'; [BG-UTA] 'Only has a value "
         "when the calling account is a sub-account'", False),
    Fact("expiry", "no key expiry is reported", "[BG-INFO]; [BG-UTA]", True),
    Fact("unified accounts", "v2 calls of a UTA account answer 40085 ('You are in Unified Account mode...'); "
         "GET /api/v3/account/info (permType read-only|read-and-write; permissions uta_trade, withdraw, "
         "uta_mgt, copy_*) and GET /api/v3/account/assets answer instead", "[CCXT] exceptions; ccxt#26838 "
         "(real body); [BG-UTA]", True),
    Fact("uta rights", "uta_trade with permType read-and-write trades spot and futures alike",
         "[BG-UTA]", True),
    Fact("no order test", "no test-order endpoint: trade rights come from the key info", "[BG-SDK]; [CCXT]",
         False),
    Fact("maintenance", "no public status endpoint; 40200 (server upgrade), 40015 (system abnormal), 40604 "
         "(busy) and HTTP 5xx mean unavailable", "[CCXT] exceptions; reference 4.5", False),
    Fact("account states", "40013 user abnormal, 40016 phone/Google binding required, 40031 account "
         "cancelled, 50010 frozen", "[CCXT] exceptions", True),
    Fact("error status", "errors come with a 4xx status and the JSON envelope (code read whatever status)",
         "[BG-SDK] client.py raises on any non-2xx; ccxt#27037", False),
    Fact("IP rate limit", "6000 requests per IP per minute overall; HTTP 429 (or code 1001) above it",
         "[BG-QS] 'The overall rate limit is 6000/IP/Min'", True),
    Fact("retry header", "no Retry-After or reset header is documented for 429", "[BG-QS]", False),
)
# fmt: on

# --------------------------------------------------------------------------------------------
# Signing ([BG-SIGN]; [CCXT] sign())
# --------------------------------------------------------------------------------------------


def prehash(timestamp_ms: int, method: str, path: str, params: tuple[tuple[str, str], ...], body: str) -> str:
    """timestamp + METHOD + path [+ "?" + query sorted by key, raw] + body."""
    query = "&".join(f"{k}={v}" for k, v in sorted(params))
    return f"{timestamp_ms}{method.upper()}{path}{'?' + query if query else ''}{body}"


def hmac_base64(secret: str, message: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def sign(draft: Draft, credentials: Credentials, timestamp_ms: int) -> Signed:
    """HMAC keys only (RSA keys sign the same prehash with SHA256withRSA: not supported). The URL
    carries the same sorted query, percent-encoded where needed (identical for our ASCII values)."""
    ordered = tuple(sorted(draft.params))
    target = f"{draft.path}?{urlencode(ordered)}" if ordered else draft.path
    message = prehash(timestamp_ms, draft.method, draft.path, ordered, draft.body or "")
    headers = {
        "ACCESS-KEY": credentials.api_key,
        "ACCESS-SIGN": hmac_base64(credentials.api_secret, message),
        "ACCESS-TIMESTAMP": str(timestamp_ms),
        "ACCESS-PASSPHRASE": credentials.passphrase or "",
        "Content-Type": "application/json",
        "locale": "en-US",
    }
    return Signed(draft.base_url + target, headers, draft.body)


# --------------------------------------------------------------------------------------------
# Errors ([CCXT] exceptions.exact; reference 4.5). Codes are read from the body whatever the HTTP
# status (4xx per [BG-SDK], 200 not excluded): the engine matches the code first.
# --------------------------------------------------------------------------------------------

UNIFIED_ACCOUNT: Final = "40085"  # a v2 call on a UTA account: the v3 fallback answers instead

ERRORS: Final = Errors(
    exact={
        "40006": Outcome.INVALID_KEY,  # Invalid ACCESS_KEY
        "40037": Outcome.INVALID_KEY,  # Apikey does not exist (real body, ccxt#19778)
        "40009": Outcome.INVALID_KEY,  # sign signature error: with our documented prehash, a wrong secret
        "40010": Outcome.INVALID_KEY,  # sign error
        "40012": Outcome.INVALID_PASSPHRASE,  # apikey/password is incorrect (a wrong secret may read so)
        "40011": Outcome.INVALID_PASSPHRASE,  # ACCESS_PASSPHRASE cannot be empty
        "40018": Outcome.IP_NOT_ALLOWED,  # Invalid IP
        "40014": DENIED,  # Incorrect permissions: the call's own right is missing
        "40004": Outcome.CLOCK_SKEW,  # Request timestamp expired
        "40008": Outcome.CLOCK_SKEW,
        "40005": Outcome.CLOCK_SKEW,  # Invalid ACCESS_TIMESTAMP
        "40013": Outcome.ACCOUNT_RESTRICTED,  # User status is abnormal
        "40016": Outcome.ACCOUNT_RESTRICTED,  # The user must bind the phone or Google
        "40031": Outcome.ACCOUNT_RESTRICTED,  # The account has been cancelled
        "50010": Outcome.ACCOUNT_RESTRICTED,  # The account is abnormally frozen
        "429": Outcome.RATE_LIMITED,
        "1001": Outcome.RATE_LIMITED,  # The request is too frequent and has been throttled
        "40200": Outcome.EXCHANGE_UNAVAILABLE,  # Server upgrade, please try again later
        "40015": Outcome.EXCHANGE_UNAVAILABLE,  # System is abnormal, please try again later
        "40604": Outcome.EXCHANGE_UNAVAILABLE,  # Server is busy, please try again later
    }
)
# 40085 stays unmapped on purpose: superseded by the v3 answer when that succeeds, and otherwise an
# exchange_error that keeps its code beside the v3 call's own failure.

ENVELOPE: Final = Envelope(ok_codes=frozenset({"00000"}))
API: Final = Host("api", "BITGET_BASE_URL", "https://api.bitget.com", ENVELOPE, ERRORS)

# --------------------------------------------------------------------------------------------
# Reading the answers
# --------------------------------------------------------------------------------------------

# [BG-INFO] mirrors: r = read, w = read and write.
AUTHORITIES: Final = frozenset(
    {"coor", "cpor", "stor", "smor", "ttor", "wtor", "taxr", "chor", "p2pr", "pllr",
     "coow", "cpow", "stow", "smow", "ttow", "wtow", "wwow", "chow", "p2p", "p2pw", "pllw", "taxw"}
)  # fmt: skip
LEGACY: Final = frozenset({"trade", "readonly", "transfer", "withdraw"})
_READ: Final = frozenset({"stor", "stow", "coor", "cpor", "coow", "cpow", "readonly", "trade"})
# Write rights the platform never uses: own-account transfers (wtow), margin, copy trading, loans,
# sub-account management, P2P, tax. Not withdrawal, so warned about, not refused.
_UNNEEDED: Final = frozenset({"wtow", "smow", "ttow", "pllw", "chow", "p2p", "p2pw", "taxw", "transfer"})
_WITHDRAW: Final = frozenset({"wwow", "withdraw"})

UTA_PERMISSIONS: Final = frozenset(
    {"uta_mgt", "uta_trade", "withdraw", "copy_futures_position", "copy_futures_order"}
)
# uta_mgt (account settings, transfers between the UTA's own accounts) and copy trading: unused.
_UTA_UNNEEDED: Final = frozenset({"uta_mgt", "copy_futures_position", "copy_futures_order"})


def read_time(data: Any) -> int:
    return int(data["serverTime"])


def _ips(raw: Any) -> tuple[str, ...] | None:
    """FACTS 'ips': a comma-separated string ('' = none); a list read alike; absent/null: not reported."""
    if raw is None:
        return None
    items = raw.split(",") if isinstance(raw, str) else [str(item) for item in raw]
    return tuple(ip.strip() for ip in items if ip.strip())


def _account(data: Any, uid_field: str, mode: str) -> dict[str, Any]:
    """FACTS 'master/sub' (UNCONFIRMED): read both ways, the parent being absent/0/empty or the
    key's own uid for a master account."""
    account: dict[str, Any] = {"account_mode": mode}
    uid, parent = str(data.get(uid_field) or ""), data.get("parentId")
    parent_id = "" if parent in (None, "", 0, "0") else str(parent)
    account["is_master"] = not parent_id or parent_id == uid
    if not account["is_master"]:
        account["parent_uid"] = parent_id[:64]
    return account


def read_key_info(data: Any) -> Facts:
    raw = data["authorities"]  # an array ([BG-INFO]); a comma-separated string read alike
    rights = frozenset(a.strip().lower() for a in (raw.split(",") if isinstance(raw, str) else map(str, raw)))
    rights -= {""}
    legacy_only = not (rights & AUTHORITIES)
    return Facts(
        # Legacy values tell nothing of withdrawal (FACTS 'legacy authorities'): unknown, not false.
        withdraw=True if rights & _WITHDRAW else (None if legacy_only else False),
        read=True if rights & _READ else None,
        spot_trade="stow" in rights or "trade" in rights,
        futures_trade="coow" in rights or "trade" in rights,
        unneeded=bool(rights & _UNNEEDED),
        unknown_permissions=tuple(sorted(rights - AUTHORITIES - LEGACY)),
        ip_whitelist=_ips(data.get("ips")),
        account=_account(data, "userId", "classic"),
    )


def read_uta_key_info(data: Any) -> Facts:
    permissions = frozenset(str(p).strip() for p in data["permissions"])
    trade = data["permType"] == "read-and-write" and "uta_trade" in permissions
    return Facts(
        withdraw="withdraw" in permissions,
        read=True,
        spot_trade=trade,
        futures_trade=trade,
        unneeded=bool(permissions & _UTA_UNNEEDED),
        unknown_permissions=tuple(sorted(permissions - UTA_PERMISSIONS)),
        ip_whitelist=_ips(data.get("ips")),
        account=_account(data, "uid", "unified"),
    )


def read_balances(data: Any) -> Facts:
    if not isinstance(data, list | dict):  # v2 lists; the v3 assets answer is an object (UNCONFIRMED)
        raise TypeError("balances are a list or an object")
    return Facts(balances=True)


def _when(call: str) -> Callable[[Inputs], bool]:
    """A fallback's ``when``: the v2 call was refused because the account is unified."""

    def when(inputs: Inputs) -> bool:
        return inputs.failed_with(call) == UNIFIED_ACCOUNT

    return when


SPOT_ONLY: Final = frozenset({Market.SPOT})
FUTURES_ONLY: Final = frozenset({Market.FUTURES})

# Not declared, so never sent: orders (/api/v2/spot/trade/*, /api/v2/mix/order/*), withdrawals and
# transfers (/api/v2/spot/wallet/*), /api/v2/spot/account/upgrade (switches an account to UTA), and
# every v3 setter. A UTA account costs one more signed round (the fallbacks need the v2 refusal).
# fmt: off
CALLS: Final = (
    Call("time", Role.SERVER_TIME, "GET", "api", "/api/v2/public/time", signed=False, read=read_time),
    Call("key_info", Role.KEY_INFO, "GET", "api", "/api/v2/spot/account/info", read=read_key_info),
    Call("spot_assets", Role.SPOT_READ, "GET", "api", "/api/v2/spot/account/assets", markets=SPOT_ONLY,
         read=read_balances),
    Call("futures_accounts", Role.FUTURES_READ, "GET", "api", "/api/v2/mix/account/accounts",
         markets=FUTURES_ONLY, params={"productType": "USDT-FUTURES"}, read=read_balances),
    Call("uta_key_info", Role.KEY_INFO, "GET", "api", "/api/v3/account/info", needs=("key_info",),
         when=_when("key_info"), read=read_uta_key_info),
    Call("uta_spot_assets", Role.SPOT_READ, "GET", "api", "/api/v3/account/assets", markets=SPOT_ONLY,
         needs=("spot_assets",), when=_when("spot_assets"), read=read_balances),
    Call("uta_futures_assets", Role.FUTURES_READ, "GET", "api", "/api/v3/account/assets",
         markets=FUTURES_ONLY, needs=("futures_accounts",), when=_when("futures_accounts"),
         read=read_balances),
)
# fmt: on

EXCHANGE: Final = ExchangeSpec(
    info=ExchangeInfo("bitget", "Bitget", needs_passphrase=True, markets=(Market.SPOT, Market.FUTURES)),
    hosts=(API,),
    calls=CALLS,
    sign=sign,
    credentials=CredentialRules(passphrase=True),
    facts=FACTS,
    budget=RequestBudget(
        window_s=60,
        max_units=1200,
        units_per_test=6,  # time, account info, spot assets, futures accounts (unified: v3 fallbacks)
        unit="requests",
        exchange_limit="6000 requests per minute per IP overall",
        source="[BG-QS] 'The overall rate limit is 6000/IP/Min' (reference 4.5); a fifth of it",
        confirmed=True,
    ),
)
