"""Coinbase venue: ``coinbase-api`` (api.coinbase.com, Advanced Trade under /api/v3/brokerage) and its
demo keys.

Sources: ../shared/reference/exchanges-next.md Part B §4, read against the official SDK
(coinbase/coinbase-advanced-py @54fb8ed: jwt_generator.py, rest/rest_base.py, rest/types/*). The
gateway checks, in this order (the order itself is UNCONFIRMED):

* ``Authorization: Bearer <JWT>``: header ``kid`` = claim ``sub`` = a key name known here; ``alg``
  ES256 for an EC key, EdDSA for an Ed25519 key; the signature verifies with the key's public key;
  ``iss`` = cdp; ``nbf`` not ahead of the venue clock and ``exp`` not past it (120 s at most); ``uri`` =
  ``METHOD host/path`` of this very request. Anything else: 401 with a plain "Unauthorized" body (the
  real body is UNCONFIRMED);
* then (simulator.kit) the IP allow-list (Coinbase's answer is UNCONFIRMED: 401 here) and the route's
  scope (403 "Missing required scopes", the body the SDK special-cases).

Demo keys sign with Ed25519 (the key types Coinbase issues today) except one EC (ES256) key, whose
PEM secret the README shows as its key file does, with ``\\n`` for each line break. Orders, cancels
and fund moves are served and recorded; the preview is not recorded (it never places).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils

from simulator.core import SimRequest, SimResponse, Venue
from simulator.kit import Call, DemoBook, Refused, RouteVenue, VenueKey, Whitelist, clock, private

VIEW, TRADE, TRANSFER = "view", "trade", "transfer"
JWT_MAX_LIFETIME_S = 120
UNAUTHORIZED = SimResponse(401, "Unauthorized\n")
MISSING_SCOPES = {"error": "unknown", "error_details": "Missing required scopes",
                  "message": "Missing required scopes"}  # fmt: skip


@dataclass(frozen=True)
class CoinbaseKey(VenueKey):
    permissions: tuple[str, ...] = (VIEW, TRADE)  # the key's scopes
    portfolio_type: str = "DEFAULT"
    false_401: bool = False  # answers 401 to the first request of each route, then works (SDK #132)


def _ed25519_secret(key_name: str) -> str:
    """64 bytes, seed || public key, base64: the shape of Coinbase's Ed25519 secrets."""
    seed = hashlib.sha256(f"backfuture-demo-coinbase-{key_name}".encode()).digest()
    public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return base64.b64encode(seed + public.public_bytes_raw()).decode()


