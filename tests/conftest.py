"""Fixtures every suite shares: a clean AWS (moto) with the template's resources, events, users."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

# Before any boto3 client exists: no real AWS, ever, from a test run.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "BackFutureTest",
        "POWERTOOLS_SERVICE_NAME": "connections",
        "TABLE_NAME": "connections-test",
        "SECRET_NAME_PREFIX": "backfuture/test/connections/",
        "EGRESS_IPS": "203.0.113.10,203.0.113.11",
        "TEST_COOLDOWN_S": "0",
        # The abuse limits get their own tests (tests/integration/test_abuse_limits.py); elsewhere
        # they must not interfere, and the exchange behind the tests is the local simulator.
        "TESTS_PER_USER_PER_HOUR": "100000",
        "CONNECTIONS_CREATED_PER_USER_PER_DAY": "100000",
        "PLATFORM_BUDGET_FACTOR": "1000",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


class FakeContext:
    function_name = "test-function"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id = "req-0000"

    def get_remaining_time_in_millis(self) -> int:
        return 20_000


def api_event(
    method: str,
    path: str,
    *,
    route: str | None = None,
    user: str | None = "user-a",
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the real API sends it after the JWT authorizer."""
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    path, _, query = path.partition("?")
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.example.com",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "198.51.100.7",
            "userAgent": "pytest",
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": f"{method} {route or path}",
        "stage": "$default",
        "time": "25/Nov/2026:10:00:00 +0000",
        "timeEpoch": 1795600000000,
    }
    if user is not None:
        request_context["authorizer"] = {"jwt": {"claims": {"sub": user}, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route or path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if path_parameters:
        event["pathParameters"] = path_parameters
    if query:
        from urllib.parse import parse_qsl

        event["queryStringParameters"] = dict(parse_qsl(query, keep_blank_values=True))
    if text is not None:
        event["body"] = text
    return event


def response_json(response: dict[str, Any]) -> Any:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body) if body else None


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


class InProcessAws:
    """``local.aws.create_resources`` against moto's in-process mock instead of its server."""

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name="us-east-1")


@contextmanager
def moto_account(**overrides: str) -> Iterator[dict[str, str]]:
    """A fresh moto account with the template's table, KMS key and fingerprint pepper, and the
    service configured for it (``overrides`` add or change environment variables)."""
    from moto import mock_aws

    from backfuture.aws import reset_clients
    from backfuture.config import settings
    from local.aws import create_resources
    from local.moto_fidelity import serialize_dynamodb
    from local.template import ServiceTemplate

    serialize_dynamodb()
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        created = create_resources(InProcessAws(), ServiceTemplate.load())
        env = {
            "TABLE_NAME": created.table_name,
            "KMS_KEY_ID": created.key_arn,
            "FINGERPRINT_SECRET_ARN": created.fingerprint_secret_arn,
            "SECRET_NAME_PREFIX": "backfuture/test/connections/",
            "EVENT_BUS_NAME": created.event_bus_name,
            **overrides,
        }
        for name, value in env.items():
            patch.setenv(name, value)
        settings.cache_clear()
        reset_clients()
        reset_function_services()
        try:
            yield env
            scan_table_for_secrets()
        finally:
            settings.cache_clear()
            reset_clients()
            reset_function_services()


@pytest.fixture
def aws() -> Iterator[dict[str, str]]:
    with moto_account() as env:
        yield env


def reset_function_services() -> None:
    import importlib

    from tests.api_client import reset_containers

    reset_containers()

    for name in ("add_connection", "test_connection", "get_status"):
        module = importlib.import_module(f"functions.{name}.app")
        module.service.cache_clear()


# --------------------------------------------------------------------------------------------
# No secret anywhere: every test's output, every response (tests/api_client.py), every item.
# --------------------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    from simulator import demo_key_modules
    from tests.secret_guard import register

    for module in demo_key_modules():
        for demo in module.DEMO_KEYS:
            register(demo.api_key, demo.api_secret, demo.passphrase)


@pytest.fixture(autouse=True)
def _no_secret_in_output(capfd: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    from tests.secret_guard import assert_no_secret

    if request.node.get_closest_marker("prints_secrets"):
        return
    out, err = capfd.readouterr()
    assert_no_secret(out + err, where=f"output of {request.node.name}")


def scan_table_for_secrets() -> int:
    """Fail if any DynamoDB item holds a registered secret; returns the number of items read."""
    import boto3

    from tests.secret_guard import assert_no_secret

    table = os.environ["TABLE_NAME"]
    items = boto3.client("dynamodb").scan(TableName=table).get("Items", [])
    assert_no_secret(json.dumps(items), where=f"DynamoDB table {table}")
    return len(items)


# --------------------------------------------------------------------------------------------
# The exchange simulator, once per session, with the service's base URLs pointed at it.
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def simulator() -> Iterator[Any]:
    from simulator import all_venues, base_url_variables
    from simulator.core import Simulator

    sim = Simulator(all_venues()).start()
    with pytest.MonkeyPatch.context() as patch:
        for variable, venue in base_url_variables().items():
            patch.setenv(variable, sim.base_url(venue))
        yield sim
    sim.stop()


@pytest.fixture
def sim(simulator: Any) -> Iterator[Any]:
    """The session's simulator, reset (config, request log) and with no cached clock offsets."""
    from backfuture.engine.probe import forget_cached_answers
    from backfuture.engine.server_clock import server_clock

    simulator.reset()
    server_clock.forget()
    forget_cached_answers()
    yield simulator
    simulator.reset()
