"""The local API's stand-ins for API Gateway: events, JWT authorizer, routes, responses, template reading."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from local.api_server import LocalApi
from local.events import (
    HttpRequest,
    LambdaContext,
    build_event,
    dev_user,
    is_text,
    jwt_claims,
    to_http_response,
)
from local.functions import FunctionRunner
from local.routes import RouteMatch, match_route
from local.template import (
    DEFAULT_TEMPLATE,
    FunctionSpec,
    HttpRoute,
    Intrinsic,
    ServiceTemplate,
    UnresolvedError,
    load_yaml,
)

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: dev}
  Flag: {Type: String, Default: "yes"}
Conditions:
  IsYes: !Equals [!Ref Flag, "yes"]
Globals:
  Function:
    Handler: app.lambda_handler
    Timeout: 12
    Environment:
      Variables:
        TABLE_NAME: !Ref ConnectionsTable
        PREFIX: !Sub "backfuture/${Stage}/x/"
Resources:
  ConnectionsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
  GetStatusFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-get-status"
      CodeUri: ../functions/get_status/
      MemorySize: 384
      Environment: {Variables: {POWERTOOLS_SERVICE_NAME: get_status}}
      Events:
        List: {Type: HttpApi, Properties: {Path: /connections, Method: get}}
        One: {Type: HttpApi, Properties: {Path: "/connections/{id}", Method: GET}}
        Status: {Type: HttpApi, Properties: {Path: "/connections/{id}/status", Method: GET}}
        Exchanges: {Type: HttpApi, Properties: {Path: /exchanges, Method: GET, Auth: {Authorizer: NONE}}}
  AddConnectionFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../functions/add_connection/
      Handler: app.entry
      Events:
        Add: {Type: HttpApi, Properties: {Path: /connections, Method: POST}}
        Schedule: {Type: Schedule, Properties: {Schedule: rate(1 day)}}
"""


def template(tmp_path: Path) -> ServiceTemplate:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return ServiceTemplate.load(path)


