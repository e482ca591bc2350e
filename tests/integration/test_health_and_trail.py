"""Issue 13: the audit trail, status-change events, re-validation, trading readiness and languages,
through the real handlers on moto and the exchange simulator."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from typing import Any

import boto3
import pytest

from backfuture import revalidation
from backfuture.service import ConnectionService
from simulator.core import Fault
from simulator.demo_keys import DemoKey
from tests.api_client import ApiClient
from tests.integration.test_connection_test import add, all_demo_keys
from tests.integration.test_lifecycle import connection_secrets, credentials_of, table_items


def demo(outcome: str, exchange: str = "mexc", warning: str | None = None) -> DemoKey:
    return next(
        d
        for d in all_demo_keys()
        if d.outcome == outcome
        and d.exchange == exchange
        and (d.warnings == {warning} if warning else not d.warnings)
    )


@pytest.fixture
def api(aws: dict[str, str], sim: Any) -> ApiClient:
    return ApiClient("user-a")


def published() -> list[dict[str, Any]]:
    """Status-change events the service put on the bus (moto delivers them to the test queue)."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="local-status-events")["QueueUrl"]
    events = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            event = json.loads(message["Body"])
            assert event["source"] == "backfuture.connections"
            assert event["detail-type"] == "Connection Status Changed"
            events.append(
                event["detail"] if isinstance(event["detail"], dict) else json.loads(event["detail"])
            )
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return events


def trail(api: ApiClient, connection_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/connections/{connection_id}/events")
    assert response.status == 200, response.body
    return list(response.body["events"])


def revalidate() -> revalidation.Summary:
    return revalidation.run(ConnectionService(), all_due=True)


# -- audit trail ----------------------------------------------------------------------------------


def test_the_trail_records_creation_tests_and_changes_newest_first(api: ApiClient) -> None:
    connection = add(api, demo("connected"))
    cid = connection["id"]
    assert api.post(f"/connections/{cid}/test").body["status"] == "connected"
    assert api.patch(f"/connections/{cid}", {"name": "Renamed", "markets": ["spot"]}).status == 200

    events = trail(api, cid)
    assert [e["type"] for e in events] == ["renamed", "status_changed", "tested", "created"]
    renamed, changed, tested, created = events
    assert renamed["details"] == {"from": "Demo", "to": "Renamed"}
    assert changed["details"] == {"from": "untested", "to": "connected"}
    assert tested["details"] == {"status": "connected", "code": None, "warnings": []}
    assert created["details"]["markets"] == ["spot"]
    for event in events:
        assert event["actor"] == "user" and event["connection_id"] == cid and event["exchange"] == "mexc"
        # from API Gateway's request context (tests.conftest.api_event)
        assert event["source_ip"] == "198.51.100.7" and event["user_agent"] == "pytest"
    # kept 400 days: DynamoDB's TTL attribute on every event item
    stored = [i for i in table_items() if i["SK"]["S"].startswith("EVENT#")]
    assert len(stored) == 4
    for item in stored:
        left_days = (int(item["expires_at"]["N"]) - time.time()) / 86_400
        assert 399.9 < left_days <= 400


def test_another_users_trail_is_not_found(api: ApiClient) -> None:
    connection = add(api, demo("connected"))
    other = api.as_user("user-b")
    assert other.get(f"/connections/{connection['id']}/events").status == 404
    assert other.get("/events").body == {"events": [], "next": None}


def test_a_connection_without_events_yet_has_an_empty_trail(api: ApiClient) -> None:
    connection = add(api, demo("connected"))
    # events written before this feature existed: simulate by removing them
    db = boto3.client("dynamodb")
    for item in table_items():
        if item["SK"]["S"].startswith("EVENT#"):
            db.delete_item(TableName=os.environ["TABLE_NAME"], Key={"PK": item["PK"], "SK": item["SK"]})
    assert api.get(f"/connections/{connection['id']}/events").body == {"events": [], "next": None}


def test_the_users_trail_pages_across_connections_and_keeps_deleted_ones(api: ApiClient) -> None:
    first = add(api, demo("connected"), name="First")
    second = add(api, demo("no_trade_permission"), name="Second")
    api.post(f"/connections/{second['id']}/test")
    assert api.delete(f"/connections/{first['id']}").status == 204

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get("/events?limit=2" + (f"&cursor={cursor}" if cursor else "")).body
        assert len(page["events"]) <= 2
        seen += page["events"]
        cursor = page["next"]
        if cursor is None:
            break
    assert [(e["type"], e["connection_id"]) for e in seen] == [
        ("deleted", first["id"]),
        ("status_changed", second["id"]),
        ("tested", second["id"]),
        ("created", second["id"]),
        ("created", first["id"]),
    ]
    assert seen[1]["details"] == {"from": "untested", "to": "failed"}
    assert seen[2]["details"]["code"] == "no_trade_permission"
    # the deleted connection's own trail stays readable too
    assert [e["type"] for e in trail(api, first["id"])] == ["deleted", "created"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "cursor=bm90LWEta2V5", "cursor=%00"])
