"""Stores, changes and deletes connections: the only function that writes secrets."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response

from backfuture.api import CONNECTION_ID, current_user, error_responses, make_app
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
    "/connections",
    responses={201: {"description": "The new connection, status untested"}}
    | error_responses(401, 409, 413, 415, 422, 429, 503),
)
def add_connection(request: models.AddConnectionRequest) -> Response[models.ConnectionResource]:
    return Response(201, content_type="application/json", body=service().add(current_user(app), request))


@app.put(
    "/connections/<id>/credentials",
    responses={200: {"description": "The connection, status untested"}}
    | error_responses(401, 404, 409, 413, 415, 422, 503),
)
def replace_credentials(
    id: Annotated[str, params.Path(pattern=CONNECTION_ID)], request: models.ReplaceCredentialsRequest
) -> models.ConnectionResource:
    return service().replace_credentials(current_user(app), id, request)


@app.patch(
    "/connections/<id>",
    responses={200: {"description": "The renamed connection"}}
    | error_responses(401, 404, 409, 413, 415, 422, 503),
)
def update_connection(
    id: Annotated[str, params.Path(pattern=CONNECTION_ID)], request: models.UpdateConnectionRequest
) -> models.ConnectionResource:
    return service().update(current_user(app), id, request)


@app.delete(
    "/connections/<id>",
    # "content": {} documents the 204 as bodiless (the default would be an application/json null).
    responses={204: {"description": "Deleted; its secret was destroyed", "content": {}}}
    | error_responses(401, 404, 503),
)
def delete_connection(id: Annotated[str, params.Path(pattern=CONNECTION_ID)]) -> Response[None]:
    service().delete(current_user(app), id)
    return Response(204)


lambda_handler = lambda_entry_point(app)
