"""Status-change events on the stack's EventBridge bus, for the strategy runner.

One event per committed change of a connection's ``status`` or ``trading_ready`` (user test,
re-validation, refusal, credential change, markets change, withdrawal confirmation, delete):
source ``backfuture.connections``, detail-type ``Connection Status Changed``; the schema is in
docs/status-events.md. Only the writer whose conditional write committed the change publishes, so
a change is published once; a change that was not stored (a stale test, a conflict) publishes
nothing.

Published after the table write: a publish that fails (after botocore's retries) is logged as an
error with the ``StatusEventsNotPublished`` metric, and the change itself stays stored, with its
``status_changed`` record in the audit trail. The request is not failed for it: the user's change
happened.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from botocore.exceptions import BotoCoreError, ClientError

from backfuture.aws import client, error_code
from backfuture.observability import logger, metrics

SOURCE = "backfuture.connections"
DETAIL_TYPE = "Connection Status Changed"
DELETED = "deleted"  # the status in the event of a deleted connection (it has none any more)


@dataclass(frozen=True, slots=True)
class StatusChange:
    user_id: str
    connection_id: str
    exchange: str
    previous_status: str
    status: str
    trading_ready: bool
    code: str | None  # the error code of the last test, if it found a problem
    checked_at: str | None


def publish(change: StatusChange) -> bool:
    """Put one event on the bus named by EVENT_BUS_NAME; False when it could not be published.

    Functions without EVENT_BUS_NAME (get_status) never publish: their role has no PutEvents.
    """
    bus = os.environ.get("EVENT_BUS_NAME")
    if not bus:
        return False
    entry = {
        "EventBusName": bus,
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(asdict(change)),
        "Resources": [],
    }
    try:
        response = client("events").put_events(Entries=[entry])
    except (ClientError, BotoCoreError) as error:
        _lost(change, error_code(error))
        return False
    if response.get("FailedEntryCount"):
        failed = (response.get("Entries") or [{}])[0]
        _lost(change, str(failed.get("ErrorCode", "Failed")))
        return False
    metrics.add_metric(name="StatusEventsPublished", unit="Count", value=1)
    return True


def _lost(change: StatusChange, code: str) -> None:
    # A metric of its own (only the service dimension), so the template's alarm matches it whatever
    # dimensions the request's other metrics carry.
    with single_metric(
        name="StatusEventsNotPublished",
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions={"service": "connections"},
    ):
        pass
    logger.error(
        "status-change event not published",
        extra={"connection_id": change.connection_id, "aws_error": code, "status": change.status},
    )