def test_bad_paging_parameters_are_validation_errors(api: ApiClient, query: str) -> None:
    response = api.get(f"/events?{query}")
    assert response.status == 422 and response.body["error"]["code"] == "validation_error"


def test_a_refusal_and_a_credential_change_are_in_the_trail_without_secrets(api: ApiClient) -> None:
    refused_key = demo("withdrawal_enabled")
    connection = add(api, refused_key)
    cid = connection["id"]
    assert api.post(f"/connections/{cid}/test").body["status"] == "refused"
    good = demo("connected")
    assert api.put(f"/connections/{cid}/credentials", credentials_of(good)).status == 200
    types = [e["type"] for e in trail(api, cid)]
    assert types == [
        "status_changed",
        "credentials_replaced",
        "refused",
        "status_changed",
        "tested",
        "created",
    ]
    replaced = trail(api, cid)[1]
    assert replaced["details"] == {"api_key_hint": f"{good.api_key[:4]}…{good.api_key[-4:]}"}
    items = json.dumps([i for i in table_items() if i["SK"]["S"].startswith("EVENT#")])
    for value in (refused_key.api_key, refused_key.api_secret, good.api_key, good.api_secret):
        assert value not in items


# -- status-change events -------------------------------------------------------------------------


def test_each_change_is_published_once_and_a_non_change_not_at_all(api: ApiClient) -> None:
    connection = add(api, demo("connected"))
    cid = connection["id"]
    assert published() == []  # untested: nothing for the strategy runner yet

    api.post(f"/connections/{cid}/test")
    api.post(f"/connections/{cid}/test")  # the same result: no change
    [event] = published()
    assert event == {
        "user_id": "user-a",
        "connection_id": cid,
        "exchange": "mexc",
        "previous_status": "untested",
        "status": "connected",
        "trading_ready": True,
        "code": None,
        "checked_at": event["checked_at"],
    }

    api.put(f"/connections/{cid}/credentials", credentials_of(demo("connected")))
    [event] = published()
    assert (event["previous_status"], event["status"], event["trading_ready"]) == (
        "connected",
        "untested",
        False,
    )

    api.put(f"/connections/{cid}/credentials", credentials_of(demo("connected")))
    assert published() == []  # untested to untested

    api.delete(f"/connections/{cid}")
    [event] = published()
    assert (event["previous_status"], event["status"], event["trading_ready"]) == (
        "untested",
        "deleted",
        False,
    )


def test_a_refusal_is_published_with_its_code(api: ApiClient) -> None:
    connection = add(api, demo("withdrawal_enabled"))
    api.post(f"/connections/{connection['id']}/test")
    [event] = published()
    assert (event["status"], event["code"], event["trading_ready"]) == (
        "refused",
        "withdrawal_enabled",
        False,
    )


# -- re-validation --------------------------------------------------------------------------------


def test_revalidation_follows_a_maintenance_and_the_recovery(api: ApiClient, sim: Any) -> None:
    connection = add(api, demo("connected"))
    cid = connection["id"]
    api.post(f"/connections/{cid}/test")
    published()

    sim.config.fault = Fault.HTTP_503
    assert revalidate() == revalidation.Summary(checked=1, changed=1, due=1)
    now = api.get(f"/connections/{cid}").body
    assert (
        now["status"] == "unavailable" and now["trading_ready"] is True
    )  # as before: the key was not judged
    assert now["error"]["code"] == "exchange_unavailable"
    [event] = published()
    assert (event["previous_status"], event["status"]) == ("connected", "unavailable")

    # still in maintenance: re-tested, nothing changed, nothing published
    assert revalidate() == revalidation.Summary(checked=1, changed=0, due=1)
    assert published() == []

    sim.config.fault = Fault.NONE
    assert revalidate().changed == 1
    assert api.get(f"/connections/{cid}").body["status"] == "connected"
    [event] = published()
    assert (event["previous_status"], event["status"]) == ("unavailable", "connected")

    system = [e for e in trail(api, cid) if e["actor"] == "system"]
    assert [e["type"] for e in system] == ["status_changed", "tested", "tested", "status_changed", "tested"]
    assert all(e["source_ip"] is None and e["user_agent"] is None for e in system)