def request(
    method: str = "GET",
    target: str = "/connections",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> HttpRequest:
    return HttpRequest(method, target, headers or [("Host", "127.0.0.1:3000")], body, "127.0.0.9")


ROUTE = HttpRoute("GET", "/connections/{id}", "GetStatusFunction", public=False)


# --- template ----------------------------------------------------------------------------------


def test_short_form_tags_load_as_opaque_intrinsics() -> None:
    doc = load_yaml("a: !Ref X\nb: !GetAtt K.Arn\nc: !Join [',', [!Ref A, b]]\nd: !If [C, {x: 1}, 2]\n")
    assert doc["a"] == Intrinsic("Ref", "X")
    assert doc["b"] == Intrinsic("GetAtt", "K.Arn")
    assert doc["c"] == Intrinsic("Join", [",", [Intrinsic("Ref", "A"), "b"]])
    assert doc["d"] == Intrinsic("If", ["C", {"x": 1}, 2])


def test_resolver_knows_parameters_pseudo_parameters_conditions_and_given_values(tmp_path: Path) -> None:
    t = template(tmp_path)
    resolver = t.resolver(refs={"ConnectionsTable": "tbl"}, attrs={"Key.Arn": "arn:key"})
    assert resolver.resolve(
        Intrinsic("Sub", "backfuture/${Stage}/${AWS::Region}/${Key.Arn}/${!Literal}")
    ) == ("backfuture/dev/us-east-1/arn:key/${Literal}")
    assert resolver.resolve({"Fn::Join": ["-", [{"Ref": "ConnectionsTable"}, "x"]]}) == "tbl-x"
    assert resolver.resolve(Intrinsic("If", ["IsYes", "on", "off"])) == "on"
    assert resolver.resolve([Intrinsic("Ref", "AWS::NoValue"), 1]) == [1]
    with pytest.raises(UnresolvedError):
        resolver.resolve(Intrinsic("Ref", "EgressIpA"))
    with pytest.raises(UnresolvedError):
        resolver.resolve(Intrinsic("GetAZs", ""))


def test_functions_take_globals_and_their_own_settings(tmp_path: Path) -> None:
    functions = template(tmp_path).functions()
    status, add = functions["GetStatusFunction"], functions["AddConnectionFunction"]
    assert status.module_path == "functions.get_status.app"
    assert (status.handler_name, status.timeout_s, status.memory_mb) == ("lambda_handler", 12, 384)
    assert status.function_name == "local-get-status"
    assert set(status.environment) == {"TABLE_NAME", "PREFIX", "POWERTOOLS_SERVICE_NAME"}
    assert (add.module_path, add.handler_name, add.memory_mb) == (
        "functions.add_connection.app",
        "entry",
        128,
    )


def test_routes_come_from_http_api_events_only(tmp_path: Path) -> None:
    routes = {(r.method, r.path): r for r in template(tmp_path).routes()}
    assert set(routes) == {
        ("GET", "/connections"),
        ("GET", "/connections/{id}"),
        ("GET", "/connections/{id}/status"),
        ("GET", "/exchanges"),
        ("POST", "/connections"),
    }
    assert routes[("GET", "/exchanges")].public
    assert not routes[("GET", "/connections")].public
    assert routes[("POST", "/connections")].function == "AddConnectionFunction"


def test_real_template_routes_match_the_contract() -> None:
    assert DEFAULT_TEMPLATE.is_file(), "infra/template.yaml is missing"
    routes = {r.route_key: r for r in ServiceTemplate.load(DEFAULT_TEMPLATE).routes()}
    expected = {
        "POST /connections": "AddConnectionFunction",
        "POST /connections/{id}/test": "TestConnectionFunction",
        "GET /connections": "GetStatusFunction",
        "GET /connections/{id}": "GetStatusFunction",
        "GET /connections/{id}/status": "GetStatusFunction",
        "GET /egress-ips": "GetStatusFunction",
        "GET /exchanges": "GetStatusFunction",
    }
    for key, function in expected.items():
        assert routes[key].function == function
    assert {key for key, route in routes.items() if route.public} == {"GET /egress-ips", "GET /exchanges"}


# --- routes ------------------------------------------------------------------------------------


def test_most_specific_route_wins_and_path_parameters_are_decoded() -> None:
    routes = [
        HttpRoute("GET", "/connections/{id}", "One", False),
        HttpRoute("GET", "/connections/latest", "Latest", False),
        HttpRoute("ANY", "/connections/{id}", "Any", False),
        HttpRoute("GET", "/files/{path+}", "Files", False),
    ]
    assert match_route(routes, "GET", "/connections/latest") == RouteMatch(routes[1], {})
    assert match_route(routes, "GET", "/connections/a%20b") == RouteMatch(routes[0], {"id": "a b"})
    assert match_route(routes, "DELETE", "/connections/x") == RouteMatch(routes[2], {"id": "x"})
    assert match_route(routes, "GET", "/files/a/b/c") == RouteMatch(routes[3], {"path": "a/b/c"})
    assert match_route(routes, "GET", "/connections/x/extra") is None
    assert match_route(routes, "GET", "/connections/") is None
    assert match_route(routes, "GET", "/files/") is None


def test_method_mismatch_is_not_found_unless_a_default_route_exists() -> None:
    routes = [HttpRoute("POST", "/connections", "Add", False)]
    assert match_route(routes, "GET", "/connections") is None
    fallback = HttpRoute("ANY", "$default", "Fallback", False)
    assert match_route([*routes, fallback], "GET", "/connections") == RouteMatch(fallback, {})


# --- authorizer stand-in -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "user"),
    [
        ("Bearer dev:alice", "alice"),
        ("bearer dev:A-b_9", "A-b_9"),
        ("Bearer dev:" + "u" * 64, "u" * 64),
        (None, None),
        ("", None),
        ("Bearer dev:", None),
        ("Bearer dev:" + "u" * 65, None),
        ("Bearer dev:al ice", None),
        ("Bearer dev:al.ice", None),
        ("Bearer alice", None),
        ("Basic dev:alice", None),
        ("dev:alice", None),
        ("Bearer dev:alice,Bearer dev:bob", None),
    ],
)
def test_dev_token(header: str | None, user: str | None) -> None:
    assert dev_user(header) == user


# --- events ------------------------------------------------------------------------------------


