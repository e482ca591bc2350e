"""Abuse limits (contract: quota_exceeded) and the platform-wide budget per exchange; and the re-read
before a clean-up destroys a secret after a write whose outcome is unknown."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from backfuture.quotas import error_budget, platform_budget
from tests.api_client import ApiClient
from tests.faults import faulty_aws
from tests.integration.test_aws_faults import count_orphans
from tests.integration.test_connection_test import add
from tests.integration.test_connections_api import mexc_body
from tests.integration.test_lifecycle import connection_secrets, credentials_of, demo

# 2026-11-29 05:00:05 UTC: five seconds into an hour, a day and a 10-second window.
NOW_S = 1_795_928_405
assert NOW_S % 3600 == 5 and NOW_S % 10 == 5


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows are fixed; a test must not straddle one."""
    monkeypatch.setattr("backfuture.service.now_ms", lambda: NOW_S * 1000)


def limits(**values: str) -> Iterator[dict[str, str]]:
    from tests.conftest import moto_account

    with moto_account(**values) as env:
        yield env


# -- tests per user per hour ---------------------------------------------------------------------


@pytest.fixture
def three_tests_an_hour(fixed_clock: None) -> Iterator[dict[str, str]]:
    yield from limits(TESTS_PER_USER_PER_HOUR="3")


def test_the_hourly_test_quota_answers_429_with_retry_after(three_tests_an_hour: Any, sim: Any) -> None:
    api = ApiClient("busy")
    connection = add(api, demo("connected"))
    for _ in range(3):
        assert api.post(f"/connections/{connection['id']}/test").status == 200
    calls_before = len(sim.requests)

    refused = api.post(f"/connections/{connection['id']}/test")

    assert refused.status == 429
    error = refused.body["error"]
    assert error["code"] == "quota_exceeded"
    assert error["details"] == {"quota": "TESTS_PER_USER_PER_HOUR", "limit": 3, "retry_after_s": 3595}
    assert refused.headers["Retry-After"] == "3595"
    assert len(sim.requests) == calls_before, "a refused test must not reach the exchange"
    # the quota is the user's own: someone else tests freely
    other = ApiClient("calm")
    theirs = add(other, demo("no_trade_permission"))
    assert other.post(f"/connections/{theirs['id']}/test").status == 200


# -- connections created per user per day --------------------------------------------------------


@pytest.fixture
def two_new_connections_a_day(fixed_clock: None) -> Iterator[dict[str, str]]:
    yield from limits(CONNECTIONS_CREATED_PER_USER_PER_DAY="2")


def test_the_daily_creation_quota_counts_deleted_connections_too(
    two_new_connections_a_day: dict[str, str],
) -> None:
    api = ApiClient("churner")
    first = api.post("/connections", mexc_body(name="One", api_key="mx0vglQuotaKey000001")).body
    assert api.post("/connections", mexc_body(name="Two", api_key="mx0vglQuotaKey000002")).status == 201
    assert api.delete(f"/connections/{first['id']}").status == 204

    refused = api.post("/connections", mexc_body(name="Three", api_key="mx0vglQuotaKey000003"))

    assert refused.status == 429
    seconds_left_today = 86_400 - NOW_S % 86_400
    assert refused.body["error"]["code"] == "quota_exceeded"
    assert refused.body["error"]["details"] == {
        "quota": "CONNECTIONS_CREATED_PER_USER_PER_DAY",
        "limit": 2,
        "retry_after_s": seconds_left_today,
    }
    assert refused.headers["Retry-After"] == str(seconds_left_today)
    # the secret created for the refused attempt is gone again
    assert len(connection_secrets(two_new_connections_a_day["SECRET_NAME_PREFIX"])) == 1
    # refusals by a rule do not count: a taken name does not spend the quota
    assert (
        ApiClient("other").post("/connections", mexc_body(name="X", api_key="mx0vglQuotaKey000004")).status
        == 201
    )


# -- the platform's budget per exchange ----------------------------------------------------------


@pytest.fixture
def two_mexc_tests_per_window(fixed_clock: None) -> Iterator[dict[str, str]]:
    budget = platform_budget("mexc")
    factor = 2 * budget.units_per_test / budget.max_units  # room for exactly two tests
    yield from limits(PLATFORM_BUDGET_FACTOR=repr(factor))


