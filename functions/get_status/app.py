"""Reads connections and their status, and the public facts the dashboard shows before login."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from backfuture.api import CONNECTION_ID, current_user, error_responses, make_app
from backfuture.config import settings
from backfuture.exchanges import info, planned, supported_ids
from backfuture.handler import lambda_entry_point
from backfuture.models import (
    ConnectionList,
    ConnectionResource,
    EgressIps,
    ExchangeDescription,
    ExchangeList,
    StatusDocument,
)
from backfuture.service import ConnectionService

app = make_app()


@cache
def service() -> ConnectionService:
    return ConnectionService()


@app.get(
    "/connections",
    responses={200: {"description": "The caller's connections, newest first"}} | error_responses(401, 503),
)
def list_connections() -> ConnectionList:
    return ConnectionList(connections=service().list(current_user(app)))


@app.get(
    "/connections/<id>", responses={200: {"description": "The connection"}} | error_responses(401, 404, 503)
)
def get_connection(id: Annotated[str, Path(pattern=CONNECTION_ID)]) -> ConnectionResource:
    return service().get(current_user(app), id)


@app.get(
    "/connections/<id>/status",
    responses={200: {"description": "Its status document (untested: no checks yet)"}}
    | error_responses(401, 404, 503),
)
def get_connection_status(id: Annotated[str, Path(pattern=CONNECTION_ID)]) -> StatusDocument:
    return service().status(current_user(app), id)


@app.get("/egress-ips")
def egress_ips() -> EgressIps:
    return EgressIps(egress_ips=list(settings().egress_ips))


@app.get("/exchanges")
def exchanges() -> ExchangeList:
    listed = [(info(id), True) for id in supported_ids()] + [(p, False) for p in planned().values()]
    return ExchangeList(
        exchanges=[
            ExchangeDescription(
                id=described.id,
                name=described.name,
                supported=supported,
                needs_passphrase=described.needs_passphrase,
                markets=list(described.markets),
            )
            for described, supported in listed
        ]
    )


lambda_handler = lambda_entry_point(app)
