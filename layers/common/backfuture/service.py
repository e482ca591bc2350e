"""What each route does, in the order that keeps the stores consistent when a step fails.

Ordering rules (AWS calls can fail between any two steps):

* add / replace credentials: create the new secret first, then commit the table transaction; if the
  transaction fails, destroy the new secret. No item ever points at a secret that was not stored.
  A transaction whose outcome is unknown (a timeout or a 5xx, which can come after the commit) is
  re-read first: the secret is destroyed only when the item does not point at it, and kept for the
  orphan sweeper (functions/sweep_secrets) when even the re-read fails.
  A replaced secret that cannot be destroyed is remembered on the connection and destroyed by the
  next replacement or the delete.
* delete: destroy the secrets first, then remove the item and its locks (optimistic on the item's
  version, so a racing replacement cannot slip a secret past it). A retry of a half-done delete
  finishes it (destroying an already destroyed secret counts as done).
* refuse: write the refusal first, so trading stops on this key even if what follows fails, then
  destroy the secret whatever the write did. A refused connection's secret is destroyed again on
  every later test, which finishes a destruction that failed.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from backfuture.audit import SYSTEM as SYSTEM_ACTOR
from backfuture.audit import USER, Actor, event_items, public_event
from backfuture.clock import iso_now, now_ms
from backfuture.config import settings
from backfuture.errors import ApiError, ErrorCode, StorageUnavailable, localize_problem, status_label
from backfuture.exchanges import Credentials, Market, info, is_supported, planned, supported_ids
from backfuture.exchanges import exchange as exchange_spec
from backfuture.models import (
    AddConnectionRequest,
    AuditEvent,
    ConnectionResource,
    EventPage,
    Problem,
    ReplaceCredentialsRequest,
    Status,
    StatusDocument,
    UpdateConnectionRequest,
)
from backfuture.observability import logger, metrics, tracer
from backfuture.quotas import PLATFORM_ERRORS, endpoints_tested, error_budget, error_counters, platform_budget
from backfuture.status_events import DELETED, StatusChange, publish
from backfuture.storage.repository import (
    Ceiling,
    ConnectionRecord,
    ConnectionRepository,
    Counter,
    markets_change_resets_status,
    quota_exceeded,
    user_pk,
)
from backfuture.storage.secrets import SecretMissing, SecretVault

Events = list[tuple[str, dict[str, Any]]]


if TYPE_CHECKING:
    from backfuture.connection_test import TestResult


class ConnectionService:
    def __init__(
        self, repository: ConnectionRepository | None = None, vault: SecretVault | None = None
    ) -> None:
        self.repository = repository or ConnectionRepository()
        self.vault = vault or SecretVault()

    # -- add_connection ------------------------------------------------------------------------

    @tracer.capture_method(capture_response=False, capture_error=False)
    def add(self, owner: str, request: AddConnectionRequest, actor: Actor = USER) -> ConnectionResource:
        _check_exchange(request.exchange)
        _check_markets(request.exchange, request.markets)
        credentials = _credentials(request.exchange, request.api_key, request.api_secret, request.passphrase)
        fingerprint = self.vault.fingerprint(credentials.api_key)
        connection_id = new_connection_id()
        now = iso_now()
        secret_arn = self.vault.store(
            connection_id=connection_id,
            credentials_version=1,
            owner=owner,
            exchange=request.exchange,
            credentials=credentials,
        )
        record = ConnectionRecord(
            owner=owner,
            id=connection_id,
            name=request.name,
            exchange=request.exchange,
            markets=[m.value for m in request.markets],
            api_key_hint=key_hint(credentials.api_key),
            key_fingerprint=fingerprint,
            secret_arn=secret_arn,
            credentials_version=1,
            version=1,
            status=Status.UNTESTED.value,
            trading_ready=False,
            created_at=now,
            updated_at=now,
        )
        created: Events = [("created", {"name": request.name, "markets": record.markets})]
        try:
            self.repository.create(record, now_ms() // 1000, _items(record, actor, created, now))
        except BaseException as error:
            self._clean_up_after_failed_write(error, owner, connection_id, secret_arn)
        metrics.add_metric(name="ConnectionsAdded", unit="Count", value=1)
        logger.info("connection added", extra={"connection_id": connection_id, "exchange": request.exchange})
        return to_resource(record)

    def replace_credentials(
        self, owner: str, connection_id: str, request: ReplaceCredentialsRequest, actor: Actor = USER
    ) -> ConnectionResource:
        current = self.repository.get(owner, connection_id)
        credentials = _credentials(current.exchange, request.api_key, request.api_secret, request.passphrase)
        fingerprint = self.vault.fingerprint(credentials.api_key)
        # Secrets an earlier replacement failed to destroy go first; the transaction below then
        # forgets them.
        for retired in current.retired_secret_arns:
            self.vault.destroy(retired)
        new_arn = self.vault.store(
            connection_id=connection_id,
            credentials_version=current.credentials_version + 1,
            owner=owner,
            exchange=current.exchange,
            credentials=credentials,
        )
        old_arn = current.secret_arn
        before = _state(current)
        hint = key_hint(credentials.api_key)
        events: Events = [("credentials_replaced", {"api_key_hint": hint})]
        if current.status != Status.UNTESTED:
            events.append(("status_changed", {"from": current.status, "to": Status.UNTESTED.value}))
        try:
            record = self.repository.replace_credentials(
                current,
                secret_arn=new_arn,
                fingerprint=fingerprint,
                api_key_hint=hint,
                events=_items(current, actor, events, iso_now()),
            )
        except BaseException as error:
            self._clean_up_after_failed_write(error, owner, connection_id, new_arn)
            record = self.repository.get(owner, connection_id)  # committed after all
        _announce(record, before)
        if old_arn is not None:
            self._destroy_retired(old_arn, record)
        metrics.add_metric(name="CredentialsReplaced", unit="Count", value=1)
        logger.info("credentials replaced", extra={"connection_id": connection_id})
        return to_resource(record)

    @tracer.capture_method(capture_response=False, capture_error=False)
    def update(
        self, owner: str, connection_id: str, request: UpdateConnectionRequest, actor: Actor = USER
    ) -> ConnectionResource:
        current = self.repository.get(owner, connection_id)
        if request.markets is not None:
            _check_markets(current.exchange, request.markets)
        markets = [m.value for m in request.markets] if request.markets is not None else None
        now = iso_now()
        before = _state(current)
        events: Events = []
        if request.name is not None and request.name != current.name:
            events.append(("renamed", {"from": current.name, "to": request.name}))
        markets_changed = markets is not None and markets != current.markets
        if markets_changed:
            events.append(("markets_changed", {"from": current.markets, "to": markets}))
            if markets_change_resets_status(current.status) and current.status != Status.UNTESTED:
                events.append(("status_changed", {"from": current.status, "to": Status.UNTESTED.value}))
        confirm = request.withdrawal_disabled_confirmed
        confirming = confirm is True and current.withdrawal_disabled_confirmed_at is None
        unconfirming = confirm is False and current.withdrawal_disabled_confirmed_at is not None
        ready: bool | None = None
        if confirming or unconfirming:
            ready = trading_ready(current.status, _withdraw_check(current), confirmed=confirming)
            events.append(("withdrawal_confirmed", {"confirmed": confirming}))
        record = self.repository.update_details(
            current,
            name=request.name,
            markets=markets,
            confirmed_at=now if confirming else None,
            clear_confirmation=unconfirming,
            trading_ready=ready,
            events=_items(current, actor, events, now),
        )
        _announce(record, before)
        return to_resource(record)

    @tracer.capture_method(capture_response=False, capture_error=False)
    def delete(self, owner: str, connection_id: str, actor: Actor = USER) -> None:
        # A rotation or rename landing between the read and the delete makes the delete conflict;
        # reading again picks up the new secret and locks, so none is left behind.
        for attempt in range(3):
            current = self.repository.get(owner, connection_id)
            for arn in [current.secret_arn, *current.retired_secret_arns]:
                if arn is not None:
                    self.vault.destroy(arn)
            deleted: Events = [("deleted", {"name": current.name})]
            try:
                self.repository.delete(current, _items(current, actor, deleted, iso_now()))
                break
            except ApiError as error:
                if error.code is not ErrorCode.CONFLICT or attempt == 2:
                    raise
        _announce_deleted(current)
        metrics.add_metric(name="ConnectionsDeleted", unit="Count", value=1)
        logger.info("connection deleted", extra={"connection_id": connection_id})

    # -- test_connection -----------------------------------------------------------------------

    @tracer.capture_method(capture_response=False, capture_error=False)
    def test(
        self, owner: str, connection_id: str, egress_ips: list[str], actor: Actor = USER
    ) -> StatusDocument:
        claimed_at_ms = now_ms()
        claim = self.repository.claim_for_test(owner, connection_id, now_ms=claimed_at_ms)
        if claim.record is None:
            raise ApiError(
                ErrorCode.TEST_COOLDOWN,
                details={"retry_after_s": claim.retry_after_s},
                headers={"Retry-After": str(claim.retry_after_s)},
            )
        try:
            document, _ = self._test_claimed(claim.record, egress_ips, actor)
            return document
        except StorageUnavailable:
            # The client is told to retry in seconds (503, Retry-After); the cooldown this claim
            # started would refuse that retry, and a half-done refusal is only finished by one.
            self.repository.release_test_claim(claim.record, claimed_at_ms)
            raise
        except ApiError as error:
            if error.code is ErrorCode.QUOTA_EXCEEDED:
                # Nothing was tested: the cooldown must not add to the quota's wait.
                self.repository.release_test_claim(claim.record, claimed_at_ms)
            raise

    def revalidate(self, record: ConnectionRecord, egress_ips: list[str]) -> bool | None:
        """Re-test a connection for the scheduled re-validation (actor ``system``).

        No cooldown claim: the schedule picks connections whose last test is old. The result is
        stored only if the connection did not change meanwhile (a user's test or edit wins).
        Returns whether the status or trading readiness changed; None when nothing was stored.
        """
        try:
            _, changed = self._test_claimed(record, egress_ips, SYSTEM_ACTOR)
        except ApiError as error:
            if error.code is ErrorCode.CONFLICT:
                return None
            raise
        return changed

    def _test_claimed(
        self, record: ConnectionRecord, egress_ips: list[str], actor: Actor
    ) -> tuple[StatusDocument, bool]:
        """Test, store the result with its audit events, publish a change; (document, changed)."""
        # Imported here: only test_connection pays for the HTTP and exchange code at cold start.
        from backfuture.connection_test import (
            platform_budget_spent,
            refusal_without_secret,
            run_connection_test,
        )

        connection_id = record.id
        if record.status == Status.REFUSED or record.secret_arn is None:
            # Refused earlier: only new credentials can be tested. Destroying again is a no-op, or
            # finishes a destruction that failed at the time.
            if record.secret_arn is not None:
                self.vault.destroy(record.secret_arn)
            return status_document(record), False
        budget_wait_s = self._spend_quotas(
            record.owner, record.exchange, record.markets, for_user=actor is not SYSTEM_ACTOR
        )
        credentials: Credentials | None = None
        if budget_wait_s is not None:
            # All users together have used what the platform may send this exchange right now.
            metrics.add_metric(name="PlatformBudgetSpent", unit="Count", value=1)
            if actor is SYSTEM_ACTOR:
                return status_document(record), False  # re-validation waits for the next run
            result = platform_budget_spent(budget_wait_s, list(egress_ips))
        else:
            try:
                credentials = self.vault.read(record.secret_arn)
            except SecretMissing:
                # The current secret is gone while its connection stays: a refusal whose status
                # write failed, or a delete under way. Either way only new credentials can help.
                result = refusal_without_secret(list(egress_ips))
        if credentials is not None:
            result = run_connection_test(
                record.exchange, credentials, frozenset(Market(m) for m in record.markets), egress_ips
            )
            del credentials
            if result.error_answers:
                self._count_errors(record.exchange, result.error_answers)
        if result.trading_ready is None:  # the key was not judged: as before the test
            ready = record.trading_ready
        else:
            ready = result.trading_ready or (
                result.status is Status.CONNECTED and record.withdrawal_disabled_confirmed_at is not None
            )
        checked_at = result.document["checked_at"]
        error_code = (result.document.get("error") or {}).get("code")
        tested = {
            "status": result.status.value,
            "code": error_code,
            "warnings": [w["code"] for w in result.document.get("warnings", [])],
        }
        events: Events = [("tested", tested)]
        if result.status.value != record.status:
            events.append(("status_changed", {"from": record.status, "to": result.status.value}))
        if result.refused:
            events.append(("refused", {"code": error_code}))
        before = _state(record)
        try:
            stored = self._record(record, result, ready, _items(record, actor, events, checked_at))
        finally:
            if result.refused:
                # Whatever happened to the status write, a key that can withdraw is destroyed now.
                self.vault.destroy(record.secret_arn)
                metrics.add_metric(name="KeysRefused", unit="Count", value=1)
        outcome = (result.document.get("error") or {}).get("code", "connected")
        # Its own metric blob: a re-validation run records many tests of different outcomes.
        with single_metric(
            name="ConnectionTests",
            unit=MetricUnit.Count,
            value=1,
            namespace=metrics.namespace,
            default_dimensions={"service": "connections", "outcome": outcome},
        ):
            pass
        logger.info(
            "connection tested",
            extra={
                "connection_id": connection_id,
                "outcome": outcome,
                "duration_ms": result.document["duration_ms"],
            },
        )
        if not stored:
            raise ApiError(ErrorCode.CONFLICT, variant="changed_during_test")
        changed = (result.status.value, ready) != before
        if changed:
            publish(
                StatusChange(
                    user_id=record.owner,
                    connection_id=connection_id,
                    exchange=record.exchange,
                    previous_status=record.status,
                    status=result.status.value,
                    trading_ready=ready,
                    code=error_code,
                    checked_at=checked_at,
                )
            )
        return StatusDocument(connection_id=connection_id, **localize_document(result.document)), changed

    # -- get_status ----------------------------------------------------------------------------

    @tracer.capture_method(capture_response=False, capture_error=False)
    def get(self, owner: str, connection_id: str) -> ConnectionResource:
        return to_resource(self.repository.get(owner, connection_id))

    @tracer.capture_method(capture_response=False, capture_error=False)
    def list(self, owner: str) -> list[ConnectionResource]:
        return [to_resource(r) for r in self.repository.list_connections(owner)]

    @tracer.capture_method(capture_response=False, capture_error=False)
    def status(self, owner: str, connection_id: str) -> StatusDocument:
        return status_document(self.repository.get(owner, connection_id))

    @tracer.capture_method(capture_response=False, capture_error=False)
    def events(
        self, owner: str, *, connection_id: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> EventPage:
        """A page of the audit trail, newest first. Another user's connection has no trail: 404."""
        after = decode_cursor(cursor) if cursor else None
        items, last = self.repository.list_events(
            owner, connection_id=connection_id, limit=limit, after=after
        )
        if connection_id is not None and not items and after is None:
            self.repository.get(owner, connection_id)  # 404 unless it is the caller's (and has no trail yet)
        return EventPage(
            events=[AuditEvent(**public_event(item)) for item in items],
            next=encode_cursor(last) if last else None,
        )

    # -- helpers -------------------------------------------------------------------------------

    def _record(
        self,
        record: ConnectionRecord,
        result: TestResult,
        ready: bool,
        events: Sequence[dict[str, Any]],
    ) -> bool:
        """Store a result with its audit events; a passing or refusing test locks the key to this
        connection.

        A passing test of a key another connection holds stores nothing (409
        key_already_connected, contract "One key, one connection"). A refusal is stored all the
        same, without the lock: trading must stop on this connection whoever holds the key.
        """
        fields: dict[str, Any] = {
            "status": result.status.value,
            "trading_ready": ready,
            "status_doc": json.dumps(result.document),
            "checked_at": result.document["checked_at"],
            "key_expires_at": result.key_expires_at,
            "events": events,
        }
        if result.status not in (Status.CONNECTED, Status.REFUSED):
            return self.repository.record_result(record, **fields)
        try:
            return self.repository.record_result(record, lock_key=True, **fields)
        except ApiError as error:
            if error.code is not ErrorCode.KEY_ALREADY_CONNECTED or result.status is Status.CONNECTED:
                raise
            return self.repository.record_result(record, **fields)

    def _spend_quotas(
        self, owner: str, exchange: str, markets: Sequence[str], *, for_user: bool = True
    ) -> int | None:
        """Take one test from the user's hourly quota (``for_user``: not for re-validation) and its
        share of the exchange's platform budget, in one transaction (all or none), which also
        requires the error counters of the endpoints the test may call to be under the exchange's
        error budget. Raises QUOTA_EXCEEDED when the user's quota is used up; returns the seconds to
        wait when the platform's request or error budget is spent, else None."""
        now_s = now_ms() // 1000
        limit = settings().tests_per_user_per_hour
        hour = now_s // 3600
        hour_end = (hour + 1) * 3600
        budget = platform_budget(exchange)
        window = now_s // budget.window_s
        window_end = (window + 1) * budget.window_s
        platform = Counter(
            "PLATFORM#budget",
            f"{exchange}#{budget.window_s}#{window}",
            budget.units_per_test,
            int(budget.max_units * settings().platform_budget_factor),
            window_end,
        )
        user = Counter(user_pk(owner), f"QUOTA#tests#{hour}", 1, limit, hour_end)
        counters = [platform, user] if for_user else [platform]
        tested = endpoints_tested(exchange, (Market(m) for m in markets))
        errors = error_counters(exchange, dict.fromkeys(tested, 0), now_s)
        allowed = error_budget(exchange)
        max_errors = int(allowed.max_errors * settings().platform_budget_factor) if allowed else 0
        spent = self.repository.take_together(
            counters, [Ceiling(PLATFORM_ERRORS, e.sk, max_errors) for e in errors]
        )
        if for_user and 1 in spent:
            metrics.add_metric(name="QuotaExceeded", unit="Count", value=1)
            raise quota_exceeded("TESTS_PER_USER_PER_HOUR", limit, hour_end - now_s)
        if not spent:
            return None
        if max(spent) >= len(counters):
            # Enough error answers this window: more could get the platform's IPs banned.
            metrics.add_metric(name="ErrorBudgetSpent", unit="Count", value=1)
        ends = [window_end if i < len(counters) else errors[i - len(counters)].window_end_s for i in spent]
        return max(1, max(ends) - now_s)

    def _count_errors(self, exchange: str, error_answers: Mapping[str, int]) -> None:
        """Add a test's error answers to the exchange's error budget (one write per endpoint that
        answered errors; exchanges without an error budget are not counted). A failed write loses
        the count, not the test's result."""
        for counter in error_counters(exchange, error_answers, now_ms() // 1000):
            try:
                self.repository.add_to_counter(
                    PLATFORM_ERRORS, counter.sk, counter.errors, counter.window_end_s
                )
            except StorageUnavailable:
                metrics.add_metric(name="ErrorAnswersNotCounted", unit="Count", value=counter.errors)
                logger.warning("error answers not counted", extra={"exchange": exchange})

    def _clean_up_after_failed_write(
        self, error: BaseException, owner: str, connection_id: str, arn: str
    ) -> None:
        """After the transaction that should reference ``arn`` failed: destroy it unless it is referenced.

        Returns (instead of re-raising) only when the re-read shows the write committed after all.
        A refused condition (ApiError) is a certain no; anything else may have committed.
        """
        if isinstance(error, StorageUnavailable):
            try:
                current = self.repository.get(owner, connection_id)
            except ApiError:
                current = None  # not found: the write did not happen
            except StorageUnavailable:
                # Unknown either way: the secret stays; the sweeper destroys it in an hour if no
                # item points at it.
                metrics.add_metric(name="OrphanSecretSuspected", unit="Count", value=1)
                logger.warning("write outcome unknown; secret left for the sweeper")
                raise error from None
            if current is not None and current.secret_arn == arn:
                logger.info("write committed despite the error", extra={"connection_id": connection_id})
                return
        try:
            self.vault.destroy(arn)
        except StorageUnavailable:
            metrics.add_metric(name="OrphanSecret", unit="Count", value=1)
            logger.error("compensation failed: secret left without its connection")
        raise error

    def _destroy_retired(self, arn: str, record: ConnectionRecord) -> None:
        """Destroy a replaced secret; if that fails, remember it on the connection.

        The new key is already in place, so the request succeeds either way. A remembered secret is
        destroyed by the next credential replacement or by the connection's deletion.
        """
        try:
            self.vault.destroy(arn)
        except StorageUnavailable:
            metrics.add_metric(name="RetiredSecretNotDestroyed", unit="Count", value=1)
            try:
                self.repository.remember_retired_secret(record, arn)
            except StorageUnavailable:
                # Two failures in a row: the secret is tagged with its connection for the alarm's runbook.
                logger.error(
                    "retired secret neither destroyed nor remembered", extra={"connection_id": record.id}
                )


def _check_exchange(exchange: str) -> None:
    if is_supported(exchange):
        return
    supported = list(supported_ids())
    upcoming = planned()
    if exchange in upcoming:
        raise ApiError(
            ErrorCode.UNSUPPORTED_EXCHANGE,
            variant="planned",
            params={"exchange": upcoming[exchange].name},
            details={"supported": supported, "planned": True},
        )
    raise ApiError(
        ErrorCode.UNSUPPORTED_EXCHANGE,
        details={"supported": supported, "planned": False},
    )


def _check_markets(exchange: str, markets: list[Market]) -> None:
    offered = info(exchange).markets
    if any(m not in offered for m in markets):
        raise _invalid_field("markets", f"{info(exchange).name} offers {', '.join(m.value for m in offered)}")


def _credentials(exchange: str, api_key: Any, api_secret: Any, passphrase: Any) -> Credentials:
    spec = exchange_spec(exchange)
    name = spec.info.name
    secret = api_secret.get_secret_value()
    # The models accept a PEM private key (its line breaks included) for any exchange; only an exchange
    # whose secrets are private keys takes one.
    if secret.startswith("-----BEGIN") and not spec.credentials.pem_secret:
        raise _invalid_field(
            "api_secret", f"{name} API secrets are one line, not a private key; copy the secret again"
        )
    if spec.info.needs_passphrase and passphrase is None:
        raise _invalid_field("passphrase", f"required for {name}")
    if not spec.info.needs_passphrase and passphrase is not None:
        raise _invalid_field("passphrase", f"not used by {name}")
    return Credentials(
        api_key.get_secret_value(),
        secret,
        passphrase.get_secret_value() if passphrase is not None else None,
    )


def _invalid_field(field: str, problem: str) -> ApiError:
    """422 naming one field and what is wrong with it (never its value)."""
    return ApiError(ErrorCode.VALIDATION_ERROR, details={"fields": [{"field": field, "problem": problem}]})


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_connection_id() -> str:
    """A ULID: 48 bits of milliseconds and 80 random bits, 26 characters, sorting by creation time."""
    value = now_ms() << 80 | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def key_hint(api_key: str) -> str:
    return f"{api_key[:4]}…{api_key[-4:]}"


def to_resource(record: ConnectionRecord) -> ConnectionResource:
    status = Status(record.status)
    error = None
    warnings: list[Problem] = []
    if record.status_doc:
        stored = localize_document(json.loads(record.status_doc))
        error = Problem(**stored["error"]) if stored.get("error") else None
        warnings = [Problem(**w) for w in stored.get("warnings", [])]
    return ConnectionResource(
        id=record.id,
        name=record.name,
        exchange=record.exchange,
        markets=[Market(m) for m in record.markets],
        api_key_hint=record.api_key_hint,
        status=status,
        status_label=status_label(status),
        trading_ready=record.trading_ready,
        error=error,
        warnings=warnings,
        checked_at=_parse_time(record.checked_at),
        key_expires_at=_parse_time(record.key_expires_at),
        withdrawal_disabled_confirmed_at=_parse_time(record.withdrawal_disabled_confirmed_at),
        created_at=_parse_time(record.created_at) or datetime.min,
        updated_at=_parse_time(record.updated_at) or datetime.min,
    )


def status_document(record: ConnectionRecord) -> StatusDocument:
    if record.status_doc:
        return StatusDocument(connection_id=record.id, **localize_document(json.loads(record.status_doc)))
    status = Status(record.status)
    return StatusDocument(connection_id=record.id, status=status, status_label=status_label(status))


def localize_document(document: dict[str, Any]) -> dict[str, Any]:
    """A status document with its label, error and warnings in the request's language.

    Stored documents keep the words of the language they were tested in; their codes decide.
    """
    ips = settings().egress_ips
    localized = dict(document)
    localized["status_label"] = status_label(document["status"])
    if document.get("error"):
        localized["error"] = localize_problem(document["error"], ips)
    localized["warnings"] = [localize_problem(w, ips) for w in document.get("warnings") or []]
    return localized


def trading_ready(status: str, withdraw_check: str | None, *, confirmed: bool) -> bool:
    """The contract's "Trading readiness": Online, and the key is known (or confirmed) not to withdraw."""
    return status == Status.CONNECTED and (withdraw_check == "ok" or confirmed)


def _withdraw_check(record: ConnectionRecord) -> str | None:
    if not record.status_doc:
        return None
    checks: dict[str, str] = json.loads(record.status_doc).get("checks") or {}
    return checks.get("withdraw_disabled")


def _state(record: ConnectionRecord) -> tuple[str, bool]:
    return record.status, record.trading_ready


def _items(record: ConnectionRecord, actor: Actor, events: Events, at: str) -> list[dict[str, Any]]:
    return event_items(record.owner, record.id, record.exchange, actor, events, at)


def _announce(record: ConnectionRecord, before: tuple[str, bool]) -> None:
    """Publish a status-change event when a committed change moved the status or trading readiness."""
    if _state(record) == before:
        return
    code = None
    if record.status_doc:
        code = (json.loads(record.status_doc).get("error") or {}).get("code")
    publish(
        StatusChange(
            user_id=record.owner,
            connection_id=record.id,
            exchange=record.exchange,
            previous_status=before[0],
            status=record.status,
            trading_ready=record.trading_ready,
            code=code,
            checked_at=record.checked_at,
        )
    )


def _announce_deleted(record: ConnectionRecord) -> None:
    publish(
        StatusChange(
            user_id=record.owner,
            connection_id=record.id,
            exchange=record.exchange,
            previous_status=record.status,
            status=DELETED,
            trading_ready=False,
            code=None,
            checked_at=record.checked_at,
        )
    )


_CURSOR = re.compile(r"^EVENT#[0-9A-HJKMNP-TV-Z]{26}$")


def encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The event key a ``next`` cursor stands for; anything else is a validation error."""
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        key = ""
    if not _CURSOR.fullmatch(key):
        raise _invalid_field("cursor", "is not a cursor this API returned")
    return key


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
