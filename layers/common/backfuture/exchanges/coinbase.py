"""Coinbase Advanced Trade (CDP API keys): spot, declared for the engine.

Sources (tags): [CB-SDK] github coinbase/coinbase-advanced-py @54fb8ed (2026-06-19, the official SDK:
coinbase/jwt_generator.py, constants.py, rest/rest_base.py, rest/orders.py preview_order,
rest/types/data_api_types.py, rest/types/public_types.py, tests/constants.py); [CB-DOCS]
docs.cdp.coinbase.com (get-api-key-permissions, jwt-authentication, legacy-keys, rest-scopes);
[REF] ../shared/reference/exchanges-next.md Part B §4 (its issue citations: coinbase-advanced-py#132,
OctoBot-Tentacles#1431, ccxt#19034, ccxt#20827, advanced-trade-sdk-go#18). UNCONFIRMED facts are
read both ways where they are used.

A CDP key is a key name and a private key (EC P-256 in PEM, or Ed25519): every request carries a JWT
signed with it, valid two minutes. The key's rights come from ``GET key_permissions``; the trade
right is confirmed by an order preview, which Coinbase documents as a preview, never an order.
Legacy keys (retired by Coinbase) and secrets that are no private key are recognised without
calling Coinbase at all.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode, urlsplit

from backfuture.clock import now_ms
from backfuture.engine.http import ExchangeResponse
from backfuture.engine.spec import (
    DENIED,
    KEY_OR_UNAVAILABLE,
    PROVES_RIGHT,
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
from backfuture.exchanges import Credentials, ExchangeInfo, Market

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# fmt: off
FACTS: Final = (
    Fact("signing", "header Authorization: Bearer <JWT>, one JWT per request: header {alg ES256 (EC P-256 "
         "key) or EdDSA (Ed25519), kid = key name, nonce = random hex, typ JWT}, claims {sub = key name, "
         "iss 'cdp', nbf = now, exp = now + 120, uri = 'METHOD host/path' (no scheme, no query)}; ES256 "
         "signatures are JOSE r||s. No official vector: tested by decoding with PyJWT (the SDK's own JWT "
         "library) and byte for byte against it for Ed25519, which is deterministic",
         "[CB-SDK] jwt_generator.py build_jwt, format_jwt_uri; [CB-DOCS] jwt-authentication; [REF] §4.2",
         True),
    Fact("private keys", "the secret is a PEM private key (SEC1 'EC PRIVATE KEY' or PKCS#8 'PRIVATE KEY', "
         "EC P-256 or Ed25519) or base64 of an Ed25519 key (32-byte seed, or 64 bytes seed||public key); "
         "the key name is organizations/{org}/apiKeys/{id} (ECDSA) or an id (Ed25519). The 64-byte form "
         "is seed || public key (as the SDK's test key and NaCl's format): other 64 bytes are no CDP key",
         "[CB-SDK] jwt_generator.py _load_private_key, tests/constants.py; [REF] §4.2", True),
    Fact("legacy keys", "Coinbase expired all legacy API keys in February 2025; they were a 16-character "
         "key and a 32-character secret signing HMAC headers (CB-ACCESS-*): recognised and refused as "
         "invalid_key (reason legacy_key) without a request. Coinbase Exchange (Pro) keys (32 hex "
         "characters, a 64-byte secret, a passphrase) never worked on Advanced Trade: the same answer",
         "[CB-DOCS] legacy-keys; [REF] §4.2", True),
    Fact("time window", "a JWT is valid from nbf to exp (120 s); 'Your JWT expires after 2 minutes'. A clock "
         "ahead makes nbf future and Coinbase answers 401, like a bad key: the offset measured from the "
         "server time keeps nbf right", "[CB-DOCS] jwt-authentication; [REF] §4.2", True),
    Fact("one host", "https://api.coinbase.com, REST under /api/v3/brokerage", "[CB-SDK] constants.py", True),
    Fact("server time", "GET /api/v3/brokerage/time (public) -> {iso, epochSeconds, epochMillis}; numbers "
         "or digit strings read alike", "[CB-SDK] rest/public.py get_unix_time, types/public_types.py",
         True),
    Fact("key info", "GET /api/v3/brokerage/key_permissions -> {can_view, can_trade, can_transfer, "
         "portfolio_uuid, portfolio_type}; can_transfer (sends and withdrawals) means refused",
         "[CB-DOCS] get-api-key-permissions; [CB-SDK] types/data_api_types.py; [REF] §4.3", True),
    Fact("portfolio", "a key is scoped to one portfolio; portfolio_type (DEFAULT, CONSUMER, INTX, "
         "UNDEFINED: enum unconfirmed) is reported as an account fact, the portfolio's uuid is not kept",
         "[REF] §4.3 (docs portfolios guide)", False),
    Fact("IP whitelist, expiry", "not reported by any Advanced Trade endpoint (the allow-list lives in the "
         "downloaded key file only): the ip_whitelist check says unknown and account.key_expiry unknown",
         "[REF] §4.3 (ccxt#20827)", True),
    Fact("balances", "GET /api/v3/brokerage/accounts (view scope) -> {accounts: [...], has_next, cursor, "
         "size}", "[CB-SDK] rest/accounts.py get_accounts; [CB-DOCS] rest-scopes", True),
    Fact("order preview", "POST /api/v3/brokerage/orders/preview 'Preview the results of an order request "
         "before sending': no order is placed. Its scope is unconfirmed (probably trade), and BTC-USD may "
         "be missing or closed in some regions: can_trade decides, the preview is best effort and confirms "
         "it; a 200 (errs listed or not) and the order-level rejections INVALID_ARGUMENT, "
         "INSUFFICIENT_FUND, UNSUPPORTED_ORDER_CONFIGURATION come after the scope check",
         "[CB-SDK] rest/orders.py preview_order, types/orders_types.py; [REF] §4.4, §4.5 (ccxt)", False),
    Fact("missing scope", "HTTP 403 {\"error\": \"unknown\", \"error_details\": \"Missing required scopes\", "
         "...}: the key lacks the call's right (the SDK special-cases exactly this); any other 403 (a "
         "firewall's page) is not read as a missing right",
         "[CB-SDK] rest/rest_base.py handle_exception; [REF] §4.5 (OctoBot-Tentacles#1431, ccxt#19034)",
         True),
    Fact("401", "bad or unknown key, bad or expired JWT, and (unconfirmed) a foreign IP all answer 401, "
         "body unconfirmed: invalid_key, whose remedy names the IP allow-list too. Valid JWTs sometimes get "
         "a false 401, and a JWT made with a stale clock offset gets one too, so after a 401 the clock is "
         "measured again (unless this test measured it) and the call sent once more with a fresh JWT; a "
         "401 that remains while another signed call passed is exchange_unavailable, not invalid_key",
         "[REF] §4.5 (coinbase-advanced-py#132)", False),
    Fact("rate limit", "429, sometimes an HTML page; headers x-ratelimit-limit/-remaining/-reset "
         "(reset read as epoch seconds, unconfirmed); private 30 requests/s per user, public 10/s per IP",
         "[CB-SDK] constants.py; [REF] §4.5 (advanced-trade-sdk-go#18, rate-limit docs)", False),
    Fact("restricted account", "no documented answer for a restricted account; a PERMISSION_DENIED "
         "would read as a missing right", "[REF] §5 (restriction: UNCONFIRMED)", False),
    Fact("futures", "US derivatives (CFM), INTX perpetuals and Global Derivatives are separate products "
         "with their own APIs and eligibility: not offered here, spot only", "[REF] §4.1", True),
)
# fmt: on

# --------------------------------------------------------------------------------------------
# Keys and signing ([CB-SDK] jwt_generator.py; [CB-DOCS] jwt-authentication)
# --------------------------------------------------------------------------------------------

JWT_LIFETIME_S: Final = 120
# The retired kind of key ([CB-DOCS] legacy-keys: "Key name is 16 characters long / Key secret is 32
# characters long").
LEGACY_KEY: Final = re.compile(r"[A-Za-z0-9]{16}")
LEGACY_SECRET: Final = re.compile(r"[A-Za-z0-9]{32}")
# A Coinbase Exchange (formerly Pro) key: 32 hex characters, with a passphrase; never valid on Advanced
# Trade ([REF] §4.2).
EXCHANGE_KEY: Final = re.compile(r"[0-9a-f]{32}")

type PrivateKey = EllipticCurvePrivateKey | Ed25519PrivateKey


def load_private_key(secret: str) -> PrivateKey:
    """The CDP private key, as the SDK reads it; ValueError for anything else (RSA, another curve,
    bad base64, a wrong length). The error never carries the secret."""
    # Imported here: only a Coinbase test pays for OpenSSL (and only its functions carry the layer).
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        if secret.lstrip().startswith("-----BEGIN"):
            key = load_pem_private_key(secret.encode(), password=None)
        else:
            raw = base64.b64decode("".join(secret.split()), validate=True)
            if len(raw) not in (32, 64):
                raise ValueError("an Ed25519 key is 32 or 64 bytes")
            key = ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])
            # 64 bytes are seed || public key (FACTS: private keys): anything else of that length is
            # another kind of secret (a Coinbase Exchange key's is 64 random bytes).
            if len(raw) == 64 and key.public_key().public_bytes_raw() != raw[32:]:
                raise ValueError("not seed || public key")
    except (ValueError, TypeError, UnsupportedAlgorithm, binascii.Error):
        raise ValueError("not a CDP private key") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise ValueError("not a CDP private key: ES256 needs P-256, or Ed25519")


def unusable(credentials: Credentials) -> str | None:
    """Why Coinbase cannot accept these credentials, known without asking it (None: try them)."""
    if LEGACY_KEY.fullmatch(credentials.api_key) and LEGACY_SECRET.fullmatch(credentials.api_secret):
        return "legacy_key"
    try:
        load_private_key(credentials.api_secret)
    except ValueError:
        return "legacy_key" if EXCHANGE_KEY.fullmatch(credentials.api_key) else "unreadable_private_key"
    return None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _json(value: dict[str, Any], *, sort: bool) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=sort).encode()


def build_jwt(key_name: str, secret: str, uri: str, now_s: int, nonce: str) -> str:
    """The SDK's JWT: PyJWT's layout (header keys sorted, claims in this order), signed with the key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    key = load_private_key(secret)
    algorithm = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "EdDSA"
    header = {"alg": algorithm, "kid": key_name, "nonce": nonce, "typ": "JWT"}
    claims = {"sub": key_name, "iss": "cdp", "nbf": now_s, "exp": now_s + JWT_LIFETIME_S, "uri": uri}
    signing_input = f"{_b64url(_json(header, sort=True))}.{_b64url(_json(claims, sort=False))}".encode()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        # JOSE wants the two 32-byte integers r||s, not OpenSSL's DER (RFC 7518 §3.4).
        r, s = utils.decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = key.sign(signing_input)
    return f"{signing_input.decode()}.{_b64url(signature)}"


