"""Reads connections and their status, and the public facts the dashboard shows before login."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated

from backfuture.api import CONNECTION_ID, current_user, error_responses, make_app
from backfuture.config import settings
from backfuture.exchanges import info, planned, supported_ids
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
    summary="List connections",
    description="The caller's connections, newest first, with status, warnings and trading readiness.",
    responses={200: {"description": "The caller's connections, newest first"}} | error_responses(401, 503),
)
def list_connections() -> models.ConnectionList:
    return models.ConnectionList(connections=service().list(current_user(app)))


@app.get(
    "/connections/<id>",
    summary="Get a connection",
    description="One connection of the caller; another user's connection is 404.",
    responses={200: {"description": "The connection"}} | error_responses(401, 404, 503),
)
def get_connection(id: Annotated[str, params.Path(pattern=CONNECTION_ID)]) -> models.ConnectionResource:
    return service().get(current_user(app), id)


@app.get(
    "/connections/<id>/status",
    summary="Get the last test result",
    description="The status document of the last test; status untested and no checks before any test.",
    responses={200: {"description": "Its status document (untested: no checks yet)"}}
    | error_responses(401, 404, 503),
)
def get_connection_status(id: Annotated[str, params.Path(pattern=CONNECTION_ID)]) -> models.StatusDocument:
    return service().status(current_user(app), id)


@app.get(
    "/connections/<id>/events",
    summary="The connection's audit trail",
    description=(
        "What happened to the connection, newest first: created, credentials_replaced, renamed, "
        "markets_changed, tested, status_changed, refused, withdrawal_confirmed, deleted; by the user "
        "(with source IP and user agent) or the system (re-validation). Paginated with limit and cursor."
    ),
    responses={200: {"description": "The connection's audit trail, newest first"}}
    | error_responses(401, 404, 422, 503),
)
def list_connection_events(
    id: Annotated[str, params.Path(pattern=CONNECTION_ID)],
    limit: Annotated[int, params.Query(ge=1, le=100, description="Events per page (1-100, default 50)")] = 50,
    cursor: Annotated[
        str | None,
        params.Query(
            min_length=1,
            max_length=128,
            description="The next value of the previous page, for the page after it",
        ),
    ] = None,
) -> models.EventPage:
    return service().events(current_user(app), connection_id=id, limit=limit, cursor=cursor)


@app.get(
    "/events",
    summary="The caller's audit trail",
    description=(
        "Events of all the caller's connections, deleted ones included, newest first. Kept 400 days. "
        "Paginated: pass the next value of a page as cursor to get the page after it."
    ),
    responses={200: {"description": "The caller's audit trail across connections, newest first"}}
    | error_responses(401, 422, 503),
)
def list_events(
    limit: Annotated[int, params.Query(ge=1, le=100, description="Events per page (1-100, default 50)")] = 50,
    cursor: Annotated[
        str | None,
        params.Query(
            min_length=1,
            max_length=128,
            description="The next value of the previous page, for the page after it",
        ),
    ] = None,
) -> models.EventPage:
    return service().events(current_user(app), limit=limit, cursor=cursor)


@app.get(
    "/egress-ips",
    summary="The platform's egress IPs",
    description="The fixed addresses every exchange call comes from; whitelist all of them on the key.",
)
def egress_ips() -> models.EgressIps:
    return models.EgressIps(egress_ips=list(settings().egress_ips))


@app.get(
    "/exchanges",
    summary="Supported and planned exchanges",
    description="What each exchange needs (a passphrase?) and offers; planned ones: supported false.",
)
def exchanges() -> models.ExchangeList:
    listed = [(info(id), True) for id in supported_ids()] + [(p, False) for p in planned().values()]
    return models.ExchangeList(
        exchanges=[
            models.ExchangeDescription(
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
