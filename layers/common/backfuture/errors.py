"""The error catalogue: every code a client can see, with its message and remedy.

Two families share one shape (`{"code", "message", "remedy"}`):

* request errors, raised as :class:`ApiError` and turned into HTTP responses by ``backfuture.api``;
* connection-test outcomes, carried in a status document's ``error`` and ``warnings``.

Every text exists in English (here) and Hungarian (``backfuture.errors_hu``, same names, same keys;
a test fails when one lacks an entry): adding a code means adding its entry to both. The request's
language (``backfuture.language``) picks one when a response is rendered.

Messages are fixed text chosen here. Nothing from a request body or an exchange response is ever
interpolated into them, so they can never echo a secret or a raw exchange answer.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from backfuture.language import Language, current_language


class ErrorCode(StrEnum):
    """Request errors (HTTP 4xx) and the generic server-side ones."""

    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    NAME_TAKEN = "name_taken"
    KEY_ALREADY_CONNECTED = "key_already_connected"
    VALIDATION_ERROR = "validation_error"
    UNSUPPORTED_EXCHANGE = "unsupported_exchange"
    CONNECTION_LIMIT_REACHED = "connection_limit_reached"
    TEST_COOLDOWN = "test_cooldown"
    QUOTA_EXCEEDED = "quota_exceeded"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    SERVICE_UNAVAILABLE = "service_unavailable"
    INTERNAL_ERROR = "internal_error"


class Outcome(StrEnum):
    """Connection-test outcomes (the status document's ``error.code``)."""

    INVALID_KEY = "invalid_key"
    INVALID_PASSPHRASE = "invalid_passphrase"  # noqa: S105 - an outcome code, not a password
    NO_READ_PERMISSION = "no_read_permission"
    NO_TRADE_PERMISSION = "no_trade_permission"
    # Before futures_not_enabled: no change to the key can fix it (the exchange refuses futures by API).
    FUTURES_API_UNAVAILABLE = "futures_api_unavailable"
    FUTURES_NOT_ENABLED = "futures_not_enabled"
    WITHDRAWAL_ENABLED = "withdrawal_enabled"
    IP_NOT_ALLOWED = "ip_not_allowed"
    CLOCK_SKEW = "clock_skew"
    ACCOUNT_RESTRICTED = "account_restricted"
    RATE_LIMITED = "rate_limited"
    EXCHANGE_UNAVAILABLE = "exchange_unavailable"
    EXCHANGE_ERROR = "exchange_error"


class WarningCode(StrEnum):
    """Warnings a passing or failing test can carry."""

    IP_RESTRICTION_MISSING = "ip_restriction_missing"
    IP_WHITELIST_MISMATCH = "ip_whitelist_mismatch"
    WITHDRAW_UNVERIFIABLE = "withdraw_unverifiable"
    UNNEEDED_PERMISSION = "unneeded_permission"
    KEY_EXPIRES_SOON = "key_expires_soon"


@dataclass(frozen=True, slots=True)
class Explanation:
    message: str
    remedy: str


# The remedies may name the platform's IPs: "{ips}" is filled from configuration, never from input.
REQUEST_ERRORS: dict[ErrorCode, tuple[int, Explanation]] = {
    ErrorCode.UNAUTHORIZED: (
        401,
        Explanation("You are not signed in.", "Sign in again and retry."),
    ),
    ErrorCode.NOT_FOUND: (
        404,
        Explanation("No such connection.", "Check the connection id; list your connections to find it."),
    ),
    ErrorCode.NAME_TAKEN: (
        409,
        Explanation(
            "You already have a connection with this name.",
            "Choose another name; names are compared ignoring upper and lower case.",
        ),
    ),
    ErrorCode.KEY_ALREADY_CONNECTED: (
        409,
        Explanation(
            "This API key is already connected to an account on the platform.",
            "Create a separate API key on the exchange for this connection.",
        ),
    ),
    ErrorCode.VALIDATION_ERROR: (
        422,
        Explanation("Some fields are missing or invalid.", "Correct the fields listed in details and retry."),
    ),
    ErrorCode.UNSUPPORTED_EXCHANGE: (
        422,
        Explanation("This exchange is not supported.", "Choose one of the supported exchanges."),
    ),
    ErrorCode.CONNECTION_LIMIT_REACHED: (
        429,
        Explanation(
            "You have reached the maximum number of connections.",
            "Delete a connection you no longer use, then add the new one.",
        ),
    ),
    ErrorCode.TEST_COOLDOWN: (
        429,
        Explanation(
            "This connection was tested moments ago.",
            "Wait for the number of seconds in details.retry_after_s, then test again.",
        ),
    ),
    ErrorCode.QUOTA_EXCEEDED: (
        429,
        Explanation(
            "You have used up your quota of connection tests per hour or of new connections per day.",
            "Wait for the number of seconds in details.retry_after_s, then try again.",
        ),
    ),
    ErrorCode.CONFLICT: (
        409,
        Explanation(
            "The connection changed while this request was running.",
            "Reload the connection and retry.",
        ),
    ),
    ErrorCode.PAYLOAD_TOO_LARGE: (
        413,
        Explanation("The request body is too large.", "Send only the documented fields."),
    ),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: (
        415,
        Explanation(
            "The request body must be JSON.", "Send the body as JSON with Content-Type: application/json."
        ),
    ),
    ErrorCode.SERVICE_UNAVAILABLE: (
        503,
        Explanation(
            "The service is briefly unavailable.",
            "Retry in a few seconds; a retry completes the request.",
        ),
    ),
    ErrorCode.INTERNAL_ERROR: (
        500,
        Explanation("Something went wrong on our side.", "Retry; if it persists, contact support."),
    ),
}

OUTCOMES: dict[Outcome, Explanation] = {
    Outcome.INVALID_KEY: Explanation(
        "The exchange does not accept this API key and secret: they were copied incorrectly, the key was "
        "deleted or has expired, or it was made on another site of the exchange (a regional site, a "
        "testnet or demo trading). Some exchanges answer the same way when the key's IP whitelist lacks "
        "the platform's IP addresses.",
        "Copy the API key and secret again, or create a new key on the exchange's main site, and check that "
        "its IP whitelist includes {ips}. Only keys the exchange generates for you are supported, not keys "
        "registered from your own RSA or Ed25519 public key.",
    ),
    # Names no exchange, and the remedy names the secret too: where the passphrase is sent as an HMAC
    # made with the secret (KuCoin V2 keys), a wrong secret is reported as a wrong passphrase
    # (shared/reference/exchanges.md, KuCoin headers and finding 8: ccxt#9369; confirmed by the
    # signing recipe, not by a live answer).
    Outcome.INVALID_PASSPHRASE: Explanation(
        "The exchange rejected the API passphrase. It is the passphrase you chose when you created the "
        "API key, not your login or trading password; some exchanges report a wrong secret the same way.",
        "Enter the passphrase you set when you created the key and copy the secret again; if you no "
        "longer know the passphrase, create a new key.",
    ),
    Outcome.NO_READ_PERMISSION: Explanation(
        "The key cannot read balances or orders.",
        "Enable read permission for the key on the exchange.",
    ),
    Outcome.NO_TRADE_PERMISSION: Explanation(
        "Trading permission is disabled for this key.",
        "Enable trading permission for the key, but keep withdrawal disabled.",
    ),
    Outcome.FUTURES_API_UNAVAILABLE: Explanation(
        "Futures were requested, but the exchange does not accept futures orders through its API at "
        "the moment, so no setting of the key can fix this.",
        "Connect this key for spot only, or trade futures on another exchange.",
    ),
    Outcome.FUTURES_NOT_ENABLED: Explanation(
        "Futures were requested, but this key or account has no futures access.",
        "Enable futures permission for the key (and open a futures account), or connect spot only.",
    ),
    Outcome.WITHDRAWAL_ENABLED: Explanation(
        "This key can withdraw or transfer funds out of your account. For your safety it was refused and "
        "its secret was destroyed.",
        "Create a new API key with withdrawal (and transfer) disabled and replace the credentials.",
    ),
    Outcome.IP_NOT_ALLOWED: Explanation(
        "The key's IP whitelist does not include the platform's IP addresses.",
        "Add {ips} to the key's IP whitelist on the exchange.",
    ),
    Outcome.CLOCK_SKEW: Explanation(
        "The exchange rejected the request time even after re-syncing with its clock.",
        "Run the test again; if it persists, contact support.",
    ),
    Outcome.ACCOUNT_RESTRICTED: Explanation(
        "The exchange account is restricted (frozen, verification (KYC) pending or a region restriction).",
        "Resolve the restriction with the exchange, then test again.",
    ),
    Outcome.RATE_LIMITED: Explanation(
        "The exchange is limiting requests right now; the key itself was not judged.",
        "Wait for the number of seconds in details.retry_after_s, then run the test again.",
    ),
    Outcome.EXCHANGE_UNAVAILABLE: Explanation(
        "The exchange API is down, in maintenance or did not answer in time; the key itself was not judged.",
        "Wait a few minutes and run the test again.",
    ),
    Outcome.EXCHANGE_ERROR: Explanation(
        "The exchange gave an answer the platform does not recognise.",
        "Contact support and quote the exchange code in details.",
    ),
}

# Outcomes with more than one cause, each with its own remedy: chosen by ``ExchangeFailure.reason``
# (and kept as ``details.reason``), recognised by an exchange module before anything is sent.
OUTCOME_VARIANTS: dict[tuple[Outcome, str], Explanation] = {
    (Outcome.INVALID_KEY, "legacy_key"): Explanation(
        "This is a legacy Coinbase API key (retired by Coinbase in February 2025) or a Coinbase Exchange "
        "(formerly Pro) key; Advanced Trade accepts only CDP API keys.",
        "Create a CDP API key for Advanced Trade on the Coinbase Developer Platform with View and Trade "
        "(not Transfer), allow {ips}, and paste its key name and private key.",
    ),
    (Outcome.INVALID_KEY, "unreadable_private_key"): Explanation(
        "The secret is not a private key this exchange issues: neither an EC (ES256) private key in PEM "
        "form nor an Ed25519 key.",
        "Copy the whole private key from the key file the exchange gave you, from -----BEGIN to -----END "
        "(or the Ed25519 secret), and replace the credentials.",
    ),
}

WARNINGS: dict[WarningCode, Explanation] = {
    WarningCode.IP_RESTRICTION_MISSING: Explanation(
        "The key has no IP whitelist, so anyone who obtains it can use it from anywhere.",
        "Recommended: restrict the key to {ips}.",
    ),
    WarningCode.IP_WHITELIST_MISMATCH: Explanation(
        "The key's IP whitelist lacks some of the platform's IP addresses; tests and trades from those "
        "addresses will fail.",
        "Add {ips} to the key's IP whitelist.",
    ),
    WarningCode.WITHDRAW_UNVERIFIABLE: Explanation(
        "The exchange does not report whether this key can withdraw, so the connection is not ready "
        "for trading until you confirm that withdrawal is disabled.",
        "Check on the exchange that withdrawal is disabled for this key, then confirm it on the "
        "connection (withdrawal_disabled_confirmed).",
    ),
    WarningCode.UNNEEDED_PERMISSION: Explanation(
        "The key has a permission this connection does not need.",
        "Disable permissions you do not use (for example futures on a spot-only connection).",
    ),
    WarningCode.KEY_EXPIRES_SOON: Explanation(
        "The exchange reports that this key expires soon.",
        "Create a new key before it expires and replace the credentials.",
    ),
}


# Other wordings of a request error's message, for cases the service tells apart. "{exchange}" is
# filled from the exchange catalogue, never from input.
MESSAGE_VARIANTS: dict[tuple[ErrorCode, str], str] = {
    (ErrorCode.NOT_FOUND, "route"): "No such route.",
    (ErrorCode.UNSUPPORTED_EXCHANGE, "planned"): "{exchange} is planned but not supported yet.",
    (ErrorCode.CONFLICT, "changed_during_test"): (
        "The connection changed (credentials, markets or name) or was deleted while the test ran."
    ),
}

STATUS_LABELS: dict[str, str] = {
    "untested": "Not tested",
    "connected": "Online",
    "failed": "Action needed",
    "refused": "Refused",
    "unavailable": "Exchange unavailable",
}


def _texts(language: Language) -> Any:
    """The catalogue of one language: this module for English, ``errors_hu`` for Hungarian."""
    if language == "hu":
        from backfuture import errors_hu

        return errors_hu
    return sys.modules[__name__]


def status_label(status: str, language: Language | None = None) -> str:
    labels: dict[str, str] = _texts(language or current_language()).STATUS_LABELS
    return labels[status]


def explain(
    code: Outcome | WarningCode,
    egress_ips: list[str] | tuple[str, ...],
    language: Language | None = None,
    reason: str | None = None,
) -> dict[str, str]:
    """Render an outcome or warning as ``{"code", "message", "remedy"}`` in the request's language
    (an outcome's ``reason`` picks its variant from ``OUTCOME_VARIANTS``, where there is one)."""
    texts = _texts(language or current_language())
    text: Explanation
    if isinstance(code, Outcome):
        text = texts.OUTCOME_VARIANTS.get((code, reason)) or texts.OUTCOMES[code]
    else:
        text = texts.WARNINGS[code]
    ips = texts.IP_JOINER.join(egress_ips) if egress_ips else texts.NO_IPS
    return {"code": code.value, "message": text.message, "remedy": text.remedy.format(ips=ips)}


def localize_problem(problem: dict[str, Any], egress_ips: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """A stored ``{"code", "message", "remedy", "details"?}`` rendered again in the request's language.

    Stored status documents keep the text of the language they were made in; the code decides.
    """
    code = str(problem.get("code"))
    known: Outcome | WarningCode | None = None
    if code in Outcome.__members__.values():
        known = Outcome(code)
    elif code in WarningCode.__members__.values():
        known = WarningCode(code)
    if known is None:
        return problem
    details = problem.get("details")
    reason = details.get("reason") if isinstance(details, dict) else None
    return {**problem, **explain(known, egress_ips, reason=reason if isinstance(reason, str) else None)}


IP_JOINER = " and "
NO_IPS = "the platform's IP addresses"


class ApiError(Exception):
    """A request error with its catalogue entry; ``backfuture.api`` renders it.

    ``details`` must only ever hold values the service chose (field names, seconds, lists of
    supported exchanges), never request or exchange data. ``variant`` picks another wording of the
    message from ``MESSAGE_VARIANTS`` (in every language); ``params`` fill its placeholders.
    """

    def __init__(
        self,
        code: ErrorCode,
        *,
        variant: str | None = None,
        params: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        status, _ = REQUEST_ERRORS[code]
        if variant is not None and (code, variant) not in MESSAGE_VARIANTS:
            raise KeyError(f"no message variant {variant!r} for {code.value}")
        self.code = code
        self.status = status
        self.variant = variant
        self.params = params or {}
        self.details = details
        self.headers = headers or {}
        super().__init__(f"{code.value}: {self.text('en').message}")

    def text(self, language: Language | None = None) -> Explanation:
        texts = _texts(language or current_language())
        entry = texts.REQUEST_ERRORS[self.code]
        # English entries carry the HTTP status too; translations only the text.
        explanation: Explanation = entry[1] if isinstance(entry, tuple) else entry
        message = explanation.message
        if self.variant is not None:
            message = texts.MESSAGE_VARIANTS[(self.code, self.variant)].format(**self.params)
        return Explanation(message, explanation.remedy)

    @property
    def message(self) -> str:
        return self.text().message

    @property
    def remedy(self) -> str:
        return self.text().remedy

    def body(self) -> dict[str, Any]:
        text = self.text()
        error: dict[str, Any] = {"code": self.code.value, "message": text.message, "remedy": text.remedy}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class StorageUnavailable(Exception):
    """An AWS dependency failed (throttled, down); the operation left nothing half-written."""
