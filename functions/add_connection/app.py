"""Stores, changes and deletes connections: the only function that writes secrets."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response

from backfuture.api import CONNECTION_ID, current_user, error_responses, make_app, request_actor
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
    summary="Add a connection",
    description=(
        "Stores a new exchange connection with status untested. The secret (and passphrase) are kept "
        "encrypted in Secrets Manager and never returned by any route; the key is shown only as a hint. "
        "Test it next with POST /connections/{id}/test. Audit event: created."
    ),
    responses={201: {"description": "The new connection, status untested"}}
    | error_responses(401, 409, 413, 415, 422, 429, 503),
)
def add_connection(request: models.AddConnectionRequest) -> Response[models.ConnectionResource]:
    return Response(
        201,
        content_type="application/json",
        body=service().add(current_user(app), request, request_actor(app)),
    )


@app.put(
    "/connections/<id>/credentials",
    summary="Replace the credentials",
    description=(
        "Replaces the API key, secret (and passphrase); the old secret is destroyed at once. The status "
        "goes back to untested and a withdrawal confirmation is cleared. Audit event: "
        "credentials_replaced; a status-change event when the status or trading readiness changed."
    ),
    responses={200: {"description": "The connection, status untested"}}
    | error_responses(401, 404, 409, 413, 415, 422, 503),
)
def replace_credentials(
    id: Annotated[str, params.Path(pattern=CONNECTION_ID)], request: models.ReplaceCredentialsRequest
) -> models.ConnectionResource:
    return service().replace_credentials(current_user(app), id, request, request_actor(app))


@app.patch(
    "/connections/<id>",
    summary="Rename, change markets, or confirm withdrawal is disabled",
    description=(
        "Renames the connection, changes its markets (the status goes back to untested: the last test "
        "did not cover them), and records the user's confirmation that withdrawal is disabled on the key "
        "(withdrawal_disabled_confirmed: true), which makes an Online connection whose exchange does not "
        "report withdrawal rights trading-ready. Audit events: renamed, markets_changed, "
        "withdrawal_confirmed."
    ),
    responses={200: {"description": "The connection as changed"}}
    | error_responses(401, 404, 409, 413, 415, 422, 503),
)
def update_connection(
    id: Annotated[str, params.Path(pattern=CONNECTION_ID)], request: models.UpdateConnectionRequest
) -> models.ConnectionResource:
    return service().update(current_user(app), id, request, request_actor(app))


@app.delete(
    "/connections/<id>",
    summary="Delete a connection",
    description=(
        "Deletes the connection and destroys its secret at once (no recovery window). Its audit trail "
        "stays readable in GET /events for 400 days. A status-change event with status deleted is "
        "published."
    ),
    # "content": {} documents the 204 as bodiless (the default would be an application/json null).
    responses={204: {"description": "Deleted; its secret was destroyed", "content": {}}}
    | error_responses(401, 404, 503),
)
def delete_connection(id: Annotated[str, params.Path(pattern=CONNECTION_ID)]) -> Response[None]:
    service().delete(current_user(app), id, request_actor(app))
    return Response(204)


lambda_handler = lambda_entry_point(app)