_DEFAULT_PORTS: Final = {"https": 443, "http": 80}


def jwt_uri(method: str, base_url: str, path: str) -> str:
    """``METHOD host/path``: no scheme, no query, no default port ([CB-SDK] format_jwt_uri)."""
    parts = urlsplit(base_url)
    port = f":{parts.port}" if parts.port and parts.port != _DEFAULT_PORTS.get(parts.scheme) else ""
    return f"{method.upper()} {parts.hostname}{port}{parts.path}{path}"


def sign(draft: Draft, credentials: Credentials, timestamp_ms: int) -> Signed:
    token = build_jwt(
        credentials.api_key,
        credentials.api_secret,
        jwt_uri(draft.method, draft.base_url, draft.path),
        timestamp_ms // 1000,
        secrets.token_hex(),
    )
    headers = {"Authorization": f"Bearer {token}"}
    if draft.body is not None:
        headers["Content-Type"] = "application/json"
    query = f"?{urlencode(draft.params)}" if draft.params else ""
    return Signed(f"{draft.base_url}{draft.path}{query}", headers, draft.body)


# --------------------------------------------------------------------------------------------
# Envelope and errors ([REF] §4.5; [CB-SDK] rest_base.py)
# --------------------------------------------------------------------------------------------


class CoinbaseEnvelope(Envelope):
    """Successes are bare JSON; errors ``{"error", "error_details", "message"}``. A missing scope comes
    as error "unknown" with details "Missing required scopes": refined to a code of its own (the text
    is searched, never kept)."""

    def code(self, body: Any) -> str | None:
        code = super().code(body)
        details = body.get("error_details") if isinstance(body, dict) else None
        texts = f"{self.message(body)} {details if isinstance(details, str) else ''}".lower()
        if code is not None and "missing required scopes" in texts:
            return "missing_scopes"
        return code


