"""What a probe finds: checks, permissions, account facts and at most one failure to report.

``backfuture.connection_test`` turns a :class:`ProbeReport` into the contract's status document;
nothing here decides a status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from backfuture.errors import Outcome, WarningCode


class CheckValue(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # an earlier check failed, so this one could not be judged
    UNKNOWN = "unknown"  # the exchange does not tell
    NOT_REQUESTED = "not_requested"
    MISSING = "missing"  # ip_whitelist only: the key has no IP restriction at all


CHECK_NAMES = (
    "credentials",
    "read",
    "trade",
    "withdraw_disabled",
    "futures",
    "ip_whitelist",
    "balance_access",
)

_EXCHANGE_CODE = re.compile(r"[A-Za-z0-9_.-]{1,24}")


class ExchangeFailure(Exception):
    """An exchange answer classified into a contract outcome.

    ``exchange_code`` keeps the exchange's own code (for support, in ``details``); the exchange's
    message text is never kept, because exchanges sometimes echo request material in it.
    ``check`` names the check that failed, so the report can mark it and skip the ones after it.
    """

    def __init__(
        self,
        outcome: Outcome,
        *,
        check: str = "credentials",
        exchange_code: str | None = None,
        http_status: int | None = None,
        retry_after_s: int | None = None,
        reason: str | None = None,
    ) -> None:
        self.outcome = outcome
        self.check = check
        # The code reaches the client (details.exchange_code): only a short token of safe
        # characters is kept, whatever the exchange put in that field.
        self.exchange_code = (
            exchange_code if exchange_code and _EXCHANGE_CODE.fullmatch(exchange_code) else None
        )
        self.http_status = http_status
        self.retry_after_s = retry_after_s
        # Why, where one outcome has several causes with their own remedies (errors.OUTCOME_VARIANTS).
        self.reason = reason
        super().__init__(
            f"{outcome.value} (check={check}, exchange_code={self.exchange_code}, http={http_status})"
        )


@dataclass(slots=True)
class ProbeReport:
    """Facts a probe found. Unset checks are filled in by ``connection_test``."""

    checks: dict[str, CheckValue] = field(default_factory=dict)
    permissions: dict[str, bool | None] = field(
        default_factory=lambda: {"read": None, "trade": None, "withdraw": None, "futures": None}
    )
    account: dict[str, Any] = field(default_factory=dict)
    # The key's IP whitelist as the exchange reports it: None = the exchange does not tell;
    # [] = no restriction. Entries may be masked ("203.**.154"); connection_test compares what it can.
    ip_whitelist: list[str] | None = None
    failure: ExchangeFailure | None = None
    warnings: list[WarningCode] = field(default_factory=list)
    clock_offset_ms: int | None = None
    key_expires_at: datetime | None = None
    # Permission names the key reports that the platform does not know: withdrawal cannot be ruled out.
    unknown_permissions: list[str] = field(default_factory=list)
    # The futures right cannot be switched off without the trade right (engine.spec.Facts).
    futures_with_trade: bool = False
    # Error answers the exchange gave, by endpoint (the call's path), re-sync pass included: what the
    # platform's error budget counts (engine.spec.ErrorBudget).
    error_answers: dict[str, int] = field(default_factory=dict)


# When concurrent calls of one probe fail differently, the most fundamental cause is the one the
# user must fix first: a wrong key makes every other answer meaningless, and no key change can fix
# an exchange that accepts no futures orders by API.
FAILURE_PRECEDENCE = (
    Outcome.INVALID_KEY,
    Outcome.INVALID_PASSPHRASE,
    Outcome.IP_NOT_ALLOWED,
    Outcome.CLOCK_SKEW,
    Outcome.ACCOUNT_RESTRICTED,
    Outcome.RATE_LIMITED,
    Outcome.EXCHANGE_UNAVAILABLE,
    Outcome.NO_READ_PERMISSION,
    Outcome.NO_TRADE_PERMISSION,
    Outcome.FUTURES_API_UNAVAILABLE,
    Outcome.FUTURES_NOT_ENABLED,
    Outcome.EXCHANGE_ERROR,
)
_RANK = {outcome: i for i, outcome in enumerate(FAILURE_PRECEDENCE)}


def pick_failure(*failures: ExchangeFailure | None) -> ExchangeFailure | None:
    """The failure to report among several (None entries are ignored; the first wins a tie)."""
    present = [f for f in failures if f is not None]
    if not present:
        return None
    return min(present, key=lambda f: _RANK.get(f.outcome, len(_RANK)))