def test_a_spent_platform_budget_answers_like_exchange_rate_limiting(
    two_mexc_tests_per_window: Any, sim: Any
) -> None:
    # Given two users' tests that spend the platform's MEXC budget for this window
    users = [ApiClient(f"user-{n}") for n in range(3)]
    outcomes = ("connected", "no_trade_permission", "no_trade_permission")
    connections = [add(api, demo(outcome), name="M") for api, outcome in zip(users, outcomes, strict=True)]
    for api, connection in zip(users[:2], connections[:2], strict=True):
        assert api.post(f"/connections/{connection['id']}/test").body["status"] in ("connected", "failed")
    calls_before = len(sim.requests)

    # When a third user tests a MEXC key in the same window
    tested = users[2].post(f"/connections/{connections[2]['id']}/test")

    # Then the answer is the exchange's rate limiting, and the exchange never saw the test
    assert tested.status == 200
    assert tested.body["status"] == "unavailable"
    assert tested.body["error"]["code"] == "rate_limited"
    assert tested.body["error"]["details"] == {"retry_after_s": 5}
    assert len(sim.requests) == calls_before
    assert users[2].get(f"/connections/{connections[2]['id']}").body["trading_ready"] is False
    # KuCoin has its own budget
    kucoin = add(users[2], demo("connected", exchange="kucoin"), name="K")
    assert users[2].post(f"/connections/{kucoin['id']}/test").body["status"] == "connected"


