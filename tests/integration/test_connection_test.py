"""Every demo key of every exchange and market yields exactly its contract outcome, end to end:
HTTP handler -> DynamoDB and Secrets Manager (moto) -> exchange protocol (the simulator)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from backfuture.errors import Outcome
from simulator.demo_keys import DemoKey
from tests.api_client import ApiClient

STATUS_OF = {
    Outcome.WITHDRAWAL_ENABLED: "refused",
    Outcome.RATE_LIMITED: "unavailable",
    Outcome.EXCHANGE_UNAVAILABLE: "unavailable",
}
LABELS = {
    "connected": "Online",
    "failed": "Action needed",
    "refused": "Refused",
    "unavailable": "Exchange unavailable",
    "untested": "Not tested",
}
CHECKS = {"credentials", "read", "trade", "withdraw_disabled", "futures", "ip_whitelist", "balance_access"}
CHECK_VALUES = {"ok", "failed", "skipped", "unknown", "not_requested", "missing"}


def all_demo_keys() -> list[DemoKey]:
    from simulator.kucoin import DEMO_KEYS as KUCOIN
    from simulator.mexc import DEMO_KEYS as MEXC

    return [*MEXC, *KUCOIN]


def markets_of(demo: DemoKey) -> list[str]:
    return ["spot", "futures"] if "futures" in demo.markets else ["spot"]


def add(api: ApiClient, demo: DemoKey, name: str = "Demo") -> dict[str, Any]:
    body: dict[str, Any] = {
        "exchange": demo.exchange,
        "name": name,
        "api_key": demo.api_key,
        "api_secret": demo.api_secret,
        "markets": markets_of(demo),
    }
    if demo.passphrase is not None:
        body["passphrase"] = demo.passphrase
    response = api.post("/connections", body)
    assert response.status == 201, response.body
    return dict(response.body)


@pytest.fixture
def api(aws: dict[str, str], sim: Any) -> ApiClient:
    return ApiClient("user-a")


@pytest.mark.parametrize("demo", all_demo_keys(), ids=lambda d: f"{d.exchange}-{d.outcome}-{d.api_key[:14]}")
def test_demo_key_yields_its_outcome(api: ApiClient, demo: DemoKey) -> None:
    connection = add(api, demo)
    response = api.post(f"/connections/{connection['id']}/test")
    assert response.status == 200, response.body
    doc = response.body

    assert doc["connection_id"] == connection["id"]
    assert set(doc["checks"]) == CHECKS and set(doc["checks"].values()) <= CHECK_VALUES
    assert doc["status_label"] == LABELS[doc["status"]]
    assert isinstance(doc["duration_ms"], int)
    warnings = {w["code"] for w in doc["warnings"]}
    if demo.outcome in set(Outcome):
        outcome = Outcome(demo.outcome)
        assert doc["error"]["code"] == outcome.value, doc
        assert doc["status"] == STATUS_OF.get(outcome, "failed"), doc
        assert doc["error"]["message"] and doc["error"]["remedy"]
        if outcome is Outcome.RATE_LIMITED:
            assert doc["error"]["details"]["retry_after_s"] > 0
        if outcome is Outcome.IP_NOT_ALLOWED:
            assert "203.0.113.10" in doc["error"]["remedy"] and doc["checks"]["ip_whitelist"] == "failed"
        if outcome is Outcome.EXCHANGE_ERROR:
            assert doc["error"]["details"]["exchange_code"]
    else:
        assert doc["status"] == "connected", doc
        assert doc["error"] is None
        assert doc["checks"]["credentials"] == "ok"
    # Exactly the warnings the demo key's description (and so the README) promises.
    assert warnings == demo.warnings, (warnings, demo.description)

    # The stored status and the resource agree with what the test returned.
    assert api.get(f"/connections/{connection['id']}/status").body == doc
    resource = api.get(f"/connections/{connection['id']}").body
    assert resource["status"] == doc["status"]
    # Trading readiness fails closed: Online and the key known not to withdraw.
    assert resource["trading_ready"] is (
        doc["status"] == "connected" and doc["checks"]["withdraw_disabled"] == "ok"
    )


def test_refused_key_secret_is_destroyed_at_once(api: ApiClient, aws: dict[str, str]) -> None:
    demo = next(
        d for d in all_demo_keys() if d.outcome == Outcome.WITHDRAWAL_ENABLED and d.exchange == "mexc"
    )
    connection = add(api, demo)
    doc = api.post(f"/connections/{connection['id']}/test").body
    assert doc["status"] == "refused" and doc["checks"]["withdraw_disabled"] == "failed"
    assert doc["permissions"]["withdraw"] is True
    sm = boto3.client("secretsmanager")
    left = [s for s in sm.list_secrets()["SecretList"] if s["Name"].startswith(aws["SECRET_NAME_PREFIX"])]
    assert left == []
    # Testing again cannot resurrect it: the refusal stands until the credentials are replaced.
    again = api.post(f"/connections/{connection['id']}/test").body
    assert again["status"] == "refused"


def test_unavailable_keeps_trading_ready_as_before(api: ApiClient, sim: Any) -> None:
    demo = next(d for d in all_demo_keys() if d.outcome == "connected" and d.exchange == "mexc")
    connection = add(api, demo)
    assert api.post(f"/connections/{connection['id']}/test").body["status"] == "connected"
    sim.config.fault = "http_503"
    doc = api.post(f"/connections/{connection['id']}/test").body
    assert doc["status"] == "unavailable" and doc["error"]["code"] == "exchange_unavailable"
    assert api.get(f"/connections/{connection['id']}").body["trading_ready"] is True


def test_the_service_never_calls_a_dangerous_endpoint(api: ApiClient, sim: Any) -> None:
    for index, demo in enumerate(all_demo_keys()):
        user = api.as_user(f"user-{index}")  # one user each: the per-user cap is not under test here
        connection = add(user, demo)
        user.post(f"/connections/{connection['id']}/test")
    called = {(r.method, r.path) for r in sim.requests}
    assert called, "the simulator saw no request"
    dangerous = {
        ("POST", "/api/v3/order"),
        ("POST", "/api/v3/apiKeyInfo"),
        ("POST", "/api/v3/capital/withdraw"),
        ("POST", "/api/v1/hf/orders"),
        ("POST", "/api/v1/orders"),
        ("POST", "/api/v1/withdrawals"),
        ("POST", "/api/v3/withdrawals"),
        ("POST", "/api/v1/private/order/submit"),
        ("POST", "/api/v3/accounts/universal-transfer"),
    }
    assert not called & dangerous
    # Every call is a read, a server-time call or one of the order *test* endpoints.
    for method, path in called:
        assert method == "GET" or path.endswith("/test"), (method, path)
