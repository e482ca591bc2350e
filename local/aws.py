"""The embedded AWS: a moto server on loopback with the template's key, secret and table.

Resources are created from the definitions in infra/template.yaml (key schema, attributes, billing
mode, indexes), so the local table cannot drift from the deployed one.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import boto3
from moto.server import ThreadedMotoServer

from local.template import REGION, Intrinsic, ServiceTemplate, TemplateError, UnresolvedError

TABLE_ID = "ConnectionsTable"
KEY_ID = "SecretsKey"
FINGERPRINT_ID = "FingerprintSecret"
EVENT_BUS_ID = "StatusEventBus"
# Local only: a queue subscribed to the bus, so GET /_dev/events can show what was published.
EVENTS_QUEUE_NAME = "local-status-events"

# Names used when the template leaves them to CloudFormation (or builds them from values only a
# deployment knows).
FALLBACK_TABLE_NAME = "local-connections"
FALLBACK_ALIAS = "alias/backfuture/local/secrets"
FALLBACK_FINGERPRINT_NAME = "backfuture/local/fingerprint-pepper"

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}

# CloudFormation-only index properties (ContributorInsightsSpecification, ...) are not API parameters.
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    table_arn: str
    key_id: str
    key_arn: str
    key_alias: str
    fingerprint_secret_arn: str
    event_bus_name: str = ""
    event_bus_arn: str = ""
    events_queue_url: str = ""


class ClientFactory(Protocol):
    """Anything that makes boto3 clients: :class:`EmbeddedAws`, or moto's in-process mock in tests."""

    def client(self, service: str) -> Any: ...


