"""The scheduled re-validation: connections that stay healthy, or say so when they stop.

Every run (``RevalidationRunMinutes``) re-tests connections that are Online or Exchange
unavailable and whose last test is older than ``RevalidationIntervalHours``, like a user's test
(``ConnectionService.revalidate``: same checks, same fixed IPs, results stored with actor
``system``, status-change events published).

Spreading and capping, per exchange:

* a run takes its share of the exchange's eligible connections (eligible x run period /
  interval, plus a quarter to catch up), oldest test first, so a burst of connections made on one
  day is spread over the following interval instead of being re-tested together every day;
* and never more than ``RevalidationMaxPerExchange`` (one setting, the part of each exchange's
  per-IP rate limit given to background work), so the platform's IPs stay far from the limit
  that users' own tests need.

A run stops starting tests when its time is nearly up; what it did not reach stays due.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backfuture.config import settings
from backfuture.errors import StorageUnavailable
from backfuture.models import Status
from backfuture.observability import logger, metrics
from backfuture.service import ConnectionService
from backfuture.storage.repository import ConnectionRecord

ELIGIBLE = (Status.CONNECTED.value, Status.UNAVAILABLE.value)
CATCH_UP = 1.25
# Time kept free at the end of a run: one test's budget (connection_test.TEST_BUDGET_S) and the writes.
RESERVE_S = 60.0


@dataclass(frozen=True)
class Summary:
    checked: int
    changed: int
    due: int


def select_due(
    records: list[ConnectionRecord],
    *,
    now: datetime,
    interval: timedelta,
    run_period: timedelta,
    max_per_exchange: int,
    all_due: bool = False,
) -> list[ConnectionRecord]:
    """The connections this run re-tests (see the module docstring); ``all_due`` skips the age rule
    and the share (the local ``POST /_dev/revalidate``), never the per-exchange cap."""
    by_exchange: dict[str, list[ConnectionRecord]] = defaultdict(list)
    for record in records:
        if record.status in ELIGIBLE and record.secret_arn is not None:
            by_exchange[record.exchange].append(record)
    cutoff = now - interval
    chosen: list[ConnectionRecord] = []
    for exchange in sorted(by_exchange):
        eligible = by_exchange[exchange]
        due = [r for r in eligible if all_due or _checked(r) <= cutoff]
        due.sort(key=_checked)
        share = len(due) if all_due else math.ceil(len(eligible) * (run_period / interval) * CATCH_UP)
        chosen.extend(due[: min(share, max_per_exchange)])
    return chosen


def run(
    service: ConnectionService,
    *,
    all_due: bool = False,
    remaining_s: Callable[[], float] = lambda: float("inf"),
) -> Summary:
    config = settings()
    records = service.repository.scan_connections(ELIGIBLE)
    due = select_due(
        records,
        now=datetime.now(UTC),
        interval=timedelta(hours=config.revalidation_interval_hours),
        run_period=timedelta(minutes=config.revalidation_run_minutes),
        max_per_exchange=config.revalidation_max_per_exchange,
        all_due=all_due,
    )
    checked = changed = 0
    started = time.monotonic()
    for record in due:
        if remaining_s() < RESERVE_S:
            logger.warning("re-validation run out of time", extra={"left_due": len(due) - checked})
            break
        try:
            result = service.revalidate(record, list(config.egress_ips))
        except StorageUnavailable as error:
            # AWS is failing: stop rather than spend exchange calls on results that cannot be stored.
            logger.warning("re-validation run stopped", extra={"aws_error": str(error)})
            break
        checked += 1
        changed += bool(result)
    metrics.add_metric(name="ConnectionsRevalidated", unit="Count", value=checked)
    metrics.add_metric(name="RevalidationStatusChanges", unit="Count", value=changed)
    logger.info(
        "re-validation run",
        extra={
            "candidates": len(records),
            "due": len(due),
            "checked": checked,
            "changed": changed,
            "duration_ms": int((time.monotonic() - started) * 1000),
        },
    )
    return Summary(checked=checked, changed=changed, due=len(due))


def _checked(record: ConnectionRecord) -> datetime:
    if not record.checked_at:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromisoformat(record.checked_at)
