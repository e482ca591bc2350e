"""The platform's error budget per exchange (engine.spec.ErrorBudget; backfuture.quotas): a test's
error answers are counted per endpoint and window, and a spent budget refuses the next test inside
the quota transaction, before anything is spent or sent. On moto; the HTTP path end to end is in
tests/integration/test_abuse_limits.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backfuture.engine.spec import ErrorBudget
from backfuture.exchanges import Market
from backfuture.exchanges.bingx import EXCHANGE as BINGX
from backfuture.quotas import PLATFORM_ERRORS, endpoints_tested, error_budget, error_counters
from tests.faults import faulty_aws

# 2026-11-29 05:04:05 UTC: 245 s into a 480 s window, 5 s into a 10 s one.
NOW_S = 1_795_928_405
WINDOW_LEFT_S = 480 - NOW_S % 480
assert WINDOW_LEFT_S == 235

KEY_INFO = "/openApi/v1/account/apiPermissions"
ORDER_TEST = "/openApi/swap/v2/trade/order/test"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    now = [NOW_S]
    monkeypatch.setattr("backfuture.service.now_ms", lambda: now[0] * 1000)
    return now


@pytest.fixture
def table(clock: list[int]) -> Iterator[dict[str, str]]:
    """A fresh account at the budgets' real figures (the suites otherwise multiply them by 1000)."""
    from tests.conftest import moto_account

    with moto_account(PLATFORM_BUDGET_FACTOR="1") as env:
        yield env


def service() -> Any:
    from backfuture.service import ConnectionService

    return ConnectionService()