def test_revalidation_skips_what_it_must_not_test(api: ApiClient) -> None:
    untested = add(api, demo("connected"), name="Untested")
    failed = add(api, demo("no_trade_permission"), name="Failed")
    api.post(f"/connections/{failed['id']}/test")
    assert revalidate() == revalidation.Summary(checked=0, changed=0, due=0)
    assert api.get(f"/connections/{untested['id']}").body["status"] == "untested"


def test_revalidation_refuses_a_key_that_became_able_to_withdraw(api: ApiClient, aws: dict[str, str]) -> None:
    connection = add(api, demo("withdrawal_enabled"))
    cid = connection["id"]
    # The key was Online once (before its owner enabled withdrawals): as a past test left it.
    db = boto3.client("dynamodb")
    db.update_item(
        TableName=os.environ["TABLE_NAME"],
        Key={"PK": {"S": "USER#user-a"}, "SK": {"S": f"CONN#{cid}"}},
        UpdateExpression="SET #s = :c, trading_ready = :t, checked_at = :at",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":c": {"S": "connected"},
            ":t": {"BOOL": True},
            ":at": {"S": "2026-01-01T00:00:00.000Z"},
        },
    )
    assert revalidate().changed == 1
    now = api.get(f"/connections/{cid}").body
    assert (now["status"], now["trading_ready"]) == ("refused", False)
    assert connection_secrets(aws["SECRET_NAME_PREFIX"]) == []
    assert [e["type"] for e in trail(api, cid)][:3] == ["refused", "status_changed", "tested"]


# -- trading readiness ----------------------------------------------------------------------------


def test_online_without_withdraw_facts_is_not_trading_ready_until_confirmed(api: ApiClient) -> None:
    connection = add(api, demo("connected", warning="withdraw_unverifiable"))
    cid = connection["id"]
    status = api.post(f"/connections/{cid}/test").body
    assert status["status"] == "connected" and status["checks"]["withdraw_disabled"] == "unknown"
    resource = api.get(f"/connections/{cid}").body
    assert resource["trading_ready"] is False
    assert [w["code"] for w in resource["warnings"]] == ["withdraw_unverifiable"]
    [event] = published()
    assert (event["status"], event["trading_ready"]) == ("connected", False)

    confirmed = api.patch(f"/connections/{cid}", {"withdrawal_disabled_confirmed": True})
    assert confirmed.status == 200
    assert confirmed.body["trading_ready"] is True and confirmed.body["withdrawal_disabled_confirmed_at"]
    [event] = published()
    assert (event["previous_status"], event["status"], event["trading_ready"]) == (
        "connected",
        "connected",
        True,
    )
    assert trail(api, cid)[0]["type"] == "withdrawal_confirmed"
    # a later test keeps it trading-ready
    api.post(f"/connections/{cid}/test")
    assert api.get(f"/connections/{cid}").body["trading_ready"] is True

    # any credential change clears the confirmation
    replaced = api.put(
        f"/connections/{cid}/credentials", credentials_of(demo("connected", warning="withdraw_unverifiable"))
    )
    assert replaced.body["withdrawal_disabled_confirmed_at"] is None
    api.post(f"/connections/{cid}/test")
    assert api.get(f"/connections/{cid}").body["trading_ready"] is False


def test_confirming_twice_changes_nothing_and_false_withdraws_it(api: ApiClient) -> None:
    connection = add(api, demo("connected", warning="withdraw_unverifiable"))
    cid = connection["id"]
    api.post(f"/connections/{cid}/test")
    first = api.patch(f"/connections/{cid}", {"withdrawal_disabled_confirmed": True}).body
    again = api.patch(f"/connections/{cid}", {"withdrawal_disabled_confirmed": True}).body
    assert again["withdrawal_disabled_confirmed_at"] == first["withdrawal_disabled_confirmed_at"]
    withdrawn = api.patch(f"/connections/{cid}", {"withdrawal_disabled_confirmed": False}).body
    assert withdrawn["withdrawal_disabled_confirmed_at"] is None and withdrawn["trading_ready"] is False
    assert [e["type"] for e in trail(api, cid)][:2] == ["withdrawal_confirmed", "withdrawal_confirmed"]


def test_a_key_with_known_withdraw_rights_is_trading_ready_without_confirmation(api: ApiClient) -> None:
    connection = add(api, demo("connected"))
    api.post(f"/connections/{connection['id']}/test")
    resource = api.get(f"/connections/{connection['id']}").body
    assert resource["trading_ready"] is True and resource["withdrawal_disabled_confirmed_at"] is None


