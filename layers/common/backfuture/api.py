"""The HTTP layer every function shares: identity, body limits and the error-to-HTTP mapping.

Handlers stay thin: they declare routes and call the service. Everything that turns an exception
into a response lives here, so every route answers errors with the contract's body
``{"error": {"code", "message", "remedy", "details"?}}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from backfuture.audit import Actor
from backfuture.aws import TRANSIENT_ERRORS
from backfuture.errors import ApiError, ErrorCode, StorageUnavailable
from backfuture.observability import logger, metrics, user_hash

# Credentials and a name fit in well under 4 KB; anything far larger is not a dashboard request.
MAX_BODY_BYTES = 16 * 1024
# A JSON object of a few flat fields never nests deeply; this stops a crafted body well before the
# parser's recursion limit (which would surface as an internal error).
MAX_JSON_DEPTH = 32
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_SUB = re.compile(r"^[A-Za-z0-9_\-:.@]{1,128}$")


def make_app() -> APIGatewayHttpResolver:
    # Every route is validated, but the validation machinery (pydantic, the models, Powertools'
    # OpenAPI middlewares) loads with the first request rather than at import: constructed with
    # enable_validation=True the resolver would import it all at once. Powertools builds the
    # middlewares on a route's first call when the resolver has not (Route._build_middleware_stack),
    # and reads this flag for that and for the OpenAPI document (tests/unit/test_openapi.py).
    app = APIGatewayHttpResolver(enable_validation=False, json_body_deserializer=strict_json)
    app._enable_validation = True
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

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(_: RequestUnsupportedContentType) -> Response[Any]:
        return _json(415, ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE).body())

    @app.exception_handler(StorageUnavailable)
    def _unavailable(error: StorageUnavailable) -> Response[Any]:
        code = str(error)
        if code in TRANSIENT_ERRORS:
            logger.warning("dependency unavailable", extra={"aws_error": code})
        else:
            # Not load but a fault (permissions, a disabled key): retries will not help, people must.
            logger.error("dependency failed", extra={"aws_error": code})
            metrics.add_metric(name="DependencyFailures", unit="Count", value=1)
        return _json(503, ApiError(ErrorCode.SERVICE_UNAVAILABLE).body(), {"Retry-After": "2"})

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        # The type only: an exception's text could quote data it was handed.
        logger.error("unexpected error", extra={"error_type": type(error).__name__})
        return _json(500, ApiError(ErrorCode.INTERNAL_ERROR).body())

    @app.not_found
    def _no_route(_: Exception) -> Response[Any]:
        return _json(404, ApiError(ErrorCode.NOT_FOUND, variant="route").body())

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


def request_actor(app: APIGatewayHttpResolver) -> Actor:
    """The user as the audit trail records them: the request's source IP and User-Agent, as API
    Gateway reports them in the request context (not from headers a client could set freely)."""
    http = (app.current_event.raw_event.get("requestContext") or {}).get("http") or {}
    source_ip, user_agent = http.get("sourceIp"), http.get("userAgent")
    return Actor(
        "user",
        source_ip=str(source_ip) if source_ip else None,
        user_agent=str(user_agent) if user_agent else None,
    )


def screen_request(event: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Refuse what no route should parse, before anything parses it; returns (early answer, event).

    * 413 for a body over the limit (validation would read it all);
    * 415 for a body sent as anything but JSON: form and multipart bodies would otherwise be parsed
      into the request models too;
    * a base64-encoded body is decoded here, once; one that is not valid base64 of UTF-8 text is
      replaced by text no JSON parser accepts, so it is refused exactly like any unreadable body.
    """
    body = event.get("body")
    if body is None:
        return None, event
    if len(body) > MAX_BODY_BYTES:
        return _early(ErrorCode.PAYLOAD_TOO_LARGE), event
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    headers = event.get("headers") or {}
    if body and method in _BODY_METHODS:
        if not _declares_json(headers):
            return _early(ErrorCode.UNSUPPORTED_MEDIA_TYPE), event
        # Media types are case-insensitive; the validation layer compares them as written.
        plain = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        event = {**event, "headers": {**plain, "content-type": "application/json"}}
    if event.get("isBase64Encoded") and body:
        try:
            decoded = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = "\x00 undecodable body"
        event = {**event, "body": decoded, "isBase64Encoded": False}
    return None, event


def _declares_json(headers: dict[str, Any]) -> bool:
    """A missing Content-Type is read as JSON (as clients like curl --json or fetch may omit it)."""
    declared = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), "")
    media_type = declared.split(";", 1)[0].strip().lower()
    return media_type in ("", "application/json")


def _early(code: ErrorCode) -> dict[str, Any]:
    error = ApiError(code)
    logger.info("request refused", extra={"error_code": code.value, "status": error.status})
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(error.body()),
        "isBase64Encoded": False,
    }


def strict_json(text: str) -> Any:
    """json.loads for request bodies, refusing what Python's parser would otherwise let through.

    NaN and Infinity are not JSON; a repeated key is ambiguous (which ``api_secret`` did the user
    mean?); very deep nesting and integers beyond the parser's digit limit would raise errors other
    than ``JSONDecodeError``. All of them become the one error the validation layer reports as
    "body is not valid JSON".
    """
    try:
        value = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as error:
        if isinstance(error, json.JSONDecodeError):
            raise
        raise json.JSONDecodeError("invalid JSON", "", 0) from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise json.JSONDecodeError("nested too deeply", "", 0)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [
            child
            for item in level
            if isinstance(item, (dict, list))
            for child in (item.values() if isinstance(item, dict) else item)
        ]
    return depth


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


ERROR_BODY_REF = {"$ref": "#/components/schemas/ErrorBody"}


def error_responses(*statuses: int) -> dict[int, Any]:
    """OpenAPI entries for a route's error answers, all in the contract's error body.

    A reference rather than the ``ErrorBody`` model, which would load pydantic at import for a
    schema that only the OpenAPI document uses; tools/openapi.py adds the ``ErrorBody`` schema.
    """
    descriptions = {
        401: "No identity",
        404: "No such connection for this user",
        409: "Name taken, key already connected, or changed meanwhile",
        413: "Body too large",
        415: "Body not sent as JSON",
        422: "Invalid input; details name the fields",
        429: "Connection limit reached, a quota used up (Retry-After), or a test ran moments ago",
        503: "A dependency is briefly unavailable",
    }
    return {
        status: {
            "description": descriptions[status],
            "content": {"application/json": {"schema": {**ERROR_BODY_REF}}},
        }
        for status in statuses
    }
