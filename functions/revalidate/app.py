"""Re-tests due connections on a schedule (EventBridge Scheduler), from the platform's fixed IPs.

Not an API route. The schedule sends ``{}`` (its Input in the template); ``{"all_due": true}``
treats every eligible connection as due (still capped per exchange): the local
``POST /_dev/revalidate`` sends it, and an operator may, since only IAM principals can invoke the
function.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from backfuture import revalidation
from backfuture.observability import logger, metrics, tracer
from backfuture.service import ConnectionService


@cache
def service() -> ConnectionService:
    return ConnectionService()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    summary = revalidation.run(
        service(),
        all_due=isinstance(event, dict) and event.get("all_due") is True,
        remaining_s=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    return {"checked": summary.checked, "changed": summary.changed}
