"""HTX (Huobi): spot (``api.huobi.pro``) and USDT-margined swaps (``api.hbdm.com``), declared for the engine.

One HMAC key serves both hosts (signature version 2, in the query). Its rights come from the spot
host's key-info pair: ``GET /v2/user/uid``, then ``GET /v2/user/api-key?uid=&accessKey=``
(permission readOnly/trade/withdraw, ipAddresses, validDays, status). HTX has no order-test
endpoint: the trade rights are the key's ``trade`` permission, shared by spot and swaps. The spot
account's state (``GET /v1/account/accounts``: lock is account_restricted) is read beside. Futures
account calls use the V5 API HTX keeps after its 2026 migration (``GET /v5/account/balance``).

Sources (tags as in ``shared/reference/exchanges-next.md`` Part B section 2): [HTX-DOC] HTX spot docs
(slate source, read ids 8883842350 English and 9864843026 Chinese), [HTX-V5] HTX's V5 migration
notice (htx.com/en-us/support/95034086350701) and JKorf HTX.Net 9.0 ``Clients/UsdtFuturesV5``,
[HTX-SDK] HuobiRDCenter/huobi_Python ``huobi/utils/api_signature.py`` @21bbb0d, [JK] JKorf HTX.Net,
[CCXT] ccxt huobi exceptions, [ISSUE] the GitHub issues quoted in the reference (2.5).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote, urlsplit

from backfuture.clock import now_ms
from backfuture.engine.http import ExchangeResponse
from backfuture.engine.spec import (
    KEY_OR_DENIED,
    Answer,
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
    Fact("signing", "query AccessKeyId, SignatureMethod=HmacSHA256, SignatureVersion=2, Timestamp "
         "(UTC, YYYY-MM-DDThh:mm:ss); Signature = base64 HMAC-SHA256(secret, METHOD\\nhost\\npath\\nparams "
         "sorted by name, percent-encoded upper-case hex, joined by &); the host lower case and equal to "
         "the request's host (with its port when it has one)", "[HTX-DOC] 'Signature Method'; [HTX-SDK]",
         True),
    Fact("official vector", "the docs' example masks key and secret: the recipe is checked byte for byte "
         "and the HMAC cross-checked with a transcription of the official SDK", "[HTX-DOC]; [HTX-SDK]",
         True),
    Fact("host with a port", "the official SDK signs urlparse(url).hostname (no port); this module signs "
         "the request's host:port, identical for HTX's port-less URLs", "[HTX-SDK]; [HTX-DOC]", False),
    Fact("key types", "HMAC only: Ed25519 keys (SignatureMethod=Ed25519) are not supported",
         "[JK] HTXAuthenticationProvider.cs", False),
    Fact("time window", "the docs say 5 minutes, the FAQ 1 minute; a rejection reads 'Invalid submission "
         "time or incorrect time format'", "[HTX-DOC] auth section and FAQ; ccxt#25931", False),
    Fact("server time", "spot GET /v1/common/timestamp answers data (ms); futures GET /api/v1/timestamp "
         "answers ts (ms)", "[CCXT] fetchTime; htx-skills-hub SKILL.md", True),
    Fact("key info", "GET /v2/user/uid, then GET /v2/user/api-key?uid=&accessKey= (read right): "
         "permission (readOnly,trade,withdraw), ipAddresses ('' none), validDays (-1 never, else days "
         "left), status normal|expired", "[HTX-DOC] Chinese spot docs 'API key query' with its example",
         True),
    Fact("shared rights", "a key's permission covers spot, futures and swaps alike; trade = place and "
         "cancel orders and transfer (no separate transfer right): the futures right cannot be switched off "
         "alone, so a spot connection gets no unneeded-permission warning for it", "[HTX-DOC] FAQ", True),
    Fact("one entry", "with accessKey given the answer lists that key only; several entries cannot be "
         "told apart and are read as an answer not shaped as documented", "[HTX-DOC] ('if omitted, all "
         "keys of the UID')", False),
    Fact("master/sub", "the key-info endpoint is documented for parent users; what a sub-user key gets is "
         "not documented: master/sub is not reported", "[HTX-DOC]", False),
    Fact("no order test", "no test-order endpoint: trade rights come from the key info", "[HTX-DOC]; [JK]",
         True),
    Fact("spot account state", "GET /v1/account/accounts (read right) lists the accounts {id, type, subtype, "
         "state}; state working or lock (the only two the official SDK names; a third-party SDK reads "
         "'normal' as working too). A spot account in lock is account_restricted; another state says "
         "nothing either way. Read as a bonus: its failure never fails the test",
         "[HTX-SDK] @7d66d88 huobi/constant/definition.py AccountState, huobi/model/account/account.py; "
         "[JK] @3300a72 Enums/AccountStatus.cs, UnitTests GetAccounts.txt; [REF] 2.3 'Restriction signals'",
         True),
    Fact("spot balances", "GET /v2/account/asset-valuation?accountType=spot (read right) answers "
         "data.balance: one call, without the account id a balance path would need",
         "[HTX-DOC] 'Get account asset valuation' (2020.7.17)", True),
    Fact("futures V5", "USDT-M account calls move to V5 (GET /v5/account/balance, envelope {code: 200, "
         "message, data}) on api.hbdm.com; V1 linear-swap-api account calls end after the migration",
         "[HTX-V5]", True),
    Fact("V5 error codes", "V5 answers are read with the V1 futures codes (1032, 1084, 1220...) in "
         "'code', and the V1 shape {status, err_code, err_msg} is read too", "[HTX-V5] (no V5 code table "
         "found)", False),
    Fact("signature family", "api-signature-not-valid covers a wrong key, a wrong secret, the timestamp, "
         "the IP whitelist and an expired key, told apart only by err-msg ('Incorrect Access key', "
         "'Verification failure', 'Invalid submission time', 'Incorrect IP address', 'APIkey has "
         "expired'); futures err_code 403 is read the same way", "[HTX-DOC] FAQ; [ISSUE] huobi_Python#110, "
         "#126, huobi_Golang#4, ccxt#25931; [JK] evaluator", True),
    Fact("futures codes", "1032 rate limit; 1084 contract API disabled for a while; 1220 contracts "
         "trading not opened; 1221-1231 eligibility; 1253 signature; 12004 key expired; 12005 IP; 1000, "
         "1001, 1004 busy", "[HTX-DOC] futures error table; ccxt PR #11994; [JK] (12004/12005 texts)",
         False),
    Fact("v2 codes", "v2 answers {code, message}: 1002 unauthorized, 1003 invalid signature, 500 error",
         "[HTX-DOC] wallet status codes", True),
    Fact("maintenance", "spot err-code system-maintenance, gateway-internal-error", "[CCXT]; reference 2.5",
         True),
    Fact("rate-limit headers", "spot X-HB-RateLimit-Requests-Expire, futures ratelimit-reset: read as "
         "epoch ms when >= 1e12, else as ms until the window resets", "[HTX-DOC] ('expire time for "
         "current rate limit time window'); htx-skills-hub ('Milliseconds until current window resets')",
         False),
    Fact("IP rate limit", "10 requests per second per IP for calls without a key; signed calls are "
         "limited per key/UID (new limits: 20/2 s for /v2/user/api-key, 100/2 s asset valuation)",
         "[HTX-DOC] Chinese 'rate limit rules' ('若接口不需要API Key，则每个IP在1秒内限制10次')",  # noqa: RUF001
         True),
)
# fmt: on

# --------------------------------------------------------------------------------------------
# Signing ([HTX-DOC] "Signature Method"; [HTX-SDK] create_signature)
# --------------------------------------------------------------------------------------------


def encode(params: list[tuple[str, str]]) -> str:
    """Sorted by name (ASCII), percent-encoded with upper-case hex (':' is %3A), joined by &."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params))


