"""The API's shapes: what clients send and what they get back (the OpenAPI document is built from these).

Secrets are ``SecretStr``: write-only in the OpenAPI document, masked in every repr, and only
unwrapped by the service at the moment they are stored.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from backfuture.exchanges.catalog import Market

NAME_MAX = 64


class Status(StrEnum):
    UNTESTED = "untested"
    CONNECTED = "connected"
    FAILED = "failed"
    REFUSED = "refused"
    UNAVAILABLE = "unavailable"


STATUS_LABELS: dict[Status, str] = {
    Status.UNTESTED: "Not tested",
    Status.CONNECTED: "Online",
    Status.FAILED: "Action needed",
    Status.REFUSED: "Refused",
    Status.UNAVAILABLE: "Exchange unavailable",
}


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


def _clean_markets(value: list[Market]) -> list[Market]:
    if len(set(value)) != len(value):
        raise ValueError("must not repeat a market")
    return sorted(value, key=list(Market).index)


ConnectionName = Annotated[
    str, AfterValidator(_clean_name), Field(description="1-64 characters, unique per user")
]
Markets = Annotated[list[Market], Field(min_length=1, max_length=2), AfterValidator(_clean_markets)]
# 16 and up: every supported exchange's keys are longer, and the key hint (4 + 4 characters)
# must never show a whole key.
ApiKey = Annotated[SecretStr, AfterValidator(partial(_clean_credential, low=16, high=128))]
ApiSecret = Annotated[SecretStr, AfterValidator(partial(_clean_credential, low=8, high=256))]
Passphrase = Annotated[
    SecretStr,
    AfterValidator(partial(_clean_credential, low=1, high=128)),
    Field(description="KuCoin only: the passphrase chosen when the API key was created"),
]


class _Model(BaseModel):
    # Validators and serializers are built when a model is first used, not when this module loads:
    # each function then builds only the models its routes use (docs/benchmarks.md, cold start).
    model_config = ConfigDict(defer_build=True)


class _Request(_Model):
    # Unknown fields are refused rather than ignored: no mass assignment of status, owner or ids.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class AddConnectionRequest(_Request):
    exchange: str = Field(min_length=1, max_length=32, description="mexc or kucoin")
    name: ConnectionName
    api_key: ApiKey
    api_secret: ApiSecret
    passphrase: Passphrase | None = None
    markets: Markets = Field(default_factory=lambda: [Market.SPOT])

    @field_validator("exchange")
    @classmethod
    def _exchange(cls, value: str) -> str:
        return value.strip().lower()


class ReplaceCredentialsRequest(_Request):
    api_key: ApiKey
    api_secret: ApiSecret
    passphrase: Passphrase | None = None


class UpdateConnectionRequest(_Request):
    name: ConnectionName | None = None
    markets: Markets | None = None


# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------


class Problem(_Model):
    code: str
    message: str
    remedy: str
    details: dict[str, Any] | None = None


class StatusDocument(_Model):
    connection_id: str
    status: Status
    status_label: str
    checked_at: datetime | None = None
    duration_ms: int | None = None
    error: Problem | None = None
    warnings: list[Problem] = Field(default_factory=list)
    checks: dict[str, str] = Field(default_factory=dict)
    permissions: dict[str, bool | None] = Field(default_factory=dict)
    account: dict[str, Any] = Field(default_factory=dict)
    clock_offset_ms: int | None = None


class ConnectionResource(_Model):
    id: str
    name: str
    exchange: str
    markets: list[Market]
    api_key_hint: str
    status: Status
    status_label: str
    trading_ready: bool
    error: Problem | None = None
    checked_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class ConnectionList(_Model):
    connections: list[ConnectionResource]


class EgressIps(_Model):
    egress_ips: list[str]


class ExchangeDescription(_Model):
    id: str
    name: str
    supported: bool
    needs_passphrase: bool
    markets: list[Market]


class ExchangeList(_Model):
    exchanges: list[ExchangeDescription]


class ErrorBody(_Model):
    error: Problem
