"""The HTTP layer every function shares: identity, body limits and the error-to-HTTP mapping.

Handlers stay thin: they declare routes and call the service. Everything that turns an exception
into a response lives here, so every route answers errors with the contract's body
``{"error": {"code", "message", "remedy", "details"?}}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from backfuture.errors import ApiError, ErrorCode, StorageUnavailable
from backfuture.observability import logger, user_hash

# Credentials and a name fit in well under 4 KB; anything far larger is not a dashboard request.
MAX_BODY_BYTES = 16 * 1024
_SUB = re.compile(r"^[A-Za-z0-9_\-:.@]{1,128}$")


def make_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    app.use(middlewares=[_tag_connection])

    @app.exception_handler(ApiError)
    def _api_error(error: ApiError) -> Response[Any]:
        logger.info("request refused", extra={"error_code": error.code.value, "status": error.status})
        return _json(error.status, error.body(), error.headers)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[Any]:
        errors = error.errors()
        if errors and all(e.get("loc", ("",))[0] == "path" for e in errors):
            # A path id that cannot exist names no connection: not found, as for another user's.
            return _json(404, ApiError(ErrorCode.NOT_FOUND).body())
        fields = [_describe(e) for e in errors]
        logger.info("request invalid", extra={"fields": [f["field"] for f in fields]})
        return _json(422, ApiError(ErrorCode.VALIDATION_ERROR, details={"fields": fields}).body())

    @app.exception_handler(StorageUnavailable)
    def _unavailable(error: StorageUnavailable) -> Response[Any]:
        logger.warning("dependency unavailable", extra={"aws_error": str(error)})
        return _json(503, ApiError(ErrorCode.SERVICE_UNAVAILABLE).body(), {"Retry-After": "2"})

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        # The type only: an exception's text could quote data it was handed.
        logger.error("unexpected error", extra={"error_type": type(error).__name__})
        return _json(500, ApiError(ErrorCode.INTERNAL_ERROR).body())

    @app.not_found
    def _no_route(_: Exception) -> Response[Any]:
        return _json(404, ApiError(ErrorCode.NOT_FOUND, message="No such route.").body())

    return app


def current_user(app: APIGatewayHttpResolver) -> str:
    """The caller, from the JWT claims API Gateway verified; nothing else ever names the user."""
    authorizer = app.current_event.request_context.authorizer
    claims = (authorizer.jwt_claim or {}) if authorizer is not None else {}
    sub = claims.get("sub")
    if not isinstance(sub, str) or not _SUB.fullmatch(sub):
        raise ApiError(ErrorCode.UNAUTHORIZED)
    logger.append_keys(user=user_hash(sub))
    return sub


def oversized_body_response(event: dict[str, Any]) -> dict[str, Any] | None:
    """413 for a body over the limit, before anything parses it (validation would read it all)."""
    body = event.get("body")
    if body is None or len(body) <= MAX_BODY_BYTES:
        return None
    logger.info("request refused", extra={"error_code": ErrorCode.PAYLOAD_TOO_LARGE.value, "status": 413})
    return {
        "statusCode": 413,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(ApiError(ErrorCode.PAYLOAD_TOO_LARGE).body()),
        "isBase64Encoded": False,
    }


def _tag_connection(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    connection_id = (app.current_event.path_parameters or {}).get("id")
    if connection_id:
        logger.append_keys(connection_id=connection_id[:64])
    return next_middleware(app)


def _describe(error: dict[str, Any]) -> dict[str, str]:
    """One invalid field, named by its path; pydantic's message, never the input."""
    loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "path", "query")]
    kind = error.get("type", "")
    if kind == "json_invalid":
        return {"field": "body", "problem": "is not valid JSON"}
    if kind == "missing":
        problem = "is required"
    elif kind == "extra_forbidden":
        problem = "is not a known field"
    else:
        problem = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return {"field": ".".join(loc) or "body", "problem": problem}


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=body, headers=headers or {})


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# Connection ids are ULIDs; a path that cannot be one is answered without a database call.
CONNECTION_ID = r"^[0-9A-HJKMNP-TV-Z]{26}$"


def error_responses(*statuses: int) -> dict[int, Any]:
    """OpenAPI entries for a route's error answers, all in the contract's error body."""
    from backfuture.models import ErrorBody

    descriptions = {
        401: "No identity",
        404: "No such connection for this user",
        409: "Name taken, key already connected, or changed meanwhile",
        413: "Body too large",
        422: "Invalid input; details name the fields",
        429: "Connection limit reached, or a test ran moments ago",
        503: "A dependency is briefly unavailable",
    }
    return {
        status: {"description": descriptions[status], "content": {"application/json": {"model": ErrorBody}}}
        for status in statuses
    }
