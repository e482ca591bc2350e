"""Runs a connection test from the platform's fixed egress IPs: the only reader of connection secrets."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated

from backfuture.api import CONNECTION_ID, current_user, error_responses, make_app
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
    responses={200: {"description": "The status document, also when the test found a problem"}}
    | error_responses(401, 404, 409, 413, 415, 429, 503),
)
def test_connection(id: Annotated[str, params.Path(pattern=CONNECTION_ID)]) -> models.StatusDocument:
    return service().test(current_user(app), id, list(settings().egress_ips))


lambda_handler = lambda_entry_point(app)
