"""The local stack end to end: embedded AWS from the template, real sockets, clean shutdown."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from local import LocalStack
from local.aws import FINGERPRINT_ID, KEY_ID, TABLE_ID
from local.template import DEFAULT_TEMPLATE, REPO_ROOT, FunctionSpec, ServiceTemplate
from simulator.core import Simulator

FIXTURE_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Handler: app.lambda_handler
    Environment:
      Variables:
        TABLE_NAME: !Ref ConnectionsTable
        KMS_KEY_ID: !GetAtt SecretsKey.Arn
        FINGERPRINT_SECRET_ARN: !Ref FingerprintSecret
        EGRESS_IPS: !Join [",", [!Ref EgressIpA, !Ref EgressIpB]]
        MAX_CONNECTIONS_PER_USER: "7"
Resources:
  SecretsKey:
    Type: AWS::KMS::Key
    Properties: {EnableKeyRotation: true}
  SecretsKeyAlias:
    Type: AWS::KMS::Alias
    Properties: {AliasName: !Sub "alias/backfuture/${AWS::StackName}/secrets", TargetKeyId: !Ref SecretsKey}
  FingerprintSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: !Sub backfuture/${AWS::StackName}/fingerprint-pepper
      KmsKeyId: !Ref SecretsKey
      GenerateSecretString: {PasswordLength: 64}
  ConnectionsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub ${AWS::StackName}-connections
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{AttributeName: PK, KeyType: HASH}, {AttributeName: SK, KeyType: RANGE}]
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
        - {AttributeName: SK, AttributeType: S}
        - {AttributeName: KeyFingerprint, AttributeType: S}
      GlobalSecondaryIndexes:
        - IndexName: ByFingerprint
          KeySchema: [{AttributeName: KeyFingerprint, KeyType: HASH}]
          Projection: {ProjectionType: KEYS_ONLY}
          ContributorInsightsSpecification: {Enabled: true}
  GetStatusFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../functions/get_status/
      Environment: {Variables: {POWERTOOLS_SERVICE_NAME: get_status}}
      Events:
        One: {Type: HttpApi, Properties: {Path: "/connections/{id}", Method: GET}}
        Exchanges: {Type: HttpApi, Properties: {Path: /exchanges, Method: GET, Auth: {Authorizer: NONE}}}
  AddConnectionFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../functions/add_connection/
      Environment: {Variables: {POWERTOOLS_SERVICE_NAME: add_connection}}
      Events:
        Add: {Type: HttpApi, Properties: {Path: /connections, Method: POST}}
"""

STACK_VARIABLES = (
    "TABLE_NAME",
    "KMS_KEY_ID",
    "FINGERPRINT_SECRET_ARN",
    "AWS_ENDPOINT_URL",
    "MEXC_SPOT_BASE_URL",
)


class EchoFunctions:
    """Stands in for the handler modules: answers with what it received."""

    def __init__(self) -> None:
        self.imported: list[tuple[str, str | None]] = []

    def load(self, function: FunctionSpec) -> Any:
        self.imported.append((function.logical_id, os.environ.get("POWERTOOLS_SERVICE_NAME")))

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            env = {
                name: os.environ.get(name) for name in (*STACK_VARIABLES, "EGRESS_IPS", "SECRET_NAME_PREFIX")
            }
            body = {
                "function": function.logical_id,
                "event": event,
                "env": env,
                "memory": context.memory_limit_in_mb,
            }
            return {
                "statusCode": 200,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(body),
            }

        return handler


@pytest.fixture(scope="module")
def fixture_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("infra") / "template.yaml"
    path.write_text(FIXTURE_TEMPLATE)
    return path


@pytest.fixture(scope="module")
def echo() -> EchoFunctions:
    return EchoFunctions()


@pytest.fixture(scope="module")
def stack(fixture_template: Path, echo: EchoFunctions) -> Iterator[LocalStack]:
    with LocalStack(template_path=fixture_template, handler_loader=echo.load) as running:
        yield running


