"""The API's shapes: what clients send and what they get back (the OpenAPI document is built from these).

Secrets are ``SecretStr``: write-only in the OpenAPI document, masked in every repr, and only
unwrapped by the service at the moment they are stored.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from backfuture.exchanges import Market

NAME_MAX = 64


class Status(StrEnum):
    UNTESTED = "untested"
    CONNECTED = "connected"
    FAILED = "failed"
    REFUSED = "refused"
    UNAVAILABLE = "unavailable"


# The labels, in English and Hungarian: backfuture.errors.status_label.


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------


def _clean_name(value: str) -> str:
    # Normalised first, so that the length limit and uniqueness see the same name whether the
    # keyboard sent "é" as one code point (NFC) or as "e" plus a combining accent (NFD, macOS).
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        raise ValueError("must not be empty")
    if len(name) > NAME_MAX:
        raise ValueError(f"must be at most {NAME_MAX} characters")
    # Control, format and separator characters (newlines, bidi overrides, zero-width joiners) make
    # two names look alike or break the dashboard's layout. A lone surrogate (JSON allows "\ud800")
    # is not text at all: no store can encode it.
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for ch in name):
        raise ValueError("must not contain control or invisible characters")
    return name


def _clean_credential(value: SecretStr, *, low: int, high: int) -> SecretStr:
    # The messages name the problem, never the value.
    raw = value.get_secret_value().strip()
    if not raw:
        raise ValueError("must not be empty")
    if any(ch.isspace() for ch in raw):
        raise ValueError("must not contain spaces or line breaks; copy the value again")
    if not raw.isascii() or not raw.isprintable():
        raise ValueError(
            "must contain only plain ASCII characters (a browser translation may have altered it); "
            "copy it again"
        )
    if not low <= len(raw) <= high:
        raise ValueError(f"must be between {low} and {high} characters long")
    return SecretStr(raw)


# A private key in PEM form (Coinbase CDP keys): accepted here for any exchange, refused by the service
# for exchanges whose secrets are one line (engine.spec.CredentialRules.pem_secret).
PEM_SECRET_MAX = 1024
_PEM_KEY = re.compile(r"-----BEGIN ([A-Z0-9 ]{0,30}PRIVATE KEY)-----(.*)-----END \1-----", re.DOTALL)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{40,900}={0,2}")
_PEM_PROBLEM = "must be the whole private key, from its -----BEGIN line to its -----END line; copy it again"


def clean_secret(value: SecretStr) -> SecretStr:
    raw = value.get_secret_value().strip()
    # As the key file's JSON line shows it: quoted, perhaps with the comma after it.
    unquoted = raw.rstrip(",").strip()
    if len(unquoted) >= 2 and unquoted[0] == unquoted[-1] and unquoted[0] in "\"'":
        unquoted = unquoted[1:-1].strip()
    if unquoted.startswith("-----BEGIN"):
        return SecretStr(_clean_pem(unquoted))
    if raw.startswith("{") and "privateKey" in raw:
        raise ValueError(
            "is a whole key file: paste its privateKey as the secret and its name as the API key"
        )
    return _clean_credential(value, low=8, high=256)


def _clean_pem(text: str) -> str:
    """One canonical PEM whatever the paste did to its line breaks: kept, written as a backslash and n
    (the key file's JSON), CR LF, turned into spaces (single-line inputs) or dropped. The base64 body is
    wrapped again at 64 characters."""
    found = _PEM_KEY.fullmatch(text.replace("\\n", "\n").strip())
    if found is None:
        raise ValueError(_PEM_PROBLEM)
    label, body = found.group(1), "".join(found.group(2).split())
    if not _BASE64.fullmatch(body):
        raise ValueError(_PEM_PROBLEM)
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    pem = f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"
    if len(pem) > PEM_SECRET_MAX:
        raise ValueError(_PEM_PROBLEM)
    return pem


def _clean_markets(value: list[Market]) -> list[Market]:
    if len(set(value)) != len(value):
        raise ValueError("must not repeat a market")
    return sorted(value, key=list(Market).index)


ConnectionName = Annotated[
    str,
    AfterValidator(_clean_name),
    Field(description="1-64 characters after trimming, unique per user ignoring case"),
]
Markets = Annotated[list[Market], Field(min_length=1, max_length=2), AfterValidator(_clean_markets)]
# 16 and up: every supported exchange's keys are longer, and the key hint (4 + 4 characters)
# must never show a whole key.
ApiKey = Annotated[SecretStr, AfterValidator(partial(_clean_credential, low=16, high=128))]
ApiSecret = Annotated[
    SecretStr,
    AfterValidator(clean_secret),
    Field(
        description="8-256 characters on one line; where the exchange issues a private key in PEM form, "
        "the whole key with its line breaks (or with \\n for each, as in its key file)"
    ),
]
Passphrase = Annotated[
    SecretStr,
    AfterValidator(partial(_clean_credential, low=1, high=128)),
    Field(
        description="Only where GET /exchanges says needs_passphrase: the passphrase chosen when the "
        "API key was created"
    ),
]


class _Model(BaseModel):
    # Validators and serializers are built when a model is first used, not when this module loads:
    # each function then builds only the models its routes use (docs/benchmarks.md, cold start).
    model_config = ConfigDict(defer_build=True)


class _Request(_Model):
    # Unknown fields are refused rather than ignored: no mass assignment of status, owner or ids.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


_EXAMPLE_ID = "01JDQ7ZK3V8W5X2Y9T4R6P0M1N"
_KEY_PHRASE_HELP = (
    "Required where the exchange's keys have one (GET /exchanges: needs_passphrase), refused elsewhere: "
    "the passphrase chosen "
    "when the API key was created; stored encrypted, never returned"
)


class AddConnectionRequest(_Request):
    """A new exchange connection: the exchange, a name, the API key's credentials and the markets."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "exchange": "kucoin",
                    "name": "KuCoin main",
                    "api_key": "6500democonnected0000000",
                    "api_secret": "6500de00-0000-4000-8000-000000000001",
                    "passphrase": "BackFuture-demo-1",
                    "markets": ["spot", "futures"],
                }
            ]
        }
    )

    exchange: str = Field(
        min_length=1,
        max_length=32,
        description="A supported exchange id from GET /exchanges; case-insensitive",
    )
    name: ConnectionName
    api_key: ApiKey = Field(description="The exchange API key; only its hint is ever shown again")
    api_secret: ApiSecret = Field(
        description="The API key's secret (where the exchange issues a private key, the whole PEM key, "
        "line breaks included); stored encrypted, never returned"
    )
    passphrase: Passphrase | None = Field(default=None, description=_KEY_PHRASE_HELP)
    markets: Markets = Field(
        default_factory=lambda: [Market.SPOT],
        description="Markets to trade and test: spot (default), futures, or both",
    )

    @field_validator("exchange")
    @classmethod
    def _exchange(cls, value: str) -> str:
        return value.strip().lower()