def test_event_has_the_payload_2_0_shape() -> None:
    req = request(
        "GET",
        "/connections/c%2F1?b=2&a=1&a=&b=3",
        [
            ("Host", "127.0.0.1:3000"),
            ("User-Agent", "curl/8"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "s=1; t=2"),
            ("Authorization", "Bearer dev:alice"),
        ],
    )
    claims = jwt_claims("alice", 1_700_000_000)
    event = build_event(
        req, RouteMatch(ROUTE, {"id": "c/1"}), claims, request_id="rid", now_ms=1_700_000_000_123
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /connections/{id}"
    assert event["rawPath"] == "/connections/c%2F1"
    assert event["rawQueryString"] == "b=2&a=1&a=&b=3"
    assert event["queryStringParameters"] == {"a": "1,", "b": "2,3"}
    assert event["pathParameters"] == {"id": "c/1"}
    assert event["cookies"] == ["s=1", "t=2"]
    headers = event["headers"]
    assert headers["x-multi"] == "one,two"
    assert headers["user-agent"] == "curl/8"
    assert "cookie" not in headers
    assert all(name == name.lower() for name in headers)
    assert headers["x-forwarded-for"] == "127.0.0.9"
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    ctx = event["requestContext"]
    assert ctx["http"] == {
        "method": "GET",
        "path": "/connections/c%2F1",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.9",
        "userAgent": "curl/8",
    }
    assert (ctx["requestId"], ctx["routeKey"], ctx["stage"]) == ("rid", "GET /connections/{id}", "$default")
    assert (ctx["accountId"], ctx["apiId"], ctx["domainName"]) == ("123456789012", "local", "127.0.0.1:3000")
    assert ctx["timeEpoch"] == 1_700_000_000_123
    assert ctx["time"] == "14/Nov/2023:22:13:20 +0000"
    assert ctx["authorizer"]["jwt"]["claims"]["sub"] == "alice"
    assert ctx["authorizer"]["jwt"]["scopes"] is None
    assert all(isinstance(value, str) for value in ctx["authorizer"]["jwt"]["claims"].values())


def test_event_without_query_or_params_omits_them_and_public_routes_have_no_authorizer() -> None:
    public = HttpRoute("GET", "/exchanges", "GetStatusFunction", public=True)
    event = build_event(request(target="/exchanges"), RouteMatch(public, {}), None)
    assert event["rawQueryString"] == ""
    for absent in ("queryStringParameters", "pathParameters", "cookies", "body"):
        assert absent not in event
    assert "authorizer" not in event["requestContext"]


def test_text_bodies_stay_text_and_others_are_base64() -> None:
    route = RouteMatch(HttpRoute("POST", "/connections", "Add", False), {})
    body = json.dumps({"name": "Ünïcode"}).encode()
    as_json = build_event(
        request("POST", "/connections", [("Content-Type", "application/json; charset=utf-8")], body),
        route,
        None,
    )
    assert (as_json["body"], as_json["isBase64Encoded"]) == (body.decode(), False)
    binary = build_event(
        request("POST", "/connections", [("Content-Type", "application/octet-stream")], b"\x00\xff"),
        route,
        None,
    )
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\xff"
    untyped = build_event(request("POST", "/connections", [], b"a=1"), route, None)
    assert untyped["isBase64Encoded"] is True


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json", True),
        ("application/problem+json", True),
        ("text/plain; charset=utf-8", True),
        ("application/xml", True),
        ("application/octet-stream", False),
        ("image/png", False),
        (None, False),
    ],
)
def test_is_text(content_type: str | None, text: bool) -> None:
    assert is_text(content_type) is text


# --- responses ---------------------------------------------------------------------------------


def test_function_response_is_written_back() -> None:
    response = to_http_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-One": "1"},
            "multiValueHeaders": {"X-Many": ["a", "b"]},
            "cookies": ["a=1; Secure"],
            "body": '{"ok":true}',
            "isBase64Encoded": False,
        }
    )
    assert response.status == 201
    assert ("X-One", "1") in response.headers
    assert [v for k, v in response.headers if k == "X-Many"] == ["a", "b"]
    assert ("Set-Cookie", "a=1; Secure") in response.headers
    assert response.body == b'{"ok":true}'