def items(pk: str) -> dict[str, dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    from backfuture.aws import client
    from backfuture.config import settings

    found = client("dynamodb").scan(TableName=settings().table_name)["Items"]
    rows = [{k: TypeDeserializer().deserialize(v) for k, v in item.items()} for item in found]
    return {row["SK"]: row for row in rows if row["PK"] == pk}


def sk(endpoint: str, exchange: str = "bingx") -> str:
    return f"{exchange}#{endpoint}#480#{NOW_S // 480}"


# -- the declaration -----------------------------------------------------------------------------


def test_bingx_stays_well_under_its_ban() -> None:
    budget = error_budget("bingx")
    assert budget is not None and budget.window_s == 480 and budget.per_endpoint
    # a sliding 8 minutes spans two fixed windows; BingX bans over 20 answers on one endpoint
    assert 2 * budget.max_errors <= 10
    assert budget.source and budget.exchange_limit
    assert error_budget("mexc") is None


def test_counters_are_per_endpoint_unless_declared_for_the_whole_exchange() -> None:
    counters = error_counters("bingx", {KEY_INFO: 1, ORDER_TEST: 2}, NOW_S)
    assert [(c.sk, c.errors, c.window_end_s) for c in counters] == [
        (sk(KEY_INFO), 1, NOW_S + WINDOW_LEFT_S),
        (sk(ORDER_TEST), 2, NOW_S + WINDOW_LEFT_S),
    ]
    whole = ErrorBudget(60, 3, "made up", "this test", confirmed=False, per_endpoint=False)
    assert {whole.endpoint(KEY_INFO), whole.endpoint(ORDER_TEST)} == {"*"}
    assert error_counters("mexc", {"/api/v3/account": 1}, NOW_S) == []


def test_a_test_checks_every_endpoint_its_markets_may_call() -> None:
    spot = endpoints_tested("bingx", [Market.SPOT])
    assert KEY_INFO in spot and "/openApi/swap/v2/server/time" in spot and ORDER_TEST not in spot
    assert ORDER_TEST in endpoints_tested("bingx", [Market.FUTURES])
    assert set(endpoints_tested("bingx", [Market.SPOT, Market.FUTURES])) == {c.path for c in BINGX.calls}


# -- counting --------------------------------------------------------------------------------------


def test_error_answers_add_to_their_endpoints_counter_with_a_ttl(table: Any) -> None:
    service()._count_errors("bingx", {KEY_INFO: 1})
    service()._count_errors("bingx", {KEY_INFO: 2, ORDER_TEST: 1})

    counters = items(PLATFORM_ERRORS)
    assert set(counters) == {sk(KEY_INFO), sk(ORDER_TEST)}
    assert counters[sk(KEY_INFO)]["spent"] == 3 and counters[sk(ORDER_TEST)]["spent"] == 1
    # removed by the table's TTL an hour after its window; nothing but the count is kept
    assert counters[sk(KEY_INFO)]["expires_at"] == NOW_S + WINDOW_LEFT_S + 3600
    assert set(counters[sk(KEY_INFO)]) == {"PK", "SK", "spent", "expires_at"}


def test_an_exchange_without_an_error_budget_writes_nothing(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with faulty_aws(monkeypatch) as clients:
        service()._count_errors("mexc", {"/api/v3/account": 3})
        assert clients["dynamodb"].log == []
    assert items(PLATFORM_ERRORS) == {}


def test_a_count_that_cannot_be_written_loses_the_count_not_the_test(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with faulty_aws(monkeypatch) as clients:
        clients["dynamodb"].fail("update_item", code="ProvisionedThroughputExceededException")
        service()._count_errors("bingx", {KEY_INFO: 1})  # does not raise
        assert clients["dynamodb"].log == ["dynamodb.update_item"]
    assert items(PLATFORM_ERRORS) == {}


# -- refusing ------------------------------------------------------------------------------------


def test_a_spent_error_budget_refuses_until_the_window_ends_and_spends_nothing(table: Any) -> None:
    service()._count_errors("bingx", {KEY_INFO: 4})
    assert service()._spend_quotas("user-a", "bingx", ["spot"]) is None  # 4 of 5: room left
    service()._count_errors("bingx", {KEY_INFO: 1})

    assert service()._spend_quotas("user-b", "bingx", ["spot"]) == WINDOW_LEFT_S
    # re-validation obeys it too
    assert service()._spend_quotas("user-b", "bingx", ["spot"], for_user=False) == WINDOW_LEFT_S
    # the refused tests took nothing: neither user-b's hourly quota nor the request budget
    assert items("USER#user-b") == {}
    assert [c["spent"] for c in items("PLATFORM#budget").values()] == [BINGX.budget.units_per_test]
    # another exchange's tests go on
    assert service()._spend_quotas("user-b", "mexc", ["spot"]) is None


def test_only_the_endpoints_a_test_may_call_can_refuse_it(table: Any) -> None:
    service()._count_errors("bingx", {ORDER_TEST: 5})
    assert service()._spend_quotas("user-a", "bingx", ["spot"]) is None
    assert service()._spend_quotas("user-a", "bingx", ["futures"]) == WINDOW_LEFT_S
    assert service()._spend_quotas("user-a", "bingx", ["spot", "futures"]) == WINDOW_LEFT_S


def test_the_next_window_starts_afresh(table: Any, clock: list[int]) -> None:
    service()._count_errors("bingx", {KEY_INFO: 7})
    assert service()._spend_quotas("user-a", "bingx", ["spot"]) == WINDOW_LEFT_S
    clock[0] += WINDOW_LEFT_S
    assert service()._spend_quotas("user-a", "bingx", ["spot"]) is None


def test_the_users_quota_is_reported_first(table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from backfuture.config import settings
    from backfuture.errors import ApiError, ErrorCode

    monkeypatch.setenv("TESTS_PER_USER_PER_HOUR", "1")
    settings.cache_clear()
    service()._count_errors("bingx", {KEY_INFO: 5})
    assert service()._spend_quotas("user-a", "kucoin", ["spot"]) is None  # the hour's one test
    with pytest.raises(ApiError) as refused:
        service()._spend_quotas("user-a", "bingx", ["spot"])
    assert refused.value.code is ErrorCode.QUOTA_EXCEEDED