class ReplaceCredentialsRequest(_Request):
    """New credentials for a connection (a new key, or the same key with a corrected secret)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"api_key": "mx0vglDemoConnected01", "api_secret": "…"}]}
    )

    api_key: ApiKey = Field(description="The exchange API key; only its hint is ever shown again")
    api_secret: ApiSecret = Field(
        description="The API key's secret (where the exchange issues a private key, the whole PEM key, "
        "line breaks included); stored encrypted, never returned"
    )
    passphrase: Passphrase | None = Field(default=None, description=_KEY_PHRASE_HELP)


class UpdateConnectionRequest(_Request):
    """Any of: a new name, other markets, the user's confirmation that the key cannot withdraw."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "KuCoin bots"},
                {"markets": ["spot"]},
                {"withdrawal_disabled_confirmed": True},
            ]
        }
    )

    name: ConnectionName | None = Field(default=None, description="A new name, unique per user ignoring case")
    markets: Markets | None = Field(
        default=None, description="New markets; a change sets the status back to untested"
    )
    withdrawal_disabled_confirmed: bool | None = Field(
        default=None,
        description=(
            "true: the user confirms that withdrawal is disabled on the key, so an Online connection "
            "whose exchange does not report withdrawal rights becomes trading-ready; false withdraws "
            "the confirmation. Any credential change clears it."
        ),
    )


# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------


