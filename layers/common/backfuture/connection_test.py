"""Runs an exchange's probe and turns its facts into the contract's status document.

This is the one place that decides a status, so every exchange's outcomes mean the same thing:
a key that can withdraw is refused whatever else is true; a failure is reported with its remedy;
otherwise the connection is Online, with warnings for what is merely unwise.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from backfuture.clock import iso_now
from backfuture.engine.http import ExchangeHttp, new_http_client
from backfuture.engine.probe import probe
from backfuture.engine.report import CHECK_NAMES, CheckValue, ExchangeFailure, ProbeReport
from backfuture.errors import Outcome, WarningCode, explain, status_label
from backfuture.exchanges import Credentials, Market, exchange
from backfuture.models import Status
from backfuture.observability import tracer

# Exchange calls as X-Ray subsegments (host only, never the query): patched here, not at cold start,
# so functions that never call an exchange do not import httpx (see backfuture.observability).
tracer.patch(["httpx"])

# The whole test, a clock re-sync and retry included, must end well inside the Lambda timeout
# (20 s) and API Gateway's 30 s: per-call timeouts alone cannot bound a slow-drip answer.
TEST_BUDGET_S = 12.0
KEY_EXPIRY_WARNING = timedelta(days=14)

_UNAVAILABLE = {Outcome.RATE_LIMITED, Outcome.EXCHANGE_UNAVAILABLE}
_PERMISSION_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True)
class TestResult:
    status: Status
    trading_ready: bool | None  # None: unchanged (the exchange was not reachable, the key not judged)
    document: dict[str, Any]  # the status document without connection_id
    key_expires_at: str | None = None  # where the exchange reports the key's expiry
    # The exchange's error answers by endpoint (ProbeReport.error_answers): the service counts them
    # against the exchange's error budget.
    error_answers: Mapping[str, int] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.status is Status.REFUSED


def run_connection_test(
    exchange_id: str, credentials: Credentials, markets: frozenset[Market], egress_ips: list[str]
) -> TestResult:
    started = time.monotonic()
    report = _runner().run(_probe_within_budget(exchange_id, credentials, markets))
    duration_ms = int((time.monotonic() - started) * 1000)
    return diagnose(report, markets, egress_ips, duration_ms)


# --------------------------------------------------------------------------------------------
# Running the probe
# --------------------------------------------------------------------------------------------

_local = threading.local()


class _LoopState:
    """One event loop and HTTP client per thread, kept between invocations of a warm container,
    so keep-alive connections (and their TLS sessions) to the exchanges are reused."""

    def __init__(self) -> None:
        self.runner = asyncio.Runner()
        self.client: httpx.AsyncClient | None = None

    def run(self, coro: Any) -> ProbeReport:
        result: ProbeReport = self.runner.run(coro)
        return result


def _runner() -> _LoopState:
    state: _LoopState | None = getattr(_local, "state", None)
    if state is None:
        state = _LoopState()
        _local.state = state
    return state


async def _probe_within_budget(
    exchange_id: str, credentials: Credentials, markets: frozenset[Market]
) -> ProbeReport:
    state = _runner()
    if state.client is None:
        state.client = new_http_client()
    spec = exchange(exchange_id)
    http = ExchangeHttp(state.client, spec.allowed_endpoints())
    errors: Counter[str] = Counter()  # kept when the budget cuts the probe short
    try:
        async with asyncio.timeout(TEST_BUDGET_S):
            return await probe(spec, http, credentials, markets, errors)
    except TimeoutError:
        return ProbeReport(failure=ExchangeFailure(Outcome.EXCHANGE_UNAVAILABLE), error_answers=dict(errors))


# --------------------------------------------------------------------------------------------
# Deciding
# --------------------------------------------------------------------------------------------


def diagnose(
    report: ProbeReport, markets: frozenset[Market], egress_ips: list[str], duration_ms: int
) -> TestResult:
    checks: dict[str, CheckValue] = dict(report.checks)
    warnings: list[WarningCode] = list(report.warnings)
    failure = report.failure
    error: dict[str, Any] | None = None

    if report.permissions.get("withdraw") is True:
        status = Status.REFUSED
        checks["withdraw_disabled"] = CheckValue.FAILED
        error = explain(Outcome.WITHDRAWAL_ENABLED, egress_ips)
    elif failure is not None:
        status = Status.UNAVAILABLE if failure.outcome in _UNAVAILABLE else Status.FAILED
        if status is Status.FAILED:
            checks[failure.check] = CheckValue.FAILED
        error = dict(explain(failure.outcome, egress_ips, reason=failure.reason))
        details = _failure_details(failure, egress_ips)
        if details:
            error["details"] = details
    else:
        status = Status.CONNECTED

    checks["ip_whitelist"] = _whitelist_check(report, failure, egress_ips, warnings)
    judged = status is Status.CONNECTED
    if Market.FUTURES not in markets:
        checks["futures"] = CheckValue.NOT_REQUESTED
        # Unless it comes with the trade right: the remedy would ask for the impossible.
        if report.permissions.get("futures") is True and not report.futures_with_trade:
            warnings.append(WarningCode.UNNEEDED_PERMISSION)
    # Permission names come from the exchange: only short plain tokens reach the user, never text.
    unknown_permissions = sorted({p for p in report.unknown_permissions if _PERMISSION_NAME.fullmatch(p)})[
        :20
    ]
    if judged and unknown_permissions and checks.get("withdraw_disabled") is CheckValue.OK:
        # A permission the platform cannot name might be a withdrawal right: fail closed.
        checks["withdraw_disabled"] = CheckValue.UNKNOWN
    for name in CHECK_NAMES:
        checks.setdefault(name, CheckValue.UNKNOWN if judged else CheckValue.SKIPPED)
    if judged and (report.permissions.get("withdraw") is None or unknown_permissions):
        warnings.append(WarningCode.WITHDRAW_UNVERIFIABLE)
    if not judged:
        # Withdraw rights are judged once the key otherwise works; until then the warning is noise
        # next to the problem the user must fix first.
        warnings = [w for w in warnings if w is not WarningCode.WITHDRAW_UNVERIFIABLE]
    if report.key_expires_at is not None and report.key_expires_at - datetime.now(UTC) < KEY_EXPIRY_WARNING:
        warnings.append(WarningCode.KEY_EXPIRES_SOON)

    document: dict[str, Any] = {
        "status": status.value,
        "status_label": status_label(status),
        "checked_at": iso_now(),
        "duration_ms": duration_ms,
        "error": error,
        "warnings": [
            _with_details(explain(w, egress_ips), _warning_details(w, unknown_permissions))
            for w in dict.fromkeys(warnings)
        ],
        "checks": {name: checks[name].value for name in CHECK_NAMES},
        "permissions": dict(report.permissions),
        "account": _capped(report.account),
        "clock_offset_ms": report.clock_offset_ms,
    }
    # Trading readiness fails closed (contract, "Trading readiness"): Online alone is not enough
    # unless the key is known not to withdraw; the service adds the user's confirmation.
    trading_ready: bool | None
    if status is Status.CONNECTED:
        trading_ready = checks["withdraw_disabled"] is CheckValue.OK
    else:
        trading_ready = None if status is Status.UNAVAILABLE else False
    expires = report.key_expires_at
    return TestResult(
        status,
        trading_ready,
        document,
        key_expires_at=expires.astimezone(UTC).isoformat().replace("+00:00", "Z") if expires else None,
        error_answers=dict(report.error_answers),
    )


def _warning_details(code: WarningCode, unknown_permissions: list[str]) -> dict[str, Any]:
    if code is WarningCode.WITHDRAW_UNVERIFIABLE and unknown_permissions:
        return {"unknown_permissions": unknown_permissions}
    return {}


def _with_details(problem: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    return {**problem, "details": details} if details else problem


def refusal_without_secret(egress_ips: list[str]) -> TestResult:
    """The result when a connection's current secret was already destroyed (see ConnectionService.test)."""
    report = ProbeReport()
    report.permissions["withdraw"] = True
    return diagnose(report, frozenset(), egress_ips, duration_ms=0)