def _ec_secret(key_name: str) -> str:
    """A P-256 key in SEC1 PEM ("EC PRIVATE KEY"), as Coinbase's ECDSA key files hold it."""
    scalar = int.from_bytes(hashlib.sha256(f"backfuture-demo-coinbase-{key_name}".encode()).digest())
    key = ec.derive_private_key(scalar % (2**255) + 1, ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return pem.decode()


def as_key_file(pem: str) -> str:
    """The PEM as the downloaded key file (JSON) shows it: one line, ``\\n`` for each break."""
    return pem.replace("\n", "\\n")


def _public_key(secret: str) -> ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey:
    if secret.startswith("-----BEGIN"):
        private = serialization.load_pem_private_key(secret.encode(), password=None)
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        return private.public_key()
    seed = base64.b64decode(secret)[:32]
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()


def error(status: int, code: str, message: str) -> SimResponse:
    return SimResponse(status, {"error": code, "error_details": message, "message": message})


# --------------------------------------------------------------------------------------------
# Demo keys: one per outcome (the README lists them; simulator/kit.DemoBook)
# --------------------------------------------------------------------------------------------

_EC_LABEL = "EcdsaKey"


def _label_of(key_name: str) -> str:
    return key_name.rsplit("/", 1)[-1]


_LEGACY_LABEL = "LegacyKey"
LEGACY_KEY, LEGACY_SECRET = "cbLegacyDemoKey1", "cbLegacyDemoSecret0123456789abcd"  # 16 and 32 characters


def _key_name(label: str) -> str:
    special = {_LEGACY_LABEL: LEGACY_KEY, "ExchangeProKey": EXCHANGE_KEY}
    return special.get(label, f"organizations/backfuture-demo/apiKeys/{label}")


book = DemoBook(
    "coinbase",
    CoinbaseKey,
    secret=lambda key, _: _ec_secret(key) if _label_of(key) == _EC_LABEL else _ed25519_secret(key),
    api_key=_key_name,
)
PREVIEW = "order_preview"
ACCOUNTS = "accounts"
RATE_LIMITED = SimResponse(
    429,
    "<html><body><h1>429 Too Many Requests</h1></body></html>",
    {"x-ratelimit-limit": "30", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "3"},
)
OTHER_ED25519 = _ed25519_secret("someone-else")
FRAGMENT = "MHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb"  # the start of an EC key's base64, not a key
# 64 bytes that are not seed || public key, as a Coinbase Exchange key's secret
EXCHANGE_SECRET = base64.b64encode(hashlib.sha512(b"backfuture-demo-coinbase-exchange").digest()).decode()
EXCHANGE_KEY = hashlib.md5(b"backfuture-demo-coinbase-exchange").hexdigest()  # noqa: S324 - a demo key name

# fmt: off
add = book.add
add("Connected", "connected", "spot",
    "An Ed25519 CDP key with View and Trade, no Transfer: Online and trading-ready (ip_whitelist unknown: "
    "Coinbase does not report the allow-list).")
add(_EC_LABEL, "connected", "spot",
    "An ECDSA (ES256) CDP key, pasted as its key file shows the PEM (with \\n for each line break): "
    "Online.", pasted_secret=as_key_file(_ec_secret(_key_name(_EC_LABEL))))
add("FalseUnauthorized", "connected", "spot",
    "Coinbase answers a valid JWT 401 once on each endpoint (a known intermittent fault): the call is "
    "sent again with a fresh JWT, and the key is Online.", false_401=True)
add("InvalidKey", "invalid_key", "spot",
    "A key name Coinbase does not know: 401.", known=False)
add("WrongSecret", "invalid_key", "spot",
    "A known key name with another private key: the JWT does not verify, 401.", pasted_secret=OTHER_ED25519)
add(_LEGACY_LABEL, "invalid_key", "spot",
    "A legacy key (16-character key, 32-character secret; retired by Coinbase in February 2025): refused "
    "with details.reason legacy_key and its own remedy, without a request to Coinbase.", known=False,
    pasted_secret=LEGACY_SECRET)
add("NotAPrivateKey", "invalid_key", "spot",
    "A secret that is no private key (a fragment): details.reason unreadable_private_key, no request.",
    known=False, pasted_secret=FRAGMENT)
add("IpNotAllowed", "invalid_key", "spot",
    "The key's allow-list lacks the platform's IPs: Coinbase answers 401 (UNCONFIRMED), as for a bad key; "
    "the remedy names the IPs.", whitelist=Whitelist.ELSEWHERE)
add("TransferRight", "withdrawal_enabled", "spot",
    "can_transfer true (sends and withdrawals): the key is refused and its secret destroyed.",
    permissions=(VIEW, TRADE, TRANSFER))
add("ViewOnly", "no_trade_permission", "spot",
    "View only (can_trade false); the order preview answers 403 Missing required scopes.",
    permissions=(VIEW,))
add("TradeWithoutView", "no_read_permission", "spot",
    "Trade without View (can_view false): the balances answer 403 Missing required scopes.",
    permissions=(TRADE,))
add("RateLimited", "rate_limited", "spot",
    "Signed calls answer 429 with an HTML page and x-ratelimit-reset 3.",
    answers={"*": RATE_LIMITED})
add("Maintenance", "exchange_unavailable", "spot",
    "Signed calls answer 503.",
    answers={"*": SimResponse(503, "<html><body>Service Unavailable</body></html>")})
add("UnknownError", "exchange_error", "spot",
    "The balances answer 400 with an error code the platform does not know; the code is kept for support.",
    answers={ACCOUNTS: error(400, "FAILED_PRECONDITION", "precondition failed")})
add("LateUnauthorized", "exchange_unavailable", "spot",
    "The balances keep answering 401 (even when sent again) while the key permissions pass: the key is "
    "proven, so this is Coinbase's own fault, not a bad key: run the test again.",
    answers={ACCOUNTS: UNAUTHORIZED})
add("FirewallPage", "exchange_unavailable", "spot",
    "Signed calls answer 403 with an HTML page (a firewall, not Coinbase's scope answer): an outage, never a "
    "missing permission.", answers={"*": SimResponse(403, "<html><body>403 Forbidden</body></html>")})
add("PreviewProductMissing", "connected", "spot",
    "The order preview answers 404 NOT_FOUND (the product missing in a region): the preview is best "
    "effort, can_trade decides, and the key is Online.",
    answers={PREVIEW: error(404, "NOT_FOUND", "product not found")})
add("ExchangeProKey", "invalid_key", "spot",
    "A Coinbase Exchange (Pro) key (32 hex characters, a 64-byte secret that is no Ed25519 key): refused "
    "with details.reason legacy_key, without a request.", known=False, pasted_secret=EXCHANGE_SECRET)
add("InsufficientFunds", "connected", "spot",
    "The order preview answers 400 INSUFFICIENT_FUND, a rejection of the order itself: the key may trade.",
    answers={PREVIEW: error(400, "INSUFFICIENT_FUND", "Insufficient balance")})
add("IntxPortfolio", "connected", "spot",
    "A key scoped to an INTX portfolio: Online, account.portfolio_type INTX.",
    portfolio_type="INTX")
# fmt: on

DEMO_KEYS = book.demo_keys
VENUE_KEYS = book.venue_keys


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def _permissions(call: Call) -> SimResponse:
    key: CoinbaseKey = call.key
    return SimResponse(200, {"can_view": VIEW in key.permissions, "can_trade": TRADE in key.permissions,
                             "can_transfer": TRANSFER in key.permissions,
                             "portfolio_uuid": "8c1f0e4e-0000-4000-8000-00000000demo",
                             "portfolio_type": key.portfolio_type})  # fmt: skip


def _accounts(call: Call) -> SimResponse:
    account = {"uuid": "8bfc20d7-f7c6-4422-bf07-8243ca4169fe", "name": "BTC Wallet", "currency": "BTC",
               "available_balance": {"value": "0.0421", "currency": "BTC"}, "default": False, "active": True,
               "type": "ACCOUNT_TYPE_CRYPTO", "ready": True,
               "hold": {"value": "0", "currency": "BTC"}}  # fmt: skip
    return SimResponse(200, {"accounts": [account], "has_next": True, "cursor": "789100", "size": 1})


def _preview(call: Call) -> SimResponse:
    preview = {"order_total": "1.006", "commission_total": "0.006", "errs": [], "warning": [],
               "quote_size": "1", "base_size": "0.0001", "best_bid": "90000.01", "best_ask": "90000.02",
               "is_max": False, "preview_id": "b40e4aee-demo"}  # fmt: skip
    return SimResponse(200, preview)


def _order(call: Call) -> SimResponse:
    return SimResponse(200, {"success": True, "success_response": {"order_id": "11111-00000-000000"}})


def _recorded(body: Any) -> Callable[[Call], SimResponse]:
    return lambda call: SimResponse(200, body)


ROUTES = {
    ("GET", "/api/v3/brokerage/time"): clock(
        lambda now: {"iso": "", "epochSeconds": str(now // 1000), "epochMillis": str(now)}
    ),
    ("GET", "/api/v3/brokerage/key_permissions"): private(_permissions, tag="key_info"),
    ("GET", "/api/v3/brokerage/accounts"): private(_accounts, VIEW, tag=ACCOUNTS),
    ("POST", "/api/v3/brokerage/orders/preview"): private(_preview, TRADE, tag=PREVIEW),
    # Never to be called by the service: each accepted call is recorded (simulator.kit).
    ("POST", "/api/v3/brokerage/orders"): private(_order, TRADE, tag="order", forbidden=True,
                                                  recorded=("product_id", "side")),
    ("POST", "/api/v3/brokerage/orders/batch_cancel"): private(_recorded({"results": []}), TRADE,
                                                               forbidden=True),
    ("POST", "/api/v3/brokerage/portfolios/move_funds"): private(_recorded({}), TRANSFER, forbidden=True),
}  # fmt: skip


def venues() -> list[Venue]:
    return [CoinbaseVenue()]


def _b64url_json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class CoinbaseVenue(RouteVenue):
    not_found = SimResponse(404, {"error": "NOT_FOUND", "error_details": "Not Found", "message": "Not Found"})

    def __init__(self) -> None:
        super().__init__("coinbase-api", ROUTES, VENUE_KEYS)
        self._answered_once: set[tuple[str, str]] = set()
        self._once_lock = threading.Lock()

    def reset(self) -> None:
        super().reset()
        with self._once_lock:
            self._answered_once.clear()

    def ip_refused(self, client_ip: str) -> SimResponse:
        return UNAUTHORIZED  # UNCONFIRMED: Coinbase's answer to a foreign IP

    def permission_denied(self, permission: str) -> SimResponse:
        return SimResponse(403, dict(MISSING_SCOPES))

    def authenticate(self, request: SimRequest, now_ms: int) -> tuple[VenueKey, dict[str, str]]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            header_part, claims_part, signature_part = token.split(".")
            header, claims = _b64url_json(header_part), _b64url_json(claims_part)
            signature = base64.urlsafe_b64decode(signature_part + "=" * (-len(signature_part) % 4))
        except ValueError:
            raise Refused(UNAUTHORIZED) from None
        key = self.keys.get(str(claims.get("sub")))
        if scheme != "Bearer" or not isinstance(key, CoinbaseKey) or header.get("kid") != key.api_key:
            raise Refused(UNAUTHORIZED)
        if not self._verifies(key, header.get("alg"), f"{header_part}.{claims_part}".encode(), signature):
            raise Refused(UNAUTHORIZED)
        now_s = now_ms // 1000
        nbf, exp = claims.get("nbf"), claims.get("exp")
        if (
            claims.get("iss") != "cdp"
            or not isinstance(nbf, int)
            or not isinstance(exp, int)
            or not nbf <= now_s < exp
            or exp - nbf > JWT_MAX_LIFETIME_S
            or claims.get("uri")
            != f"{request.method} {request.headers.get('host', '')}/{self.name}{request.path}"
        ):
            raise Refused(UNAUTHORIZED)
        if key.false_401:
            with self._once_lock:
                first = (key.api_key, request.path) not in self._answered_once
                self._answered_once.add((key.api_key, request.path))
            if first:
                raise Refused(UNAUTHORIZED)
        params = json.loads(request.body) if request.body else {}
        return key, {k: str(v) for k, v in params.items()} if isinstance(params, dict) else {}

    @staticmethod
    def _verifies(key: CoinbaseKey, alg: Any, signed: bytes, signature: bytes) -> bool:
        public = _public_key(key.secret)
        try:
            if isinstance(public, ed25519.Ed25519PublicKey) and alg == "EdDSA":
                public.verify(signature, signed)
                return True
            if isinstance(public, ec.EllipticCurvePublicKey) and alg == "ES256" and len(signature) == 64:
                r, s = int.from_bytes(signature[:32]), int.from_bytes(signature[32:])
                public.verify(utils.encode_dss_signature(r, s), signed, ec.ECDSA(hashes.SHA256()))
                return True
        except InvalidSignature:
            return False
        return False
