"""Adding, reading and deleting connections through the HTTP handlers, against moto."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from backfuture.exchanges import planned, supported_ids
from tests.api_client import ApiClient
from tests.secret_guard import register

MEXC_KEY = "mx0vglTestKeyAlpha01"
MEXC_SECRET = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
KUCOIN_KEY = "6500a1b2c3d4e5f6a7b8c9d0"
KUCOIN_SECRET = "1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d"
KUCOIN_PASSPHRASE = "my-api-passphrase-42"
register(MEXC_KEY, MEXC_SECRET, KUCOIN_KEY, KUCOIN_SECRET, KUCOIN_PASSPHRASE)


def mexc_body(**overrides: Any) -> dict[str, Any]:
    return {
        "exchange": "mexc",
        "name": "MEXC main",
        "api_key": MEXC_KEY,
        "api_secret": MEXC_SECRET,
    } | overrides


def kucoin_body(**overrides: Any) -> dict[str, Any]:
    return {
        "exchange": "kucoin",
        "name": "KuCoin main",
        "api_key": KUCOIN_KEY,
        "api_secret": KUCOIN_SECRET,
        "passphrase": KUCOIN_PASSPHRASE,
        "markets": ["spot", "futures"],
    } | overrides


@pytest.fixture
def api(aws: dict[str, str]) -> ApiClient:
    return ApiClient("user-a")


def test_add_returns_the_resource_without_any_secret(api: ApiClient) -> None:
    # Given a MEXC key, When it is added
    response = api.post("/connections", mexc_body())
    # Then 201 with the contract's resource, the key only as a hint
    assert response.status == 201
    body = response.body
    assert set(body) == {
        "id",
        "name",
        "exchange",
        "markets",
        "api_key_hint",
        "status",
        "status_label",
        "trading_ready",
        "error",
        "warnings",
        "checked_at",
        "key_expires_at",
        "withdrawal_disabled_confirmed_at",
        "created_at",
        "updated_at",
    }
    assert body["status"] == "untested" and body["status_label"] == "Not tested"
    assert body["trading_ready"] is False and body["markets"] == ["spot"]
    assert body["api_key_hint"] == "mx0v…ha01"
    assert len(body["id"]) == 26


def test_secret_is_stored_once_under_the_cmk_with_owner_tags(api: ApiClient, aws: dict[str, str]) -> None:
    created = api.post("/connections", kucoin_body()).body
    sm = boto3.client("secretsmanager")
    secrets = [s for s in sm.list_secrets()["SecretList"] if s["Name"].startswith(aws["SECRET_NAME_PREFIX"])]
    assert len(secrets) == 1
    described = sm.describe_secret(SecretId=secrets[0]["ARN"])
    assert described["KmsKeyId"] == aws["KMS_KEY_ID"]
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags == {"owner": "user-a", "exchange": "kucoin", "connection": created["id"]}
    value = sm.get_secret_value(SecretId=secrets[0]["ARN"])["SecretString"]
    assert KUCOIN_SECRET in value and KUCOIN_PASSPHRASE in value


def test_list_is_newest_first_and_only_mine(api: ApiClient) -> None:
    first = api.post("/connections", mexc_body(name="First")).body
    second = api.post("/connections", kucoin_body(name="Second")).body
    api.as_user("user-b").post("/connections", mexc_body(name="Theirs", api_key="mx0vglOtherUserKey99"))
    listed = api.get("/connections")
    assert listed.status == 200
    assert [c["id"] for c in listed.body["connections"]] == [second["id"], first["id"]]


def test_get_one_and_its_untested_status(api: ApiClient) -> None:
    created = api.post("/connections", mexc_body()).body
    assert api.get(f"/connections/{created['id']}").body == created
    status = api.get(f"/connections/{created['id']}/status")
    assert status.status == 200
    assert status.body["status"] == "untested" and status.body["checks"] == {}
    assert status.body["connection_id"] == created["id"]


def test_another_user_gets_404_on_every_route(api: ApiClient) -> None:
    created = api.post("/connections", mexc_body()).body
    other = api.as_user("user-b")
    cid = created["id"]
    for method, path, body in [
        ("GET", f"/connections/{cid}", None),
        ("GET", f"/connections/{cid}/status", None),
        ("POST", f"/connections/{cid}/test", None),
        ("PATCH", f"/connections/{cid}", {"name": "Mine now"}),
        (
            "PUT",
            f"/connections/{cid}/credentials",
            {"api_key": "mx0vglStolenKey0001", "api_secret": "a" * 32},
        ),
        ("DELETE", f"/connections/{cid}", None),
    ]:
        response = other.call(method, path, body)
        assert response.status == 404, (method, path)
        assert response.body["error"]["code"] == "not_found"
    assert other.get("/connections").body == {"connections": []}
    # and the owner still has it, untouched
    assert api.get(f"/connections/{cid}").body == created


def test_names_are_unique_per_user_ignoring_case(api: ApiClient) -> None:
    assert api.post("/connections", mexc_body(name="Main")).status == 201
    taken = api.post("/connections", kucoin_body(name="  MAIN "))
    assert taken.status == 409 and taken.body["error"]["code"] == "name_taken"
    # another user may use the same name
    assert api.as_user("user-b").post("/connections", kucoin_body(name="Main")).status == 201


def test_an_untested_key_string_blocks_nobody(api: ApiClient) -> None:
    # Contract, "One key, one connection": only a test that passes (or refuses) locks a key;
    # tests/integration/test_key_squatting.py covers the lock itself.
    assert api.post("/connections", mexc_body()).status == 201
    again = api.as_user("user-b").post("/connections", mexc_body(name="Copy"))
    assert again.status == 201


def test_failed_add_leaves_no_secret_behind(api: ApiClient, aws: dict[str, str]) -> None:
    api.post("/connections", mexc_body())
    taken = api.post("/connections", mexc_body(name="MEXC MAIN"))  # name taken: the transaction fails
    assert taken.status == 409
    sm = boto3.client("secretsmanager")
    names = [
        s["Name"] for s in sm.list_secrets()["SecretList"] if s["Name"].startswith(aws["SECRET_NAME_PREFIX"])
    ]
    assert len(names) == 1


def test_delete_destroys_the_secret_and_frees_name_and_key(api: ApiClient, aws: dict[str, str]) -> None:
    created = api.post("/connections", mexc_body()).body
    assert api.delete(f"/connections/{created['id']}").status == 204
    assert api.get(f"/connections/{created['id']}").status == 404
    sm = boto3.client("secretsmanager")
    assert [
        s for s in sm.list_secrets()["SecretList"] if s["Name"].startswith(aws["SECRET_NAME_PREFIX"])
    ] == []
    # name and key can be used again
    assert api.post("/connections", mexc_body()).status == 201


def test_public_routes_need_no_identity(aws: dict[str, str]) -> None:
    anonymous = ApiClient(None)
    ips = anonymous.get("/egress-ips")
    assert ips.status == 200 and ips.body == {"egress_ips": ["203.0.113.10", "203.0.113.11"]}
    exchanges = anonymous.get("/exchanges").body["exchanges"]
    by_id = {e["id"]: e for e in exchanges}
    assert by_id["mexc"] == {
        "id": "mexc",
        "name": "MEXC",
        "supported": True,
        "needs_passphrase": False,
        "markets": ["spot", "futures"],
    }
    assert by_id["kucoin"]["needs_passphrase"] is True
    assert {e["id"] for e in exchanges if e["supported"]} == set(supported_ids())
    assert {e["id"] for e in exchanges if not e["supported"]} == set(planned())


def test_private_routes_need_identity(aws: dict[str, str]) -> None:
    anonymous = ApiClient(None)
    for method, path in [
        ("GET", "/connections"),
        ("POST", "/connections"),
        ("GET", "/connections/01JD0000000000000000000000"),
    ]:
        response = anonymous.call(method, path, mexc_body() if method == "POST" else None)
        assert response.status == 401 and response.body["error"]["code"] == "unauthorized"
