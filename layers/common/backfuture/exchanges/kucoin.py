"""KuCoin: spot (``api.kucoin.com``) and futures (``api-futures.kucoin.com``), declared for the engine.

One API key works on both hosts; futures endpoints need the key's "Futures" permission. The key-info
endpoint tells the key's permissions, IP whitelist and master/sub account, so withdrawal rights are
known for every key that can call it.

Sources (tags as in ``shared/reference/exchanges.md``): [KC-SDK] the official universal SDK, [KC-AUTH]
the authentication docs, [KC-ERR] the error tables, [KC-RL] rate limits, [CCXT] ccxt 4.5.90,
[REVIEW] section 6 of the reference. ``FACTS`` lists what the code relies on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import uuid
from typing import Any, Final
from urllib.parse import urlencode

from backfuture.engine.http import ExchangeResponse
from backfuture.engine.spec import (
    DENIED,
    PROVES_RIGHT,
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
    Fact("signing", "KC-API-SIGN = base64 HMAC-SHA256(secret, timestamp + METHOD + path?raw-query + body); "
         "the query is signed unencoded and sent encoded", "[KC-AUTH]; [KC-SDK] default_signer.py, "
         "default_transport.py; official SDK vector", True),
    Fact("passphrase", "V2/V3 keys send base64 HMAC-SHA256(secret, passphrase), so a wrong secret can be "
         "reported as a wrong passphrase (400004)", "[KC-AUTH]; ccxt#9369; [REVIEW] #8", True),
    Fact("key version", "V1/V2 keys are refused (400008); the SDK always sends KC-API-KEY-VERSION 3; "
         "whether V2 keys accept version 3 is not known", "[KC-ERR]; [KC-SDK]", False),
    Fact("time window", "timestamps within 5 s of server time", "[KC-ERR] zh-hant 400002", True),
    Fact("one key, two hosts", "the same key works on the spot and futures hosts", "[KC-SDK] example; [CCXT]",
         True),
    Fact("key info", "GET /api/v1/user/api-key: permission (General, Spot, Margin, Futures, InnerTransfer, "
         "Transfer, Earn), ipWhitelist, isMaster, subName, for master and sub keys",
         "[KC-SDK] openapi-account-account.json", True),
    Fact("withdraw right", "'Transfer' is the withdrawal right (Withdrawal, Withdraw read the same)",
         "[KC-SDK] spec value list + docs wording", False),
    Fact("no whitelist", "ipWhitelist is optional: absent, null and '' read as no restriction",
         "[KC-SDK] spec (not required)", False),
    Fact("order tests", "POST /api/v1/hf/orders/test (spot) and /api/v1/orders/test (futures host) validate "
         "like an order and never match", "[KC-SDK] apis.csv", True),
    Fact("account states", "400700 (risk), 200009 (KYC), 400301/400302 (local laws), 411100 (frozen), 400500 "
         "(region), 126002/126047/126048 restrict the account; 4003xx also holds order-parameter codes "
         "(400330, 400350, 400370), so codes are matched exactly", "[KC-ERR]; [CCXT]; [REVIEW] #7", True),
    Fact("status", "GET /api/v1/status answers open, close or cancelonly", "[KC-SDK]; [CCXT] fetch_status",
         True),
)
# fmt: on

# --------------------------------------------------------------------------------------------
# Signing ([KC-AUTH]; [KC-SDK] default_signer.py)
# --------------------------------------------------------------------------------------------

KEY_VERSION: Final = "3"  # V1/V2 keys are refused today (400008); the universal SDK sends 3


def hmac_base64(secret: str, message: str) -> str:
    """base64(HMAC-SHA256(secret, message)): KC-API-SIGN, and the V2/V3 passphrase."""
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def prehash(timestamp_ms: int, method: str, endpoint: str, body: str) -> str:
    """timestamp + METHOD + endpoint + body, where endpoint carries the *raw* (not encoded) query."""
    return f"{timestamp_ms}{method.upper()}{endpoint}{body}"


def sign(draft: Draft, credentials: Credentials, timestamp_ms: int) -> Signed:
    """KuCoin signs the query as typed (``passphrase=abc!@#11``) while the URL carries it encoded
    (``abc%21%40%2311``); the body is signed as the exact compact JSON sent."""
    raw_query = "&".join(f"{k}={v}" for k, v in draft.params)
    endpoint = f"{draft.path}?{raw_query}" if raw_query else draft.path
    target = f"{draft.path}?{urlencode(draft.params)}" if draft.params else draft.path
    signature = hmac_base64(
        credentials.api_secret, prehash(timestamp_ms, draft.method, endpoint, draft.body or "")
    )
    headers = {
        "KC-API-KEY": credentials.api_key,
        "KC-API-SIGN": signature,
        "KC-API-TIMESTAMP": str(timestamp_ms),
        "KC-API-PASSPHRASE": hmac_base64(credentials.api_secret, credentials.passphrase or ""),
        "KC-API-KEY-VERSION": KEY_VERSION,
        "Content-Type": "application/json",
    }
    return Signed(draft.base_url + target, headers, draft.body)


# --------------------------------------------------------------------------------------------
# Errors ([KC-ERR] gateway table; [CCXT] kucoin exceptions; [REVIEW] #7)
# --------------------------------------------------------------------------------------------

ERRORS: Final = Errors(
    exact={
        "400002": Outcome.CLOCK_SKEW,  # KC-API-TIMESTAMP more than 5 s from server time
        "400003": Outcome.INVALID_KEY,  # KC-API-KEY does not exist (HTTP 401)
        "400004": Outcome.INVALID_PASSPHRASE,  # HTTP 401; a wrong secret can look the same
        "400005": Outcome.INVALID_KEY,  # signature invalid: with our correct prehash, a wrong secret
        "400006": Outcome.IP_NOT_ALLOWED,
        "400007": DENIED,  # "Access denied, requires more permission."
        "400010": DENIED,  # "UID access denied, requires more permission."
        # An old V1/V2 key (400008) or a version it cannot be used with (400009): only a new V3 key
        # fixes either, which is what invalid_key tells the user.
        "400008": Outcome.INVALID_KEY,
        "400009": Outcome.INVALID_KEY,
        "411100": Outcome.ACCOUNT_RESTRICTED,  # user frozen
        "400500": Outcome.ACCOUNT_RESTRICTED,  # country/region not supported
        "400301": Outcome.ACCOUNT_RESTRICTED,  # "Operation restricted due to local laws"
        "400302": Outcome.ACCOUNT_RESTRICTED,
        "400700": Outcome.ACCOUNT_RESTRICTED,  # "Transaction restricted, there's a risk problem"
        "200009": Outcome.ACCOUNT_RESTRICTED,  # KYC required
        "126002": Outcome.ACCOUNT_RESTRICTED,  # risk / KYC (ccxt)
        "126047": Outcome.ACCOUNT_RESTRICTED,
        "126048": Outcome.ACCOUNT_RESTRICTED,
        "429000": Outcome.RATE_LIMITED,
        "200002": Outcome.RATE_LIMITED,  # old per-endpoint limit
        "1015": Outcome.RATE_LIMITED,  # Cloudflare IP limit
        "500000": Outcome.EXCHANGE_UNAVAILABLE,
    }
)

# On an order test, any other code is a business rejection from past the gateway's permission check
# (size, price, balance, 400330/400350/400370 parameters): the key may trade. These gateway codes
# say nothing about the order.
ORDER_TEST_ERRORS: Final = Errors(
    exact={
        code: Outcome.EXCHANGE_ERROR for code in ("400001", "400200", "400201", "400202", "404000", "415000")
    },
    otherwise=PROVES_RIGHT,
)


def retry_after_s(response: ExchangeResponse) -> int | None:
    """gw-ratelimit-reset: milliseconds until the quota resets ([KC-SDK] process_limit)."""
    raw = response.header("gw-ratelimit-reset")
    try:
        return max(0, math.ceil(int(raw) / 1000)) if raw is not None else None
    except ValueError:
        return None


ENVELOPE: Final = Envelope(ok_codes=frozenset({"200000"}))
SPOT: Final = Host("spot", "KUCOIN_SPOT_BASE_URL", "https://api.kucoin.com", ENVELOPE, ERRORS, retry_after_s)
FUTURES: Final = Host(
    "futures", "KUCOIN_FUTURES_BASE_URL", "https://api-futures.kucoin.com", ENVELOPE, ERRORS, retry_after_s
)

# --------------------------------------------------------------------------------------------
# Reading the answers
# --------------------------------------------------------------------------------------------

KNOWN_PERMISSIONS: Final = frozenset(
    {"General", "Spot", "Margin", "Futures", "InnerTransfer", "Transfer", "Earn", "Withdrawal", "Withdraw"}
)
_WITHDRAW: Final = frozenset({"Transfer", "Withdrawal", "Withdraw"})
# Rights the platform never uses. InnerTransfer ("Flex Transfer") moves funds only between the
# user's own accounts, so the key is not refused, but the user should switch it off.
_UNNEEDED: Final = frozenset({"InnerTransfer", "Margin", "Earn"})


def read_key_info(data: Any) -> Facts:
    permissions = frozenset(p.strip() for p in data["permission"].split(",") if p.strip())
    raw_ips = data.get("ipWhitelist")  # FACTS: absent, null and "" all mean no restriction
    ips = tuple(ip.strip() for ip in raw_ips.split(",") if ip.strip()) if isinstance(raw_ips, str) else ()
    account: dict[str, Any] = {}
    if isinstance(data.get("isMaster"), bool):
        account["is_master"] = data["isMaster"]
    if isinstance(data.get("subName"), str) and data["subName"]:
        account["sub_name"] = data["subName"][:64]
    return Facts(
        withdraw=bool(permissions & _WITHDRAW),
        read="General" in permissions,  # key info and the account list both need General
        spot_trade="Spot" in permissions,
        futures_trade="Futures" in permissions,
        unneeded=bool(permissions & _UNNEEDED),
        unknown_permissions=tuple(sorted(permissions - KNOWN_PERMISSIONS)),
        ip_whitelist=ips,
        account=account,
    )


def read_status(data: Any) -> bool:
    # "close" and "cancelonly" (maintenance, or only cancellations accepted): nothing to judge.
    if data["status"] != "open":
        raise ValueError("venue not open")
    return True


def read_list(data: Any) -> Facts:
    if not isinstance(data, list):
        raise TypeError("accounts are a list")
    return Facts(balances=True)


def read_overview(data: Any) -> Facts:
    if not isinstance(data, dict):
        raise TypeError("the overview is an object")
    return Facts(balances=True)


# Limit buys far below the market: harmless even if ever matched. A business rejection (minimum
# funds) still proves the gateway let the key trade.
def spot_test_order(_: object) -> dict[str, object]:
    return {
        "clientOid": uuid.uuid4().hex,
        "side": "buy",
        "symbol": "BTC-USDT",
        "type": "limit",
        "price": "1",
        "size": "0.0001",
    }


def futures_test_order(_: object) -> dict[str, object]:
    return {
        "clientOid": uuid.uuid4().hex,
        "side": "buy",
        "symbol": "XBTUSDTM",
        "leverage": 1,
        "type": "limit",
        "price": "1",
        "size": 1,
        "marginMode": "ISOLATED",
    }


SPOT_ONLY: Final = frozenset({Market.SPOT})
FUTURES_ONLY: Final = frozenset({Market.FUTURES})

# Not declared, so never sent: the real order endpoints (/api/v1/hf/orders, /api/v1/orders),
# withdrawals, transfers.
# fmt: off
CALLS: Final = (
    Call("spot_time", Role.SERVER_TIME, "GET", "spot", "/api/v1/timestamp", signed=False),
    Call("futures_time", Role.SERVER_TIME, "GET", "futures", "/api/v1/timestamp", signed=False,
         markets=FUTURES_ONLY),
    Call("spot_status", Role.STATUS, "GET", "spot", "/api/v1/status", signed=False, read=read_status),
    Call("futures_status", Role.STATUS, "GET", "futures", "/api/v1/status", signed=False, read=read_status,
         markets=FUTURES_ONLY),
    Call("key_info", Role.KEY_INFO, "GET", "spot", "/api/v1/user/api-key", read=read_key_info),
    Call("accounts", Role.SPOT_READ, "GET", "spot", "/api/v1/accounts", markets=SPOT_ONLY, read=read_list),
    Call("spot_order_test", Role.SPOT_TRADE, "POST", "spot", "/api/v1/hf/orders/test", markets=SPOT_ONLY,
         body=spot_test_order, errors=ORDER_TEST_ERRORS),
    Call("futures_overview", Role.FUTURES_READ, "GET", "futures", "/api/v1/account-overview",
         markets=FUTURES_ONLY, params={"currency": "USDT"}, read=read_overview),
    Call("futures_order_test", Role.FUTURES_TRADE, "POST", "futures", "/api/v1/orders/test",
         markets=FUTURES_ONLY, body=futures_test_order, errors=ORDER_TEST_ERRORS),
)
# fmt: on

EXCHANGE: Final = ExchangeSpec(
    info=ExchangeInfo("kucoin", "KuCoin", needs_passphrase=True, markets=(Market.SPOT, Market.FUTURES)),
    hosts=(SPOT, FUTURES),
    calls=CALLS,
    sign=sign,
    facts=FACTS,
    budget=RequestBudget(
        window_s=30,
        max_units=400,
        # weights: timestamp 3 + futures timestamp 2 + api-key 20 + accounts 5 + order test 2 + futures
        # overview 5 + futures order test 2, plus the two status calls
        units_per_test=40,
        unit="request weight",
        exchange_limit="resource pools per 30 s (public pool by IP); pool sizes not in the reference",
        source="[KC-SDK] apis.csv weights and [KC-RL]; the pool size of 2000 per 30 s is UNCONFIRMED, so "
        "a fifth of it counts every call, private ones included",
        confirmed=False,
    ),
)
