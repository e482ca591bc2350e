"""Bybit: spot and USDT perpetuals (``category=linear``) on one v5 host, declared for the probe engine.

Sources (tags): [BY-DOCS] github bybit-exchange/docs @072c197 (the official docs source, published at
bybit-exchange.github.io/docs; paths below are inside it), [PYBIT] github bybit-exchange/pybit @fdab314
(the official SDK), [CCXT] ccxt 4.5.90 bybit.py, [REF] ../shared/reference/exchanges-next.md Part A §2.
Each fact the code relies on is in ``FACTS``; UNCONFIRMED ones are read both ways where they are used.

Bybit has no order-test endpoint (``/v5/order/pre-check`` is a margin calculator in the order
namespace, never called): the trade rights come from the key-info answer, ``GET /v5/user/query-api``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

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
    Fact("signing", "X-BAPI-SIGN = lowercase hex HMAC-SHA256(secret, timestamp + api_key + recv_window + "
         "queryString (GET) or jsonBodyString (POST)); no official (secret, signature) pair is published, so "
         "the docs' string-construction examples are the vectors", "[BY-DOCS] docs/v5/guide.mdx "
         "Authentication; [PYBIT] pybit/_http_manager.py _auth, generate_signature", True),
    Fact("time window", "server_time - recv_window <= timestamp < server_time + 1000; recv_window default "
         "5000 ms", "[BY-DOCS] docs/v5/guide.mdx", True),
    Fact("one host", "api.bybit.com serves spot and derivatives (category=spot|linear); one key for both",
         "[BY-DOCS] docs/v5/guide.mdx", True),
    Fact("server time", "GET /v5/market/time: result.timeNano (ns) and top-level time (ms)",
         "[BY-DOCS] docs/v5/market/time.mdx", True),
    Fact("maintenance", "GET /v5/system/status lists maintenances with state (ongoing...), serviceTypes "
         "(1 trading, 2 HTTP trading), product (1 futures, 2 spot), uidSuffix, env (1 prod); the example "
         "shows env and maintainType as numbers, the table says strings (both read)",
         "[BY-DOCS] docs/v5/system-status.mdx", True),
    Fact("key info", "GET /v5/user/query-api, any key: readOnly, permissions{Spot, ContractTrade, "
         "Derivatives, Wallet...}, ips, deadlineDay, expiredAt, uta, isMaster, parentUid",
         "[BY-DOCS] docs/v5/user/apikey-info.mdx", True),
    Fact("read-only keys", "readOnly 1 is authoritative: the docs' example lists trade permissions on a "
         "read-only key, so how permissions are filled for such keys is unknown", "[REF] §2.3", False),
    Fact("futures right", "USDT perpetuals need ContractTrade:Order (classic) or "
         "Derivatives:DerivativesTrade ('Permission of Unified account'); which one a UTA needs is "
         "unknown, so either counts",
         "[BY-DOCS] create-subuid-apikey.mdx; [REF] §2.3", False),
    Fact("withdraw right", "Wallet:Withdraw (master keys) withdraws; FiatP2P, FiatBitPay and BitCard pay "
         "other people (P2P release, Bybit Pay, card spending), so they are refused as withdrawal too "
         "(platform policy)", "[BY-DOCS] docs/v5/user/apikey-info.mdx", False),
    Fact("own-account transfers", "Wallet:AccountTransfer, SubMemberTransfer, SubMemberTransferList move "
         "funds between the user's own accounts only", "[BY-DOCS] docs/v5/user/apikey-info.mdx", True),
    Fact("IP whitelist", "ips is a list; ['*'] means not bound (an empty list is read the same)",
         "[BY-DOCS] modify-sub-apikey.mdx, list-sub-apikeys.mdx examples", True),
    Fact("expiry", "keys without IPs expire after 90 days (7 after a password change); expiredAt and "
         "deadlineDay are set only then; IP-bound keys show deadlineDay -2 and expiredAt 1970-01-01 (no "
         "expiry)", "[BY-DOCS] apikey-info.mdx example; faq.mdx", True),
    Fact("classic accounts", "wallet-balance documents accountType UNIFIED only and acct-mode.mdx calls "
         "classic accounts 'now unavailable'; a classic account (uta 0) asking for UNIFIED got HTTP 404 "
         "(pybit#140, ccxt#19322) or may get 10028; it is then read with accountType SPOT / CONTRACT",
         "[BY-DOCS] account/wallet-balance.mdx, acct-mode.mdx, error.mdx; pybit#140", False),
    Fact("regional sites", "a key made on another site or environment (bybit.eu, .nl, .tr, testnet, demo) "
         "is unknown on api.bybit.com: 10003 'Check whether the key and domain are matched'",
         "[BY-DOCS] docs/v5/error.mdx; docs/v5/guide.mdx", True),
    Fact("error transport", "retCode errors come with HTTP 200 or with 401 (10003 seen both ways); the HTTP "
         "status of 10004 and 10010 is unknown, so codes are read whatever the status",
         "[REF] §2.5; pybit#130; bybit-java-api#57; sieblyio/bybit-api#555", False),
    Fact("rate limit", "10006 per UID and endpoint; X-Bapi-Limit-Reset-Timestamp (ms) says when it resets",
         "[BY-DOCS] docs/v5/rate-limit/rate-limit.mdx; [PYBIT] retry on 10006", True),
    Fact("IP rate limit", "600 requests per 5 s per IP; beyond it HTTP 403 'access too frequent' for at "
         "least 10 minutes. US and mainland-China IPs also get 403", "[BY-DOCS] rate-limit.mdx; guide.mdx",
         True),
    Fact("account states", "10008 common ban, 10009 region, 10024 compliance, 10027 transactions banned, "
         "110066 trading not allowed, 110124 cooling-off, 3100197 UTA upgrade ban restrict the account",
         "[BY-DOCS] docs/v5/error.mdx; [CCXT] 10008 AccountSuspended", True),
)
# fmt: on

# --------------------------------------------------------------------------------------------
# Signing ([BY-DOCS] guide.mdx "Authentication")
# --------------------------------------------------------------------------------------------

RECV_WINDOW_MS: Final = 5000  # the documented default; the measured clock offset keeps us inside it


def prehash(timestamp_ms: int, api_key: str, recv_window: int, payload: str) -> str:
    """timestamp + api_key + recv_window + (queryString | jsonBodyString)."""
    return f"{timestamp_ms}{api_key}{recv_window}{payload}"


def hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign(draft: Draft, credentials: Credentials, timestamp_ms: int) -> Signed:
    """The query is signed exactly as sent (in the declared order); a POST body likewise."""
    query = urlencode(draft.params)
    payload = draft.body if draft.body is not None else query
    headers = {
        "X-BAPI-API-KEY": credentials.api_key,
        "X-BAPI-TIMESTAMP": str(timestamp_ms),
        "X-BAPI-RECV-WINDOW": str(RECV_WINDOW_MS),
        "X-BAPI-SIGN": hmac_hex(
            credentials.api_secret, prehash(timestamp_ms, credentials.api_key, RECV_WINDOW_MS, payload)
        ),
    }
    if draft.body is not None:
        headers["Content-Type"] = "application/json"
    url = f"{draft.base_url}{draft.path}" + (f"?{query}" if query else "")
    return Signed(url, headers, draft.body)


# --------------------------------------------------------------------------------------------
# Errors ([BY-DOCS] docs/v5/error.mdx "HTTP Code" and "UTA"; [CCXT] exceptions)
# --------------------------------------------------------------------------------------------

ERRORS: Final = Errors(
    exact={
        # "API key is invalid. Check whether the key and domain are matched, there are 4 env: mainnet,
        # testnet, mainnet-demo, testnet-demo": also a key made on a regional site (bybit.eu, .nl, .tr,
        # .kz, .ae, ...) or a testnet/demo key, which api.bybit.com does not know. HTTP 200 or 401.
        "10003": Outcome.INVALID_KEY,
        "10004": Outcome.INVALID_KEY,  # "Error sign": our prehash is the documented one, so a wrong secret
        "10007": Outcome.INVALID_KEY,  # "User authentication failed."
        "33004": Outcome.INVALID_KEY,  # "(Derivatives) Your api key has expired"
        "-2015": Outcome.INVALID_KEY,  # "(Spot) Your api key has expired"
        "10002": Outcome.CLOCK_SKEW,  # outside [server_time - recv_window, server_time + 1000)
        "10010": Outcome.IP_NOT_ALLOWED,  # "Unmatched IP, please check your API key's bound IP addresses."
        "10005": DENIED,  # "Permission denied, please check your API key permissions."
        "10008": Outcome.ACCOUNT_RESTRICTED,  # "Common banned"
        "10009": Outcome.ACCOUNT_RESTRICTED,  # "Service Restricted: ... unavailable for your region"
        "10024": Outcome.ACCOUNT_RESTRICTED,  # "Compliance rules triggered"
        "10027": Outcome.ACCOUNT_RESTRICTED,  # "Transactions are banned."
        "110066": Outcome.ACCOUNT_RESTRICTED,  # "Trading is currently not allowed."
        "110124": Outcome.ACCOUNT_RESTRICTED,  # cooling-off period
        "3100197": Outcome.ACCOUNT_RESTRICTED,  # "Temporary banned due to the upgrade to UTA"
        "10006": Outcome.RATE_LIMITED,  # "Too many visits!" (per UID, per endpoint)
        "10018": Outcome.RATE_LIMITED,  # "Exceeded the IP Rate Limit." (struck out in the docs today)
        "429": Outcome.RATE_LIMITED,  # "high server load. Please retry"
        "10000": Outcome.EXCHANGE_UNAVAILABLE,  # "Server Timeout"
        "10016": Outcome.EXCHANGE_UNAVAILABLE,  # "Server error." / "Service is restarting"
        "170001": Outcome.EXCHANGE_UNAVAILABLE,  # spot internal error
        "170007": Outcome.EXCHANGE_UNAVAILABLE,  # spot backend timeout
        "170032": Outcome.EXCHANGE_UNAVAILABLE,  # spot network error
        "180023": Outcome.EXCHANGE_UNAVAILABLE,  # "Service maintenance"
        # 10001 (parameter error) and 10028 (UTA-only API on a classic account) stay exchange_error
        # with their code: neither is a verdict on the key.
    },
    http={
        401: Outcome.INVALID_KEY,  # "Need to use the correct key to access" (no retCode in the body)
        # "403, access too frequent": the IP limit (wait >= 10 min); US/mainland-China IPs get it too.
        403: Outcome.RATE_LIMITED,
    },
)


def retry_after_s(response: ExchangeResponse) -> int | None:
    """Seconds until X-Bapi-Limit-Reset-Timestamp (epoch ms), at least 1 while limited; an HTTP 403 is
    the IP limit, which Bybit lifts after 10 minutes at the earliest (rate-limit.mdx)."""
    if response.status == 403:
        return IP_BAN_S
    raw = response.header("x-bapi-limit-reset-timestamp")
    try:
        return max(1, math.ceil((int(raw) - now_ms()) / 1000)) if raw is not None else None
    except ValueError:
        return None


IP_BAN_S: Final = 600


API: Final = Host(
    "api",
    "BYBIT_BASE_URL",
    "https://api.bybit.com",
    # retMsg may be "OK", "success", "SUCCESS" or "": only retCode 0 says success.
    Envelope(code_field="retCode", data_field="result", message_fields=("retMsg",)),
    ERRORS,
    retry_after_s,
)

# --------------------------------------------------------------------------------------------
# Reading the answers
# --------------------------------------------------------------------------------------------

KNOWN_PERMISSIONS: Final = frozenset(
    f"{group}:{name}"
    for group, names in {
        "ContractTrade": ("Order", "Position"),
        "Spot": ("SpotTrade",),
        "Wallet": ("AccountTransfer", "SubMemberTransfer", "SubMemberTransferList", "Withdraw"),
        "Options": ("OptionsTrade",),
        "Derivatives": ("DerivativesTrade",),
        "Exchange": ("ExchangeHistory",),
        "Earn": ("Earn",),
        "FiatP2P": ("FiatP2POrder", "Advertising"),
        "FiatBitPay": ("FaitPayOrder",),
        "FiatConvertBroker": ("FiatConvertBrokerOrder",),
        "BitCard": ("BitCard",),
        "ByXPost": ("ByXPost",),
    }.items()
    for name in names
)
# Money leaving the account to someone else: a withdrawal, a P2P release, a payment, card spending.
_WITHDRAW_GROUPS: Final = frozenset({"FiatP2P", "FiatBitPay", "BitCard"})
# Rights the platform never uses: transfers between the user's own accounts, other products.
_UNNEEDED: Final = frozenset(
    {"Wallet:AccountTransfer", "Wallet:SubMemberTransfer", "Wallet:SubMemberTransferList",
     "Options:OptionsTrade", "Exchange:ExchangeHistory", "Earn:Earn",
     "FiatConvertBroker:FiatConvertBrokerOrder", "ByXPost:ByXPost"}
)  # fmt: skip
# Names outside KNOWN_PERMISSIONS (Affiliate and BlockTrade entries, which the docs do not name; groups
# added later, like the example's FiatGlobalPay) are unknown: withdrawal cannot be ruled out then.
# expiredAt "1970-01-01T00:00:00Z" is how IP-bound keys say "no expiry".
NO_EXPIRY_BEFORE: Final = datetime(1971, 1, 1, tzinfo=UTC)


def _permissions(raw: Any) -> frozenset[str]:
    if not isinstance(raw, dict):
        raise TypeError("permissions is an object")
    names: set[str] = set()
    for group, entries in raw.items():
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise TypeError("a permission group is a list of names")
        names.update(f"{group}:{entry}" for entry in entries)
    return frozenset(names)


def _whitelist(raw: Any) -> tuple[str, ...] | None:
    """['*'] (or nothing) means not bound; entries may also be comma-joined strings."""
    if raw is None:
        return None
    parts = raw.split(",") if isinstance(raw, str) else [p for item in raw for p in str(item).split(",")]
    ips = tuple(p.strip() for p in parts if p.strip())
    return () if "*" in ips else ips


def _expiry(data: Mapping[str, Any]) -> datetime | None:
    """expiredAt when it is a real date; else deadlineDay when not negative; IP-bound keys show neither."""
    raw = data.get("expiredAt")
    if isinstance(raw, str) and raw:
        try:
            at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            at = None
        if at is not None and at.tzinfo is not None and at >= NO_EXPIRY_BEFORE:
            return at
    days = data.get("deadlineDay")
    if isinstance(days, int) and not isinstance(days, bool) and days >= 0:
        return datetime.now(UTC) + timedelta(days=days)
    return None


def read_key_info(data: Any) -> Facts:
    permissions = _permissions(data["permissions"])
    read_only = data["readOnly"]
    if read_only not in (0, 1):
        raise ValueError("readOnly is 0 or 1")
    writable = read_only == 0  # FACTS: readOnly 1 wins over any trade permission listed
    withdraw = "Wallet:Withdraw" in permissions or any(
        p.split(":")[0] in _WITHDRAW_GROUPS for p in permissions
    )
    account: dict[str, Any] = {}
    if isinstance(data.get("isMaster"), bool):
        account["is_master"] = data["isMaster"]
    parent = data.get("parentUid")
    if isinstance(parent, str | int) and str(parent) not in ("", "0"):
        account["parent_uid"] = str(parent)[:64]
    uta = data.get("uta")
    if isinstance(uta, int) and not isinstance(uta, bool) and uta in (0, 1):
        account["account_mode"] = "unified" if uta == 1 else "classic"
    return Facts(
        withdraw=withdraw,
        spot_trade=writable and "Spot:SpotTrade" in permissions,
        futures_trade=writable
        and bool({"ContractTrade:Order", "Derivatives:DerivativesTrade"} & permissions),
        unneeded=bool(permissions & _UNNEEDED),
        unknown_permissions=tuple(sorted(permissions - KNOWN_PERMISSIONS)),
        ip_whitelist=_whitelist(data.get("ips")),
        expires_at=_expiry(data),
        account=account,
    )


def read_server_time(data: Any) -> int:
    return int(data["timeNano"]) // 1_000_000 if "timeNano" in data else int(data["timeSecond"]) * 1000


def _numbers(value: Any) -> set[int]:
    values = value if isinstance(value, list) else [value]
    return {int(v) for v in values if isinstance(v, int | str) and str(v).lstrip("-").isdigit()}


def _open_for(product: int) -> Any:
    """An ongoing production maintenance of (HTTP) trading for the product, for every user, closes it.
    One limited to some UID tails (uidSuffix) is left to the private calls' own answers."""

    def read(data: Any) -> bool:
        for item in data["list"]:
            if (
                item.get("state") == "ongoing"
                and _numbers(item.get("env", 1)) & {1}
                and _numbers(item.get("serviceTypes")) & {1, 2}
                and product in _numbers(item.get("product"))
                and not item.get("uidSuffix")
            ):
                raise ValueError("maintenance ongoing")
        return True

    return read