def pre_signed(method: str, host: str, path: str, query: str) -> str:
    return f"{method.upper()}\n{host.lower()}\n{path}\n{query}"


def hmac_base64(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


def timestamp(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def sign(draft: Draft, credentials: Credentials, timestamp_ms: int) -> Signed:
    """GET only here: every parameter is in the query and signed (POST would sign only the four)."""
    query = encode(
        [*draft.params, ("AccessKeyId", credentials.api_key), ("SignatureMethod", "HmacSHA256"),
         ("SignatureVersion", "2"), ("Timestamp", timestamp(timestamp_ms))]
    )  # fmt: skip
    host = urlsplit(draft.base_url).netloc  # the request's own Host (host:port off HTX)
    signature = hmac_base64(credentials.api_secret, pre_signed(draft.method, host, draft.path, query))
    return Signed(
        f"{draft.base_url}{draft.path}?{query}&Signature={quote(signature, safe='')}", {}, draft.body
    )


# --------------------------------------------------------------------------------------------
# Answers and errors (reference 2.5)
# --------------------------------------------------------------------------------------------

# One code, several causes, told apart only by the documented err-msg texts (FACTS 'signature
# family'). The message is searched here and never kept; an unknown text stays the bare code.
_SIGNATURE_CODES: Final = frozenset({"api-signature-not-valid", "403"})
_SIGNATURE_CAUSES: Final = (
    ("incorrect ip address", ".ip"),
    ("invalid submission time", ".time"),
    ("has expired", ".expired"),
    ("incorrect access key", ".key"),
    ("verification failure", ".signature"),
)


class HtxEnvelope(Envelope):
    """Spot v1 ``{status, err-code, err-msg, data}``, spot v2 and futures V5 ``{code, message, data}``,
    futures V1 ``{status, err_code, err_msg, ts}``: whichever fields the answer has."""

    def code(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return None
        raw = next((body[f] for f in ("err-code", "err_code", "code") if body.get(f) is not None), None)
        if raw is None or isinstance(raw, bool | dict | list):
            return "ok" if body.get("status") == "ok" else None
        code = str(raw)
        message = self.message(body).lower()
        if code in _SIGNATURE_CODES:
            cause = next((s for words, s in _SIGNATURE_CAUSES if words in message), "")
            # Kept codes are at most 24 characters (report._EXCHANGE_CODE): "api-signature.<cause>".
            return f"{'api-signature' if code != '403' else code}{cause}" if cause else code
        if code == "bad-request" and ("429" in message or "too many request" in message):
            return "bad-request.429"  # [JK]: the spot rate limit may come as bad-request
        return code

    def data(self, body: Any) -> Any:
        # The futures clock answers {status, ts} without data: its reader takes the whole body.
        return body.get("data") if isinstance(body, dict) and "data" in body else body


_GATEWAY: Final[dict[str, Answer]] = {
    "api-signature-not-valid": Outcome.INVALID_KEY,
    "api-signature.key": Outcome.INVALID_KEY,  # Incorrect Access key
    "api-signature.signature": Outcome.INVALID_KEY,  # Verification failure: a wrong secret
    "api-signature.expired": Outcome.INVALID_KEY,  # APIkey has expired
    "api-signature.time": Outcome.CLOCK_SKEW,
    "api-signature.ip": Outcome.IP_NOT_ALLOWED,
    "1002": KEY_OR_DENIED,  # v2 "unauthorized": a bad key or a right the key lacks
    "1003": Outcome.INVALID_KEY,  # v2 "invalid signature"
    "500": Outcome.EXCHANGE_UNAVAILABLE,  # v2 "error": system error
    "system-maintenance": Outcome.EXCHANGE_UNAVAILABLE,
    "gateway-internal-error": Outcome.EXCHANGE_UNAVAILABLE,
    "bad-request.429": Outcome.RATE_LIMITED,
}
SPOT_ERRORS: Final = Errors(exact=_GATEWAY)
FUTURES_ERRORS: Final = Errors(
    exact={
        **_GATEWAY,
        "403": Outcome.INVALID_KEY,  # Verification failure [ISSUE] huobi_Python#126
        "403.key": Outcome.INVALID_KEY,
        "403.signature": Outcome.INVALID_KEY,
        "403.expired": Outcome.INVALID_KEY,
        "403.time": Outcome.CLOCK_SKEW,
        "403.ip": Outcome.IP_NOT_ALLOWED,
        "1253": Outcome.INVALID_KEY,  # Error in signature verification
        "12004": Outcome.INVALID_KEY,  # key expired
        "12005": Outcome.IP_NOT_ALLOWED,  # IP address not allowed
        "1032": Outcome.RATE_LIMITED,  # The number of access exceeded the limit
        "1084": Outcome.ACCOUNT_RESTRICTED,  # Your contract API is disabled, try again after ...
        "1220": Outcome.FUTURES_NOT_ENABLED,  # you have not opened contracts trading
        **dict.fromkeys((str(c) for c in range(1221, 1232)), Outcome.ACCOUNT_RESTRICTED),  # eligibility
        "1000": Outcome.EXCHANGE_UNAVAILABLE,
        "1001": Outcome.EXCHANGE_UNAVAILABLE,  # System is unprepared
        "1004": Outcome.EXCHANGE_UNAVAILABLE,  # System busy
    }
)


def retry_after_s(response: ExchangeResponse) -> int | None:
    """FACTS 'rate-limit headers' (UNCONFIRMED unit): epoch ms, or ms until the window resets."""
    raw = response.header("x-hb-ratelimit-requests-expire") or response.header("ratelimit-reset")
    try:
        value = int(float(raw)) if raw is not None else None
    except ValueError:
        return None
    if value is None or value < 0:
        return None
    return max(1, math.ceil(((value - now_ms()) if value >= 10**12 else value) / 1000))


ENVELOPE: Final = HtxEnvelope(
    ok_codes=frozenset({"ok", "200"}), message_fields=("err-msg", "err_msg", "message", "msg")
)
SPOT: Final = Host("spot", "HTX_SPOT_BASE_URL", "https://api.huobi.pro", ENVELOPE, SPOT_ERRORS, retry_after_s)
FUTURES: Final = Host(
    "futures", "HTX_FUTURES_BASE_URL", "https://api.hbdm.com", ENVELOPE, FUTURES_ERRORS, retry_after_s
)

# --------------------------------------------------------------------------------------------
# Reading the answers
# --------------------------------------------------------------------------------------------

KNOWN: Final = frozenset({"readOnly", "trade", "withdraw"})


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("an integer")
    return int(value)


def read_key_info(data: Any) -> Facts:
    entries = data if isinstance(data, list) else [data]
    if len(entries) != 1:  # FACTS 'one entry'
        raise ValueError("the answer does not name one key")
    entry = entries[0]
    rights = frozenset(p.strip() for p in str(entry["permission"]).split(",")) - {""}
    raw_ips = entry.get("ipAddresses")  # '' none; absent: not reported
    days = _int(entry.get("validDays", -1))
    now = datetime.fromtimestamp(now_ms() / 1000, UTC)
    status = str(entry.get("status", "normal"))
    expires = now if status == "expired" else (now + timedelta(days=days) if days >= 0 else None)
    return Facts(
        withdraw="withdraw" in rights,
        read="readOnly" in rights or None,
        spot_trade="trade" in rights,  # FACTS 'shared rights'
        futures_trade="trade" in rights,
        futures_with_trade=True,  # FACTS 'shared rights'
        unknown_permissions=tuple(sorted(rights - KNOWN)),
        ip_whitelist=None
        if raw_ips is None
        else tuple(ip.strip() for ip in str(raw_ips).split(",") if ip.strip()),
        expires_at=expires,
        account={"key_status": status[:64]},
    )


# FACTS 'spot account state'.
ACCOUNT_STATES: Final = {"working": False, "normal": False, "lock": True}


def read_accounts(data: Any) -> Facts:
    if not isinstance(data, list) or not all(isinstance(a, dict) for a in data):
        raise TypeError("accounts are a list of objects")
    states = [str(a.get("state")) for a in data if a.get("type") == "spot"]
    known = [ACCOUNT_STATES[state] for state in states if state in ACCOUNT_STATES]
    return Facts(
        restricted=any(known) if known else None,
        account={"spot_account_state": states[0][:32]} if states else {},
    )


def read_valuation(data: Any) -> Facts:
    float(data["balance"])  # a number as a string
    return Facts(balances=True)


def read_futures_balance(data: Any) -> Facts:
    if not isinstance(data, list | dict):  # V5 shape per [JK] (UNCONFIRMED): an object or a list
        raise TypeError("balances are a list or an object")
    return Facts(balances=True)


def _key_info_params(inputs: Inputs) -> dict[str, object]:
    return {"uid": inputs.value("uid"), "accessKey": inputs.api_key}


FUTURES_ONLY: Final = frozenset({Market.FUTURES})
SPOT_ONLY: Final = frozenset({Market.SPOT})

# Not declared, so never sent: orders and cancels (/v1/order/*, /v5/trade/*), withdrawals
# (/v1/dw/*), transfers (/v1/account/transfer, /v2/account/transfer), key management
# (/v2/sub-user/api-key-*), /v5/account/asset_mode, position mode and leverage setters.
# fmt: off
CALLS: Final = (
    Call("spot_time", Role.SERVER_TIME, "GET", "spot", "/v1/common/timestamp", signed=False, read=_int),
    Call("futures_time", Role.SERVER_TIME, "GET", "futures", "/api/v1/timestamp", signed=False,
         markets=FUTURES_ONLY, read=lambda body: _int(body["ts"])),
    # A key's uid never changes: cached per key, a warm test of it takes one round trip.
    Call("uid", Role.LOOKUP, "GET", "spot", "/v2/user/uid", read=_int, cache_s=3600),
    Call("key_info", Role.KEY_INFO, "GET", "spot", "/v2/user/api-key", needs=("uid",),
         params=_key_info_params, read=read_key_info),
    # The spot account's state (lock: restricted); a bonus, sent beside the others (no extra round trip).
    Call("accounts", Role.KEY_INFO, "GET", "spot", "/v1/account/accounts", markets=SPOT_ONLY,
         read=read_accounts, best_effort=True),
    Call("spot_valuation", Role.SPOT_READ, "GET", "spot", "/v2/account/asset-valuation", markets=SPOT_ONLY,
         params={"accountType": "spot", "valuationCurrency": "USD"}, read=read_valuation),
    Call("futures_balance", Role.FUTURES_READ, "GET", "futures", "/v5/account/balance",
         markets=FUTURES_ONLY, read=read_futures_balance),
)
# fmt: on

EXCHANGE: Final = ExchangeSpec(
    info=ExchangeInfo("htx", "HTX", needs_passphrase=False, markets=(Market.SPOT, Market.FUTURES)),
    hosts=(SPOT, FUTURES),
    calls=CALLS,
    sign=sign,
    facts=FACTS,
    budget=RequestBudget(
        window_s=10,
        max_units=20,
        units_per_test=2,  # the two clock calls; signed calls count against the key's UID, not the IP
        unit="requests without a key",
        exchange_limit="10 requests per second per IP for calls without an API key",
        source="[HTX-DOC] Chinese spot docs 'rate limit rules'; a fifth of it",
        confirmed=True,
    ),
)