def test_base64_and_empty_and_bare_results() -> None:
    assert to_http_response({"statusCode": 200, "body": "AAE=", "isBase64Encoded": True}).body == b"\x00\x01"
    assert to_http_response({"statusCode": 204}).body == b""
    bare = to_http_response({"hello": "world"})
    assert (bare.status, json.loads(bare.body)) == (200, {"hello": "world"})
    assert ("Content-Type", "application/json") in bare.headers
    broken = to_http_response({"statusCode": "two hundred"})
    assert (broken.status, json.loads(broken.body)) == (500, {"message": "Internal Server Error"})


def test_lambda_context_counts_down_from_the_function_timeout() -> None:
    spec = FunctionSpec(
        "GetStatusFunction", "local-get-status", "get_status", "app", "lambda_handler", 2, 256, {}
    )
    context = LambdaContext(spec)
    assert context.function_name == "local-get-status"
    assert context.memory_limit_in_mb == 256
    assert context.invoked_function_arn.endswith(":function:local-get-status")
    assert context.aws_request_id
    remaining = context.get_remaining_time_in_millis()
    assert 1500 < remaining <= 2000
    time.sleep(0.05)
    assert context.get_remaining_time_in_millis() < remaining


# --- the API's decisions, without sockets -------------------------------------------------------


class Recorder:
    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.result = result if result is not None else {"statusCode": 200, "body": "ok"}
        self.error = error

    def load(self, function: FunctionSpec) -> Any:
        def handler(event: dict[str, Any], context: Any) -> Any:
            self.events.append(event)
            if self.error is not None:
                raise self.error
            return self.result

        return handler


def api(tmp_path: Path, recorder: Recorder) -> LocalApi:
    t = template(tmp_path)
    return LocalApi(t.routes(), FunctionRunner(t.functions(), recorder.load))


def test_unknown_route_is_404_like_api_gateway(tmp_path: Path) -> None:
    recorder = Recorder()
    local = api(tmp_path, recorder)
    try:
        for method, target in [("GET", "/nope"), ("DELETE", "/connections"), ("GET", "/connections/1/2/3")]:
            response = local.handle(request(method, target, [("Authorization", "Bearer dev:alice")]))
            assert (response.status, json.loads(response.body)) == (404, {"message": "Not Found"})
        assert recorder.events == []
    finally:
        local.stop()


@pytest.mark.parametrize(
    "authorization", [None, "Bearer dev:", "Bearer dev:bad user", "Bearer eyJhbGciOi.x.y"]
)
def test_protected_route_without_valid_token_is_401(tmp_path: Path, authorization: str | None) -> None:
    recorder = Recorder()
    local = api(tmp_path, recorder)
    try:
        headers = [("Authorization", authorization)] if authorization is not None else []
        response = local.handle(request("GET", "/connections", headers))
        assert (response.status, json.loads(response.body)) == (401, {"message": "Unauthorized"})
        assert recorder.events == []
    finally:
        local.stop()


def test_valid_token_puts_the_user_in_the_claims(tmp_path: Path) -> None:
    recorder = Recorder()
    local = api(tmp_path, recorder)
    try:
        response = local.handle(request("GET", "/connections/abc", [("Authorization", "Bearer dev:user_42")]))
        assert (response.status, response.body) == (200, b"ok")
        (event,) = recorder.events
        assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "user_42"
        assert event["pathParameters"] == {"id": "abc"}
        assert event["routeKey"] == "GET /connections/{id}"
    finally:
        local.stop()


def test_public_route_needs_no_token_and_ignores_one(tmp_path: Path) -> None:
    recorder = Recorder()
    local = api(tmp_path, recorder)
    try:
        assert local.handle(request("GET", "/exchanges")).status == 200
        assert local.handle(request("GET", "/exchanges", [("Authorization", "garbage")])).status == 200
        assert all("authorizer" not in event["requestContext"] for event in recorder.events)
    finally:
        local.stop()


def test_handler_crash_is_api_gateways_500(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    local = api(tmp_path, Recorder(error=RuntimeError("boom")))
    try:
        response = local.handle(request("GET", "/exchanges"))
        assert (response.status, json.loads(response.body)) == (500, {"message": "Internal Server Error"})
        assert "RuntimeError" in capfd.readouterr().err
    finally:
        local.stop()