def read_wallet(data: Any) -> Facts:
    accounts = data["list"]
    if not isinstance(accounts, list):
        raise TypeError("list is a list")
    kind = accounts[0].get("accountType") if accounts and isinstance(accounts[0], dict) else None
    return Facts(balances=True, account={"account_type": kind[:64]} if isinstance(kind, str) else {})


def _classic(call: str) -> Any:
    """Run the classic-account reading only when the UNIFIED one failed and key info says uta 0."""

    def when(inputs: Inputs) -> bool:
        if inputs.succeeded(call) or not inputs.succeeded("key_info"):
            return False
        facts = inputs.value("key_info")
        return isinstance(facts, Facts) and facts.account.get("account_mode") == "classic"

    return when


SPOT_ONLY: Final = frozenset({Market.SPOT})
FUTURES_ONLY: Final = frozenset({Market.FUTURES})
WALLET: Final = "/v5/account/wallet-balance"
# A 404 here means "category value does not match account mode" (error.mdx), not an outage. A denial
# (10005) of this one balance endpoint is a missing read right, for futures as for spot.
WALLET_ERRORS: Final = Errors(http={404: Outcome.EXCHANGE_ERROR})

# Not declared, so never sent: /v5/order/* (create, pre-check...), /v5/position/* setters,
# /v5/asset/withdraw/*, /v5/asset/transfer/*, /v5/user/update-api and /v5/user/delete-api.
# fmt: off
CALLS: Final = (
    Call("server_time", Role.SERVER_TIME, "GET", "api", "/v5/market/time", signed=False,
         read=read_server_time),
    Call("spot_status", Role.STATUS, "GET", "api", "/v5/system/status", signed=False, markets=SPOT_ONLY,
         read=_open_for(2)),
    Call("futures_status", Role.STATUS, "GET", "api", "/v5/system/status", signed=False,
         markets=FUTURES_ONLY, read=_open_for(1)),
    Call("key_info", Role.KEY_INFO, "GET", "api", "/v5/user/query-api", read=read_key_info),
    Call("spot_wallet", Role.SPOT_READ, "GET", "api", WALLET, markets=SPOT_ONLY,
         params={"accountType": "UNIFIED"}, read=read_wallet, errors=WALLET_ERRORS),
    Call("futures_wallet", Role.FUTURES_READ, "GET", "api", WALLET, markets=FUTURES_ONLY,
         params={"accountType": "UNIFIED", "coin": "USDT"}, read=read_wallet, errors=WALLET_ERRORS,
         denied=Outcome.NO_READ_PERMISSION),
    Call("spot_wallet_classic", Role.SPOT_READ, "GET", "api", WALLET, markets=SPOT_ONLY,
         needs=("key_info", "spot_wallet"), when=_classic("spot_wallet"),
         params={"accountType": "SPOT"}, read=read_wallet, errors=WALLET_ERRORS),
    Call("futures_wallet_classic", Role.FUTURES_READ, "GET", "api", WALLET, markets=FUTURES_ONLY,
         needs=("key_info", "futures_wallet"), when=_classic("futures_wallet"),
         params={"accountType": "CONTRACT", "coin": "USDT"}, read=read_wallet, errors=WALLET_ERRORS,
         denied=Outcome.NO_READ_PERMISSION),
)
# fmt: on

EXCHANGE: Final = ExchangeSpec(
    info=ExchangeInfo("bybit", "Bybit", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
    hosts=(API,),
    calls=CALLS,
    sign=sign,
    facts=FACTS,
    budget=RequestBudget(
        window_s=5,
        max_units=120,
        units_per_test=6,  # time, system status, query-api, wallet balance (classic: two more)
        unit="requests",
        exchange_limit="600 requests per 5 s per IP (403 'access too frequent', wait >= 10 min)",
        source="rate-limit.mdx (reference 2.5 and 2.6); a fifth of the IP limit",
        confirmed=True,
    ),
)
