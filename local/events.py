"""API Gateway HTTP API (payload format 2.0) events and responses, as the real API builds them.

References: "Working with AWS Lambda proxy integrations for HTTP APIs" (payload format 2.0) and
"Control access to HTTP APIs with JWT authorizers" in the API Gateway developer guide.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from local.routes import RouteMatch
from local.template import ACCOUNT_ID, REGION, FunctionSpec

API_ID = "local"
STAGE = "$default"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # HTTP API request payload quota

# JWT authorizer stand-in: the contract's `Authorization: Bearer dev:<user-id>`.
_DEV_TOKEN = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] dev:([A-Za-z0-9_-]{1,64})")
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_local"

# Bodies of these types reach the function as text; API Gateway base64-encodes all others.
_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(.*\+)?(json|xml)|application/(javascript|ecmascript|x-www-form-urlencoded))$"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

UNAUTHORIZED = (401, {"message": "Unauthorized"})
NOT_FOUND = (404, {"message": "Not Found"})
TOO_LARGE = (413, {"message": "Request Entity Too Large"})
INTERNAL_ERROR = (500, {"message": "Internal Server Error"})


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # the request-target as received: "/path?query"
    headers: list[tuple[str, str]]  # in arrival order, names as sent
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    @property
    def raw_path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def raw_query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def dev_user(authorization: str | None) -> str | None:
    """The user named by a local dev token, or None (API Gateway would answer 401)."""
    if authorization is None:
        return None
    match = _DEV_TOKEN.fullmatch(authorization.strip())
    return match.group(1) if match else None


def jwt_claims(user_id: str, now_s: int) -> dict[str, str]:
    """Claims shaped like a Cognito access token's; API Gateway passes every claim as a string."""
    return {
        "sub": user_id,
        "iss": ISSUER,
        "client_id": "local-dev",
        "token_use": "access",
        "scope": "openid",
        "username": user_id,
        "auth_time": str(now_s),
        "iat": str(now_s),
        "exp": str(now_s + 3600),
        "jti": str(uuid.uuid4()),
    }


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    return bool(_TEXT_TYPES.match(content_type.split(";", 1)[0].strip().lower()))


def build_event(
    request: HttpRequest,
    match: RouteMatch,
    claims: dict[str, str] | None,
    *,
    request_id: str | None = None,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The event API Gateway sends for ``request`` on the matched route (claims None: public route)."""
    now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    request_id = request_id or new_request_id()
    headers, cookies = _headers(request)
    domain = headers.get("host", f"{API_ID}.execute-api.{REGION}.amazonaws.com")
    route_key = match.route.route_key
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": domain,
        "domainPrefix": API_ID,
        "http": {
            "method": request.method.upper(),
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": STAGE,
        "time": _clf_time(now_ms),
        "timeEpoch": now_ms,
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = _query_parameters(request.raw_query)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = context
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    if request.body:
        if is_text(headers.get("content-type")):
            event["body"] = request.body.decode("utf-8", "replace")
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


def _headers(request: HttpRequest) -> tuple[dict[str, str], list[str]]:
    """Lower-cased names, repeated headers comma-joined; cookies move to their own list."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    headers.setdefault("x-forwarded-proto", "http")
    host = headers.get("host", "")
    headers.setdefault("x-forwarded-port", host.rsplit(":", 1)[1] if ":" in host else "80")
    headers["x-amzn-trace-id"] = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    return headers, cookies


def _query_parameters(raw_query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def new_request_id() -> str:
    # API Gateway request ids look like "JKJaXmPLvHcESHA="; any unique value works for tracing.
    return base64.b64encode(secrets.token_bytes(10)).decode("ascii")


def _clf_time(now_ms: int) -> str:
    t = time.gmtime(now_ms / 1000)
    clock = f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{clock} +0000"


class LambdaContext:
    """The context object a Python Lambda function receives, for in-process invocations."""

    def __init__(self, function: FunctionSpec) -> None:
        self.function_name = function.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def json_response(status: int, body: Any, request_id: str | None = None) -> HttpResponse:
    headers = [("Content-Type", "application/json")]
    if request_id:
        headers.append(("Apigw-Requestid", request_id))
    return HttpResponse(status, headers, json.dumps(body, separators=(",", ":")).encode())


def to_http_response(result: Any) -> HttpResponse:
    """What API Gateway sends the client for a function's result (payload format 2.0).

    A result without ``statusCode`` is taken as the JSON body of a 200, as API Gateway does; a
    malformed response becomes its 500.
    """
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(result).encode())
    status = result["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return json_response(*INTERNAL_ERROR)
    headers: list[tuple[str, str]] = []
    for name, values in _items(result.get("multiValueHeaders")):
        headers.extend((name, str(value)) for value in (values if isinstance(values, list) else [values]))
    multi = {name.lower() for name, _ in headers}
    headers.extend(
        (name, str(value)) for name, value in _items(result.get("headers")) if name.lower() not in multi
    )
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body")
    if body is None:
        payload = b""
    elif result.get("isBase64Encoded") is True:
        payload = base64.b64decode(str(body))
    else:
        payload = (body if isinstance(body, str) else json.dumps(body)).encode()
    return HttpResponse(status, headers, payload)


def _items(value: Any) -> Iterable[tuple[str, Any]]:
    return value.items() if isinstance(value, dict) else ()
