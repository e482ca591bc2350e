"""Reads connections and their status, and the public facts the dashboard shows before login."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated

from backfuture.api import CONNECTION_ID, current_user, error_responses, make_app
from backfuture.config import settings
from backfuture.exchanges.catalog import PLANNED, SUPPORTED
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


@app.get(
    "/connections",
    responses={200: {"description": "The caller's connections, newest first"}} | error_responses(401, 503),
)
def list_connections() -> models.ConnectionList:
    return models.ConnectionList(connections=service().list(current_user(app)))


@app.get(
    "/connections/<id>", responses={200: {"description": "The connection"}} | error_responses(401, 404, 503)
)
def get_connection(id: Annotated[str, params.Path(pattern=CONNECTION_ID)]) -> models.ConnectionResource:
    return service().get(current_user(app), id)


@app.get(
    "/connections/<id>/status",
    responses={200: {"description": "Its status document (untested: no checks yet)"}}
    | error_responses(401, 404, 503),
)
def get_connection_status(id: Annotated[str, params.Path(pattern=CONNECTION_ID)]) -> models.StatusDocument:
    return service().status(current_user(app), id)


@app.get("/egress-ips")
def egress_ips() -> models.EgressIps:
    return models.EgressIps(egress_ips=list(settings().egress_ips))


@app.get("/exchanges")
def exchanges() -> models.ExchangeList:
    listed = [(info, True) for info in SUPPORTED.values()] + [(info, False) for info in PLANNED.values()]
    return models.ExchangeList(
        exchanges=[
            models.ExchangeDescription(
                id=info.id,
                name=info.name,
                supported=supported,
                needs_passphrase=info.needs_passphrase,
                markets=list(info.markets),
            )
            for info, supported in listed
        ]
    )


lambda_handler = lambda_entry_point(app)