def call(
    url: str, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def aws_client(stack: LocalStack, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=stack.moto_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


# --- resources from the template ------------------------------------------------------------------


def test_table_is_created_from_the_templates_definition(stack: LocalStack, fixture_template: Path) -> None:
    definition = ServiceTemplate.load(fixture_template).resource(TABLE_ID, "AWS::DynamoDB::Table")
    assert stack.resources is not None
    assert stack.resources.table_name == "local-connections"
    table = aws_client(stack, "dynamodb").describe_table(TableName=stack.resources.table_name)["Table"]
    assert table["KeySchema"] == definition["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(
        definition["AttributeDefinitions"], key=str
    )
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    (index,) = table["GlobalSecondaryIndexes"]
    assert (index["IndexName"], index["KeySchema"]) == (
        "ByFingerprint",
        [{"AttributeName": "KeyFingerprint", "KeyType": "HASH"}],
    )


def test_key_alias_and_fingerprint_secret_exist(stack: LocalStack) -> None:
    resources = stack.resources
    assert resources is not None
    kms = aws_client(stack, "kms")
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/backfuture/local/secrets"] == resources.key_id
    assert kms.get_key_rotation_status(KeyId=resources.key_id)["KeyRotationEnabled"] is True
    sm = aws_client(stack, "secretsmanager")
    described = sm.describe_secret(SecretId=resources.fingerprint_secret_arn)
    assert described["Name"] == "backfuture/local/fingerprint-pepper"
    assert described["KmsKeyId"] == resources.key_arn
    pepper = sm.get_secret_value(SecretId=resources.fingerprint_secret_arn)["SecretString"]
    assert len(bytes.fromhex(pepper)) == 32


def test_real_template_resources_are_created_from_it() -> None:
    assert DEFAULT_TEMPLATE.is_file(), "infra/template.yaml is missing"
    definition = ServiceTemplate.load().resource(TABLE_ID, "AWS::DynamoDB::Table")
    ServiceTemplate.load().resource(KEY_ID, "AWS::KMS::Key")
    ServiceTemplate.load().resource(FINGERPRINT_ID, "AWS::SecretsManager::Secret")
    with LocalStack(with_api=False, handler_loader=EchoFunctions().load) as real:
        assert real.resources is not None
        table = aws_client(real, "dynamodb").describe_table(TableName=real.resources.table_name)["Table"]
        assert table["KeySchema"] == definition["KeySchema"]
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            definition["AttributeDefinitions"], key=str
        )
        assert [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])] == [
            i["IndexName"] for i in definition.get("GlobalSecondaryIndexes", [])
        ]
        assert real.environment["TABLE_NAME"] == real.resources.table_name
        assert real.environment["SECRET_NAME_PREFIX"] == "backfuture/local/connections/"


# --- environment --------------------------------------------------------------------------------


def test_functions_get_the_templates_environment_with_local_resources(stack: LocalStack) -> None:
    status, _, body = call(stack.api_url, "GET", "/exchanges")
    assert status == 200
    env = json.loads(body)["env"]
    assert stack.resources is not None
    assert env["TABLE_NAME"] == stack.resources.table_name
    assert env["KMS_KEY_ID"] == stack.resources.key_arn
    assert env["FINGERPRINT_SECRET_ARN"] == stack.resources.fingerprint_secret_arn
    assert env["SECRET_NAME_PREFIX"] == "backfuture/local/connections/"
    assert env["AWS_ENDPOINT_URL"] == stack.moto_url
    assert env["MEXC_SPOT_BASE_URL"] == f"{stack.simulator_url}/mexc-spot"
    assert stack.environment["MAX_CONNECTIONS_PER_USER"] == "7"  # the template's literal
    assert stack.environment["POWERTOOLS_TRACE_DISABLED"] == "true"


def test_function_specific_variables_are_set_while_it_cold_starts(
    stack: LocalStack, echo: EchoFunctions
) -> None:
    call(stack.api_url, "GET", "/exchanges")
    assert ("GetStatusFunction", "get_status") in echo.imported