def test_the_budget_counter_never_overspends_under_concurrency(aws: dict[str, str]) -> None:
    from backfuture.storage.repository import ConnectionRepository, Counter

    repository = ConnectionRepository()
    barrier = threading.Barrier(12)
    taken: dict[bool, int] = {True: 0, False: 0}
    lock = threading.Lock()

    def take() -> None:
        barrier.wait()
        ok = not repository.take_together([Counter("PLATFORM#budget", "mexc#10#1", 6, 30, 20)])
        with lock:
            taken[ok] += 1

    threads = [threading.Thread(target=take) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert taken == {True: 5, False: 7}


def test_every_exchange_has_a_budget_well_under_its_limit() -> None:
    from backfuture.exchanges import supported_ids

    for exchange in supported_ids():
        budget = platform_budget(exchange)
        assert budget.max_units >= budget.units_per_test >= 1 and budget.window_s >= 1
        assert budget.source and budget.exchange_limit
        errors = error_budget(exchange)
        if errors is not None:
            assert errors.max_errors >= 1 and errors.window_s >= 1
            assert errors.source and errors.exchange_limit


# -- the platform's error budget per exchange (BingX bans an IP's endpoint after 20 error answers) --


@pytest.fixture
def real_budgets(fixed_clock: None) -> Iterator[dict[str, str]]:
    yield from limits(PLATFORM_BUDGET_FACTOR="1")


def bingx_requests(sim: Any) -> list[str]:
    return [r.path for r in sim.requests if r.venue == "bingx-api"]


def test_bad_bingx_keys_spend_the_error_budget_then_bingx_is_not_called(real_budgets: Any, sim: Any) -> None:
    budget = error_budget("bingx")
    assert budget is not None
    # Given users pasting bad BingX keys: each test costs one error answer, on the key info
    for n in range(budget.max_errors):
        api = ApiClient(f"paster-{n}")
        connection = add(api, demo("invalid_key", exchange="bingx"), name="B")
        tested = api.post(f"/connections/{connection['id']}/test").body
        assert tested["error"]["code"] == "invalid_key", tested
    assert bingx_requests(sim).count("/openApi/v1/account/apiPermissions") == budget.max_errors
    calls_before = len(sim.requests)

    # When anyone tests a BingX key in the same 8-minute window, even a good one
    careful = ApiClient("careful")
    good = add(careful, demo("connected", exchange="bingx"), name="B")
    tested = careful.post(f"/connections/{good['id']}/test")

    # Then it answers like BingX's own rate limiting until the window ends, without calling BingX
    window_left_s = budget.window_s - NOW_S % budget.window_s
    assert tested.status == 200
    assert tested.body["status"] == "unavailable"
    assert tested.body["error"]["code"] == "rate_limited"
    assert tested.body["error"]["details"] == {"retry_after_s": window_left_s}
    assert len(sim.requests) == calls_before
    # other exchanges are unaffected
    mexc = add(careful, demo("connected"), name="M")
    assert careful.post(f"/connections/{mexc['id']}/test").body["status"] == "connected"
    assert (
        len(sim.requests) > calls_before
        and bingx_requests(sim).count("/openApi/v1/account/apiPermissions") == budget.max_errors
    )


def test_only_a_test_with_error_answers_costs_an_extra_aws_call(
    aws: dict[str, str], sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = ApiClient("user-a")
    good = add(api, demo("connected", exchange="bingx"), name="Good")
    bad = add(api, demo("invalid_key", exchange="bingx"), name="Bad")
    with faulty_aws(monkeypatch) as clients:
        assert api.post(f"/connections/{good['id']}/test").body["status"] == "connected"
        healthy = list(clients["dynamodb"].log)
        clients["dynamodb"].log.clear()
        assert api.post(f"/connections/{bad['id']}/test").body["status"] == "failed"
        failing = list(clients["dynamodb"].log)
    # the claim; the quotas with the error budget's check; the result
    claim, quotas, result = (
        "dynamodb.update_item",
        "dynamodb.transact_write_items",
        "dynamodb.transact_write_items",
    )
    assert healthy == [claim, quotas, result]
    # the bad key's error answer is counted between the probe and the result
    assert failing == [claim, quotas, "dynamodb.update_item", result]


# -- a write whose outcome is unknown ------------------------------------------------------------


def test_an_add_whose_commit_timed_out_is_reread_and_kept(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with faulty_aws(monkeypatch) as clients:
        api = ApiClient("user-a")
        clients["dynamodb"].fail("transact_write_items", code="RequestTimeout", after_commit=True)

        added = api.post("/connections", mexc_body())

        # The transaction did commit: the item points at the secret, which must stay
        assert added.status == 201, added.body
        assert [c["id"] for c in api.get("/connections").body["connections"]] == [added.body["id"]]
        assert len(connection_secrets(aws["SECRET_NAME_PREFIX"])) == 1
        assert count_orphans() == Counter()


def test_an_add_whose_outcome_stays_unknown_keeps_the_secret_for_the_sweeper(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with faulty_aws(monkeypatch) as clients:
        api = ApiClient("user-a")
        clients["dynamodb"].fail("transact_write_items", code="InternalServerError")
        clients["dynamodb"].fail("get_item", code="RequestTimeout")

        failed = api.post("/connections", mexc_body())

        # Unknown whether an item points at it: the secret is not destroyed (the sweeper decides)
        assert failed.status == 503
        assert len(connection_secrets(aws["SECRET_NAME_PREFIX"])) == 1
        assert api.get("/connections").body["connections"] == []


def test_an_add_that_did_not_commit_destroys_its_secret_after_the_reread(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with faulty_aws(monkeypatch) as clients:
        api = ApiClient("user-a")
        clients["dynamodb"].fail("transact_write_items", code="InternalServerError")

        assert api.post("/connections", mexc_body()).status == 503
        assert clients["dynamodb"].log[-1] == "dynamodb.get_item", "the outcome was re-read"
        assert connection_secrets(aws["SECRET_NAME_PREFIX"]) == []


def test_a_replacement_whose_commit_timed_out_keeps_the_new_secret(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, sim: Any
) -> None:
    with faulty_aws(monkeypatch) as clients:
        api = ApiClient("user-a")
        connection = api.post("/connections", mexc_body()).body
        clients["dynamodb"].fail("transact_write_items", code="RequestTimeout", after_commit=True)

        replaced = api.put(f"/connections/{connection['id']}/credentials", credentials_of(demo("connected")))

        assert replaced.status == 200 and replaced.body["api_key_hint"].startswith("mx0d")
        (secret,) = connection_secrets(aws["SECRET_NAME_PREFIX"])
        assert secret["Name"].endswith("/v2")
        assert api.post(f"/connections/{connection['id']}/test").body["status"] == "connected"
        assert count_orphans() == Counter()