def test_the_resource_shows_warnings_and_key_expiry(api: ApiClient) -> None:
    connection = add(api, _expiring())
    api.post(f"/connections/{connection['id']}/test")
    resource = api.get(f"/connections/{connection['id']}").body
    assert {w["code"] for w in resource["warnings"]} == {"key_expires_soon", "ip_restriction_missing"}
    days = (datetime.fromisoformat(resource["key_expires_at"]).timestamp() - time.time()) / 86_400
    assert 2 < days <= 3.1


def _expiring() -> DemoKey:
    return next(d for d in all_demo_keys() if d.api_key == "mx0demoExpiresSoon")


# -- languages ------------------------------------------------------------------------------------

HU = {"Accept-Language": "hu-HU,hu;q=0.9,en;q=0.8"}


def test_hungarian_remedies_labels_and_errors(api: ApiClient) -> None:
    connection = add(api, demo("ip_not_allowed"))
    cid = connection["id"]
    english = api.post(f"/connections/{cid}/test")
    assert english.headers["Content-Language"] == "en"
    assert english.body["error"]["remedy"].startswith("Add 203.0.113.10 and 203.0.113.11")

    status = api.get(f"/connections/{cid}/status", headers=HU)
    assert status.headers["Content-Language"] == "hu"
    assert status.body["status_label"] == "Beavatkozás szükséges"
    assert status.body["error"]["code"] == "ip_not_allowed"  # codes never change
    assert status.body["error"]["remedy"] == (
        "Adja hozzá a tőzsdén a kulcs IP-fehérlistájához a következő címeket: 203.0.113.10 és 203.0.113.11."
    )
    resource = api.get(f"/connections/{cid}", headers=HU).body
    assert resource["status_label"] == "Beavatkozás szükséges"
    assert resource["error"]["message"] == "A kulcs IP-fehérlistáján nem szerepelnek a platform IP-címei."

    missing = api.get("/connections/01JDQ7ZK3V8W5X2Y9T4R6P0M1N", headers=HU)
    assert missing.status == 404 and missing.body["error"]["message"] == "Nincs ilyen kapcsolat."
    assert missing.headers["Content-Language"] == "hu"
    unreadable = api.post("/connections", raw_body="{", headers=HU)
    assert (
        unreadable.status == 422 and unreadable.body["error"]["message"] == "Néhány mező hiányzik vagy hibás."
    )
    media = api.post("/connections", raw_body="a=b", headers={**HU, "content-type": "text/plain"})
    assert media.status == 415 and media.headers["Content-Language"] == "hu"
    assert media.body["error"]["message"] == "A kérés törzsét JSON formátumban kell elküldeni."


def test_a_hungarian_test_reads_back_in_english(api: ApiClient) -> None:
    connection = add(api, demo("no_trade_permission"))
    hungarian = api.post(f"/connections/{connection['id']}/test", headers=HU).body
    assert hungarian["error"]["message"] == "Ennél a kulcsnál nincs engedélyezve a kereskedés."
    english = api.get(f"/connections/{connection['id']}/status").body
    assert english["error"]["message"] == "Trading permission is disabled for this key."
    assert english["status_label"] == "Action needed"


def test_one_connections_trail_pages_too(api: ApiClient) -> None:
    connection = add(api, demo("connected"))
    cid = connection["id"]
    for name in ("One", "Two", "Three"):
        api.patch(f"/connections/{cid}", {"name": name})
    first = api.get(f"/connections/{cid}/events?limit=3").body
    assert [e["details"].get("to") for e in first["events"]] == ["Three", "Two", "One"]
    rest = api.get(f"/connections/{cid}/events?limit=3&cursor={first['next']}").body
    assert [e["type"] for e in rest["events"]] == ["created"]
    assert rest["next"] is None


def test_a_lost_event_is_a_metric_the_templates_alarm_watches(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from local.template import ServiceTemplate

    connection = add(api, demo("connected"))
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    assert api.post(f"/connections/{connection['id']}/test").status == 200  # the change is stored anyway
    assert api.get(f"/connections/{connection['id']}").body["status"] == "connected"
    out, _ = capfd.readouterr()
    blobs = [json.loads(line) for line in out.splitlines() if line.startswith("{") and "_aws" in line]
    [lost] = [b for b in blobs if "StatusEventsNotPublished" in b]
    alarm = ServiceTemplate.load().resource("StatusEventsNotPublishedAlarm", "AWS::CloudWatch::Alarm")
    [metric] = lost["_aws"]["CloudWatchMetrics"]
    assert metric["Namespace"] == alarm["Namespace"]
    assert metric["Dimensions"] == [[d["Name"] for d in alarm["Dimensions"]]]
    assert {d["Name"]: lost[d["Name"]] for d in alarm["Dimensions"]} == {
        d["Name"]: d["Value"] for d in alarm["Dimensions"]
    }
