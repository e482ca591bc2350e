"""The orphan-secret sweeper destroys exactly the secrets no connection points at, an hour on."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.api_client import ApiClient
from tests.conftest import FakeContext
from tests.faults import faulty_aws
from tests.integration.test_aws_faults import count_orphans
from tests.integration.test_connections_api import mexc_body
from tests.integration.test_lifecycle import connection_secrets

LATER = datetime.now(UTC) + timedelta(hours=2)


def sweep(now: datetime | None = LATER) -> dict[str, int]:
    from backfuture.sweeper import SecretSweeper

    return SecretSweeper().sweep(now=now).summary()


def test_orphans_go_and_referenced_secrets_stay(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    api = ApiClient("user-a")
    kept = api.post("/connections", mexc_body()).body
    # An add whose transaction failed and whose compensation failed too leaves an orphan
    with faulty_aws(monkeypatch) as clients:
        clients["dynamodb"].fail("transact_write_items", code="ValidationException")
        clients["dynamodb"].fail("get_item", code="ResourceNotFoundException")  # re-read: unknown
        failed = ApiClient("user-b").post("/connections", mexc_body(api_key="mx0vglOrphanKey00001"))
        assert failed.status == 503
    assert count_orphans() == Counter({"secret_without_connection": 1})

    # Too young: a request may still be about to reference it
    assert sweep(now=datetime.now(UTC))["destroyed"] == 0

    report = sweep()
    assert report | {"checked": 2} == {
        "checked": 2,
        "referenced": 1,
        "too_young": 0,
        "destroyed": 1,
        "unattributed": 0,
        "failures": 0,
    }
    assert count_orphans() == Counter()
    (left,) = connection_secrets(aws["SECRET_NAME_PREFIX"])
    assert f"/{kept['id']}/" in left["Name"]
    # A second run finds nothing more
    assert sweep()["destroyed"] == 0


def test_a_remembered_retired_secret_is_destroyed_and_the_current_one_kept(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = ApiClient("user-a")
    connection = api.post("/connections", mexc_body()).body
    with faulty_aws(monkeypatch) as clients:
        clients["secretsmanager"].fail("delete_secret")  # the replaced secret survives, remembered
        rotated = {"api_key": "mx0vglSweepRotated01", "api_secret": "c3" * 16}
        assert api.put(f"/connections/{connection['id']}/credentials", rotated).status == 200
    assert len(connection_secrets(aws["SECRET_NAME_PREFIX"])) == 2

    assert sweep()["destroyed"] == 1
    (left,) = connection_secrets(aws["SECRET_NAME_PREFIX"])
    assert left["Name"].endswith("/v2")


def test_secrets_it_cannot_attribute_or_that_are_not_the_stacks_are_left_alone(aws: dict[str, str]) -> None:
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name=f"{aws['SECRET_NAME_PREFIX']}01JDQ5Z3Y8K2M4N6P7R9S0T1V2/v1", SecretString="x")
    sm.create_secret(
        Name="backfuture/other-stack/connections/01JDQ5Z3Y8K2M4N6P7R9S0T1V2/v1",
        SecretString="x",
        Tags=[{"Key": "owner", "Value": "u"}, {"Key": "connection", "Value": "01JDQ5Z3Y8K2M4N6P7R9S0T1V2"}],
    )

    report = sweep()

    assert report["unattributed"] == 1 and report["destroyed"] == 0 and report["checked"] == 1
    assert len(sm.list_secrets()["SecretList"]) == 3  # the pepper and both


def test_the_scheduled_handler_reports_its_sweep(
    aws: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    from functions.sweep_secrets.app import lambda_handler

    ApiClient("user-a").post("/connections", mexc_body())
    event: dict[str, Any] = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}

    result = lambda_handler(event, FakeContext())

    assert result == {
        "checked": 1,
        "referenced": 0,
        "too_young": 1,
        "destroyed": 0,
        "unattributed": 0,
        "failures": 0,
    }
    assert "sweep finished" in capfd.readouterr().out