ERRORS: Final = Errors(
    exact={
        "missing_scopes": DENIED,  # 403 "Missing required scopes" (FACTS: missing scope)
        "PERMISSION_DENIED": DENIED,  # ccxt's map; a scope error in upper case
        "UNAUTHENTICATED": KEY_OR_UNAVAILABLE,  # a JSON 401 (body UNCONFIRMED)
    },
    # 401 (FACTS: 401): bad key, bad JWT, (UNCONFIRMED) foreign IP, or a false 401 once another signed
    # call has proved the key. No 403 here: only the documented scope answer means a missing right; a
    # gateway's or firewall's 403 page is an outage, any other JSON 403 an unknown answer.
    http={401: KEY_OR_UNAVAILABLE},
)

# The order itself rejected, after the scope check (FACTS: order preview).
PREVIEW_ERRORS: Final = Errors(
    exact=dict.fromkeys(
        ("INVALID_ARGUMENT", "INSUFFICIENT_FUND", "UNSUPPORTED_ORDER_CONFIGURATION"), PROVES_RIGHT
    )
)


def retry_after_s(response: ExchangeResponse) -> int | None:
    """x-ratelimit-reset: epoch seconds when it looks like one, else seconds to wait (UNCONFIRMED)."""
    raw = response.header("x-ratelimit-reset")
    if raw is None or not raw.strip().isdigit():
        return None
    value = int(raw)
    if value > 10**9:
        return max(1, value - now_ms() // 1000)
    return max(1, value)


API: Final = Host(
    "api",
    "COINBASE_BASE_URL",
    "https://api.coinbase.com",
    CoinbaseEnvelope(code_field="error", data_field=None, ok_without_code=True,
                     message_fields=("message", "error_details")),
    ERRORS,
    retry_after_s,
    resend_on=frozenset({401}),  # FACTS: 401 (false 401s for valid JWTs)
)  # fmt: skip

# --------------------------------------------------------------------------------------------
# Reading the answers
# --------------------------------------------------------------------------------------------


def _flag(data: Any, name: str) -> bool | None:
    """A right's flag; None when the answer leaves it out (unconfirmed whether false ones are sent:
    a missing can_transfer leaves withdrawal unverifiable, never assumed off)."""
    if not isinstance(data, dict):
        raise TypeError("key permissions are an object")
    value = data.get(name)
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{name} is a boolean")
    return value


def read_key_permissions(data: Any) -> Facts:
    """The portfolio's uuid is an identifier, never kept; its type is. A flag left out is not known
    (an answer with none of them is no answer about the key)."""
    withdraw, read, trade = (_flag(data, name) for name in ("can_transfer", "can_view", "can_trade"))
    if withdraw is None and read is None and trade is None:
        raise KeyError("can_view, can_trade, can_transfer")
    portfolio_type = data.get("portfolio_type")
    account: dict[str, Any] = {"key_expiry": "unknown"}  # FACTS: IP whitelist, expiry
    if isinstance(portfolio_type, str) and portfolio_type:
        account["portfolio_type"] = portfolio_type
    return Facts(withdraw=withdraw, read=read, spot_trade=trade, account=account)


def read_server_time(data: Any) -> int:
    for name, scale in (("epochMillis", 1), ("epochSeconds", 1000)):
        value = data.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value * scale
        if isinstance(value, str) and value.isdigit():
            return int(value) * scale
    raise TypeError("epochMillis or epochSeconds is a number")


def read_accounts(data: Any) -> Facts:
    if not isinstance(data["accounts"], list):
        raise TypeError("accounts is a list")
    return Facts(balances=True)


def read_preview(data: Any) -> bool:
    if not isinstance(data, dict):
        raise TypeError("a preview is an object")
    return True


# A limit buy of 0.0001 BTC at 10,000 USD, far below the market; a preview is never an order.
PREVIEW: Final = {
    "product_id": "BTC-USD",
    "side": "BUY",
    "order_configuration": {
        "limit_limit_gtc": {"base_size": "0.0001", "limit_price": "10000", "post_only": True}
    },
}

# Not declared, so never sent: /orders, /orders/batch_cancel, /orders/edit, /orders/close_position,
# /portfolios/move_funds and every other /portfolios write, /cfm/sweeps*, /intx/allocate, /convert/*,
# the v2 send and withdraw endpoints.
# fmt: off
CALLS: Final = (
    Call("server_time", Role.SERVER_TIME, "GET", "api", "/api/v3/brokerage/time", signed=False,
         read=read_server_time),
    Call("key_info", Role.KEY_INFO, "GET", "api", "/api/v3/brokerage/key_permissions",
         read=read_key_permissions),
    Call("accounts", Role.SPOT_READ, "GET", "api", "/api/v3/brokerage/accounts", params={"limit": 1},
         read=read_accounts),
    # Best effort (FACTS: order preview): can_trade decides; the preview confirms it, and an answer we do
    # not know (a product missing in a region) never fails a key that may trade.
    Call("order_preview", Role.SPOT_TRADE, "POST", "api", "/api/v3/brokerage/orders/preview", body=PREVIEW,
         read=read_preview, errors=PREVIEW_ERRORS, best_effort=True),
)
# fmt: on

EXCHANGE: Final = ExchangeSpec(
    info=ExchangeInfo("coinbase", "Coinbase", needs_passphrase=False, markets=(Market.SPOT,)),
    hosts=(API,),
    calls=CALLS,
    sign=sign,
    facts=FACTS,
    credentials=CredentialRules(pem_secret=True, unusable=unusable),
    budget=RequestBudget(
        window_s=10,
        # time (public, cached per container), key_permissions, accounts, preview; on a 401 the time
        # again and each signed call once more: at most 8 requests a test, 20 tests per 10 s. Only the
        # clock counts against the per-IP public limit: at most 4 requests/s of its 10.
        max_units=160,
        units_per_test=8,
        unit="requests",
        exchange_limit="public 10 requests/s per IP; private 30 requests/s per user",
        source="[REF] exchanges-next.md Part B §4.5 (Coinbase rate-limit docs)",
        confirmed=False,
    ),
)
