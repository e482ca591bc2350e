"""Contract, "One key, one connection": a key is locked when a test of it passes or is refused;
knowing a key string without its secret never lets anyone block its owner."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from simulator.demo_keys import DemoKey
from tests.api_client import ApiClient
from tests.integration.test_connection_test import add
from tests.integration.test_lifecycle import credentials_of, demo
from tests.secret_guard import register

WRONG_SECRET = "0123456789abcdef0123456789abcdef"
register(WRONG_SECRET)


@pytest.fixture
def api(aws: dict[str, str], sim: Any) -> ApiClient:
    return ApiClient("owner")


def squat(api: ApiClient, key: DemoKey, name: str = "Squat") -> dict[str, Any]:
    """Someone who knows the key string only: right key, made-up secret."""
    body = {"exchange": key.exchange, "name": name, "api_key": key.api_key, "api_secret": WRONG_SECRET}
    response = api.post("/connections", body)
    assert response.status == 201, response.body
    return dict(response.body)


def key_locks() -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]
    return [i for i in items if i["PK"]["S"].startswith("KEY#")]


def test_a_squatter_who_knows_only_the_key_string_blocks_nobody(api: ApiClient) -> None:
    # Given someone who adds the owner's key string with a made-up secret, and tests it
    good = demo("connected")
    squatter = api.as_user("squatter")
    squatted = squat(squatter, good)
    failed = squatter.post(f"/connections/{squatted['id']}/test").body
    assert failed["status"] == "failed" and failed["error"]["code"] == "invalid_key"
    assert key_locks() == []

    # When the owner adds the real key and tests it
    mine = add(api, good, name="Mine")
    tested = api.post(f"/connections/{mine['id']}/test")

    # Then it connects, and the key is locked to the owner's connection from now on
    assert tested.status == 200 and tested.body["status"] == "connected"
    (lock,) = key_locks()
    assert lock["connection_id"]["S"] == mine["id"] and lock["owner"]["S"] == "owner"
    assert api.get(f"/connections/{mine['id']}").body["trading_ready"] is True


def test_a_locked_key_cannot_be_added_or_swapped_in_elsewhere(api: ApiClient) -> None:
    good = demo("connected")
    mine = add(api, good, name="Mine")
    assert api.post(f"/connections/{mine['id']}/test").body["status"] == "connected"

    other = api.as_user("other")
    added = other.post("/connections", {**credentials_of(good), "exchange": "mexc", "name": "Copy"})
    assert added.status == 409 and added.body["error"]["code"] == "key_already_connected"
    # the same user's second connection too: one key, one connection
    again = api.post("/connections", {**credentials_of(good), "exchange": "mexc", "name": "Twice"})
    assert again.status == 409 and again.body["error"]["code"] == "key_already_connected"


def test_a_passing_test_of_a_key_held_elsewhere_answers_409_and_stores_nothing(api: ApiClient) -> None:
    # Given two untested connections of two users sharing a real key (both know the secret)
    good = demo("connected")
    first = add(api, good, name="First")
    other = api.as_user("other")
    second = add(other, good, name="Second")

    # When the first one's test passes, and then the second one's
    assert api.post(f"/connections/{first['id']}/test").body["status"] == "connected"
    clash = other.post(f"/connections/{second['id']}/test")

    # Then the second answers 409 key_already_connected and stores nothing
    assert clash.status == 409 and clash.body["error"]["code"] == "key_already_connected"
    assert other.get(f"/connections/{second['id']}").body == second
    assert other.get(f"/connections/{second['id']}/status").body["status"] == "untested"
    (lock,) = key_locks()
    assert lock["connection_id"]["S"] == first["id"]


def test_deleting_an_untested_sharer_leaves_the_holders_lock(api: ApiClient) -> None:
    good = demo("connected")
    squatter = api.as_user("squatter")
    squatted = squat(squatter, good)
    mine = add(api, good, name="Mine")
    assert api.post(f"/connections/{mine['id']}/test").body["status"] == "connected"

    assert squatter.delete(f"/connections/{squatted['id']}").status == 204

    (lock,) = key_locks()
    assert lock["connection_id"]["S"] == mine["id"]
    copy = api.as_user("third").post(
        "/connections", {**credentials_of(good), "exchange": "mexc", "name": "C"}
    )
    assert copy.status == 409


def test_new_credentials_or_a_delete_release_the_lock(api: ApiClient) -> None:
    good = demo("connected")
    mine = add(api, good, name="Mine")
    assert api.post(f"/connections/{mine['id']}/test").body["status"] == "connected"

    # New credentials on the holder: the old key is free again
    assert (
        api.put(f"/connections/{mine['id']}/credentials", credentials_of(demo("no_trade_permission"))).status
        == 200
    )
    assert key_locks() == []
    other = api.as_user("other")
    theirs = add(other, good, name="Theirs")
    assert other.post(f"/connections/{theirs['id']}/test").body["status"] == "connected"

    # A delete of the holder frees it too
    assert other.delete(f"/connections/{theirs['id']}").status == 204
    assert key_locks() == []


def test_a_refused_key_is_locked_too(api: ApiClient, aws: dict[str, str]) -> None:
    risky = demo("withdrawal_enabled")
    mine = add(api, risky, name="Risky")
    assert api.post(f"/connections/{mine['id']}/test").body["status"] == "refused"
    (lock,) = key_locks()
    assert lock["connection_id"]["S"] == mine["id"]
    copy = api.as_user("other").post(
        "/connections", {**credentials_of(risky), "exchange": "mexc", "name": "C"}
    )
    assert copy.status == 409 and copy.body["error"]["code"] == "key_already_connected"


def test_a_refusal_is_stored_even_when_another_connection_holds_the_key(api: ApiClient) -> None:
    # Given a key that can withdraw, added by two users before any test
    risky = demo("withdrawal_enabled")
    first = add(api, risky, name="First")
    other = api.as_user("other")
    second = add(other, risky, name="Second")
    assert api.post(f"/connections/{first['id']}/test").body["status"] == "refused"

    # When the second one is tested, the first holding the lock
    refused = other.post(f"/connections/{second['id']}/test")

    # Then the refusal is stored all the same (trading must stop there too), without the lock
    assert refused.status == 200 and refused.body["status"] == "refused"
    assert other.get(f"/connections/{second['id']}/status").body["status"] == "refused"
    (lock,) = key_locks()
    assert lock["connection_id"]["S"] == first["id"]