class Problem(_Model):
    """An error or warning: a stable code, and a message and remedy in the request's language."""

    code: str = Field(description="Stable machine-readable code (never translated)")
    message: str = Field(description="What happened, in the language chosen by Accept-Language")
    remedy: str = Field(description="What to do about it, in the same language")
    details: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Code-specific facts: fields (validation_error), retry_after_s, egress_ips, "
            "exchange_code, unknown_permissions (withdraw_unverifiable)"
        ),
    )


_STATUS_EXAMPLE: dict[str, Any] = {
    "connection_id": _EXAMPLE_ID,
    "status": "failed",
    "status_label": "Action needed",
    "checked_at": "2026-11-25T10:00:00.000Z",
    "duration_ms": 412,
    "error": {
        "code": "ip_not_allowed",
        "message": "The key's IP whitelist does not include the platform's IP addresses.",
        "remedy": "Add 3.120.1.1 and 3.120.1.2 to the key's IP whitelist on the exchange.",
        "details": {"exchange_code": "400006", "egress_ips": ["3.120.1.1", "3.120.1.2"]},
    },
    "warnings": [],
    "checks": {
        "credentials": "ok",
        "read": "failed",
        "trade": "skipped",
        "withdraw_disabled": "skipped",
        "futures": "not_requested",
        "ip_whitelist": "failed",
        "balance_access": "skipped",
    },
    "permissions": {"read": None, "trade": None, "withdraw": None, "futures": None},
    "account": {},
    "clock_offset_ms": -38,
}
_ONLINE_UNVERIFIED_EXAMPLE: dict[str, Any] = {
    "connection_id": _EXAMPLE_ID,
    "status": "connected",
    "status_label": "Online",
    "checked_at": "2026-11-25T10:00:00.000Z",
    "duration_ms": 388,
    "error": None,
    "warnings": [
        {
            "code": "withdraw_unverifiable",
            "message": "The exchange does not report whether this key can withdraw, so the connection is "
            "not ready for trading until you confirm that withdrawal is disabled.",
            "remedy": "Check on the exchange that withdrawal is disabled for this key, then confirm it on "
            "the connection (withdrawal_disabled_confirmed).",
            "details": {"unknown_permissions": ["SPOT_MARGIN_WRITE"]},
        }
    ],
    "checks": {
        "credentials": "ok",
        "read": "ok",
        "trade": "ok",
        "withdraw_disabled": "unknown",
        "futures": "not_requested",
        "ip_whitelist": "ok",
        "balance_access": "ok",
    },
    "permissions": {"read": True, "trade": True, "withdraw": None, "futures": False},
    "account": {"is_master": True},
    "clock_offset_ms": 12,
}