class EmbeddedAws:
    """moto in server mode; every boto3 client reaches it through ``AWS_ENDPOINT_URL``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # werkzeug logs every request on stderr; the dev server's own access log is the useful one.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._host, self._port = host, port
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.url = ""

    def start(self) -> EmbeddedAws:
        if self._port:
            _check_port_free(self._host, self._port)  # moto's server thread would hang start() instead
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        # moto's state lives in this process and outlives a server: start from an empty account.
        self.reset()
        return self

    def reset(self) -> None:
        # S310: the URL is our own loopback server's, never user input.
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            response.read()

    def stop(self) -> None:
        try:
            self.reset()
        finally:
            self._server.stop()
            inner = self._server._server  # ThreadedMotoServer.stop() leaves the socket open
            if inner is not None:
                inner.server_close()

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service, endpoint_url=self.url, region_name=REGION, **_boto_credentials()
        )


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))  # OSError (address in use) when taken


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def create_resources(aws: ClientFactory, template: ServiceTemplate) -> LocalResources:
    """Create the KMS key (and alias), the fingerprint secret and the table the template defines."""
    key_props = template.resource(KEY_ID, "AWS::KMS::Key")
    secret_props = template.resource(FINGERPRINT_ID, "AWS::SecretsManager::Secret")
    table_props = template.resource(TABLE_ID, "AWS::DynamoDB::Table")
    resolver = template.resolver()

    kms = aws.client("kms")
    key = kms.create_key(
        Description=_literal(
            resolver.resolve_str, key_props.get("Description"), "BackFuture local secrets key"
        ),
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec=str(key_props.get("KeySpec", "SYMMETRIC_DEFAULT")),
    )["KeyMetadata"]
    if key_props.get("EnableKeyRotation") is True:
        kms.enable_key_rotation(KeyId=key["KeyId"])
    resolver.refs[KEY_ID] = key["KeyId"]
    resolver.attrs[f"{KEY_ID}.Arn"] = key["Arn"]
    resolver.attrs[f"{KEY_ID}.KeyId"] = key["KeyId"]

    alias = FALLBACK_ALIAS
    for props in template.of_type("AWS::KMS::Alias").values():
        if _refers_to(props.get("TargetKeyId"), KEY_ID):
            alias = _literal(resolver.resolve_str, props.get("AliasName"), FALLBACK_ALIAS)
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])

    # The pepper of API-key fingerprints: random, like the template's GenerateSecretString.
    secret = aws.client("secretsmanager").create_secret(
        Name=_literal(resolver.resolve_str, secret_props.get("Name"), FALLBACK_FINGERPRINT_NAME),
        KmsKeyId=key["Arn"],
        SecretString=secrets.token_hex(32),
        Description=_literal(
            resolver.resolve_str, secret_props.get("Description"), "API-key fingerprint pepper"
        ),
    )
    resolver.refs[FINGERPRINT_ID] = secret["ARN"]

    table_name = _literal(resolver.resolve_str, table_props.get("TableName"), FALLBACK_TABLE_NAME)
    dynamodb = aws.client("dynamodb")
    table = dynamodb.create_table(**table_definition(table_props, table_name))["TableDescription"]
    ttl = table_props.get("TimeToLiveSpecification")
    if isinstance(ttl, dict) and ttl.get("Enabled") is True:
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": str(ttl["AttributeName"])},
        )
    bus_name, bus_arn, queue_url = _create_event_bus(aws, template, resolver)
    return LocalResources(
        table_name=table_name,
        table_arn=table["TableArn"],
        key_id=key["KeyId"],
        key_arn=key["Arn"],
        key_alias=alias,
        fingerprint_secret_arn=secret["ARN"],
        event_bus_name=bus_name,
        event_bus_arn=bus_arn,
        events_queue_url=queue_url,
    )


def _create_event_bus(aws: ClientFactory, template: ServiceTemplate, resolver: Any) -> tuple[str, str, str]:
    """The template's status-event bus, and a queue receiving everything the service puts on it.

    A template without the bus (a test's cut-down copy) gets none: the functions then publish nothing.
    """
    if EVENT_BUS_ID not in template.resources:
        return "", "", ""
    props = template.resource(EVENT_BUS_ID, "AWS::Events::EventBus")
    name = _literal(resolver.resolve_str, props.get("Name"), "local-connections")
    events = aws.client("events")
    bus_arn = events.create_event_bus(Name=name)["EventBusArn"]
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName=EVENTS_QUEUE_NAME)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="local-status-events",
        EventBusName=name,
        EventPattern=json.dumps({"source": ["backfuture.connections"]}),
    )
    events.put_targets(
        Rule="local-status-events", EventBusName=name, Targets=[{"Id": "queue", "Arn": queue_arn}]
    )
    return name, bus_arn, queue_url


def table_definition(props: dict[str, Any], table_name: str) -> dict[str, Any]:
    """CreateTable parameters from the template's AWS::DynamoDB::Table properties."""
    if not props.get("KeySchema") or not props.get("AttributeDefinitions"):
        raise TemplateError(f"{TABLE_ID} needs KeySchema and AttributeDefinitions")
    billing_mode = str(props.get("BillingMode", "PROVISIONED"))
    definition: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": billing_mode,
    }
    if billing_mode == "PROVISIONED":
        definition["ProvisionedThroughput"] = props.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    for name in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(name):
            definition[name] = [{k: v for k, v in index.items() if k in _INDEX_KEYS} for index in props[name]]
    return definition


def _literal(resolve: Callable[[Any], str], value: Any, fallback: str) -> str:
    if value is None:
        return fallback
    try:
        return str(resolve(value))
    except UnresolvedError:
        return fallback


def _refers_to(value: Any, logical_id: str) -> bool:
    """True for ``!Ref X``, ``!GetAtt X.Arn`` and their long forms."""
    if isinstance(value, dict) and len(value) == 1:
        (name,) = value
        value = Intrinsic(name.removeprefix("Fn::"), value[name])
    if not isinstance(value, Intrinsic):
        return False
    if value.name == "Ref":
        return bool(value.value == logical_id)
    if value.name == "GetAtt":
        target = value.value.split(".", 1)[0] if isinstance(value.value, str) else value.value[0]
        return bool(target == logical_id)
    return False
