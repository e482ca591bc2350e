"""Scheduled (EventBridge, hourly): destroys connection secrets that no connection points at."""

from __future__ import annotations

from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from backfuture.api import Handler
from backfuture.observability import logger, metrics, tracer
from backfuture.sweeper import SecretSweeper


# log_event stays False like everywhere; the scheduled event carries nothing secret, but the rule is one.
@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def _handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = SecretSweeper().sweep()
    logger.info("sweep finished", extra=report.summary())
    return report.summary()


lambda_handler = cast(Handler, _handler)  # Powertools' decorators are untyped
