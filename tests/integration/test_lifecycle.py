"""Rotation, rename, delete, limits and concurrency: the guarantees a key holder expects."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from simulator.demo_keys import DemoKey
from tests.api_client import ApiClient
from tests.conftest import scan_table_for_secrets
from tests.faults import faulty_aws
from tests.integration.test_connection_test import add, all_demo_keys
from tests.integration.test_connections_api import KUCOIN_KEY, kucoin_body, mexc_body


def demo(outcome: str, exchange: str = "mexc") -> DemoKey:
    return next(
        d for d in all_demo_keys() if d.outcome == outcome and d.exchange == exchange and not d.warnings
    )


def credentials_of(key: DemoKey) -> dict[str, Any]:
    body: dict[str, Any] = {"api_key": key.api_key, "api_secret": key.api_secret}
    if key.passphrase is not None:
        body["passphrase"] = key.passphrase
    return body


def connection_secrets(prefix: str) -> list[dict[str, Any]]:
    listed = boto3.client("secretsmanager").list_secrets()["SecretList"]
    return [s for s in listed if s["Name"].startswith(prefix)]


def is_event(item: dict[str, Any]) -> bool:
    """An audit-trail item: it outlives its connection on purpose (backfuture.audit)."""
    return str(item["SK"]["S"]).startswith("EVENT#")


def table_items() -> list[dict[str, Any]]:
    import os

    items: list[dict[str, Any]] = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]
    return items


def connection_items() -> list[dict[str, Any]]:
    """Items of connections, locks included, without the per-user counters (PROFILE, QUOTA#...) and
    the audit trail (which outlives its connection for 400 days)."""
    return [
        i
        for i in table_items()
        if i["SK"]["S"] != "PROFILE" and not i["SK"]["S"].startswith("QUOTA#") and not is_event(i)
    ]


@pytest.fixture
def api(aws: dict[str, str], sim: Any) -> ApiClient:
    return ApiClient("user-a")


# -- credential replacement -------------------------------------------------------------------


def test_replace_credentials_keeps_the_id_and_resets_the_status(api: ApiClient, aws: dict[str, str]) -> None:
    connection = add(api, demo("no_trade_permission"))
    assert api.post(f"/connections/{connection['id']}/test").body["status"] == "failed"
    good = demo("connected")
    replaced = api.put(f"/connections/{connection['id']}/credentials", credentials_of(good))
    assert replaced.status == 200
    assert replaced.body["id"] == connection["id"] and replaced.body["status"] == "untested"
    assert replaced.body["api_key_hint"] == f"{good.api_key[:4]}…{good.api_key[-4:]}"
    assert api.get(f"/connections/{connection['id']}/status").body["checks"] == {}
    # one secret, the new one
    secrets = connection_secrets(aws["SECRET_NAME_PREFIX"])
    assert len(secrets) == 1 and secrets[0]["Name"].endswith("/v2")
    assert api.post(f"/connections/{connection['id']}/test").body["status"] == "connected"


def test_a_refused_key_is_replaced_by_a_new_one(api: ApiClient, aws: dict[str, str]) -> None:
    connection = add(api, demo("withdrawal_enabled"))
    assert api.post(f"/connections/{connection['id']}/test").body["status"] == "refused"
    assert connection_secrets(aws["SECRET_NAME_PREFIX"]) == []
    replaced = api.put(f"/connections/{connection['id']}/credentials", credentials_of(demo("connected")))
    assert replaced.status == 200 and replaced.body["status"] == "untested"
    assert api.post(f"/connections/{connection['id']}/test").body["status"] == "connected"


def test_replacing_with_a_key_connected_elsewhere_is_refused(api: ApiClient, aws: dict[str, str]) -> None:
    good = demo("connected")
    first = add(api, good, name="First")
    assert api.post(f"/connections/{first['id']}/test").body["status"] == "connected"  # locks the key
    first = api.get(f"/connections/{first['id']}").body
    second = api.post("/connections", mexc_body(name="Other", api_key="mx0vglSecondKey00002")).body
    clash = api.put(f"/connections/{second['id']}/credentials", credentials_of(good))
    assert clash.status == 409 and clash.body["error"]["code"] == "key_already_connected"
    # nothing changed, and the secret created for the attempt is gone again
    assert api.get(f"/connections/{second['id']}").body == second
    assert api.get(f"/connections/{first['id']}").body == first
    assert len(connection_secrets(aws["SECRET_NAME_PREFIX"])) == 2


def test_replace_credentials_validates_the_passphrase_rule(api: ApiClient) -> None:
    kucoin = api.post("/connections", kucoin_body()).body
    missing = api.put(
        f"/connections/{kucoin['id']}/credentials", {"api_key": KUCOIN_KEY, "api_secret": "s" * 36}
    )
    assert missing.status == 422 and missing.body["error"]["details"]["fields"][0]["field"] == "passphrase"


# -- rename and markets -----------------------------------------------------------------------


def test_rename_and_name_uniqueness(api: ApiClient) -> None:
    first = api.post("/connections", mexc_body(name="Alpha")).body
    api.post("/connections", kucoin_body(name="Beta"))
    renamed = api.patch(f"/connections/{first['id']}", {"name": "Gamma"})
    assert renamed.status == 200 and renamed.body["name"] == "Gamma"
    clash = api.patch(f"/connections/{first['id']}", {"name": "beta"})
    assert clash.status == 409 and clash.body["error"]["code"] == "name_taken"
    # the old name is free again, a case change of one's own name is fine
    assert api.post("/connections", mexc_body(name="alpha", api_key="mx0vglThirdKey000003")).status == 201
    assert api.patch(f"/connections/{first['id']}", {"name": "GAMMA"}).body["name"] == "GAMMA"


def test_changing_markets_resets_the_status(api: ApiClient) -> None:
    connection = add(api, demo("connected"))
    assert api.post(f"/connections/{connection['id']}/test").body["status"] == "connected"
    same = api.patch(f"/connections/{connection['id']}", {"name": "Renamed"}).body
    assert same["status"] == "connected"
    changed = api.patch(f"/connections/{connection['id']}", {"markets": ["spot", "futures"]}).body
    assert changed["status"] == "untested" and changed["markets"] == ["spot", "futures"]


def test_patch_rejects_unknown_fields(api: ApiClient) -> None:
    connection = api.post("/connections", mexc_body()).body
    response = api.patch(f"/connections/{connection['id']}", {"status": "connected"})
    assert response.status == 422 and response.body["error"]["details"]["fields"][0]["field"] == "status"


# -- limits -----------------------------------------------------------------------------------


def test_connection_cap(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from backfuture.config import settings

    monkeypatch.setenv("MAX_CONNECTIONS_PER_USER", "2")
    settings.cache_clear()
    assert api.post("/connections", mexc_body(name="1", api_key="mx0vglCapKey00000001")).status == 201
    second = api.post("/connections", mexc_body(name="2", api_key="mx0vglCapKey00000002")).body
    third = api.post("/connections", mexc_body(name="3", api_key="mx0vglCapKey00000003"))
    assert third.status == 429 and third.body["error"]["code"] == "connection_limit_reached"
    api.delete(f"/connections/{second['id']}")
    assert api.post("/connections", mexc_body(name="3", api_key="mx0vglCapKey00000003")).status == 201


def test_test_cooldown(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from backfuture.config import settings

    monkeypatch.setenv("TEST_COOLDOWN_S", "30")
    settings.cache_clear()
    connection = add(api, demo("connected"))
    assert api.post(f"/connections/{connection['id']}/test").status == 200
    again = api.post(f"/connections/{connection['id']}/test")
    assert again.status == 429 and again.body["error"]["code"] == "test_cooldown"
    assert 1 <= again.body["error"]["details"]["retry_after_s"] <= 30
    assert again.headers["Retry-After"] == str(again.body["error"]["details"]["retry_after_s"])


# -- concurrency ------------------------------------------------------------------------------


def run_together(*calls: Any) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_adds_of_one_name_store_exactly_one(api: ApiClient, aws: dict[str, str]) -> None:
    bodies = [mexc_body(name="Same", api_key=f"mx0vglRaceKey000000{i}") for i in range(6)]
    results = run_together(
        *[lambda i=i, b=b: api.in_container(i).post("/connections", b) for i, b in enumerate(bodies)]
    )
    assert sorted(r.status for r in results) == [201] + [409] * 5
    assert len(api.get("/connections").body["connections"]) == 1
    assert len(connection_secrets(aws["SECRET_NAME_PREFIX"])) == 1


def test_a_test_racing_a_delete_never_resurrects_it(api: ApiClient, aws: dict[str, str], sim: Any) -> None:
    sim.config.latency_ms = 150  # the test is still at the exchange when the delete lands
    connection = add(api, demo("connected"))
    cid = connection["id"]
    test, delete = run_together(
        lambda: api.post(f"/connections/{cid}/test"), lambda: api.delete(f"/connections/{cid}")
    )
    assert delete.status == 204
    assert test.status in (200, 404, 409)
    assert api.get(f"/connections/{cid}").status == 404
    assert connection_secrets(aws["SECRET_NAME_PREFIX"]) == []
    assert [i for i in table_items() if i["SK"]["S"].startswith("CONN#")] == []


def test_a_test_of_the_old_key_never_overwrites_the_new_keys_status(api: ApiClient, sim: Any) -> None:
    sim.config.latency_ms = 150
    connection = add(api, demo("no_trade_permission"))
    cid = connection["id"]
    test, rotate = run_together(
        lambda: api.post(f"/connections/{cid}/test"),
        lambda: api.put(f"/connections/{cid}/credentials", credentials_of(demo("connected"))),
    )
    assert rotate.status == 200
    assert test.status in (200, 409)
    # Whichever key the test reached, the stored status belongs to the new key: untested, or the
    # new key's own result. The old key's "failed" never lands.
    assert api.get(f"/connections/{cid}/status").body["status"] in ("untested", "connected")


def test_concurrent_renames_lose_no_update(api: ApiClient) -> None:
    connection = api.post("/connections", mexc_body(name="Start")).body
    results = run_together(
        *[
            lambda i=i: api.in_container(i).patch(f"/connections/{connection['id']}", {"name": f"N{i}"})
            for i in range(5)
        ]
    )
    winners = [r for r in results if r.status == 200]
    assert winners and all(r.status in (200, 409) for r in results)
    final = api.get(f"/connections/{connection['id']}").body["name"]
    assert final in {r.body["name"] for r in winners}
    # exactly one name lock, the final name's
    locks = [i["SK"]["S"] for i in table_items() if i["SK"]["S"].startswith("NAME#")]
    assert locks == [f"NAME#{final.casefold()}"]


# -- injected AWS failures: nothing half-written ----------------------------------------------


ADD_STEPS = [
    ("secretsmanager", "get_secret_value"),
    ("secretsmanager", "create_secret"),
    ("dynamodb", "transact_write_items"),
]


@pytest.mark.parametrize(("service", "operation"), ADD_STEPS)
def test_add_fails_cleanly_at_every_step(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, service: str, operation: str
) -> None:
    with faulty_aws(monkeypatch) as clients:
        api = ApiClient("user-a")
        clients[service].fail(operation)
        failed = api.post("/connections", mexc_body())
        assert failed.status == 503 and failed.body["error"]["code"] == "service_unavailable"
        assert connection_secrets(aws["SECRET_NAME_PREFIX"]) == []
        assert table_items() == []
        # and a retry afterwards succeeds
        assert api.post("/connections", mexc_body()).status == 201


@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("dynamodb", "get_item"),
        ("secretsmanager", "create_secret"),
        ("dynamodb", "transact_write_items"),
        ("secretsmanager", "delete_secret"),
    ],
)
def test_replace_fails_cleanly_at_every_step(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, service: str, operation: str
) -> None:
    with faulty_aws(monkeypatch) as clients:
        api = ApiClient("user-a")
        connection = api.post("/connections", mexc_body()).body
        new = {"api_key": "mx0vglRotatedKey0001", "api_secret": "a1" * 16}
        clients[service].fail(operation)
        response = api.put(f"/connections/{connection['id']}/credentials", new)
        secrets = connection_secrets(aws["SECRET_NAME_PREFIX"])
        if operation == "delete_secret":
            # The new key is in place; the retired secret could not be destroyed: it is remembered,
            # and deleting the connection destroys it with the current one.
            assert response.status == 200
            assert len(secrets) == 2
            assert api.delete(f"/connections/{connection['id']}").status == 204
            assert connection_secrets(aws["SECRET_NAME_PREFIX"]) == []
        else:
            assert response.status == 503
            assert api.get(f"/connections/{connection['id']}").body == connection
            assert [s["Name"].rsplit("/", 1)[1] for s in secrets] == ["v1"]
            assert api.put(f"/connections/{connection['id']}/credentials", new).status == 200
            assert [s["Name"].rsplit("/", 1)[1] for s in connection_secrets(aws["SECRET_NAME_PREFIX"])] == [
                "v2"
            ]


@pytest.mark.parametrize(
    ("service", "operation"),
    [("dynamodb", "get_item"), ("secretsmanager", "delete_secret"), ("dynamodb", "transact_write_items")],
)
def test_delete_fails_cleanly_and_a_retry_finishes_it(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, service: str, operation: str
) -> None:
    with faulty_aws(monkeypatch) as clients:
        api = ApiClient("user-a")
        connection = api.post("/connections", mexc_body()).body
        clients[service].fail(operation)
        assert api.delete(f"/connections/{connection['id']}").status == 503
        if operation != "transact_write_items":
            assert len(connection_secrets(aws["SECRET_NAME_PREFIX"])) == 1
        assert api.delete(f"/connections/{connection['id']}").status == 204
        assert connection_secrets(aws["SECRET_NAME_PREFIX"]) == []
        # What a connection leaves behind: the user's count (0) and the day's creation quota
        assert connection_items() == []


@pytest.mark.parametrize(
    ("service", "operation", "nth"),
    [
        ("dynamodb", "update_item", 1),  # the claim
        ("dynamodb", "transact_write_items", 1),  # the user's hourly quota and the platform's budget
        ("secretsmanager", "get_secret_value", 2),
        ("secretsmanager", "delete_secret", 1),
        ("dynamodb", "transact_write_items", 2),  # the refusal and the key lock
    ],
)
def test_refusal_fails_cleanly_at_every_step(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, sim: Any, service: str, operation: str, nth: int
) -> None:
    with faulty_aws(monkeypatch) as clients:
        api = ApiClient("user-a")
        connection = add(api, demo("withdrawal_enabled"))
        clients[service].fail(operation, nth=nth)
        first = api.post(f"/connections/{connection['id']}/test")
        assert first.status in (200, 503)
        if (first.status == 503 and operation != "delete_secret") or operation == "delete_secret":
            clients[service].heal()
            retry = api.post(f"/connections/{connection['id']}/test")
            assert retry.status == 200, retry.body
        # whatever failed, the key that can withdraw is gone, and the status says refused
        assert connection_secrets(aws["SECRET_NAME_PREFIX"]) == []
        assert api.get(f"/connections/{connection['id']}/status").body["status"] == "refused"
    scan_table_for_secrets()


def test_a_delete_racing_a_rotation_leaves_no_secret_and_no_lock(api: ApiClient, aws: dict[str, str]) -> None:
    for round_ in range(5):
        key = f"mx0vglRaceRotation{round_:02d}"
        connection = api.post("/connections", mexc_body(name=f"R{round_}", api_key=key)).body
        cid = connection["id"]
        new_key = {"api_key": f"mx0vglRaceRotated0{round_:02d}", "api_secret": "b2" * 16}
        rotate, delete = run_together(
            lambda cid=cid, new_key=new_key: api.in_container(1).put(
                f"/connections/{cid}/credentials", new_key
            ),
            lambda cid=cid: api.in_container(2).delete(f"/connections/{cid}"),
        )
        assert delete.status == 204, delete.body
        assert rotate.status in (200, 404, 409), rotate.body
        # Whatever the interleaving: no secret, no lock, no count left for the deleted connection.
        assert connection_secrets(aws["SECRET_NAME_PREFIX"]) == []
        assert connection_items() == []
        # and both keys can be connected again
        assert api.post("/connections", mexc_body(name="again", api_key=new_key["api_key"])).status == 201
        api.delete(f"/connections/{api.get('/connections').body['connections'][0]['id']}")


def test_changing_markets_keeps_a_refusal(api: ApiClient) -> None:
    connection = add(api, demo("withdrawal_enabled"))
    assert api.post(f"/connections/{connection['id']}/test").body["status"] == "refused"
    changed = api.patch(f"/connections/{connection['id']}", {"markets": ["spot", "futures"]}).body
    assert changed["status"] == "refused" and changed["markets"] == ["spot", "futures"]
    assert api.get(f"/connections/{connection['id']}/status").body["status"] == "refused"
