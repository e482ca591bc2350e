"""Runs a connection test from the platform's fixed egress IPs: the only reader of connection secrets."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated

from backfuture.api import CONNECTION_ID, current_user, error_responses, make_app, request_actor
from backfuture.config import settings
from backfuture.handler import lambda_entry_point
from backfuture.lazy import LazyModule

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi import params

    from backfuture import models
    from backfuture.service import ConnectionService
else:
    # Read by the first request (Powertools resolves the annotations then), not at cold start.
    params = LazyModule("aws_lambda_powertools.event_handler.openapi.params")
    models = LazyModule("backfuture.models")

app = make_app()


@cache
def service() -> ConnectionService:
    from backfuture.service import ConnectionService

    return ConnectionService()


@app.post(
    "/connections/<id>/test",
    summary="Test the connection now",
    description=(
        "Runs the connection test from the platform's fixed egress IPs: credentials, read, trade, "
        "withdrawal disabled, futures (if asked for), IP whitelist. Answers 200 with the status "
        "document also when the test found a problem (see error). A key that can withdraw is refused "
        "and its secret destroyed at once. Audit events: tested, status_changed, refused."
    ),
    responses={200: {"description": "The status document, also when the test found a problem"}}
    | error_responses(401, 404, 409, 413, 415, 429, 503),
)
def test_connection(id: Annotated[str, params.Path(pattern=CONNECTION_ID)]) -> models.StatusDocument:
    return service().test(current_user(app), id, list(settings().egress_ips), request_actor(app))


lambda_handler = lambda_entry_point(app)