def platform_budget_spent(retry_after_s: int, egress_ips: list[str]) -> TestResult:
    """The result when the platform's request or error budget for this exchange is spent
    (backfuture.quotas): the exchange was not called, and the user sees what an exchange's own rate
    limiting looks like."""
    report = ProbeReport(failure=ExchangeFailure(Outcome.RATE_LIMITED, retry_after_s=retry_after_s))
    return diagnose(report, frozenset(), egress_ips, duration_ms=0)


# Exchange-supplied strings kept in the status document (sub-account names, account types) are
# capped: an exchange answer must not be able to grow an item towards DynamoDB's 400 KB.
MAX_EXCHANGE_STRING = 64
MAX_ACCOUNT_FIELDS = 16


def _capped(account: dict[str, Any]) -> dict[str, Any]:
    capped: dict[str, Any] = {}
    for key, value in list(account.items())[:MAX_ACCOUNT_FIELDS]:
        if isinstance(value, str):
            value = value[:MAX_EXCHANGE_STRING]
        elif not isinstance(value, (bool, int, float)) and value is not None:
            continue  # only flat facts belong here
        capped[str(key)[:MAX_EXCHANGE_STRING]] = value
    return capped


def _failure_details(failure: ExchangeFailure, egress_ips: list[str]) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if failure.exchange_code is not None:
        details["exchange_code"] = failure.exchange_code
    if failure.reason is not None:
        details["reason"] = failure.reason
    if failure.outcome is Outcome.RATE_LIMITED:
        details["retry_after_s"] = failure.retry_after_s if failure.retry_after_s is not None else 60
    if failure.outcome is Outcome.IP_NOT_ALLOWED:
        details["egress_ips"] = list(egress_ips)
    return details


def _whitelist_check(
    report: ProbeReport, failure: ExchangeFailure | None, egress_ips: list[str], warnings: list[WarningCode]
) -> CheckValue:
    if failure is not None and failure.outcome is Outcome.IP_NOT_ALLOWED:
        return CheckValue.FAILED
    whitelist = report.ip_whitelist
    if whitelist is None:
        return CheckValue.UNKNOWN if failure is None else CheckValue.SKIPPED
    if not whitelist:
        warnings.append(WarningCode.IP_RESTRICTION_MISSING)
        return CheckValue.MISSING
    if all(any(whitelist_entry_matches(entry, ip) for entry in whitelist) for ip in egress_ips):
        return CheckValue.OK
    warnings.append(WarningCode.IP_WHITELIST_MISMATCH)
    return CheckValue.FAILED


def whitelist_entry_matches(entry: str, ip: str) -> bool:
    """Does a whitelist entry as an exchange reports it cover ``ip``?

    Entries may be plain addresses, CIDR ranges, or masked by the exchange ("203.**.154": some exchanges
    hide the middle of addresses). A masked entry is compared on what it shows.
    """
    entry = entry.strip()
    if "*" in entry:
        pattern = re.escape(entry).replace(r"\*", "*")
        pattern = re.sub(r"\*+", r"[0-9.:a-fA-F]*", pattern)
        return re.fullmatch(pattern, ip) is not None
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