class StatusDocument(_Model):
    """The result of the connection's last test (status untested and no checks before any test)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_STATUS_EXAMPLE, _ONLINE_UNVERIFIED_EXAMPLE]})

    connection_id: str = Field(description="The connection tested")
    status: Status = Field(description="untested, connected, failed, refused or unavailable")
    status_label: str = Field(description="The status for people, in the request's language")
    checked_at: datetime | None = Field(default=None, description="When the test ran (UTC)")
    duration_ms: int | None = Field(default=None, description="How long the test took")
    error: Problem | None = Field(
        default=None, description="The problem found, if any (see the outcome codes)"
    )
    warnings: list[Problem] = Field(
        default_factory=list,
        description=(
            "Not blocking: ip_restriction_missing, ip_whitelist_mismatch, withdraw_unverifiable, "
            "unneeded_permission, key_expires_soon"
        ),
    )
    checks: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "credentials, read, trade, withdraw_disabled, futures, ip_whitelist, balance_access: each "
            "ok, failed, skipped (an earlier check failed), unknown (the exchange does not tell), "
            "not_requested, or missing (ip_whitelist: no restriction at all)"
        ),
    )
    permissions: dict[str, bool | None] = Field(
        default_factory=dict,
        description=(
            "The key's rights as the exchange reports them: read, trade, withdraw, futures (null: unknown)"
        ),
    )
    account: dict[str, Any] = Field(
        default_factory=dict, description="Account facts the exchange reports (is_master, sub-account name)"
    )
    clock_offset_ms: int | None = Field(
        default=None, description="The exchange's clock minus the platform's, as measured"
    )


class ConnectionResource(_Model):
    """A connection to one exchange account through one API key (never its secret)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _EXAMPLE_ID,
                    "name": "KuCoin main",
                    "exchange": "kucoin",
                    "markets": ["spot", "futures"],
                    "api_key_hint": "6500…0000",
                    "status": "connected",
                    "status_label": "Online",
                    "trading_ready": True,
                    "error": None,
                    "warnings": [],
                    "checked_at": "2026-11-25T10:00:00.000Z",
                    "key_expires_at": None,
                    "withdrawal_disabled_confirmed_at": None,
                    "created_at": "2026-11-25T09:58:12.204Z",
                    "updated_at": "2026-11-25T10:00:00.000Z",
                }
            ]
        }
    )

    id: str = Field(description="The connection id (a ULID: sorts by creation time)")
    name: str = Field(description="The user's name for it, unique per user ignoring case")
    exchange: str = Field(description="The exchange id")
    markets: list[Market] = Field(description="The markets it trades and is tested for")
    api_key_hint: str = Field(description="The API key's first and last four characters")
    status: Status = Field(description="untested, connected, failed, refused or unavailable")
    status_label: str = Field(description="The status for people, in the request's language")
    trading_ready: bool = Field(
        description=(
            "What the strategy runner checks: Online and the key known not to withdraw (or the user "
            "confirmed it)"
        )
    )
    error: Problem | None = Field(default=None, description="The last test's problem, if any")
    warnings: list[Problem] = Field(default_factory=list, description="The last test's warnings")
    checked_at: datetime | None = Field(default=None, description="When it was last tested")
    key_expires_at: datetime | None = Field(
        default=None, description="When the key expires, where the exchange reports it"
    )
    withdrawal_disabled_confirmed_at: datetime | None = Field(
        default=None, description="When the user confirmed that the key cannot withdraw"
    )
    created_at: datetime = Field(description="When it was added")
    updated_at: datetime = Field(description="When it last changed (including test results)")


class ConnectionList(_Model):
    """The caller's connections."""

    connections: list[ConnectionResource] = Field(description="Newest first")


class EgressIps(_Model):
    """The platform's fixed outgoing addresses."""

    egress_ips: list[str] = Field(description="Add all of them to the API key's IP whitelist")


class ExchangeDescription(_Model):
    """An exchange the platform supports or plans to."""

    id: str = Field(description="The id used in requests")
    name: str = Field(description="Its name")
    supported: bool = Field(description="false: planned, not connectable yet")
    needs_passphrase: bool = Field(description="Its API keys come with a passphrase")
    markets: list[Market] = Field(description="Markets the platform trades there")


class ExchangeList(_Model):
    """Supported exchanges, then the planned ones."""

    exchanges: list[ExchangeDescription] = Field(description="Supported first, then planned")


class AuditEvent(_Model):
    """One entry of the audit trail. Never a secret, a full key or an exchange's answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "at": "2026-11-25T10:00:00.000Z",
                    "type": "status_changed",
                    "connection_id": _EXAMPLE_ID,
                    "exchange": "kucoin",
                    "actor": "system",
                    "details": {"from": "connected", "to": "unavailable"},
                }
            ]
        }
    )

    at: datetime = Field(description="When it happened (UTC)")
    type: str = Field(
        description=(
            "created, credentials_replaced, renamed, markets_changed, tested, status_changed, refused, "
            "withdrawal_confirmed or deleted"
        )
    )
    connection_id: str = Field(description="The connection (it may since have been deleted)")
    exchange: str = Field(description="Its exchange")
    actor: str = Field(description="user (a request of the user) or system (the scheduled re-validation)")
    source_ip: str | None = Field(default=None, description="The request's source address (user actions)")
    user_agent: str | None = Field(default=None, description="The request's User-Agent (user actions)")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "tested: status, code, warnings; status_changed, renamed, markets_changed: from, to; "
            "credentials_replaced: api_key_hint; withdrawal_confirmed: confirmed"
        ),
    )


class EventPage(_Model):
    """A page of the audit trail, newest first."""

    events: list[AuditEvent] = Field(description="At most limit events, newest first")
    next: str | None = Field(
        default=None, description="Pass as ?cursor= for the next page; null on the last page"
    )


class ErrorBody(_Model):
    """Every error answer of the service."""

    error: Problem = Field(description="The error")
