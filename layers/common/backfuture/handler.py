"""The Lambda entry point every function shares: context in logs, tracing, metrics, then routing."""

from __future__ import annotations

from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from backfuture.api import Handler, screen_request
from backfuture.language import negotiate, use_language
from backfuture.observability import logger, metrics, tracer


def lambda_entry_point(app: APIGatewayHttpResolver) -> Handler:
    # log_event stays False: the event body carries API secrets.
    @logger.inject_lambda_context(
        log_event=False, clear_state=True, correlation_id_path="requestContext.requestId"
    )
    @tracer.capture_lambda_handler(capture_response=False, capture_error=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Chosen before anything renders text, so early refusals, errors and results agree.
        language = negotiate(_header(event, "accept-language"))
        use_language(language)
        early, event = screen_request(event)
        response: dict[str, Any] = early or app.resolve(event, context)
        response["headers"] = {**(response.get("headers") or {}), "Content-Language": language}
        return response

    return cast(Handler, lambda_handler)  # Powertools' decorators are untyped


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None