def test_user_settings_win_and_environment_is_restored(
    fixture_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EGRESS_IPS", "198.51.100.1")
    monkeypatch.setenv("MEXC_SPOT_BASE_URL", "http://127.0.0.1:9/elsewhere")
    monkeypatch.setenv("AWS_PROFILE", "a-real-account")
    monkeypatch.delenv("KUCOIN_SPOT_BASE_URL", raising=False)  # set by the module's running stack
    before = {name: os.environ.get(name) for name in (*STACK_VARIABLES, "AWS_PROFILE", "AWS_ACCESS_KEY_ID")}
    with LocalStack(
        template_path=fixture_template,
        with_api=False,
        handler_loader=EchoFunctions().load,
        inherit_settings=True,
    ) as local:
        assert os.environ["EGRESS_IPS"] == "198.51.100.1"
        assert os.environ["MEXC_SPOT_BASE_URL"] == "http://127.0.0.1:9/elsewhere"
        assert os.environ["KUCOIN_SPOT_BASE_URL"] == f"{local.simulator_url}/kucoin-spot"
        assert "AWS_PROFILE" not in os.environ
        assert local.sim is not None
        assert local.sim.config.client_ip == "198.51.100.1"
    assert {name: os.environ.get(name) for name in before} == before


def test_in_process_stack_ignores_the_callers_settings_by_default(
    fixture_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EGRESS_IPS", "198.51.100.1")
    monkeypatch.setenv("MEXC_SPOT_BASE_URL", "http://127.0.0.1:9/elsewhere")
    overrides = {"TEST_COOLDOWN_S": "0"}
    with LocalStack(
        template_path=fixture_template,
        with_api=False,
        handler_loader=EchoFunctions().load,
        env_overrides=overrides,
    ) as local:
        assert os.environ["EGRESS_IPS"] == "203.0.113.10,203.0.113.11"
        assert os.environ["MEXC_SPOT_BASE_URL"] == f"{local.simulator_url}/mexc-spot"
        assert os.environ["TEST_COOLDOWN_S"] == "0"


# --- the HTTP API -------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer dev:", "Bearer dev:not valid", "Bearer a.b.c"])
def test_protected_route_answers_401_like_the_jwt_authorizer(
    stack: LocalStack, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    status, response_headers, body = call(stack.api_url, "GET", "/connections/abc", headers=headers)
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert response_headers["content-type"] == "application/json"


def test_token_user_reaches_the_function_as_sub(stack: LocalStack) -> None:
    status, _, body = call(
        stack.api_url,
        "GET",
        "/connections/c-1?x=1",
        headers={"Authorization": "Bearer dev:alice", "Cookie": "a=b"},
    )
    assert status == 200
    answer = json.loads(body)
    event = answer["event"]
    assert answer["function"] == "GetStatusFunction"
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "alice"
    assert event["routeKey"] == "GET /connections/{id}"
    assert event["pathParameters"] == {"id": "c-1"}
    assert event["queryStringParameters"] == {"x": "1"}
    assert event["cookies"] == ["a=b"]
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert answer["memory"] == 128


def test_public_route_needs_no_token(stack: LocalStack) -> None:
    status, _, body = call(stack.api_url, "GET", "/exchanges")
    assert status == 200
    assert "authorizer" not in json.loads(body)["event"]["requestContext"]


def test_post_body_reaches_the_function(stack: LocalStack) -> None:
    payload = json.dumps({"name": "x"}).encode()
    headers = {"Authorization": "Bearer dev:bob", "Content-Type": "application/json"}
    status, _, body = call(stack.api_url, "POST", "/connections", headers=headers, body=payload)
    event = json.loads(body)["event"]
    assert (status, event["body"], event["isBase64Encoded"]) == (200, payload.decode(), False)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/unknown"),
        ("DELETE", "/connections"),
        ("GET", "/"),
        # methods no route has, which the stdlib server would answer with a 501 HTML page
        ("TRACE", "/connections"),
        ("TRACE", "/exchanges"),
        ("CONNECT", "/connections"),
        ("PROPFIND", "/egress-ips"),
    ],
)
def test_unknown_route_or_method_is_the_gateways_404(stack: LocalStack, method: str, path: str) -> None:
    for headers in ({"Authorization": "Bearer dev:alice"}, {}):
        status, response_headers, body = call(stack.api_url, method, path, headers=headers)
        assert (status, json.loads(body)) == (404, {"message": "Not Found"})
        assert response_headers["content-type"] == "application/json"


def test_payload_over_10_mb_is_413_without_reading_it(stack: LocalStack) -> None:
    parts = urlsplit(stack.api_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            b"POST /connections HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dev:a\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10485761\r\n\r\n"
        )
        received = b""
        while chunk := sock.recv(65536):  # the server closes the connection after answering
            received += chunk
        answer = received.decode()
    assert answer.startswith("HTTP/1.1 413")
    assert answer.endswith('{"message":"Request Entity Too Large"}')


# --- the real handlers --------------------------------------------------------------------------


@pytest.mark.skipif(
    not (REPO_ROOT / "functions" / "add_connection" / "app.py").exists(), reason="handlers not written yet"
)
def test_real_handlers_add_and_test_a_mexc_connection() -> None:
    from simulator.mexc import DEMO_KEYS

    demo = next(key for key in DEMO_KEYS if key.outcome == "connected" and key.markets == "spot")
    alice = {"Authorization": "Bearer dev:alice", "Content-Type": "application/json"}
    with LocalStack() as local:
        body = {"exchange": "mexc", "name": "Main", "api_key": demo.api_key, "api_secret": demo.api_secret}
        status, _, raw = call(
            local.api_url, "POST", "/connections", headers=alice, body=json.dumps(body).encode()
        )
        assert status == 201, raw
        assert demo.api_secret.encode() not in raw
        connection = json.loads(raw)
        assert connection["status"] == "untested"
        status, _, raw = call(local.api_url, "POST", f"/connections/{connection['id']}/test", headers=alice)
        assert status == 200, raw
        assert (json.loads(raw)["status"], json.loads(raw)["status_label"]) == ("connected", "Online")
        bob = {"Authorization": "Bearer dev:bob"}
        status, _, raw = call(local.api_url, "GET", f"/connections/{connection['id']}", headers=bob)
        assert status == 404
        status, _, raw = call(local.api_url, "GET", "/egress-ips")
        assert (status, json.loads(raw)) == (200, {"egress_ips": ["203.0.113.10", "203.0.113.11"]})


def test_dev_routes_run_the_revalidation_and_show_the_published_events() -> None:
    # The story: Online, the exchange goes into maintenance, re-validation turns it to
    # unavailable and back once the exchange returns; both changes are on the bus.
    from simulator.core import Fault
    from simulator.mexc import DEMO_KEYS

    demo = next(key for key in DEMO_KEYS if key.outcome == "connected" and key.markets == "spot")
    alice = {"Authorization": "Bearer dev:alice", "Content-Type": "application/json"}
    with LocalStack() as local:
        assert local.sim is not None
        body = {"exchange": "mexc", "name": "Main", "api_key": demo.api_key, "api_secret": demo.api_secret}
        _, _, raw = call(local.api_url, "POST", "/connections", headers=alice, body=json.dumps(body).encode())
        cid = json.loads(raw)["id"]
        call(local.api_url, "POST", f"/connections/{cid}/test", headers=alice)

        local.sim.config.fault = Fault.HTTP_503
        status, _, raw = call(local.api_url, "POST", "/_dev/revalidate")
        assert (status, json.loads(raw)) == (200, {"checked": 1, "changed": 1})
        _, _, raw = call(local.api_url, "GET", f"/connections/{cid}", headers=alice)
        assert json.loads(raw)["status"] == "unavailable"

        local.sim.config.fault = Fault.NONE
        status, _, raw = call(local.api_url, "POST", "/_dev/revalidate")
        assert (status, json.loads(raw)) == (200, {"checked": 1, "changed": 1})

        status, _, raw = call(local.api_url, "GET", "/_dev/events")
        assert status == 200
        events = json.loads(raw)["events"]
        assert {(e["Source"], e["DetailType"]) for e in events} == {
            ("backfuture.connections", "Connection Status Changed")
        }
        assert [(e["Detail"]["previous_status"], e["Detail"]["status"]) for e in events] == [
            ("untested", "connected"),
            ("connected", "unavailable"),
            ("unavailable", "connected"),
        ]
        # not a route of the template: any other /_dev path is the gateway's 404
        status, _, raw = call(local.api_url, "GET", "/_dev/other")
        assert (status, json.loads(raw)) == (404, {"message": "Not Found"})


# --- shutdown and the command line --------------------------------------------------------------


def _refuses(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
    except OSError:
        return True
    return False


def test_stop_closes_every_port_and_can_be_repeated(fixture_template: Path) -> None:
    local = LocalStack(template_path=fixture_template, handler_loader=EchoFunctions().load).start()
    urls = [local.api_url, local.simulator_url, local.moto_url]
    assert isinstance(local.sim, Simulator)
    local.stop()
    local.stop()
    assert all(_refuses(url) for url in urls)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_command_prints_where_it_listens_and_stops_cleanly(signum: int, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PORT": "0",
        "SIMULATOR_PORT": "0",
        "LOCAL_STACK_STATE": str(tmp_path / "state.json"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "curl -s" in line and "/connections -H" in line and "-X POST" not in line:
                break
        banner = "".join(lines)
        api_url = next(
            word
            for line in lines
            if line.strip().startswith("API")
            for word in line.split()
            if word.startswith("http")
        )
        for label in ("API", "simulator", "AWS (moto)", "egress IPs", "203.0.113.10", "curl"):
            assert label in banner
        assert (tmp_path / "state.json").is_file()
        assert call(api_url, "GET", "/egress-ips")[0] == 200
        process.send_signal(signum)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "stopped" in out
    assert _refuses(api_url)
    assert not (tmp_path / "state.json").exists()


def test_invoke_runs_one_function_with_one_event(
    fixture_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from local.invoke import main

    monkeypatch.setenv("LOCAL_STACK_STATE", str(tmp_path / "none.json"))
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps({"version": "2.0", "rawPath": "/exchanges"}))
    echo = EchoFunctions()
    assert (
        main(["GetStatusFunction", str(event_path), "--template", str(fixture_template)], loader=echo.load)
        == 0
    )
    printed = json.loads(capfd.readouterr().out)
    assert printed["statusCode"] == 200
    answer = json.loads(printed["body"])
    assert answer["event"] == {"version": "2.0", "rawPath": "/exchanges"}
    assert answer["env"]["TABLE_NAME"] == "local-connections"
    assert main(["NoSuchFunction", str(event_path), "--template", str(fixture_template)]) == 2
